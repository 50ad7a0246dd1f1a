/**
 * The ids of the lines a follower read most recently, with their timestamps, oldest first:
 * a set for the per-line membership test and two parallel arrays as a queue for forgetting
 * the oldest. (A Map whose head is deleted over and over makes every later iteration walk
 * the deleted slots: that cost more than all of decoding in a profile.)
 */
export class RecentIds {
  private readonly set = new Set<string>();
  private ids: string[] = [];
  private stamps: string[] = [];
  private head = 0;

  get size(): number {
    return this.set.size;
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string, timestamp: string): void {
    this.set.add(id);
    this.ids.push(id);
    this.stamps.push(timestamp);
  }

  /** Forgets ids read before one with a timestamp >= `cutoff`, and the oldest beyond `max`. */
  forgetBefore(cutoff: string, max: number): void {
    const end = this.ids.length;
    let h = this.head;
    while (h < end && (this.stamps[h]! < cutoff || end - h > max)) {
      this.set.delete(this.ids[h]!);
      h++;
    }
    this.head = h;
    if (h > 4096 && h * 2 > end) {
      this.ids = this.ids.slice(h);
      this.stamps = this.stamps.slice(h);
      this.head = 0;
    }
  }
}
