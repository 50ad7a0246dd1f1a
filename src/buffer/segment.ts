import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../core/fsync-dir.js';
import {
  announcedBytes,
  checkFrame,
  FRAME_HEADER_BYTES,
  type FrameCheck,
  MIN_PAYLOAD_BYTES,
} from './record.js';

/**
 * Segment files of the disk buffer: naming, the file header, creating one, and reading records
 * out of one with positioned reads.
 *
 * A segment is `<20-digit id>.seg`, so names sort in id order:
 *
 *   [4 bytes "LWSG"][u16 version][u16 zero][u64 id][u32 limit][u32 zero]   then records, back to back
 *
 * `limit` is the segment size the writer worked to: a record that does not start right after the
 * header ends at or before it (a bigger record starts a segment of its own). Recovery uses it to
 * tell a nonsense length from a record torn at the end of the file.
 */

export const SEGMENT_HEADER_BYTES = 24;
/** The largest segmentBytes a header can hold. */
export const MAX_SEGMENT_LIMIT = 0xffff_ffff;
export const SEGMENT_VERSION = 1;
const MAGIC = 'LWSG';
const NAME_RE = /^(\d{20})\.seg$/;

/** What the buffer knows about one segment file; a few numbers, whatever its size. */
export interface SegmentState {
  id: number;
  file: string;
  /** Offset of its first unacknowledged record; for the reader's segment, where the reader is. */
  start: number;
  /** End of its intact records: the reader never reads past it, the writer appends there. */
  end: number;
  /** The segment size its writer worked to (see the file header). */
  limit: number;
  /** Unacknowledged records, their bytes and events, in this segment. */
  records: number;
  bytes: number;
  events: number;
  /** Found damaged while reading: what follows `start` is given up (see DiskBuffer). */
  dead: boolean;
}

export function segmentFileName(id: number): string {
  return `${String(id).padStart(20, '0')}.seg`;
}

/** The id of a segment file name, or null when the name is not one. */
export function segmentIdOf(name: string): number | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

export function newSegmentState(
  dir: string,
  id: number,
  limit: number,
  start = SEGMENT_HEADER_BYTES,
): SegmentState {
  return {
    id,
    file: path.join(dir, segmentFileName(id)),
    start,
    end: start,
    limit,
    records: 0,
    bytes: 0,
    events: 0,
    dead: false,
  };
}

export function segmentHeader(id: number, limit: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt16LE(SEGMENT_VERSION, 4);
  b.writeBigUInt64LE(BigInt(id), 8);
  b.writeUInt32LE(limit, 16);
  return b;
}

export type HeaderCheck = { ok: true; limit: number } | { ok: false; problem: string; newerVersion?: number };

export function checkSegmentHeader(buf: Buffer, id: number): HeaderCheck {
  if (buf.length < SEGMENT_HEADER_BYTES) return { ok: false, problem: 'shorter than its header' };
  if (buf.toString('latin1', 0, 4) !== MAGIC) return { ok: false, problem: 'not a segment (magic)' };
  const version = buf.readUInt16LE(4);
  if (version > SEGMENT_VERSION) return { ok: false, problem: `version ${version}`, newerVersion: version };
  if (version !== SEGMENT_VERSION) return { ok: false, problem: `version ${version}` };
  if (buf.readBigUInt64LE(8) !== BigInt(id)) return { ok: false, problem: 'header names another segment' };
  const limit = buf.readUInt32LE(16);
  if (limit <= SEGMENT_HEADER_BYTES) return { ok: false, problem: `limit ${limit}` };
  return { ok: true, limit };
}

/**
 * Creates segment `id` with its header. Under `sync` the file and its directory entry are
 * fsynced before it is used: records fsynced into a file whose name a power loss forgets are
 * lost all the same. On failure nothing is left behind.
 */
export async function createSegment(
  dir: string,
  id: number,
  limit: number,
  sync: boolean,
): Promise<fs.FileHandle> {
  const file = path.join(dir, segmentFileName(id));
  const fh = await fs.open(file, 'wx', 0o644);
  try {
    await writeAll(fh, segmentHeader(id, limit), 0);
    if (sync) {
      await fh.datasync();
      await fsyncDir(dir);
    }
    return fh;
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(file, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Writes all of `buf` at `position` (a positioned write: a retry after a failure overwrites the same bytes). */
export async function writeAll(fh: fs.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** The file holds fewer bytes than the buffer knows were written to it: damage, not an I/O error. */
export class ShortReadError extends Error {
  override name = 'ShortReadError';
}

/**
 * Positioned reads of one file through one reusable buffer: a window of the file that serves
 * many small records per read. It grows to hold the largest record asked for and shrinks back
 * after, so memory is one chunk or one record, never the file.
 */
export class FileWindow {
  private buf: Buffer;
  private from = 0;
  private length = 0;

  constructor(
    private readonly fh: fs.FileHandle,
    private readonly chunk: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunk);
  }

  /** The buffer; valid until the next ensure(). */
  get bytes(): Buffer {
    return this.buf;
  }

  /** Makes the file's bytes [at, at + n) available in `bytes`, reading at most up to `limit`; returns where `at` is in `bytes`. */
  async ensure(at: number, n: number, limit: number): Promise<number> {
    if (at >= this.from && at + n <= this.from + this.length) return at - this.from;
    const want = Math.max(n, Math.min(this.chunk, limit - at));
    if (this.buf.length < want || (this.buf.length > this.chunk && want <= this.chunk)) {
      this.buf = Buffer.allocUnsafe(Math.max(want, this.chunk));
    }
    this.length = 0;
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(this.buf, got, want - got, at + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < n) throw new ShortReadError(`short read: ${got} of ${n} bytes at ${at} (the file shrank?)`);
    this.from = at;
    this.length = got;
    return 0;
  }
}

export type FrameAt =
  | { ok: true; buf: Buffer; payloadStart: number; payloadEnd: number; bytes: number }
  | Extract<FrameCheck, { ok: false }>;

/**
 * Reads and checks the record at file offset `at` of segment `seg`, whose readable part ends at
 * `end` (its intact records, or the file's size during recovery).
 */
export async function readFrameAt(
  win: FileWindow,
  seg: SegmentState,
  at: number,
  end: number,
): Promise<FrameAt> {
  const available = end - at;
  if (available < FRAME_HEADER_BYTES) return { ok: false, problem: 'short', bytes: available };
  let o = await win.ensure(at, FRAME_HEADER_BYTES, end);
  const bytes = announcedBytes(win.bytes, o);
  if (bytes - FRAME_HEADER_BYTES < MIN_PAYLOAD_BYTES) return { ok: false, problem: 'bad-length', bytes };
  // Only a segment's first record may run past its limit.
  if (at > SEGMENT_HEADER_BYTES && at + bytes > seg.limit) return { ok: false, problem: 'bad-length', bytes };
  if (bytes > available) return { ok: false, problem: 'short', bytes };
  o = await win.ensure(at, bytes, end);
  const check = checkFrame(win.bytes, o, available);
  if (!check.ok) return check;
  return {
    ok: true,
    buf: win.bytes,
    payloadStart: o + FRAME_HEADER_BYTES,
    payloadEnd: o + bytes,
    bytes,
  };
}
