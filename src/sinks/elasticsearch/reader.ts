import { type Client, errors, type estypes, type TransportRequestOptions } from '@elastic/elasticsearch';
import { Answer } from '../../core/answer.js';
import type { EcsDocument } from '../../core/ecs.js';
import { LogwharfError } from '../../core/errors.js';
import {
  canonicalBound,
  type HistogramRequest,
  type HistogramResult,
  type SearchRequest,
  type SearchResult,
  type StoreReader,
  searchBounds,
} from '../../core/store.js';
import { type EsQuery, toEsQuery } from '../../query/es.js';
import { timeWindow } from '../../query/es-time.js';
import { chunkSize, responseCap, smallerChunk } from './chunks.js';
import { decodeCursor, type EsCursorKey, encodeCursor, keyOfSortValues } from './cursor.js';
import {
  bucketPlan,
  readBuckets,
  readTopValues,
  splitField,
  splitRequest,
  topValuesRequest,
} from './histogram.js';

/**
 * Search and histogram over the daily indices `<prefix>-*` (template.ts). The documents are
 * returned as stored: `_source` is `toEcs(event)`, the same document the embedded store returns.
 *
 * - No index yet (nothing written, or all dropped by retention) is an empty answer, not an
 *   error: `ignore_unavailable` and `allow_no_indices`.
 * - Paging is `search_after` on (`@timestamp`, `event.id`) (cursor.ts). An answer is filled
 *   from requests sized to its limit and byte budget (chunks.ts), which ask for one event more
 *   than the answer can take: that extra event says whether a next page exists, so
 *   `nextCursor` is null exactly when there is nothing more. The cursor is the key of the last
 *   event kept, wherever in a response the answer was cut.
 * - New events become searchable at the next refresh (within a second by default). The reader
 *   never forces one: a refresh per search would cost the cluster far more than the second.
 * - Errors: a query Elasticsearch refuses (400) is the caller's (LOGWHARF_ERR_QUERY, 400 at the
 *   API); anything else means the cluster is unwell (LOGWHARF_ERR_STORE, 503).
 */

export interface ElasticsearchReaderOptions {
  /** Shared with the writer; owned, and closed, by the store. */
  client: Client;
  indexPrefix: string;
}

const DATE_FORMAT = 'strict_date_optional_time_nanos';

export function openElasticsearchReader(opts: ElasticsearchReaderOptions): StoreReader {
  return new ElasticsearchReader(opts.client, opts.indexPrefix);
}

class ElasticsearchReader implements StoreReader {
  private readonly index: string;

  constructor(
    private readonly client: Client,
    indexPrefix: string,
  ) {
    this.index = `${indexPrefix}-*`;
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    const { order, from, to, maxBytes } = searchBounds(req);
    const cursor = req.cursor ? decodeCursor(req.cursor) : undefined;
    const filter = this.filter(req.query, from, to);
    if (filter === null) return { events: [], nextCursor: null };

    const answer = new Answer<EsCursorKey>(req.limit, maxBytes);
    let after = cursor;
    for (;;) {
      const size = chunkSize(req.limit, maxBytes, answer.events.length, answer.bytes);
      const { hits, asked } = await this.chunk(filter, order, size, after, maxBytes);
      for (const hit of hits) {
        const key = keyOfSortValues(hit.sort);
        if (!answer.offer(key, () => (hit._source ?? {}) as EcsDocument)) return answer.result(encodeCursor);
        after = key;
      }
      // Fewer hits than asked for: the matches ran out.
      if (hits.length < asked) return answer.result(encodeCursor);
    }
  }

  async histogram(req: HistogramRequest): Promise<HistogramResult> {
    if (!Number.isInteger(req.limit) || req.limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${req.limit}`);
    }
    const from = canonicalBound('from', req.from);
    const to = canonicalBound('to', req.to);
    const field = splitField(req.by);
    const filter = this.filter(req.query, from, to);
    const plan = bucketPlan(from, to, req.intervalMs);
    const result: HistogramResult = { intervalMs: req.intervalMs, by: field.name, buckets: [] };
    if (plan === null) return result;

    const shape = { index: this.index, filter: filter ?? [{ match_none: {} }] };
    const top =
      filter !== null
        ? readTopValues(await this.call('histogram', topValuesRequest(shape, field, req.limit)), req.limit)
        : [];
    const split = await this.call('histogram', splitRequest(shape, field, top, plan, req.intervalMs));
    result.buckets = readBuckets(split, top, plan, req.intervalMs);
    return result;
  }

  async close(): Promise<void> {
    // The client belongs to the store, which closes it after the writer has drained.
  }

  /** The query and the time window as filters, or null when the window holds nothing. */
  private filter(query: SearchRequest['query'], from?: string, to?: string): EsQuery[] | null {
    const filter: EsQuery[] = [toEsQuery(query)];
    const w = timeWindow(from, to);
    if (w.kind === 'none') return null;
    if (w.kind === 'range') {
      const { kind: _, ...bounds } = w;
      filter.push({ range: { '@timestamp': { ...bounds, format: DATE_FORMAT } } });
    }
    return filter;
  }

  /**
   * Up to `size` hits after `after`, and how many were asked for in the end: fewer when the
   * response would pass the cap (chunks.ts). A request of one hit has no cap.
   */
  private async chunk(
    filter: EsQuery[],
    order: 'asc' | 'desc',
    size: number,
    after: EsCursorKey | undefined,
    maxBytes: number,
  ): Promise<{ hits: estypes.SearchHit[]; asked: number }> {
    for (let asked = size; ; asked = smallerChunk(asked)) {
      try {
        const cap = asked > 1 ? responseCap(maxBytes, asked) : undefined;
        return { hits: await this.page(filter, order, asked, after, cap), asked };
      } catch (err) {
        if (asked === 1 || !responseTooLarge(err)) throw err;
      }
    }
  }

  private async page(
    filter: EsQuery[],
    order: 'asc' | 'desc',
    size: number,
    after: EsCursorKey | undefined,
    maxResponseBytes: number | undefined,
  ): Promise<estypes.SearchHit[]> {
    const options = maxResponseBytes !== undefined ? { maxResponseSize: maxResponseBytes } : {};
    const resp = await this.call(
      'search',
      {
        index: this.index,
        size,
        query: { bool: { filter } },
        sort: [
          {
            '@timestamp': {
              order,
              format: DATE_FORMAT,
              numeric_type: 'date_nanos',
              unmapped_type: 'date_nanos',
            },
          },
          { 'event.id': { order, unmapped_type: 'keyword' } },
        ],
        ...(after ? { search_after: [after.ts, after.id] } : {}),
        track_total_hits: false,
        ignore_unavailable: true,
        allow_no_indices: true,
      },
      options,
    );
    return resp.hits.hits;
  }

  private async call(
    what: string,
    request: estypes.SearchRequest,
    options: TransportRequestOptions = {},
  ): Promise<estypes.SearchResponse> {
    try {
      return await this.client.search(request, options);
    } catch (err) {
      throw storeError(what, err);
    }
  }
}

/**
 * True when the client abandoned a response for passing `maxResponseSize`. The reader passes no
 * abort signal, so a RequestAbortedError can come from nothing else; the message is checked too,
 * so that a client that one day aborts for another reason fails loudly instead of looping.
 */
function responseTooLarge(err: unknown): boolean {
  const cause = err instanceof LogwharfError ? err.cause : err;
  return cause instanceof errors.RequestAbortedError && /bigger than the maximum allowed/.test(cause.message);
}

/** The reason Elasticsearch gave, from the deepest cause it reported. */
function reasonOf(err: errors.ResponseError): string {
  const body = err.meta.body as
    | { error?: { reason?: string; root_cause?: { reason?: string }[]; caused_by?: { reason?: string } } }
    | undefined;
  const e = body?.error;
  return e?.root_cause?.[0]?.reason ?? e?.caused_by?.reason ?? e?.reason ?? err.message;
}

function storeError(what: string, err: unknown): LogwharfError {
  if (err instanceof errors.ResponseError && err.statusCode === 400) {
    return new LogwharfError('LOGWHARF_ERR_QUERY', `elasticsearch refused the ${what}: ${reasonOf(err)}`, {
      cause: err,
    });
  }
  const detail =
    err instanceof errors.ResponseError
      ? `HTTP ${err.statusCode}: ${reasonOf(err)}`
      : err instanceof Error
        ? err.message
        : String(err);
  return new LogwharfError(
    'LOGWHARF_ERR_STORE',
    `elasticsearch ${what} failed: ${detail} — is the cluster reachable and healthy?`,
    { cause: err },
  );
}
