import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { MAX_ANSWER_BYTES } from '../../core/answer.js';
import type { SearchRequest, StoreReader } from '../../core/store.js';
import { parseQuery } from '../../query/parser.js';
import { parseTimeBound } from '../../query/time.js';
import { ParameterError } from '../errors.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

/**
 * `GET /api/v1/search`. The schema is the validator and the type. Empty `from`, `to` and
 * `cursor` mean "not given", so a form that submits every field as `...&from=&to=` works.
 */
export const SearchQuerystring = T.Object({
  // No maxLength here: the parser refuses an overlong query itself, with a position.
  q: T.String({ default: '', description: 'query (DESIGN.md, "Query language"); empty = everything' }),
  from: T.Optional(
    T.String({
      maxLength: 64,
      description: 'inclusive lower bound: RFC 3339 or a span before now (15m, 2h, 7d)',
    }),
  ),
  to: T.Optional(T.String({ maxLength: 64, description: 'exclusive upper bound, same forms as from' })),
  limit: T.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
  // A plain enum (not a TypeBox union, which is anyOf) so a wrong value gets one clear message.
  order: T.Unsafe<'asc' | 'desc'>({ type: 'string', enum: ['asc', 'desc'], default: 'desc' }),
  cursor: T.Optional(T.String({ maxLength: 4096, description: 'next_cursor of a previous answer' })),
  max_bytes: T.Optional(
    T.Integer({
      minimum: 1,
      description:
        `most bytes of event JSON in the answer; at most (and by default) ${MAX_ANSWER_BYTES}, a larger ` +
        'value counts as that; the first event is sent even if it alone is larger',
    }),
  ),
});
export type SearchQuerystring = Static<typeof SearchQuerystring>;

export const SearchResponse = T.Object({
  events: T.Array(T.Object({}, { additionalProperties: true, description: 'an ECS document' })),
  next_cursor: T.Union([T.String(), T.Null()]),
  cut_by: T.Union([T.Literal('limit'), T.Literal('max_bytes'), T.Null()], {
    description:
      'why the answer ended before the matches did: it holds `limit` events, or the next event would ' +
      'have passed max_bytes; null exactly when next_cursor is null',
  }),
});
export type SearchResponse = Static<typeof SearchResponse>;

export interface SearchRouteOptions {
  reader: StoreReader;
  now: () => Date;
}

/** Resolves `from`/`to` against one `now`, naming the parameter when the value is wrong. */
function bound(parameter: 'from' | 'to', value: string | undefined, now: Date): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return parseTimeBound(value, now);
  } catch (err) {
    throw new ParameterError(parameter, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Turns a validated query string into the store's request. Throws QuerySyntaxError or ParameterError. */
export function toSearchRequest(qs: SearchQuerystring, now: Date): SearchRequest {
  const query = parseQuery(qs.q);
  const from = bound('from', qs.from, now);
  const to = bound('to', qs.to, now);
  // Canonical bounds (UTC, nine fraction digits) order as strings do.
  if (from !== undefined && to !== undefined && from > to) {
    throw new ParameterError('from', `${from} is after to (${to})`);
  }
  return {
    query,
    limit: qs.limit,
    order: qs.order,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(qs.cursor ? { cursor: qs.cursor } : {}),
    // The store holds it to MAX_ANSWER_BYTES.
    ...(qs.max_bytes !== undefined ? { maxBytes: qs.max_bytes } : {}),
  };
}

export const searchRoutes: FastifyPluginAsync<SearchRouteOptions> = async (app, opts) => {
  app.get<{ Querystring: SearchQuerystring }>(
    '/search',
    { schema: { querystring: SearchQuerystring, response: { 200: SearchResponse } } },
    async (request, reply) => {
      const req = toSearchRequest(request.query, opts.now());
      const result = await opts.reader.search(req);
      const cutBy = result.nextCursor === null ? null : (result.cutBy ?? 'limit');
      if (result.eventsJson !== undefined) {
        // The events' JSON was made to measure the answer: sent as it is, not serialised again
        // (that second pass cost as much as reading the rows). Same shape as SearchResponse.
        const tail = `],"next_cursor":${JSON.stringify(result.nextCursor)},"cut_by":${JSON.stringify(cutBy)}}`;
        return reply
          .type('application/json; charset=utf-8')
          .send(`{"events":[${result.eventsJson.join(',')}${tail}`);
      }
      const body: SearchResponse = { events: result.events, next_cursor: result.nextCursor, cut_by: cutBy };
      return body;
    },
  );
};
