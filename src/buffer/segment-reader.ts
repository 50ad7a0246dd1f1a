import fs from 'node:fs/promises';
import type { BufferedBatch } from './disk-buffer-options.js';
import { decodeBatch, PREFIX_BYTES, readPrefix } from './event-codec.js';
import { FRAME_HEADER_BYTES } from './record.js';
import { FileWindow, readFrameAt, type SegmentState, ShortReadError } from './segment.js';

export type ReadOutcome = { ok: true; batch: BufferedBatch } | { ok: false; problem: string };

/**
 * The disk buffer's reader of segment files: one open file and one read window at a time (of
 * the segment the reader is in), records read and decoded one at a time. Reads stop at the
 * segment's `end`, which covers only records whose writes completed, so the window never holds
 * bytes a writer may still change.
 */
export class SegmentReader {
  private current: { seg: SegmentState; fh: fs.FileHandle; win: FileWindow } | null = null;

  constructor(private readonly chunk: number) {}

  /**
   * The record at `seg.start`. Damage (a bad frame, an undecodable payload, a file shorter than
   * written or gone) is an outcome; an I/O error (EIO, EMFILE) throws and may be retried.
   */
  async read(seg: SegmentState): Promise<ReadOutcome> {
    try {
      const f = await readFrameAt(await this.windowOn(seg), seg, seg.start, seg.end);
      if (!f.ok) return { ok: false, problem: f.problem };
      try {
        const { events, appendedAt } = decodeBatch(f.buf, f.payloadStart, f.payloadEnd);
        return { ok: true, batch: { events, bytes: f.bytes, appendedAt } };
      } catch (err) {
        return { ok: false, problem: `undecodable payload: ${(err as Error).message}` };
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof ShortReadError) {
        return { ok: false, problem: (err as Error).message };
      }
      throw err;
    }
  }

  /** appendedAt of the record at `seg.start`, from the prefix of its payload; null if unreadable. */
  async appendedAtOf(seg: SegmentState): Promise<number | null> {
    try {
      const win = await this.windowOn(seg);
      const need = FRAME_HEADER_BYTES + PREFIX_BYTES;
      const o = await win.ensure(seg.start, need, seg.end);
      return readPrefix(win.bytes, o + FRAME_HEADER_BYTES, o + need)?.appendedAt ?? null;
    } catch {
      return null; // read() meets the problem next and deals with it
    }
  }

  /** Closes the file of `seg` if it is the one open. */
  async release(seg: SegmentState): Promise<void> {
    if (this.current?.seg === seg) await this.close();
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = null;
    await c?.fh.close().catch(() => undefined);
  }

  private async windowOn(seg: SegmentState): Promise<FileWindow> {
    if (this.current?.seg === seg) return this.current.win;
    await this.close();
    const fh = await fs.open(seg.file, 'r');
    this.current = { seg, fh, win: new FileWindow(fh, this.chunk) };
    return this.current.win;
  }
}
