import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseDuration } from '../../core/duration.js';
import type { HistogramRequest, StoreReader } from '../../core/store.js';
import { canonicalFromMillis } from '../../core/timestamp.js';
import { bucketRange } from '../../query/histogram.js';
import { parseQuery } from '../../query/parser.js';
import { parseTimeBound } from '../../query/time.js';
import { ParameterError } from '../errors.js';

/** Without `from`, the histogram covers this much before `to`. */
export const DEFAULT_SPAN_MS = 86_400_000;
/** `interval=auto` aims for at most this many buckets: a readable bar chart. */
export const AUTO_MAX_BUCKETS = 60;
/** More buckets than this are refused: the answer would be large and the chart unreadable. */
export const MAX_BUCKETS = 1000;
export const DEFAULT_BY = 'log.level';
export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 50;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The intervals `auto` picks from, each a round number on a clock or calendar. */
export const NICE_INTERVALS_MS: readonly number[] = [
  SECOND,
  5 * SECOND,
  10 * SECOND,
  30 * SECOND,
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  7 * DAY,
];

/**
 * `GET /api/v1/histogram`. As for /search, empty `from`, `to`, `interval` and `by` mean "not
 * given", so a form that submits every field works.
 */
export const HistogramQuerystring = T.Object({
  q: T.String({ default: '', description: 'query (DESIGN.md, "Query language"); empty = everything' }),
  from: T.Optional(
    T.String({
      maxLength: 64,
      description:
        'inclusive lower bound: RFC 3339 or a span before now (15m, 2h, 7d); default 24h before to',
    }),
  ),
  to: T.Optional(T.String({ maxLength: 64, description: 'exclusive upper bound, same forms; default now' })),
  interval: T.String({
    maxLength: 32,
    default: 'auto',
    description: `bucket width (30s, 5m, 1h, 1d) or auto: a round width giving at most ${AUTO_MAX_BUCKETS} buckets`,
  }),
  by: T.String({
    maxLength: 256,
    default: DEFAULT_BY,
    description:
      'the field that splits each bucket: a short name (level, service) or a full path; empty = log.level',
  }),
  limit: T.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
});
export type HistogramQuerystring = Static<typeof HistogramQuerystring>;

export const HistogramResponse = T.Object({
  interval: T.String(),
  interval_ms: T.Integer(),
  by: T.String(),
  buckets: T.Array(
    T.Object({
      start: T.String(),
      total: T.Integer(),
      counts: T.Record(T.String(), T.Integer()),
    }),
  ),
});
export type HistogramResponse = Static<typeof HistogramResponse>;

export interface HistogramRouteOptions {
  reader: StoreReader;
  now: () => Date;
}

/** `86400000` -> `1d`, `300000` -> `5m`, `1500` -> `1500ms`: the largest unit that divides it. */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** How many buckets of `intervalMs` cover [from, to) (canonical bounds); see bucketRange. */
export function bucketCount(from: string, to: string, intervalMs: number): number {
  return bucketRange(from, to, intervalMs).count;
}

/** The smallest nice interval with at most AUTO_MAX_BUCKETS buckets; the largest if none has. */
export function autoInterval(from: string, to: string): number {
  const fits = NICE_INTERVALS_MS.find((i) => bucketCount(from, to, i) <= AUTO_MAX_BUCKETS);
  return fits ?? NICE_INTERVALS_MS[NICE_INTERVALS_MS.length - 1]!;
}

/** `interval` as milliseconds: `auto` (or empty) picks one, else a duration such as `5m`. */
export function chooseInterval(interval: string, from: string, to: string): number {
  const text = interval.trim();
  let ms: number;
  if (text === '' || text === 'auto') {
    ms = autoInterval(from, to);
  } else {
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw new ParameterError('interval', `${(err as Error).message}, or auto`, { cause: err });
    }
    if (ms < 1) throw new ParameterError('interval', `must be longer than 0, got '${interval}'`);
  }
  const count = bucketCount(from, to, ms);
  if (count > MAX_BUCKETS) {
    const wider = NICE_INTERVALS_MS.find((i) => bucketCount(from, to, i) <= MAX_BUCKETS);
    throw new ParameterError(
      'interval',
      `${formatInterval(ms)} makes ${count} buckets from ${from} to ${to}, more than ${MAX_BUCKETS}; ` +
        (wider === undefined
          ? 'narrow from/to'
          : `widen the interval (${formatInterval(wider)} or more, or auto) or narrow from/to`),
    );
  }
  return ms;
}

function bound(parameter: 'from' | 'to', value: string, now: Date): string {
  try {
    return parseTimeBound(value, now);
  } catch (err) {
    throw new ParameterError(parameter, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Turns a validated query string into the store's request. Throws QuerySyntaxError or ParameterError. */
export function toHistogramRequest(qs: HistogramQuerystring, now: Date): HistogramRequest {
  const query = parseQuery(qs.q);
  // Unlike a search, a histogram needs both ends: `to` defaults to now, `from` to a day before `to`.
  const to = qs.to ? bound('to', qs.to, now) : canonicalFromMillis(now.getTime());
  let from: string;
  if (qs.from) {
    from = bound('from', qs.from, now);
  } else {
    try {
      from = canonicalFromMillis(
        Date.parse(`${to.slice(0, 23)}Z`) - DEFAULT_SPAN_MS,
        Number(to.slice(23, 29)),
      );
    } catch (err) {
      throw new ParameterError('to', `${to} leaves no day before it for the default from`, { cause: err });
    }
  }
  // Canonical bounds (UTC, nine fraction digits) order as strings do.
  if (from > to) throw new ParameterError('from', `${from} is after to (${to})`);
  const intervalMs = chooseInterval(qs.interval, from, to);
  return { query, from, to, intervalMs, by: qs.by.trim() || DEFAULT_BY, limit: qs.limit };
}

export const histogramRoutes: FastifyPluginAsync<HistogramRouteOptions> = async (app, opts) => {
  app.get<{ Querystring: HistogramQuerystring }>(
    '/histogram',
    { schema: { querystring: HistogramQuerystring, response: { 200: HistogramResponse } } },
    async (request) => {
      const req = toHistogramRequest(request.query, opts.now());
      const result = await opts.reader.histogram(req);
      const body: HistogramResponse = {
        interval: formatInterval(result.intervalMs),
        interval_ms: result.intervalMs,
        by: result.by,
        buckets: result.buckets,
      };
      return body;
    },
  );
};
