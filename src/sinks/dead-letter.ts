import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type EcsDocument, toEcs } from '../core/ecs.js';
import type { LogEvent } from '../core/event.js';
import { fsyncDir } from '../core/fsync-dir.js';
import { canonicalFromMillis } from '../core/timestamp.js';

/**
 * The dead-letter store: events a store refused for good (Elasticsearch answered 400 for a
 * document that does not fit the mapping; the embedded store rejected a batch), kept on
 * disk so that a refusal never loses them.
 *
 * Layout: `<data_dir>/dead-letter/YYYY-MM-DD.jsonl`, one file per UTC day of the refusal,
 * one JSON object per line:
 *   {"at": "<canonical time>", "sink": "elasticsearch", "reason": "...", "event": <ECS document>}
 *
 * Invariants:
 * - `write()` resolves only after the lines are fsynced (and, for a new file, its directory
 *   entry). A sink counts its batch as delivered right after, and the pipeline then moves the
 *   sources' positions past those events: if the lines were still only in the page cache, a
 *   power loss would lose events that no position will ever replay.
 * - A file holds whole lines only. A failed write is truncated back to the file's previous
 *   length, and at open a torn last line (a crash mid-write, before the fsync: a write that was
 *   never acknowledged, so its events are replayed and refused again) is cut off.
 * - Writes are serialized: lines of two concurrent writes never interleave, and `count()`
 *   equals the number of lines on disk.
 * - At least once: a crash after the fsync but before the positions are saved refuses the
 *   replayed events again, and they get a second line. Tools de-duplicate by `event.event.id`.
 *
 * Not bounded: a storm of refusals (a mapping conflict hitting every event) fills the disk
 * under data_dir. `count()` is exported in /api/v1/sources and /metrics so it can be alerted
 * on. An operator reads the files (`jq .reason`), fixes the cause (the mapping, the event
 * source), and replays the events with a later tool; then removes the files.
 */

export interface DeadLetter {
  event: LogEvent;
  /** Why the store refused it, as the store said it. */
  reason: string;
  /** The store that refused it: `elasticsearch`, `embedded`. */
  sink: string;
}

export interface DeadLetterStoreOptions {
  /** The clock (ms since the epoch); tests move it across days. */
  now?: () => number;
}

const DAY_FILE_RE = /^\d{4}-\d{2}-\d{2}\.jsonl$/;
const NEWLINE = 0x0a;

interface OpenFile {
  day: string;
  handle: fs.FileHandle;
  /** Length of the whole lines in the file. */
  size: number;
}

export class DeadLetterStore {
  /** `<data_dir>/dead-letter`, for the operator. */
  readonly dir: string;
  private readonly now: () => number;
  private lines: number;
  private file: OpenFile | null = null;
  /** The tail of the write queue: each write starts after the previous one ended. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(dir: string, lines: number, now: () => number) {
    this.dir = dir;
    this.lines = lines;
    this.now = now;
  }

  /** Opens (creating) `<dataDir>/dead-letter`, repairs torn tails and counts what is kept. */
  static async open(dataDir: string, opts: DeadLetterStoreOptions = {}): Promise<DeadLetterStore> {
    const dir = path.join(dataDir, 'dead-letter');
    await fs.mkdir(dir, { recursive: true });
    let lines = 0;
    for (const name of await fs.readdir(dir)) {
      if (DAY_FILE_RE.test(name)) lines += await countAndRepair(path.join(dir, name));
    }
    return new DeadLetterStore(dir, lines, opts.now ?? Date.now);
  }

  /** Events kept, in all files (lines on disk). */
  count(): number {
    return this.lines;
  }

  /** Keeps each event with its own reason. Resolves once durable (see the invariants). */
  write(entries: readonly DeadLetter[]): Promise<void>;
  /** Keeps a whole batch refused for one reason (the pipeline's `rejected` outcome). */
  write(events: readonly LogEvent[], reason: string, sink: string): Promise<void>;
  write(items: readonly DeadLetter[] | readonly LogEvent[], reason?: string, sink?: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`dead-letter store ${this.dir} is closed`));
    const entries: readonly DeadLetter[] =
      reason === undefined
        ? (items as readonly DeadLetter[])
        : (items as readonly LogEvent[]).map((event) => ({ event, reason, sink: sink ?? 'store' }));
    const run = this.queue.then(() => this.append(entries));
    // The queue goes on after a failure; the caller sees the failure through `run`.
    this.queue = run.catch(() => {});
    return run;
  }

  /** Waits for pending writes and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.closeFile();
  }

  private async append(entries: readonly DeadLetter[]): Promise<void> {
    if (entries.length === 0) return;
    const at = canonicalFromMillis(this.now());
    let data = '';
    for (const d of entries) data += serialize(at, d);
    const file = await this.fileFor(at.slice(0, 10));
    const bytes = Buffer.from(data);
    try {
      await file.handle.write(bytes, 0, bytes.length, file.size);
      await file.handle.sync();
    } catch (err) {
      // Keep whole lines only: cut what part of this write reached the file, and reopen next time.
      await file.handle.truncate(file.size).catch(() => {});
      await this.closeFile();
      throw err;
    }
    file.size += bytes.length;
    this.lines += entries.length;
  }

  private async fileFor(day: string): Promise<OpenFile> {
    if (this.file?.day === day) return this.file;
    await this.closeFile();
    const name = path.join(this.dir, `${day}.jsonl`);
    // Not 'a' (O_APPEND): writes go to `size`, the end of the last whole line, which is what
    // lets a failed write be cut back. Writes are serialized, so nobody else moves the end.
    const handle = await fs.open(name, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640);
    try {
      const { size } = await handle.stat();
      // A new file's name must survive a power loss too, not only its contents.
      if (size === 0) await fsyncDir(this.dir);
      this.file = { day, handle, size };
      return this.file;
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = null;
    await f?.handle.close().catch(() => {});
  }
}

/** One line. A document JSON cannot hold (a BigInt, a cycle in `fields`) keeps its id and message. */
function serialize(at: string, d: DeadLetter): string {
  let doc: EcsDocument;
  try {
    doc = toEcs(d.event);
    return `${JSON.stringify({ at, sink: d.sink, reason: d.reason, event: doc })}\n`;
  } catch (err) {
    const e = d.event;
    const event = {
      '@timestamp': String(e.timestamp),
      event: { id: String(e.id) },
      message: String(e.message),
    };
    const reason = `${d.reason} (the event is not serializable: ${err instanceof Error ? err.message : String(err)}; kept in part)`;
    return `${JSON.stringify({ at, sink: d.sink, reason, event })}\n`;
  }
}

/** Lines in a file, after cutting a torn last line (bytes after the last newline) off. */
async function countAndRepair(file: string): Promise<number> {
  let lines = 0;
  let whole = 0;
  let read = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(NEWLINE);
    while (i !== -1) {
      lines++;
      whole = read + i + 1;
      i = chunk.indexOf(NEWLINE, i + 1);
    }
    read += chunk.length;
  }
  if (whole < read) {
    const handle = await fs.open(file, 'r+');
    try {
      await handle.truncate(whole);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return lines;
}
