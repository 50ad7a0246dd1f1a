import type { QueryNode } from '../query/ast.js';
import { type CutBy, MAX_ANSWER_BYTES } from './answer.js';
import type { EcsDocument } from './ecs.js';
import { LogwharfError } from './errors.js';
import type { LogEvent } from './event.js';
import { toCanonicalTimestamp } from './timestamp.js';

/**
 * What every store offers (the embedded SQLite store now, Elasticsearch later).
 * The API and the CLI depend on these two interfaces only.
 */

export interface SearchRequest {
  query: QueryNode;
  /** Inclusive lower bound, canonical RFC 3339 UTC with nine fraction digits. */
  from?: string;
  /** Exclusive upper bound, same form. */
  to?: string;
  limit: number;
  /** `desc` (newest first) is the default. */
  order: 'asc' | 'desc';
  /** Opaque, from a previous result's `nextCursor`; pages stably while new events arrive. */
  cursor?: string;
  /**
   * Most bytes of event JSON in the answer (answer.ts); at most, and by default,
   * MAX_ANSWER_BYTES. The first match is returned even if it alone is larger.
   */
  maxBytes?: number;
}

export interface SearchResult {
  events: EcsDocument[];
  /** `JSON.stringify` of each of `events`, when the store made it anyway (to measure the answer). */
  eventsJson?: string[];
  /** null when there is nothing more. */
  nextCursor: string | null;
  /** Why the answer ended before the matches did; set exactly when `nextCursor` is. */
  cutBy?: CutBy;
}

export interface HistogramRequest {
  query: QueryNode;
  /** Inclusive lower bound, canonical RFC 3339 UTC with nine fraction digits. */
  from: string;
  /** Exclusive upper bound, same form. */
  to: string;
  /** Bucket width in milliseconds; buckets start at multiples of it since the Unix epoch (UTC). */
  intervalMs: number;
  /** The field whose values split each bucket, a query-language field name or path (`log.level`, `service`, `fields.status`). */
  by: string;
  /** Most values kept per histogram (by count over the whole range); the rest are summed under `other`. */
  limit: number;
}

export interface HistogramBucket {
  /** Bucket start, canonical form. */
  start: string;
  total: number;
  /** Value of `by` -> count; an event without the field counts under `(none)`. */
  counts: Record<string, number>;
}

export interface HistogramResult {
  intervalMs: number;
  by: string;
  /** Every bucket from the one holding `from` up to `to`, oldest first, empty ones included. */
  buckets: HistogramBucket[];
}

export interface StoreReader {
  search(req: SearchRequest): Promise<SearchResult>;
  histogram(req: HistogramRequest): Promise<HistogramResult>;
  close(): Promise<void>;
}

/** The outcome of one write, as Vector's sinks report it: the engine, not the sink, decides on retries. */
export type WriteOutcome =
  | { status: 'delivered' }
  /** `code`: what failed, without data (`SQLITE_FULL`, `ENOSPC`, `status_429`), for /readyz and /metrics. */
  | { status: 'retryable'; reason: string; code?: string }
  | { status: 'rejected'; reason: string };

export interface StoreWriter {
  /** Durably stores the batch (or reports why not). Events already stored (same `id`) are skipped, not doubled. */
  write(batch: readonly LogEvent[]): Promise<WriteOutcome>;
  /** Answers whether the store can be written now (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A cursor the store did not hand out (or that was damaged): a 400 for the API. One class for
 * every store, so callers and the API's error mapping need not know which store answered.
 */
export class InvalidCursorError extends LogwharfError {
  constructor(detail: string) {
    super('LOGWHARF_ERR_QUERY', `invalid cursor: ${detail}; use the next_cursor of a previous answer`);
    this.name = 'InvalidCursorError';
  }
}

/**
 * A `from`/`to` bound in canonical form (UTC, nine fraction digits), which stored timestamps
 * have and text comparison needs: `...00Z` would sort after `...00.5Z`.
 */
export function canonicalBound(name: string, value: string): string {
  const canonical = toCanonicalTimestamp(value);
  if (canonical === null) {
    throw new LogwharfError('LOGWHARF_ERR_QUERY', `${name}: '${value}' is not an RFC 3339 date-time`);
  }
  return canonical;
}

/** The checks and normal forms every store applies to a search request before running it. */
export function searchBounds(req: SearchRequest): {
  order: 'asc' | 'desc';
  from?: string;
  to?: string;
  maxBytes: number;
} {
  if (!Number.isInteger(req.limit) || req.limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${req.limit}`);
  }
  if (req.maxBytes !== undefined && (!Number.isInteger(req.maxBytes) || req.maxBytes < 1)) {
    throw new RangeError(`maxBytes must be a positive integer, got ${req.maxBytes}`);
  }
  return {
    order: req.order === 'asc' ? 'asc' : 'desc',
    maxBytes: Math.min(req.maxBytes ?? MAX_ANSWER_BYTES, MAX_ANSWER_BYTES),
    ...(req.from !== undefined ? { from: canonicalBound('from', req.from) } : {}),
    ...(req.to !== undefined ? { to: canonicalBound('to', req.to) } : {}),
  };
}
