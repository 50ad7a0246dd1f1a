/**
 * Sequence containers: the ground truth of the fault suite.
 *
 * Each container prints numbered lines, `lwseq h=<hostname> r=<run> s=<seq>`, and after
 * printing each one appends it to a file of its own (`<hostname>.log`) in a host directory
 * bind-mounted at /seq. The files, not what logwharf stored, say what was sent. `run` is a
 * random id drawn each time the container's command starts, so a container that is restarted
 * (same id, same hostname, seq from 1 again) still gives unique (container, run, seq) keys.
 *
 * Printing comes first: a container killed between the two writes printed a line its file
 * lacks. Such a line may be stored; the tally counts it as `extra` (at most one per run, the
 * run's last seq + 1), never as a failure.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ComposeProject } from './compose.js';
import { ensureTestImage } from './docker.js';
import { waitFor } from './poll.js';
import { removeTempDir, tempDir } from './tmp.js';

export interface SequenceServiceOptions {
  /** Compose service name (default `seq`). */
  name?: string;
  /** Lines per burst (default 6) and pause between bursts in seconds (default 0.2): about 20 lines/s. */
  burst?: number;
  pauseSeconds?: number;
  /** Compose `restart:` policy (default none). */
  restart?: 'always' | 'unless-stopped' | 'on-failure';
  /** Stop after this many lines and then idle (default: print until stopped). */
  lines?: number;
}

/** The compose service YAML (indented under `services:`) of one sequence service. */
export function sequenceServiceYaml(image: string, hostDir: string, o: SequenceServiceOptions = {}): string {
  const burst = o.burst ?? 6;
  const pause = o.pauseSeconds ?? 0.2;
  const until = o.lines !== undefined ? `[ $$i -le ${o.lines} ]` : 'true';
  // $$ is compose's escape for a literal $. Every write of a line is a single write(2), so a
  // line is never half in the file; `sleep` between bursts keeps forks per line low.
  const script = [
    'run=$$(cut -c1-8 /proc/sys/kernel/random/uuid)',
    'f=/seq/$$HOSTNAME.log',
    'i=1',
    `while ${until}; do`,
    `  k=0; while [ $$k -lt ${burst} ]; do`,
    '    echo "lwseq h=$$HOSTNAME r=$$run s=$$i"',
    '    echo "$$HOSTNAME $$run $$i" >> $$f',
    '    i=$$((i+1)); k=$$((k+1))',
    '  done',
    `  sleep ${pause}`,
    'done',
    'exec sleep 86400',
  ].join('\n');
  const indented = script
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
  return `  ${o.name ?? 'seq'}:
    image: ${image}
    init: true
    stop_grace_period: 2s
${o.restart ? `    restart: ${o.restart}\n` : ''}    volumes: ["${hostDir}:/seq"]
    command:
      - sh
      - -c
      - |
${indented}
`;
}

/** One line as the container's file records it: hostname (the short container id), run, seq. */
export interface SentLine {
  host: string;
  run: string;
  seq: number;
}

export function lineKey(l: SentLine): string {
  return `${l.host}/${l.run}/${l.seq}`;
}

/** Pure: the lines of one container's file (`<host> <run> <seq>` per line; a torn last line is ignored). */
export function parseSentFile(text: string): SentLine[] {
  const out: SentLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{12}) ([0-9a-f]{8}) (\d+)$/.exec(line);
    if (m) out.push({ host: m[1]!, run: m[2]!, seq: Number(m[3]) });
  }
  return out;
}

/** Every line the containers' files record, from all files in `dir`. */
export async function readSent(dir: string): Promise<SentLine[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log'));
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
  return texts.flatMap(parseSentFile);
}

/**
 * A compose project of sequence services with a fresh host directory for their files.
 * `down()` removes the containers and the directory.
 */
export class SequenceProject {
  private constructor(
    readonly compose: ComposeProject,
    /** Where the containers' files are. */
    readonly sentDir: string,
  ) {}

  static async create(
    name: string,
    services: SequenceServiceOptions[] = [{}],
    extraServicesYaml = '',
  ): Promise<SequenceProject> {
    const image = await ensureTestImage();
    const sentDir = await tempDir(`lw-fault-${name}-`);
    const yaml = `version: "2.4"\nservices:\n${services.map((s) => sequenceServiceYaml(image, sentDir, s)).join('')}${extraServicesYaml}`;
    return new SequenceProject(await ComposeProject.create(`fault-${name}`, yaml), sentDir);
  }

  get name(): string {
    return this.compose.name;
  }

  /** The query that finds this project's events. */
  get query(): string {
    return `project:${this.compose.name}`;
  }

  sent(): Promise<SentLine[]> {
    return readSent(this.sentDir);
  }

  /** Lines sent so far (cheap enough to poll). */
  async sentCount(): Promise<number> {
    return (await this.sent()).length;
  }

  /** Resolves once the containers have sent `more` lines beyond what they had sent at the call. */
  async waitForMoreSent(more: number, timeoutMs = 60_000): Promise<number> {
    const start = await this.sentCount();
    return waitFor(
      async () => {
        const n = await this.sentCount();
        return n >= start + more ? n : null;
      },
      { timeoutMs, intervalMs: 250, what: `${more} more lines sent by ${this.name} (had ${start})` },
    );
  }

  /**
   * `docker-compose down` (plus `args`), again while the engine answers that the project's
   * network "has active endpoints": Docker 20.10 may release a removed container's endpoint
   * only after `rm` returned, most often after the engine itself was restarted. The containers
   * are gone by then; only the network is left to remove.
   */
  async composeDown(args: string[] = []): Promise<void> {
    let last: unknown;
    const fatal = new AbortController();
    await waitFor(
      async () => {
        try {
          await this.compose.run(['down', ...args]);
          return true;
        } catch (err) {
          last = err;
          if (!String((err as Error).message).includes('has active endpoints')) fatal.abort(err);
          return false;
        }
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
        what: `docker-compose down of ${this.name}`,
        signal: fatal.signal,
      },
    ).catch((err: unknown) => {
      throw last instanceof Error ? last : err;
    });
  }

  /** Removes the containers, networks and volumes, then the directory of their files. */
  async down(): Promise<void> {
    try {
      await this.composeDown(['-v', '--remove-orphans', '-t', '1']).catch(() => {});
      // Now quick; it also removes the compose file's directory.
      await this.compose.down();
    } finally {
      await removeTempDir(this.sentDir);
    }
  }
}
