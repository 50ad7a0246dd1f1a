import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { LogwharfError } from '../core/errors.js';
import type { LogEvent } from '../core/event.js';
import {
  type BufferedBatch,
  type DiskBufferOptions,
  type DiskBufferSettings,
  diskBufferSettings,
} from './disk-buffer-options.js';
import { encodeBatch } from './event-codec.js';
import { HotRecords } from './hot-records.js';
import type { Ledger } from './ledger.js';
import { FRAME_HEADER_BYTES, sealFrame } from './record.js';
import { type Recovered, recoverDir } from './recovery.js';
import type { SegmentState } from './segment.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';

export type { BufferedBatch, DiskBufferOptions, FsyncPolicy } from './disk-buffer-options.js';

/**
 * The disk buffer between the pipeline and one sink: a FIFO of batches in segment files, one
 * writer (append) and one reader (peek, then ack once the sink delivered).
 *
 * Layout of `dir` (owned by this buffer alone):
 *   00000000000000000001.seg ...  segments, records back to back (segment.ts, record.ts, event-codec.ts)
 *   ledger                        where the next unacknowledged record is (ledger.ts)
 * This class keeps the counts and the order of things; segment-writer.ts appends, segment-reader.ts
 * reads, hot-records.ts holds the newest batches, recovery.ts makes sense of `dir` at open().
 *
 * Invariants:
 * 1. Order. Records are read in the order their appends were queued: the writer appends at the
 *    end of the newest segment only, and segment ids grow (names sort as ids do).
 * 2. Visible only once stored. A record is counted, peekable and held as a hot copy only after
 *    its write (and its fsync, under 'always') resolved; until then `seg.end` does not cover it.
 *    A failed append truncates what it may have written and leaves `seg.end` alone, so readers
 *    never see it and a retry overwrites the same offset.
 * 3. The ledger only moves forward, by exactly the record just acknowledged, and only after
 *    ack(). A segment file is deleted only after the ledger moved past all of it (ledger write,
 *    then unlink); an unlink a crash lost is redone at the next open. Under 'always' records
 *    and ledger are fsynced before append()/ack() resolve, so a power loss loses nothing
 *    acknowledged to the caller and at worst replays the batch being acked (harmless: event
 *    ids are deterministic). Under 'never' a power loss may lose what the OS had not written
 *    back, and recovery skips the holes it left.
 * 4. Old segments are read-only. The writer starts a new segment at every open, so recovery may
 *    truncate a torn tail or give up a damaged rest of a segment (recovery.ts) without ever
 *    hiding records appended later.
 * 5. Flat memory. Per segment a few numbers; the newest `hotRecords` batches as live objects;
 *    the reader holds one record and one read window. A caught-up reader is served the hot
 *    copies — the very objects appended — and never reads or parses the disk.
 * 6. bytes/batches/events count exactly the unacknowledged records; open() recounts them.
 *
 * Damage met while reading (a CRC that fails on a record this process wrote, a file shorter
 * than written) gives up the rest of that segment, like recovery does: an error log, a count in
 * corruptRecords, its records leave the counts, the writer moves on to a fresh segment.
 */

/**
 * A batch that cannot be written as a record at all (a value JSON cannot write), as opposed to
 * a disk that cannot take it: retrying the same batch can never work.
 */
export class RecordEncodeError extends Error {
  constructor(cause: unknown) {
    super(`cannot encode the batch as a disk buffer record: ${String(cause)}`, { cause });
    this.name = 'RecordEncodeError';
  }
}

/** Reads ahead this much per read of a backlog: a few batches per read, one window per reader. */
const READ_CHUNK = 1024 * 1024;
/** Directories of the buffers open in this process: two buffers on one directory would corrupt it. */
const openDirs = new Set<string>();

interface Peeked {
  seg: SegmentState;
  offset: number;
  batch: BufferedBatch;
}

export class DiskBuffer {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  private readonly log: Logger;
  private readonly ledger: Ledger;
  /** Oldest first; [0] is the reader's, the writer's (if any) is last. */
  private readonly segments: SegmentState[];
  private readonly writer: SegmentWriter;
  private readonly reader = new SegmentReader(READ_CHUNK);
  private peeked: Peeked | null = null;
  private readonly hot: HotRecords;
  private head: number | null;
  private counts = { bytes: 0, batches: 0, events: 0 };
  private damage = { records: 0, bytes: 0 };
  private dataWaiters: Array<() => void> = [];
  private roomWaiters: Array<() => void> = [];
  private appendTail: Promise<unknown> = Promise.resolve();
  private peeking: Promise<BufferedBatch | null> | null = null;
  private acking: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  private constructor(o: DiskBufferSettings, ledger: Ledger, rec: Recovered) {
    this.dir = o.dir;
    this.maxBytes = o.maxBytes;
    this.segmentBytes = o.segmentBytes;
    this.hot = new HotRecords(o.hotRecords);
    this.log = o.log;
    this.ledger = ledger;
    this.segments = rec.segments;
    this.writer = new SegmentWriter(o.dir, o.segmentBytes, o.sync, rec.nextId, (seg) => {
      this.segments.push(seg);
      wake(this.dataWaiters); // a reader waiting at the end of the previous segment moves on
    });
    this.head = rec.oldestAppendedAt;
    this.damage = { records: rec.corruptRecords, bytes: rec.corruptBytes };
    for (const s of rec.segments) this.count(s.records, s.bytes, s.events);
  }

  static async open(opts: DiskBufferOptions): Promise<DiskBuffer> {
    const o = diskBufferSettings(opts);
    if (openDirs.has(o.dir)) {
      throw new LogwharfError(
        'LOGWHARF_ERR_STORE',
        `${o.dir}: a disk buffer is already open on this directory; give each buffer its own`,
      );
    }
    openDirs.add(o.dir);
    try {
      const { ledger, recovered } = await recoverDir(o.dir, o.log, o.sync);
      return new DiskBuffer(o, ledger, recovered);
    } catch (err) {
      openDirs.delete(o.dir);
      if (err instanceof LogwharfError) throw err;
      throw new LogwharfError(
        'LOGWHARF_ERR_STORE',
        `${o.dir}: cannot open the disk buffer: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  get bytes(): number {
    return this.counts.bytes;
  }
  get batches(): number {
    return this.counts.batches;
  }
  get events(): number {
    return this.counts.events;
  }
  /** Damaged spots skipped since open (each gives up the rest of its segment). */
  get corruptRecords(): number {
    return this.damage.records;
  }
  /** Bytes given up at those spots. */
  get corruptBytes(): number {
    return this.damage.bytes;
  }
  /** Records held as live objects (at most hotRecords; the one peeked aside). */
  get hotRecordsHeld(): number {
    return this.hot.size;
  }

  /** True once close() was called: waitForRoom() then resolves though full() may still be true. */
  get closed(): boolean {
    return this.closing !== null;
  }

  oldestAppendedAt(): number | null {
    return this.counts.batches === 0 ? null : this.head;
  }

  full(): boolean {
    return this.counts.bytes >= this.maxBytes;
  }

  waitForRoom(): Promise<void> {
    if (this.closing || !this.full()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Rejects after close(), and with a RecordEncodeError when the batch cannot be encoded (nothing
   * is written then). The batch is encoded at the call, so later changes to the array do not reach the disk; the
   * events themselves must not change after (the hot copy is the same objects).
   */
  append(events: readonly LogEvent[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`disk buffer ${this.dir} is closed`));
    const appendedAt = Date.now();
    let record: Buffer;
    try {
      record = sealFrame(encodeBatch(events, appendedAt, FRAME_HEADER_BYTES));
    } catch (err) {
      return Promise.reject(new RecordEncodeError(err));
    }
    const batch: BufferedBatch = { events: events.slice(), bytes: record.length, appendedAt };
    // Appends run one at a time, in call order, each whether the one before failed or not.
    const run = () => this.appendNow(record, batch);
    const p = this.appendTail.then(run, run);
    this.appendTail = p.catch(() => undefined);
    return p;
  }

  peek(): Promise<BufferedBatch | null> {
    if (this.closing) return Promise.resolve(null);
    // Until an ack under way resolves, its batch is still the oldest: wait rather than hand it out again.
    if (this.acking) return this.acking.then(this.peekAgain, this.peekAgain);
    if (this.peeked) return Promise.resolve(this.peeked.batch);
    if (this.peeking === null) {
      const seg = this.segments[0];
      const hot = seg && !seg.dead && seg.start < seg.end ? this.hot.at(seg.id, seg.start) : null;
      if (hot) return Promise.resolve(this.hand(seg!, hot)); // a reader that keeps up: no async step
    }
    this.peeking ??= this.readNext().finally(() => {
      this.peeking = null;
    });
    return this.peeking;
  }

  private readonly peekAgain = () => this.peek();

  /**
   * Rejects when the ledger cannot be written (EIO, ENOSPC): the batch stays peeked, and ack()
   * may be called again. After close() this does nothing: the batch stays and is read again
   * after the next open.
   */
  async ack(): Promise<void> {
    if (this.acking) await this.acking.catch(() => undefined);
    if (this.closing) return;
    const p = this.peeked;
    if (p === null) throw new Error('DiskBuffer.ack(): no batch is peeked (ack() follows one peek())');
    const run = this.ackNow(p);
    this.acking = run;
    try {
      await run;
    } finally {
      if (this.acking === run) this.acking = null;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    wake(this.dataWaiters);
    wake(this.roomWaiters);
    // Appends queued before close() still complete; a peek or ack under way finishes first.
    await Promise.allSettled([this.appendTail, this.peeking, this.acking]);
    const handles = [this.reader, this.writer, this.ledger];
    this.hot.clear();
    this.peeked = null;
    for (const h of handles) await h?.close().catch(() => undefined);
    openDirs.delete(this.dir);
  }

  private async appendNow(record: Buffer, batch: BufferedBatch): Promise<void> {
    for (;;) {
      const { seg, offset } = await this.writer.write(record);
      // The reader found this segment damaged meanwhile and gave it up: write into a fresh one.
      if (seg.dead) continue;
      seg.end = offset + record.length;
      seg.records++;
      seg.bytes += batch.bytes;
      seg.events += batch.events.length;
      if (this.counts.batches === 0) this.head = batch.appendedAt;
      this.count(1, batch.bytes, batch.events.length);
      this.hot.push(seg.id, offset, batch);
      wake(this.dataWaiters);
      return;
    }
  }

  private async readNext(): Promise<BufferedBatch | null> {
    for (;;) {
      if (this.closing) return null;
      const seg = this.segments[0];
      const growing = seg !== undefined && seg === this.writer.segment && !seg.dead;
      if (seg === undefined || (growing && seg.start >= seg.end)) {
        await new Promise<void>((resolve) => this.dataWaiters.push(resolve));
        continue;
      }
      if (seg.dead || seg.start >= seg.end) {
        await this.dropHead(); // all of it acknowledged, or given up
        continue;
      }
      const batch = this.hot.at(seg.id, seg.start) ?? (await this.readRecord(seg));
      if (batch === null) continue; // damaged: the segment was given up
      return this.hand(seg, batch);
    }
  }

  /** Hands out the record at the reader's position as the peeked batch. */
  private hand(seg: SegmentState, batch: BufferedBatch): BufferedBatch {
    this.peeked = { seg, offset: seg.start, batch };
    this.head = batch.appendedAt;
    return batch;
  }

  private async readRecord(seg: SegmentState): Promise<BufferedBatch | null> {
    const r = await this.reader.read(seg);
    if (r.ok) return r.batch;
    this.giveUp(seg, r.problem);
    return null;
  }

  private giveUp(seg: SegmentState, problem: string): void {
    this.log.error(
      { file: seg.file, at: seg.start, records: seg.records, bytes: seg.end - seg.start, problem },
      'disk buffer: damaged record; skipping the rest of this segment (its records are lost)',
    );
    this.damage.records++;
    this.damage.bytes += seg.end - seg.start;
    this.count(-seg.records, -seg.bytes, -seg.events);
    seg.records = seg.bytes = seg.events = 0;
    seg.dead = true;
    this.hot.dropSegment(seg.id);
    if (!this.full()) wake(this.roomWaiters);
  }

  private async ackNow(p: Peeked): Promise<void> {
    const { seg, offset, batch } = p;
    const next = offset + batch.bytes;
    await this.ledger.write({ segment: seg.id, offset: next });
    this.peeked = null;
    seg.start = next;
    seg.records--;
    seg.bytes -= batch.bytes;
    seg.events -= batch.events.length;
    this.count(-1, -batch.bytes, -batch.events.length);
    this.hot.at(seg.id, next); // forgets the hot copies before `next`
    if (!this.full()) wake(this.roomWaiters);
    if (next >= seg.end && seg !== this.writer.segment && this.segments[0] === seg) await this.dropHead();
    if (this.counts.batches > 0) this.head = (await this.nextAppendedAt()) ?? batch.appendedAt;
  }

  /** appendedAt of the oldest unacknowledged record, from its hot copy or the prefix of its payload. */
  private async nextAppendedAt(): Promise<number | null> {
    const seg = this.segments.find((s) => s.records > 0);
    if (seg === undefined) return null;
    return this.hot.at(seg.id, seg.start)?.appendedAt ?? (await this.reader.appendedAtOf(seg));
  }

  private async dropHead(): Promise<void> {
    const seg = this.segments.shift();
    if (seg === undefined) return;
    await this.reader.release(seg);
    await fs.rm(seg.file, { force: true }).catch((err) => {
      // Left behind, it is removed at the next open (the ledger is past it).
      this.log.warn({ err, file: seg.file }, 'disk buffer: cannot remove an acknowledged segment');
    });
  }

  private count(batches: number, bytes: number, events: number): void {
    this.counts.batches += batches;
    this.counts.bytes += bytes;
    this.counts.events += events;
  }
}

function wake(waiters: Array<() => void>): void {
  for (const w of waiters.splice(0)) w();
}
