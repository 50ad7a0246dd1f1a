import type { estypes } from '@elastic/elasticsearch';
import { LogwharfError } from '../../core/errors.js';
import type { HistogramBucket } from '../../core/store.js';
import { canonicalFromMillis } from '../../core/timestamp.js';
import { type EsQuery, esField } from '../../query/es.js';
import { TIMESTAMP_FIELDS } from '../../query/fields.js';
import { bucketRange, NONE_KEY, OTHER_KEY, resolveByField } from '../../query/histogram.js';

export { NONE_KEY, OTHER_KEY, resolveByField };

/**
 * The histogram of the Elasticsearch store, as two searches built and read by pure functions:
 *
 * 1. the top `limit` values of `by` over the whole range (a `terms` aggregation, most frequent
 *    first, ties by value), so that a value is kept or summed under `other` the same in every
 *    bucket;
 * 2. a `date_histogram` with, per bucket, the total, one `filter` per top value, a `missing`
 *    count for `(none)` and a `filter` for `other`: events that have the field but none of the
 *    top values. Counted this way, not as "total minus the rest", so a field with several
 *    values per event (`log.flags`) cannot make `other` negative.
 *
 * Buckets start at multiples of the interval since the Unix epoch (UTC), which is what a
 * `fixed_interval` date_histogram does; every bucket from the one holding `from` to the one
 * holding the last instant before `to` is returned, empty ones included. Counts are sparse:
 * a value appears in `counts` only where it occurs, in rank order, then `other`, then `(none)` —
 * all as the embedded store answers (src/sinks/embedded/histogram.ts).
 */

/**
 * Elasticsearch refuses a search that would build more than `search.max_buckets` (65,536 by
 * default) buckets; refusing here first says what to change.
 */
export const MAX_HISTOGRAM_BUCKETS = 50_000;

/** The field a histogram is split by, resolved and placed in the index. */
export interface SplitField {
  /** The ECS path (`service` -> `service.name`). */
  name: string;
  /** What to aggregate on. */
  path: string;
  /** Integer fields: keys come back as numbers and are compared as numbers. */
  numeric: boolean;
}

export function splitField(by: string): SplitField {
  const name = resolveByField(by);
  const f = esField(name);
  if (name === 'log.flags') {
    // As the embedded store: counting an event once per flag would make totals disagree.
    throw new LogwharfError(
      'LOGWHARF_ERR_QUERY',
      `cannot split by 'log.flags': an event may carry several flags; filter on it instead (log.flags:truncated)`,
    );
  }
  // `sender_timestamp` is a keyword in the index, but a timestamp all the same.
  const kind = TIMESTAMP_FIELDS.has(name) ? 'date' : f.kind;
  switch (kind) {
    case 'keyword':
    case 'container-id':
    case 'flattened':
    case 'severity-name':
    case 'facility-name':
      return { name, path: f.path, numeric: false };
    case 'integer':
      return { name, path: f.path, numeric: true };
    case 'date':
    case 'text':
    case 'unindexed':
      throw new LogwharfError(
        'LOGWHARF_ERR_QUERY',
        `histogram: cannot split by '${by}' (${kind === 'date' ? 'a timestamp' : kind === 'text' ? 'free text' : 'not indexed'}); ` +
          'split by a field with few values, such as log.level, service or fields.status',
      );
  }
}

/** Which buckets a histogram has: starts in epoch milliseconds, `count` of them. */
export interface BucketPlan {
  firstMs: number;
  lastMs: number;
  count: number;
}

/**
 * The buckets between `from` (inclusive) and `to` (exclusive), both canonical. Null when the
 * range is empty. Throws when there would be more than MAX_HISTOGRAM_BUCKETS.
 */
export function bucketPlan(from: string, to: string, intervalMs: number): BucketPlan | null {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new RangeError(`intervalMs must be a positive whole number of milliseconds, got ${intervalMs}`);
  }
  const { startMs: firstMs, count } = bucketRange(from, to, intervalMs);
  if (count === 0) return null;
  if (count > MAX_HISTOGRAM_BUCKETS) {
    throw new LogwharfError(
      'LOGWHARF_ERR_QUERY',
      `histogram: ${count} buckets of ${intervalMs} ms between ${from} and ${to}; ` +
        `at most ${MAX_HISTOGRAM_BUCKETS} — use a larger interval or a shorter range`,
    );
  }
  return { firstMs, lastMs: firstMs + (count - 1) * intervalMs, count };
}

interface SearchShape {
  index: string;
  filter: EsQuery[];
}

const SEARCH_DEFAULTS = {
  size: 0,
  track_total_hits: false,
  ignore_unavailable: true,
  allow_no_indices: true,
} as const;

/**
 * How many values beyond `limit` search 1 asks for, so that values tied with the last kept one
 * can be ranked here the way the embedded store ranks them (by value as a JavaScript string:
 * Elasticsearch orders integer keys numerically and keywords by UTF-8 bytes).
 */
const TIE_MARGIN = 50;

/** Search 1: the most frequent values over the whole range (see TIE_MARGIN, and `topValues`). */
export function topValuesRequest(s: SearchShape, field: SplitField, limit: number): estypes.SearchRequest {
  return {
    index: s.index,
    ...SEARCH_DEFAULTS,
    query: { bool: { filter: s.filter } },
    aggs: {
      top: {
        terms: {
          field: field.path,
          size: limit + TIE_MARGIN,
          // Each daily index reports its own top terms; asking each for more than that makes
          // the merged top exact unless values are very many and evenly spread.
          shard_size: Math.max(200, (limit + TIE_MARGIN) * 4),
          order: [{ _count: 'desc' }, { _key: 'asc' }],
        },
      },
    },
  };
}

/**
 * The top `limit` values of search 1: most frequent first, ties by value as a string — the
 * embedded store's order (src/sinks/embedded/histogram.ts, `topValues`).
 */
export function readTopValues(resp: estypes.SearchResponse, limit: number): string[] {
  const top = resp.aggregations?.top as
    | { buckets?: { key: string | number; doc_count: number }[] }
    | undefined;
  return (top?.buckets ?? [])
    .map((b) => [String(b.key), b.doc_count] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([v]) => v);
}

function valueFilter(field: SplitField, value: string): EsQuery {
  return { term: { [field.path]: field.numeric ? Number(value) : value } };
}

/** Search 2: per bucket, the total, each top value, `(none)` and `other`. */
export function splitRequest(
  s: SearchShape,
  field: SplitField,
  top: readonly string[],
  plan: BucketPlan,
  intervalMs: number,
): estypes.SearchRequest {
  const perBucket: Record<string, estypes.AggregationsAggregationContainer> = {};
  top.forEach((value, i) => {
    perBucket[`v${i}`] = { filter: valueFilter(field, value) };
  });
  perBucket.none = { missing: { field: field.path } };
  const exists: EsQuery = { exists: { field: field.path } };
  perBucket.other = {
    filter:
      top.length === 0
        ? exists
        : { bool: { filter: [exists], must_not: top.map((v) => valueFilter(field, v)) } },
  };
  return {
    index: s.index,
    ...SEARCH_DEFAULTS,
    query: { bool: { filter: s.filter } },
    aggs: {
      time: {
        date_histogram: {
          field: '@timestamp',
          fixed_interval: `${intervalMs}ms`,
          min_doc_count: 0,
          extended_bounds: { min: plan.firstMs, max: plan.lastMs },
        },
        aggs: perBucket,
      },
    },
  };
}

interface RawBucket {
  key: number;
  doc_count: number;
  [agg: string]: unknown;
}

function countOf(bucket: RawBucket | undefined, agg: string): number {
  return (bucket?.[agg] as { doc_count?: number } | undefined)?.doc_count ?? 0;
}

/**
 * The buckets of search 2, every one of the plan in order (a bucket Elasticsearch did not
 * return counts zero), with canonical start times.
 */
export function readBuckets(
  resp: estypes.SearchResponse,
  top: readonly string[],
  plan: BucketPlan,
  intervalMs: number,
): HistogramBucket[] {
  const raw = (resp.aggregations?.time as { buckets?: RawBucket[] } | undefined)?.buckets ?? [];
  const byStart = new Map(raw.map((b) => [b.key, b]));
  const buckets: HistogramBucket[] = [];
  for (let i = 0; i < plan.count; i++) {
    const startMs = plan.firstMs + i * intervalMs;
    const b = byStart.get(startMs);
    const counts: Record<string, number> = {};
    top.forEach((value, j) => {
      const n = countOf(b, `v${j}`);
      if (n > 0) counts[value] = n;
    });
    const other = countOf(b, 'other');
    if (other > 0) counts[OTHER_KEY] = (counts[OTHER_KEY] ?? 0) + other;
    const none = countOf(b, 'none');
    if (none > 0) counts[NONE_KEY] = (counts[NONE_KEY] ?? 0) + none;
    buckets.push({ start: canonicalFromMillis(startMs), total: b?.doc_count ?? 0, counts });
  }
  return buckets;
}
