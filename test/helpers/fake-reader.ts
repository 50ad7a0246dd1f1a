import type {
  HistogramRequest,
  HistogramResult,
  SearchRequest,
  SearchResult,
  StoreReader,
} from '../../src/core/store.js';

/**
 * A StoreReader for API and CLI tests: it records what it was asked and answers what the test
 * put in `results` (one per search, in turn) or else `result` / `histogramResult`, or throws
 * `failWith` (from either method).
 */
export class FakeReader implements StoreReader {
  /** Search requests, in order. */
  requests: SearchRequest[] = [];
  histogramRequests: HistogramRequest[] = [];
  closed = 0;
  result: SearchResult = { events: [], nextCursor: null };
  /** Answers for the next searches, taken in order; `result` once they are used up. */
  results: SearchResult[] = [];
  /** Unset: an answer with no buckets, echoing the request's interval and `by`. */
  histogramResult: HistogramResult | undefined = undefined;
  failWith: unknown = undefined;

  async search(req: SearchRequest): Promise<SearchResult> {
    this.requests.push(req);
    if (this.failWith !== undefined) throw this.failWith;
    return this.results.shift() ?? this.result;
  }

  async histogram(req: HistogramRequest): Promise<HistogramResult> {
    this.histogramRequests.push(req);
    if (this.failWith !== undefined) throw this.failWith;
    return this.histogramResult ?? { intervalMs: req.intervalMs, by: req.by, buckets: [] };
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
