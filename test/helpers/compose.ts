/**
 * Real Docker Compose projects for tests.
 *
 * Each project gets a name unique to the run (`lwtest-<time>-<random>-<slug>`), so test files
 * running in parallel never share containers, and the time in the name lets a later run remove
 * what a crashed run left behind. Which compose is called is detected once: the `docker compose`
 * plugin where installed, else `docker-compose` (Debian 12's is the Python v1, 1.29).
 *
 * Container names differ between the two (v1 `project_service_1`, v2 `project-service-1`), so
 * find containers by their labels (`containers()`), not by name.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { type ComposeCli, findComposeCli } from '../../scripts/services/lib/compose-cli.js';
import { captureRun } from '../../scripts/services/lib/exec.js';
import {
  COMPOSE_NUMBER as LABEL_NUMBER,
  COMPOSE_PROJECT as LABEL_PROJECT,
  COMPOSE_SERVICE as LABEL_SERVICE,
} from '../../src/sources/docker/select.js';
import { dockerClient } from './docker.js';

export const PROJECT_PREFIX = 'lwtest-';
// The compose labels, as the Docker source reads them (one definition for both).
export { LABEL_NUMBER, LABEL_PROJECT, LABEL_SERVICE };

export interface ComposeOutput {
  stdout: string;
  stderr: string;
}

export interface ComposeRunOptions {
  /** Kill compose and fail after this long; default 120 s. */
  timeoutMs?: number;
}

let detected: Promise<ComposeCli> | undefined;

/** The compose command of this machine, found once per process. */
export function composeCli(): Promise<ComposeCli> {
  detected ??= findComposeCli().then((cli) => {
    if (cli) return cli;
    detected = undefined;
    throw new Error(
      'docker-compose: neither `docker compose` nor `docker-compose` is installed — run `npm run services` ' +
        '(as root on Debian/Ubuntu it installs docker-compose), or install Docker Compose',
    );
  });
  return detected;
}

/** Pure: a project name for a test, unique to this run and dated so stale ones can be found. */
export function projectName(name: string, now = Date.now()): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 'project';
  return `${PROJECT_PREFIX}${now.toString(36)}-${randomBytes(3).toString('hex')}-${slug}`;
}

/** Pure: when a project named by `projectName` was created (ms since the epoch), if it is one. */
export function projectCreatedAt(project: string): number | undefined {
  const m = /^lwtest-([0-9a-z]+)-[0-9a-f]{6}-/.exec(project);
  return m ? Number.parseInt(m[1]!, 36) : undefined;
}

export class ComposeProject {
  private downing: Promise<void> | undefined;

  private constructor(
    /** The compose project name (`-p`), also the value of the com.docker.compose.project label. */
    readonly name: string,
    /** The temp directory holding the compose file; relative paths in the YAML resolve here. */
    readonly dir: string,
    readonly file: string,
    private readonly cli: ComposeCli,
  ) {}

  /** Writes `yaml` to a fresh temp dir. Nothing runs until `up()`. Call `down()` when done. */
  static async create(name: string, yaml: string): Promise<ComposeProject> {
    const cli = await composeCli();
    const project = projectName(name);
    const dir = await mkdtemp(join(tmpdir(), `${project}-`));
    const file = join(dir, 'docker-compose.yml');
    await writeFile(file, yaml);
    return new ComposeProject(project, dir, file, cli);
  }

  /**
   * Runs any compose subcommand for this project: `run(['logs', 'web'])` is
   * `docker-compose -p <name> -f <file> logs web`. Rejects with the command line, exit status,
   * stdout and stderr when compose fails.
   */
  run(args: string[], opts: ComposeRunOptions = {}): Promise<ComposeOutput> {
    const argv = [...this.cli.args, '-p', this.name, '-f', this.file, ...args];
    return runCompose(this.cli.cmd, argv, this.dir, opts.timeoutMs ?? 120_000);
  }

  /** `up -d` (plus `args`, e.g. service names or `--scale web=3`): returns once containers are started. */
  up(args: string[] = []): Promise<ComposeOutput> {
    return this.run(['up', '-d', ...args]);
  }

  /** Runs `n` containers of `service`, keeping the ones that already run. */
  scale(service: string, n: number): Promise<ComposeOutput> {
    return this.run(['up', '-d', '--no-recreate', '--scale', `${service}=${n}`, service]);
  }

  stop(...services: string[]): Promise<ComposeOutput> {
    return this.run(['stop', '-t', '1', ...services]);
  }

  start(...services: string[]): Promise<ComposeOutput> {
    return this.run(['start', ...services]);
  }

  /** The project's containers (running or not), by labels, ordered by service then number. */
  async containers(service?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${LABEL_PROJECT}=${this.name}`];
    if (service) label.push(`${LABEL_SERVICE}=${service}`);
    const list = await dockerClient().listContainers({ all: true, filters: { label } });
    const key = (c: Docker.ContainerInfo) =>
      `${c.Labels[LABEL_SERVICE] ?? ''}\u0000${(c.Labels[LABEL_NUMBER] ?? '').padStart(6, '0')}`;
    return list.sort((a, b) => key(a).localeCompare(key(b)));
  }

  /**
   * Removes containers, networks and volumes (`down -v --remove-orphans -t 1`) and the temp dir.
   * Idempotent; concurrent calls share one `down`.
   */
  down(): Promise<void> {
    this.downing ??= (async () => {
      try {
        await this.run(['down', '-v', '--remove-orphans', '-t', '1']);
      } finally {
        await rm(this.dir, { recursive: true, force: true });
      }
    })();
    return this.downing;
  }
}

async function runCompose(
  cmd: string,
  argv: string[],
  cwd: string,
  timeoutMs: number,
): Promise<ComposeOutput> {
  const line = [cmd, ...argv].join(' ');
  const run = await captureRun(cmd, argv, { cwd, timeoutMs }).catch((err: Error) => {
    throw new Error(`${line}: cannot run: ${err.message}`);
  });
  if (run.code === 0) return { stdout: run.stdout, stderr: run.stderr };
  const how = run.timedOut
    ? `killed after ${timeoutMs} ms`
    : run.signal
      ? `killed by ${run.signal}`
      : `exit ${run.code}`;
  throw new Error(`${line} failed (${how})\n--- stdout ---\n${run.stdout}--- stderr ---\n${run.stderr}`);
}

/**
 * Removes containers, networks and volumes of `lwtest-*` projects older than `maxAgeMs`: what
 * runs that crashed or were killed left behind. Returns the project names it cleaned.
 * Younger projects may belong to a run still going, so they are left alone.
 */
export async function removeStaleProjects(maxAgeMs = 3_600_000, now = Date.now()): Promise<string[]> {
  const docker = dockerClient();
  const stale = (labels: Record<string, string> | undefined): string | undefined => {
    const project = labels?.[LABEL_PROJECT];
    if (!project?.startsWith(PROJECT_PREFIX)) return undefined;
    const created = projectCreatedAt(project);
    return created !== undefined && now - created > maxAgeMs ? project : undefined;
  };
  const cleaned = new Set<string>();
  const filters = { label: [LABEL_PROJECT] };

  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) {
    const project = stale(c.Labels);
    if (!project) continue;
    await ignoreGone(docker.getContainer(c.Id).remove({ force: true, v: true }));
    cleaned.add(project);
  }
  // Networks and volumes only after their containers are gone, or the engine refuses.
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) {
    const project = stale(n.Labels);
    if (!project) continue;
    await ignoreGone(docker.getNetwork(n.Id).remove());
    cleaned.add(project);
  }
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  for (const v of volumes ?? []) {
    const project = stale(v.Labels ?? undefined);
    if (!project) continue;
    await ignoreGone(docker.getVolume(v.Name).remove());
    cleaned.add(project);
  }
  return [...cleaned];
}

/** A resource removed meanwhile (404) or already being removed (409) is fine. */
async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== 404 && code !== 409) throw err;
  }
}
