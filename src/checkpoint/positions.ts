import fs from 'node:fs/promises';
import path from 'node:path';
import { LogwharfError } from '../core/errors.js';
import type { Position } from '../core/event.js';
import { fsyncDir } from '../core/fsync-dir.js';

/**
 * Where each source is up to: for a container, the timestamp and seq of the last line that
 * every sink has durably accepted. Saved in `<data_dir>/positions.json`:
 *
 *   {"version":1,"positions":{"<container id>":{"timestamp":"2024-05-01T12:00:00.123456789Z","seq":0,"updated":"..."}}}
 *
 * Invariants:
 * - A position only moves forward (timestamp, then seq). The pipeline acknowledges batches as
 *   sinks commit them; an older acknowledgement arriving late must not move it back, or a
 *   restart would re-read lines (harmless) — and a newer one must never be lost.
 * - The file is replaced atomically (write a temp file, fsync it, rename over, fsync the
 *   directory): after a crash it holds either the old or the new positions, never a mix.
 * - `flush()` coalesces: while a write is in flight, every caller shares one follow-up write
 *   that starts after it and snapshots the positions at that moment.
 *
 * A corrupt file (not JSON, wrong shape — e.g. a disk that lied about fsync) is moved aside
 * to `positions.json.corrupt-<time>` and the store starts empty rather than refusing to start.
 * Why: starting empty makes every container be read again from the start of what Docker
 * still keeps; every event has a deterministic id, so the store skips what it already has.
 * That costs a replay, never a lost or doubled line. Refusing to start would stop collection
 * until an operator intervened, while Docker's log rotation may discard lines meanwhile.
 * The file is kept, not deleted, so the operator can see what happened.
 * A file of a newer version is different: a downgrade. Guessing could skip lines, so that
 * (and an unreadable file, e.g. permissions) stops start-up with a message.
 */

export const POSITIONS_FILE = 'positions.json';
const VERSION = 1;
const CANONICAL_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

interface Entry extends Position {
  /** When this position last moved (wall clock, canonical form): for operators, not for logic. */
  updated: string;
}

/** Receives the one warning this module can emit (pino's logger fits). */
export interface PositionLog {
  warn(obj: object, msg: string): void;
}

export interface PositionStoreOptions {
  log?: PositionLog;
  /** For tests: the clock behind `updated` and the corrupt file's name. */
  now?: () => Date;
}

/** Whether `a` is strictly after `b`. Timestamps are canonical, so text order is time order. */
export function isAfter(a: Position, b: Position): boolean {
  return a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.seq > b.seq);
}

export class PositionStore {
  /** Where a corrupt file found at open was moved, or null. */
  readonly recoveredFrom: string | null;
  private readonly file: string;
  private readonly positions: Map<string, Entry>;
  private readonly now: () => Date;
  private dirty = false;
  private writing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  private constructor(
    file: string,
    positions: Map<string, Entry>,
    recoveredFrom: string | null,
    now: () => Date,
  ) {
    this.file = file;
    this.positions = positions;
    this.recoveredFrom = recoveredFrom;
    this.now = now;
  }

  static async open(dataDir: string, opts: PositionStoreOptions = {}): Promise<PositionStore> {
    const now = opts.now ?? (() => new Date());
    await fs.mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, POSITIONS_FILE);
    await removeStaleTemps(dataDir);
    let text: string | undefined;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LogwharfError(
          'LOGWHARF_ERR_STORE',
          `${file}: cannot read positions: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    if (text === undefined) return new PositionStore(file, new Map(), null, now);

    const parsed = parse(text);
    if (parsed.ok) return new PositionStore(file, parsed.positions, null, now);
    if (parsed.newer !== undefined) {
      throw new LogwharfError(
        'LOGWHARF_ERR_STORE',
        `${file}: version ${parsed.newer} was written by a newer logwharf (this one reads version ${VERSION}); ` +
          'upgrade logwharf, or move the file aside to re-read all containers from the start',
      );
    }
    const aside = `${file}.corrupt-${stamp(now())}`;
    await fs.rename(file, aside);
    await fsyncDir(dataDir);
    const message = `positions file is corrupt (${parsed.problem}); moved it to ${aside} and starting without positions: containers are re-read from the start, already stored lines are skipped by their event id`;
    if (opts.log) opts.log.warn({ file, movedTo: aside, problem: parsed.problem }, message);
    else process.emitWarning(message, { code: 'LOGWHARF_POSITIONS_CORRUPT' });
    return new PositionStore(file, new Map(), aside, now);
  }

  get(key: string): Position | undefined {
    const e = this.positions.get(key);
    return e ? { timestamp: e.timestamp, seq: e.seq } : undefined;
  }

  keys(): string[] {
    return [...this.positions.keys()];
  }

  /** Moves `key` to `pos` if that is forward; an older or equal position is ignored. */
  advance(key: string, pos: Position): void {
    if (!CANONICAL_TS_RE.test(pos.timestamp) || !Number.isSafeInteger(pos.seq) || pos.seq < 0) {
      throw new RangeError(
        `position for ${key}: ${JSON.stringify(pos)} is not {canonical timestamp, seq >= 0}`,
      );
    }
    const current = this.positions.get(key);
    if (current && !isAfter(pos, current)) return;
    this.positions.set(key, { timestamp: pos.timestamp, seq: pos.seq, updated: canonicalNow(this.now()) });
    this.dirty = true;
  }

  /** Forgets a source (a removed container). */
  remove(key: string): void {
    if (this.positions.delete(key)) this.dirty = true;
  }

  /** Saves the positions durably. Concurrent calls share writes; resolves once a write that includes this call's state is on disk. */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.writing) {
      const after = this.writing.catch(() => undefined);
      this.queued = after.then(() => {
        this.queued = null;
        return this.writeNow();
      });
      return this.queued;
    }
    return this.writeNow();
  }

  private writeNow(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    const doc = { version: VERSION, positions: Object.fromEntries(this.positions) };
    const text = `${JSON.stringify(doc)}\n`;
    const p = atomicWrite(this.file, text)
      .catch((err) => {
        this.dirty = true; // the next flush tries again
        throw err;
      })
      .finally(() => {
        if (this.writing === p) this.writing = null;
      });
    this.writing = p;
    return p;
  }
}

type Parsed = { ok: true; positions: Map<string, Entry> } | { ok: false; problem: string; newer?: number };

function parse(text: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, problem: 'not an object' };
  const { version, positions } = doc as { version?: unknown; positions?: unknown };
  if (typeof version === 'number' && Number.isInteger(version) && version > VERSION) {
    return { ok: false, problem: `version ${version}`, newer: version };
  }
  if (version !== VERSION) return { ok: false, problem: `version ${JSON.stringify(version)}` };
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions)) {
    return { ok: false, problem: 'no positions object' };
  }
  const out = new Map<string, Entry>();
  for (const [key, v] of Object.entries(positions)) {
    const e = v as Partial<Entry> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.timestamp !== 'string' ||
      !CANONICAL_TS_RE.test(e.timestamp) ||
      typeof e.seq !== 'number' ||
      !Number.isSafeInteger(e.seq) ||
      e.seq < 0
    ) {
      return { ok: false, problem: `bad entry for ${JSON.stringify(key)}` };
    }
    out.set(key, {
      timestamp: e.timestamp,
      seq: e.seq,
      updated: typeof e.updated === 'string' ? e.updated : '',
    });
  }
  return { ok: true, positions: out };
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fh = await fs.open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    // A half-written temp file would hold on to the space a full disk needs back.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Temp files of a write that a crash interrupted: never the real positions, safe to remove. */
async function removeStaleTemps(dataDir: string): Promise<void> {
  for (const name of await fs.readdir(dataDir)) {
    if (name.startsWith(`${POSITIONS_FILE}.tmp-`)) await fs.rm(path.join(dataDir, name), { force: true });
  }
}

function canonicalNow(d: Date): string {
  return d.toISOString().replace('Z', '000000Z');
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}
