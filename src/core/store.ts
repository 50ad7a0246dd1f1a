import type { QueryNode } from '../query/ast.js';
import type { EcsDocument } from './ecs.js';
import type { LogEvent } from './event.js';

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
}

export interface SearchResult {
  events: EcsDocument[];
  /** null when there is nothing more. */
  nextCursor: string | null;
}

export interface StoreReader {
  search(req: SearchRequest): Promise<SearchResult>;
  close(): Promise<void>;
}

/** The outcome of one write, as Vector's sinks report it: the engine, not the sink, decides on retries. */
export type WriteOutcome =
  | { status: 'delivered' }
  | { status: 'retryable'; reason: string }
  | { status: 'rejected'; reason: string };

export interface StoreWriter {
  /** Durably stores the batch (or reports why not). Events already stored (same `id`) are skipped, not doubled. */
  write(batch: readonly LogEvent[]): Promise<WriteOutcome>;
  /** Answers whether the store can be written now (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
