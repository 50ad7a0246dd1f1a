import type { TSchema } from '@sinclair/typebox';
import { isScalar, parseDocument } from 'yaml';
import { type ConfigProblem, closest, formatPath } from './problems.js';
import { ConfigSchema } from './schema.js';
import { objectVariants, propertiesOf, propertyPaths } from './schema-walk.js';
import { isServiceLinkVariable } from './service-links.js';

/**
 * Environment overrides: every config key can be set by `LOGWHARF_<PATH>`, the key path
 * upper-cased and joined by `_` (`LOGWHARF_HTTP_LISTEN`, `LOGWHARF_SOURCES_DOCKER_PROJECT`).
 *
 * Keys contain `_` themselves (`data_dir`, `max_line_bytes`), so a name is not split on `_`;
 * it is matched against the schema: at each mapping, a property whose upper-cased name is the
 * whole rest of the variable name is a match, and one followed by `_` continues into that
 * property's mapping. Every way through is tried, so the result does not depend on the order
 * of properties; a name that matches two keys is reported as ambiguous instead of guessed
 * (a unit test proves the current schema has no such names).
 *
 * Values are YAML: `true`, `8080`, `null`, `"quoted"`, `[a, b]`, `{tokens: [...]}`.
 *
 * Any other `LOGWHARF_*` variable stops start-up (a typo must not be silently ignored), except
 * the reserved names below and the variables Kubernetes sets for a Service named logwharf
 * (./service-links.ts), which are passed over and listed for a debug line.
 */

export const ENV_PREFIX = 'LOGWHARF_';

/**
 * `LOGWHARF_*` variables that are not config keys: the config file's path, the log level, the
 * token `logwharf query --server` sends, tests.
 */
export function isReservedEnvName(name: string): boolean {
  return (
    name === 'LOGWHARF_CONFIG' ||
    name === 'LOGWHARF_LOG_LEVEL' ||
    name === 'LOGWHARF_TOKEN' ||
    name.startsWith('LOGWHARF_TEST_')
  );
}

export interface EnvOverride {
  variable: string;
  segments: string[];
  value: unknown;
}

/** The variable that sets a key path: `['sources', 'docker', 'project']` -> `LOGWHARF_SOURCES_DOCKER_PROJECT`. */
export function envNameFor(segments: readonly string[]): string {
  return ENV_PREFIX + segments.join('_').toUpperCase();
}

/** Every key path a variable name can mean (none, one, or several when ambiguous). */
export function resolveEnvName(name: string, schema: TSchema = ConfigSchema): string[][] {
  if (!name.startsWith(ENV_PREFIX)) return [];
  return match(name.slice(ENV_PREFIX.length), schema);
}

function match(rest: string, schema: TSchema): string[][] {
  const out: string[][] = [];
  for (const [name, property] of propertiesOf(schema)) {
    const upper = name.toUpperCase();
    if (rest === upper) out.push([name]);
    else if (rest.startsWith(`${upper}_`) && objectVariants(property).length > 0) {
      for (const tail of match(rest.slice(upper.length + 1), property)) out.push([name, ...tail]);
    }
  }
  return out;
}

/**
 * Parses an environment value. A value wholly in `[...]` or `{...}` is a YAML flow collection
 * and must parse. Anything else is taken as a YAML scalar when it is one (`true`, `123`, `null`,
 * `'quoted'`), else verbatim as a string, so `[::]:8080`, `@host` or `a: b` need no quoting.
 */
export function parseEnvValue(raw: string): { value: unknown } | { error: string } {
  const trimmed = raw.trim();
  const collection = /^\[[\s\S]*\]$|^\{[\s\S]*\}$/.test(trimmed);
  const doc = parseDocument(raw, { prettyErrors: false });
  if (collection) {
    if (doc.errors.length > 0)
      return { error: `cannot parse the value as a YAML flow collection: ${doc.errors[0]!.message}` };
    return { value: doc.toJS() };
  }
  if (doc.errors.length === 0 && (doc.contents === null || isScalar(doc.contents)))
    return { value: doc.toJS() };
  return { value: raw };
}

/**
 * The overrides in `env`, a problem for each variable that is unknown or does not parse, and the
 * Kubernetes service variables passed over (`serviceLinks`, names only).
 */
export function readEnvOverrides(
  env: NodeJS.ProcessEnv,
  schema: TSchema = ConfigSchema,
): { overrides: EnvOverride[]; problems: ConfigProblem[]; serviceLinks: string[] } {
  const overrides: EnvOverride[] = [];
  const problems: ConfigProblem[] = [];
  const serviceLinks: string[] = [];
  const problem = (variable: string, path: string, message: string) =>
    problems.push({ path, message, file: variable, source: 'env' });
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined || isReservedEnvName(variable)) continue;
    const paths = resolveEnvName(variable, schema);
    if (paths.length === 0 && isServiceLinkVariable(variable, raw)) {
      serviceLinks.push(variable);
      continue;
    }
    if (paths.length === 0) {
      const known = propertyPaths(schema).map(envNameFor);
      const near = closest(variable, known);
      problem(variable, '', `unknown configuration variable${near ? `; did you mean ${near}?` : ''}`);
      continue;
    }
    if (paths.length > 1) {
      problem(
        variable,
        '',
        `ambiguous: it may set ${paths.map(formatPath).join(' or ')}; set the parent key instead`,
      );
      continue;
    }
    const segments = paths[0]!;
    const parsed = parseEnvValue(raw);
    if ('error' in parsed) problem(variable, formatPath(segments), parsed.error);
    else overrides.push({ variable, segments, value: parsed.value });
  }
  // Parents before children, so LOGWHARF_HTTP_LISTEN wins over a `listen` inside LOGWHARF_HTTP.
  overrides.sort((a, b) => a.segments.length - b.segments.length);
  return { overrides, problems, serviceLinks };
}

/**
 * Returns `data` with the overrides written in (on a copy). Env wins over the file: a parent
 * that the file set to something other than a mapping (`auth: none`) is replaced by one.
 */
export function applyEnvOverrides(data: Record<string, unknown>, overrides: readonly EnvOverride[]) {
  const out = structuredClone(data);
  for (const { segments, value } of overrides) {
    let target = out;
    for (const segment of segments.slice(0, -1)) {
      const next = target[segment];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[segment] = {};
      target = target[segment] as Record<string, unknown>;
    }
    target[segments[segments.length - 1]!] = structuredClone(value);
  }
  return out;
}
