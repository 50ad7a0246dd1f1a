import type { BufferedBatch } from './disk-buffer-options.js';

/**
 * The newest records of a disk buffer as the live batches that were appended, so a reader that
 * keeps up is served them without reading or parsing the disk. At most `limit`, oldest first;
 * a record enters only once it is stored (the caller's business), keyed by where it is stored.
 */
export class HotRecords {
  private entries: Array<{ segment: number; offset: number; batch: BufferedBatch }> = [];

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.length;
  }

  /** Adds the record stored at (segment, offset), the newest; forgets the oldest beyond the limit. */
  push(segment: number, offset: number, batch: BufferedBatch): void {
    if (this.limit === 0) return;
    this.entries.push({ segment, offset, batch });
    if (this.entries.length > this.limit) this.entries.shift();
  }

  /**
   * The batch stored at (segment, offset), or null; forgets every record before that position
   * (the reader is past them).
   */
  at(segment: number, offset: number): BufferedBatch | null {
    const e = this.entries;
    let h = e[0];
    while (h !== undefined && (h.segment < segment || (h.segment === segment && h.offset < offset))) {
      e.shift();
      h = e[0];
    }
    return h !== undefined && h.segment === segment && h.offset === offset ? h.batch : null;
  }

  /** Forgets the records of a segment given up as damaged. */
  dropSegment(segment: number): void {
    this.entries = this.entries.filter((h) => h.segment !== segment);
  }

  clear(): void {
    this.entries = [];
  }
}
