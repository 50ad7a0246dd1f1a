/**
 * A FIFO of items that arrive in arrays (one per chunk a source read) and leave in batches,
 * counted in items and in bytes (each item's `weigh`). Keeping the arrays as they came avoids
 * copying every item on the way in; `take` slices only the array it splits.
 */
export class BatchQueue<T> {
  private chunks: T[][] = [];
  private head = 0;
  private count = 0;
  private weight = 0;

  constructor(private readonly weigh: (item: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** The sum of `weigh` over the items queued. */
  get bytes(): number {
    return this.weight;
  }

  push(items: T[]): void {
    if (items.length === 0) return;
    let bytes = 0;
    for (const item of items) bytes += this.weigh(item);
    this.chunks.push(items);
    this.count += items.length;
    this.weight += bytes;
  }

  /**
   * Removes and returns up to `max` items, oldest first, and no more than `maxBytes` of them
   * by weight; but always at least one item when any is queued (an item heavier than
   * `maxBytes` leaves alone).
   */
  take(max: number, maxBytes = Number.POSITIVE_INFINITY): T[] {
    const out: T[] = [];
    let bytes = 0;
    while (out.length < max && this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      const room = max - out.length;
      let n = 0;
      const limit = Math.min(room, chunk.length);
      while (n < limit) {
        const w = this.weigh(chunk[n]!);
        if (bytes + w > maxBytes && (out.length > 0 || n > 0)) break;
        bytes += w;
        n++;
      }
      if (n === chunk.length) {
        for (const item of chunk) out.push(item);
        // Let go of it now, not at the next compaction: 64 chunks of a fast source are tens of
        // thousands of events, held for nothing (seen as memory growing during a sink outage).
        this.chunks[this.head] = [];
        this.head++;
      } else {
        if (n > 0) {
          for (let i = 0; i < n; i++) out.push(chunk[i]!);
          this.chunks[this.head] = chunk.slice(n);
        }
        break;
      }
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.count -= out.length;
    this.weight -= bytes;
    return out;
  }
}
