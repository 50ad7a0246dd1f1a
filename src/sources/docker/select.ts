import type { DockerSourceConfig } from '../../config/schema.js';

/**
 * Which containers logwharf follows (DESIGN.md, "Which containers"). Pure, so every rule
 * has a unit test.
 */

export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_NUMBER = 'com.docker.compose.container-number';
export const ENABLE_LABEL = 'logwharf.enable';

export interface Candidate {
  id: string;
  /** Without the leading slash Docker puts on names. */
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface Selection {
  /** The compose project to follow, or null for every compose project. */
  project: string | null;
  include?: DockerSourceConfig['include'];
  exclude?: DockerSourceConfig['exclude'];
  /** logwharf's own container, never followed (its own log would feed itself). */
  selfId?: string | null;
}

export type Verdict = { follow: true } | { follow: false; reason: string };

export function selectContainer(c: Candidate, sel: Selection): Verdict {
  if (sel.selfId && (c.id === sel.selfId || c.id.startsWith(sel.selfId)))
    return { follow: false, reason: 'self' };
  const enable = c.labels[ENABLE_LABEL];
  if (enable === 'false') return { follow: false, reason: `label ${ENABLE_LABEL}=false` };
  const project = c.labels[COMPOSE_PROJECT];
  // A container outside compose is followed only when it opts in with logwharf.enable=true.
  if (project === undefined && enable !== 'true')
    return { follow: false, reason: 'not in a compose project' };
  if (sel.project !== null && project !== sel.project && enable !== 'true') {
    return { follow: false, reason: `not in compose project ${sel.project}` };
  }
  if (sel.exclude && matchesAny(c, sel.exclude))
    return { follow: false, reason: 'excluded by sources.docker.exclude' };
  if (sel.include && hasEntries(sel.include) && !matchesAny(c, sel.include)) {
    return { follow: false, reason: 'not matched by sources.docker.include' };
  }
  return { follow: true };
}

type MatchList = NonNullable<DockerSourceConfig['include']>;

function hasEntries(m: MatchList): boolean {
  return m.labels.length + m.services.length + m.containers.length > 0;
}

function matchesAny(c: Candidate, m: MatchList): boolean {
  const service = c.labels[COMPOSE_SERVICE];
  if (service !== undefined && m.services.some((g) => globMatch(g, service))) return true;
  if (m.containers.some((g) => globMatch(g, c.name))) return true;
  return m.labels.some((entry) => {
    const eq = entry.indexOf('=');
    const keyGlob = eq < 0 ? entry : entry.slice(0, eq);
    const valueGlob = eq < 0 ? null : entry.slice(eq + 1);
    return Object.entries(c.labels).some(
      ([k, v]) => globMatch(keyGlob, k) && (valueGlob === null || globMatch(valueGlob, v)),
    );
  });
}

/** `*` any run, `?` one character; everything else literal. Linear time, no regex built from user text. */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const gc = glob[g];
    if (gc === '*') {
      starG = g++;
      starT = t;
    } else if (gc !== undefined && (gc === '?' || gc === text[t])) {
      g++;
      t++;
    } else if (starG >= 0) {
      g = starG + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
