import { isAfter } from '../checkpoint/positions.js';
import type { Position } from '../core/event.js';

/**
 * A source's lag: how long the oldest line it has read, and the store has not yet committed,
 * has waited since it was written. Pure; the followers keep a `PendingLines` and ask it.
 *
 * Why this definition, and not "now minus the last committed timestamp" (Promtail's old
 * `stream_lag_seconds`): that one grows for every container that is simply quiet, so an alert
 * on it fires on idle services and an operator learns to ignore it. What an operator wants to
 * know is "are lines waiting to reach the store, and for how long": 0 when every line read is
 * committed (caught up, however long the container has been quiet); else the age of the
 * oldest waiting line, which grows while a sink is down or slow and falls back to 0 once it
 * catches up. Catching up on a backlog (a restart resuming from a day-old position) shows the
 * age of the backlog, shrinking as it is read and committed.
 *
 * Limits: only lines logwharf has read count. Lines still in Docker's log file while a source
 * is paused (backpressure) or disconnected are not seen until they are read; the already-read
 * lines of a paused source keep ageing meanwhile, so a stall still shows.
 */

/** Seconds from the line's timestamp to `nowMs`, never negative (clock skew), millisecond precision. */
export function lagSeconds(nowMs: number, oldestPending: string | null): number {
  if (oldestPending === null) return 0;
  const written = timestampMillis(oldestPending);
  if (Number.isNaN(written)) return 0;
  return Math.max(0, Math.round(nowMs - written)) / 1000;
}

/** Milliseconds of a canonical timestamp (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`), or NaN. */
export function timestampMillis(canonical: string): number {
  // The millisecond prefix is enough for a lag, and Date.parse reads exactly three digits.
  return Date.parse(`${canonical.slice(0, 23)}Z`);
}

function atOrBefore(a: Position, b: Position): boolean {
  return !isAfter(a, b);
}

interface Span {
  first: Position;
  last: Position;
}

/**
 * The lines one source has read and not yet seen committed, as spans of hand-overs in read
 * order (one span per batch handed to the pipeline, not one entry per line).
 *
 * A span is done once the committed position reaches its last line: positions only move
 * forward and the pipeline commits in order, so every line of it is then stored. The oldest
 * waiting line is the first line of the first span not done. (Lines of a container's two
 * streams may reach us a little out of time order, see since.ts; spans follow read order,
 * which is the pipeline's commit order, so that costs at most that little.)
 *
 * Bounded: past `maxSpans` (a long stall with many small hand-overs) neighbouring spans are
 * merged pairwise. A merged span ends later, so it may be kept a little longer than its
 * oldest line: the lag then errs high, never low, and only while that far behind.
 */
export class PendingLines {
  private spans: Span[] = [];
  private head = 0;

  constructor(private readonly maxSpans = 4096) {}

  /** Lines handed over: the positions of the first and the last of them, in read order. */
  add(first: Position, last: Position, committed: Position | undefined): void {
    this.trim(committed);
    if (committed !== undefined && atOrBefore(first, committed)) {
      if (atOrBefore(last, committed)) return; // re-read (a resume margin), already stored
      // Starts with re-read lines: the first waiting one is after the position; the position
      // is the nearest bound we know.
      this.spans.push({ first: committed, last });
    } else this.spans.push({ first, last });
    if (this.spans.length - this.head > this.maxSpans) this.coarsen();
  }

  /** The timestamp of the oldest line read and not yet committed, or null when caught up. */
  oldest(committed: Position | undefined): string | null {
    this.trim(committed);
    return this.spans[this.head]?.first.timestamp ?? null;
  }

  /** Spans kept (for tests of the bound). */
  get size(): number {
    return this.spans.length - this.head;
  }

  private trim(committed: Position | undefined): void {
    if (committed === undefined) return;
    while (this.head < this.spans.length && atOrBefore(this.spans[this.head]!.last, committed)) this.head++;
    if (this.head === this.spans.length) {
      this.spans = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.spans.length) {
      this.spans = this.spans.slice(this.head);
      this.head = 0;
    }
  }

  private coarsen(): void {
    const live = this.spans.slice(this.head);
    const out: Span[] = [];
    for (let i = 0; i < live.length; i += 2) {
      const a = live[i]!;
      const b = live[i + 1];
      if (b === undefined) out.push(a);
      else
        out.push({
          first: atOrBefore(a.first, b.first) ? a.first : b.first,
          last: atOrBefore(a.last, b.last) ? b.last : a.last,
        });
    }
    this.spans = out;
    this.head = 0;
  }
}
