/**
 * How many hits the Elasticsearch reader asks for per request while it fills one answer
 * (core/answer.ts). Pure, so the arithmetic is tested without a cluster.
 *
 * Elasticsearch returns every hit asked for (`size`) in one response, which the client holds
 * whole, and a document's size is not known before it arrives. So the reader asks in chunks:
 * the first sized as if events averaged ASSUMED_EVENT_BYTES, each next one by the average size
 * of the events taken so far, for what is left of the byte budget and of `limit`, plus one hit
 * that finds where the next page starts. A response that passes responseCap anyway (events far
 * larger than the ones before) is abandoned while it arrives and asked again for a quarter of
 * the hits, down to one: a single event is always fetched, whatever its size.
 *
 * What the client holds per search is therefore at most one response of responseCap bytes (about
 * twice the budget), or one event when a single event is larger, plus the answer itself.
 */

/**
 * `index.max_result_window`: Elasticsearch refuses a search with `size` above it (10,000 by
 * default), even with `search_after`.
 */
export const MAX_RESULT_WINDOW = 10_000;

/** The event size the first request of an answer assumes: a long log line, with its metadata. */
export const ASSUMED_EVENT_BYTES = 4096;

/** What a hit adds to a response besides its `_source`: `_index`, `_id` (up to 512 bytes), `sort`. */
const HIT_OVERHEAD_BYTES = 1024;

/**
 * Hits to ask for next, with `taken` events of `bytes` (answerBytes) in the answer so far.
 * Always at least 1: the answer needs the next event to finish or to know that it is full.
 */
export function chunkSize(limit: number, maxBytes: number, taken: number, bytes: number): number {
  const average = taken > 0 ? bytes / taken : ASSUMED_EVENT_BYTES;
  // The events that fit in what is left at that average, and one more.
  const fit = Math.ceil((maxBytes - bytes) / average) + 1;
  return Math.max(1, Math.min(limit + 1 - taken, fit, MAX_RESULT_WINDOW));
}

/**
 * The largest response accepted for a request of `size` hits (> 1): twice the budget, since
 * the chunk size is an estimate and a moderate overshoot is cheaper trimmed than asked again,
 * plus each hit's metadata.
 */
export function responseCap(maxBytes: number, size: number): number {
  return 2 * maxBytes + size * HIT_OVERHEAD_BYTES;
}

/** The size to ask for again after a response of `size` hits passed the cap. */
export function smallerChunk(size: number): number {
  return Math.max(1, Math.floor(size / 4));
}
