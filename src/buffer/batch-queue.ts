/**
 * A FIFO of items that arrive in arrays (one per chunk a source read) and leave in batches.
 * Keeping the arrays as they came avoids copying every item on the way in; `take` slices
 * only the array it splits.
 */
export class BatchQueue<T> {
  private chunks: T[][] = [];
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(items: T[]): void {
    if (items.length === 0) return;
    this.chunks.push(items);
    this.count += items.length;
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      const room = max - out.length;
      if (chunk.length <= room) {
        for (const item of chunk) out.push(item);
        // Let go of it now, not at the next compaction: 64 chunks of a fast source are tens of
        // thousands of events, held for nothing (seen as memory growing during a sink outage).
        this.chunks[this.head] = [];
        this.head++;
      } else {
        for (let i = 0; i < room; i++) out.push(chunk[i]!);
        this.chunks[this.head] = chunk.slice(room);
      }
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.count -= out.length;
    return out;
  }
}
