import type { EcsDocument } from './ecs.js';
import type { SearchResult } from './store.js';

/**
 * One search answer, bounded by a count (`limit`) and by bytes (`maxBytes`), filled by a store
 * from its matches in order. The stores read matches one at a time and stop at the first one
 * that does not fit, so what a search holds in memory is bounded by the budget (plus that one
 * match), not by `limit` times the largest event.
 *
 * The rules, the same for every store:
 * - An event is taken while the answer holds fewer than `limit` events and its bytes (its JSON
 *   as the API sends it, see answerBytes) fit in what is left of `maxBytes`.
 * - The first event is always taken, however large: an answer that could not hold one event
 *   would be a cursor that never moves. One event is bounded where it is made (a Docker line by
 *   `sources.docker.max_line_bytes`, a syslog message by `sources.syslog.max_message_bytes`;
 *   `message`, `event.original` and parsed `fields` can each hold up to that much).
 * - An answer that stopped before the matches ran out has a `nextCursor`: the key of the last
 *   event taken, so the next page starts right after it. Following cursors therefore yields
 *   every match exactly once and in order, however the pages were cut.
 */

/**
 * The server's budget for one answer, in bytes of event JSON; a request can lower it, not raise
 * it. 8 MiB holds several of the largest events the default ingest limits make (a 1 MiB JSON
 * line is kept as `event.original` and again as `message` plus `fields`: about 2 MiB of JSON,
 * more when it is full of characters JSON escapes), so paging through large events is not one
 * round trip per event. An ordinary container event is 1–2 KB of JSON (its compose labels alone
 * are often 1 KB), so the default page of 100 is far below the budget, while a page of 10,000
 * (the most `limit` allows) is cut after about 4,500 of them and continued by its cursor. Each
 * search in progress holds up to this much event JSON (more as JavaScript objects), where one
 * page of 10,000 large events used to be gigabytes.
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Why an answer ended before the matches did. */
export type CutBy = 'limit' | 'max_bytes';

/**
 * The bytes `doc` adds to an answer: its JSON in UTF-8, as the API sends it, and the comma after
 * it.
 */
export function answerBytes(doc: EcsDocument): number {
  return jsonBytes(JSON.stringify(doc));
}

function jsonBytes(json: string): number {
  return Buffer.byteLength(json, 'utf8') + 1;
}

export class Answer<K> {
  readonly events: EcsDocument[] = [];
  /**
   * Each event's JSON, made once to measure it: the API sends this text as it is rather than
   * serialising every event a second time.
   */
  readonly json: string[] = [];
  /** Bytes of the events taken (answerBytes each). */
  bytes = 0;
  private lastKey: K | undefined;
  private cut: CutBy | undefined;

  constructor(
    readonly limit: number,
    readonly maxBytes: number,
  ) {}

  /** True once the answer has refused a match: it is final, and a next page exists. */
  get full(): boolean {
    return this.cut !== undefined;
  }

  /**
   * Offers the next match in order: `doc` builds its document (called only when the answer has
   * room for another event, so the match after a full page costs no conversion). Returns false
   * when the answer is full; the match is then not taken and becomes the first of the next page.
   */
  offer(key: K, doc: () => EcsDocument): boolean {
    if (this.cut) return false;
    if (this.events.length >= this.limit) {
      this.cut = 'limit';
      return false;
    }
    const d = doc();
    const json = JSON.stringify(d);
    const size = jsonBytes(json);
    if (this.events.length > 0 && this.bytes + size > this.maxBytes) {
      this.cut = 'max_bytes';
      return false;
    }
    this.events.push(d);
    this.json.push(json);
    this.bytes += size;
    this.lastKey = key;
    return true;
  }

  /** The answer: a cursor after the last event taken when the answer is full, else none. */
  result(encodeCursor: (key: K) => string): SearchResult {
    if (this.cut === undefined || this.lastKey === undefined)
      return { events: this.events, eventsJson: this.json, nextCursor: null };
    return {
      events: this.events,
      eventsJson: this.json,
      nextCursor: encodeCursor(this.lastKey),
      cutBy: this.cut,
    };
  }
}
