import path from 'node:path';
import type { Logger } from 'pino';
import type { LogEvent } from '../core/event.js';
import { MAX_SEGMENT_LIMIT, SEGMENT_HEADER_BYTES } from './segment.js';

/** The options and the public shapes of DiskBuffer (disk-buffer.ts), and their validation. */

export type FsyncPolicy = 'always' | 'never';

export interface DiskBufferOptions {
  /** Directory owned by this buffer alone (created if missing). */
  dir: string;
  /** Unacknowledged record bytes at most; see full(). */
  maxBytes: number;
  /** 'always': append() and ack() resolve only after fsync (survives power loss). 'never': after write() to the OS (survives a crash of the process, not of the machine). */
  fsync: FsyncPolicy;
  /** Segment file size at which a new segment starts; default min(8 MiB, max(64 KiB, maxBytes/8)). */
  segmentBytes?: number;
  /** How many of the newest records to keep as live objects, so a reader that keeps up never reads or parses the disk; default 8. */
  hotRecords?: number;
  log: Logger;
}

export interface BufferedBatch {
  events: LogEvent[];
  /** Bytes this record takes on disk. */
  bytes: number;
  /** Wall-clock ms when it was appended (persisted, so it survives a restart). */
  appendedAt: number;
}

export interface DiskBufferSettings {
  /** Absolute. */
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  sync: boolean;
  hotRecords: number;
  log: Logger;
}

/** Defaults and checks the options; throws a RangeError naming the first bad one. */
export function diskBufferSettings(opts: DiskBufferOptions): DiskBufferSettings {
  const where = `disk buffer ${opts.dir}`;
  const { maxBytes, fsync } = opts;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`${where}: maxBytes must be a positive integer, not ${maxBytes}`);
  }
  if (fsync !== 'always' && fsync !== 'never') {
    throw new RangeError(`${where}: fsync must be 'always' or 'never', not ${JSON.stringify(fsync)}`);
  }
  const segmentBytes =
    opts.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxBytes / 8)));
  if (
    !Number.isSafeInteger(segmentBytes) ||
    segmentBytes <= SEGMENT_HEADER_BYTES ||
    segmentBytes > MAX_SEGMENT_LIMIT
  ) {
    throw new RangeError(
      `${where}: segmentBytes must be an integer from ${SEGMENT_HEADER_BYTES + 1} to ${MAX_SEGMENT_LIMIT}, not ${segmentBytes}`,
    );
  }
  const hotRecords = opts.hotRecords ?? 8;
  if (!Number.isSafeInteger(hotRecords) || hotRecords < 0) {
    throw new RangeError(`${where}: hotRecords must be an integer >= 0, not ${hotRecords}`);
  }
  return {
    dir: path.resolve(opts.dir),
    maxBytes,
    segmentBytes,
    sync: fsync === 'always',
    hotRecords,
    log: opts.log,
  };
}
