/**
 * The sender-clock window (DESIGN.md, "Defaults"): a time a sender wrote into its message (a
 * syslog header) is believed only within [receive - max_age, receive + max_ahead]. Outside it,
 * `@timestamp` becomes the receive time, the claim is kept in `sender_timestamp`, and the event
 * is flagged `clock_skew` (log.flags).
 *
 * Why: every distinct UTC day of `@timestamp` is a day file (embedded store) or a daily index
 * (Elasticsearch). One peer with a dead RTC battery (1970, 2000), a wrong year, or a hostile one
 * could otherwise create thousands of files or indices: a shard explosion on a cluster, and
 * retention that keeps or drops the wrong events.
 *
 * Only sender-supplied times go through here: syslog events (their `ingested` is the receive
 * time). Docker's timestamps come from the engine's clock, and a backlog read at start-up is
 * legitimately older than any window, so they are never touched. JSON and logfmt time keys are
 * not used for `@timestamp` at all (transforms/body.ts keeps them in `fields`).
 *
 * The bounds are inclusive and exact to the nanosecond: timestamps are compared as canonical
 * text (fixed width, years 0000..9999), which is time order. A bound beyond 0000..9999 means no
 * bound on that side.
 */

import type { LogEvent } from '../core/event.js';
import { addMillis } from '../core/timestamp.js';

export interface SenderTimeWindow {
  /** How far before the receive time a claimed time is still believed, in milliseconds. */
  maxAgeMs: number;
  /** How far after the receive time, in milliseconds. */
  maxAheadMs: number;
}

/** `kept`: the claim stands; `past`/`future`: it lies before/after the window and is replaced. */
export type SenderTimeVerdict = 'kept' | 'past' | 'future';

/** The flag (log.flags) of an event whose claimed time was replaced. */
export const CLOCK_SKEW_FLAG = 'clock_skew';

/** Replaced timestamps per dataset and direction, for `/metrics`. */
export type SenderTimeCounters = Record<string, { past: number; future: number }>;

/** Counters with the one dataset that carries sender times present at 0, so a rate() sees the first one. */
export function newSenderTimeCounters(): SenderTimeCounters {
  return { syslog: { past: 0, future: 0 } };
}

/** The window's edges around one receive time, as canonical text; undefined: no edge on that side. */
export interface WindowBounds {
  received: string;
  lower: string | undefined;
  upper: string | undefined;
}

/** The window around `received` (canonical). */
export function windowBounds(received: string, w: SenderTimeWindow): WindowBounds {
  return {
    received,
    lower: addMillis(received, -w.maxAgeMs) ?? undefined,
    upper: addMillis(received, w.maxAheadMs) ?? undefined,
  };
}

/** Where a claimed time (canonical) lies against the window. Pure. */
export function judgeSenderTime(claimed: string, bounds: WindowBounds): SenderTimeVerdict {
  if (bounds.lower !== undefined && claimed < bounds.lower) return 'past';
  if (bounds.upper !== undefined && claimed > bounds.upper) return 'future';
  return 'kept';
}

/**
 * The per-event step of the transform chain: judges a syslog event's claimed time against its
 * receive time (`ingested`) and, outside the window, stores it under the receive time. Keeps the
 * last bounds computed, since all events of one read share their receive time.
 */
export function senderTimeStep(
  window: SenderTimeWindow,
  counters: SenderTimeCounters,
): (e: LogEvent) => SenderTimeVerdict {
  let bounds: WindowBounds | undefined;
  return (e) => {
    if (e.dataset !== 'syslog') return 'kept';
    if (bounds?.received !== e.ingested) bounds = windowBounds(e.ingested, window);
    const verdict = judgeSenderTime(e.timestamp, bounds);
    if (verdict === 'kept') return verdict;
    e.senderTimestamp = e.timestamp;
    e.timestamp = e.ingested;
    e.flags = e.flags === undefined ? [CLOCK_SKEW_FLAG] : [...e.flags, CLOCK_SKEW_FLAG];
    counters[e.dataset] ??= { past: 0, future: 0 };
    counters[e.dataset]![verdict]++;
    return verdict;
  };
}
