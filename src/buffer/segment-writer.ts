import type fs from 'node:fs/promises';
import {
  createSegment,
  newSegmentState,
  SEGMENT_HEADER_BYTES,
  type SegmentState,
  writeAll,
} from './segment.js';

/**
 * The disk buffer's writer of segment files: appends each record at the end of the newest
 * segment, and starts a new segment when a record does not fit (an empty segment takes any
 * record, so a record larger than segmentBytes gets one of its own).
 *
 * It writes but does not publish: the caller moves `seg.end` over a record once write()
 * resolved. A failed write cuts what it may have put in the file and leaves `seg.end` alone, so
 * it is never visible, and the next write goes to the same offset.
 */
export class SegmentWriter {
  private current: { seg: SegmentState; fh: fs.FileHandle } | null = null;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly sync: boolean,
    private nextId: number,
    /** Told of each new segment, before anything is written into it. */
    private readonly onSegment: (seg: SegmentState) => void,
  ) {}

  /** The segment being written; null before the first write and after close(). */
  get segment(): SegmentState | null {
    return this.current?.seg ?? null;
  }

  /** Writes `record`; resolves with where it is, once written (and fsynced under 'always'). */
  async write(record: Buffer): Promise<{ seg: SegmentState; offset: number }> {
    const w = await this.segmentFor(record.length);
    const offset = w.seg.end;
    try {
      await writeAll(w.fh, record, offset);
      if (this.sync) await w.fh.datasync();
    } catch (err) {
      // Neither a crash now nor the next segment may leave a torn record behind good ones.
      await w.fh.truncate(offset).catch(() => undefined);
      throw err;
    }
    return { seg: w.seg, offset };
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = null;
    await c?.fh.close().catch(() => undefined);
  }

  private async segmentFor(recordBytes: number): Promise<{ seg: SegmentState; fh: fs.FileHandle }> {
    const w = this.current;
    // A segment the reader gave up as damaged takes no more records (they would be skipped too).
    if (
      w &&
      !w.seg.dead &&
      (w.seg.end === SEGMENT_HEADER_BYTES || w.seg.end + recordBytes <= this.segmentBytes)
    ) {
      return w;
    }
    const id = this.nextId++;
    const fh = await createSegment(this.dir, id, this.segmentBytes, this.sync);
    this.current = { seg: newSegmentState(this.dir, id, this.segmentBytes), fh };
    await w?.fh.close().catch(() => undefined);
    this.onSegment(this.current.seg);
    return this.current;
  }
}
