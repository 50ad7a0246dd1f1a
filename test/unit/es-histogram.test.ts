import type { estypes } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { UnknownFieldError } from '../../src/query/fields.js';
import {
  bucketPlan,
  MAX_HISTOGRAM_BUCKETS,
  readBuckets,
  readTopValues,
  resolveByField,
  splitField,
  splitRequest,
  topValuesRequest,
} from '../../src/sinks/elasticsearch/histogram.js';

const HOUR = 3_600_000;

function timeAgg(r: estypes.SearchRequest): estypes.AggregationsAggregationContainer {
  const time = r.aggs?.time;
  if (!time) throw new Error('no time aggregation');
  return time;
}
const T = (s: string) => `2024-05-01T${s}Z`;

describe('resolveByField: the parser’s field names', () => {
  it.each([
    ['level', 'log.level'],
    ['LEVEL', 'log.level'],
    ['log.level', 'log.level'],
    ['service', 'service.name'],
    ['project', 'compose.project'],
    ['container', 'container.name'],
    ['image', 'container.image.name'],
    ['stream', 'stream'],
    ['host', 'host.name'],
    ['app', 'log.syslog.appname'],
    ['fields.status', 'fields.status'],
    ['container.labels.com.docker.compose.service', 'container.labels.com.docker.compose.service'],
    ['compose.container_number', 'compose.container_number'],
  ])('%s -> %s', (by, name) => {
    expect(resolveByField(by)).toBe(name);
  });

  it.each(['', ' ', 'service:web', 'a b', '-service', '(service)', '"service"', 'fields.x:y', '12:30'])(
    '%j is an UnknownFieldError',
    (by) => {
      expect(() => resolveByField(by)).toThrow(UnknownFieldError);
    },
  );
});

describe('splitField: what a histogram can be split by', () => {
  it('keywords, flattened keys, severity names and integers', () => {
    expect(splitField('level')).toEqual({ name: 'log.level', path: 'log.level', numeric: false });
    expect(splitField('service')).toEqual({ name: 'service.name', path: 'service.name', numeric: false });
    expect(splitField('fields.status')).toEqual({
      name: 'fields.status',
      path: 'fields.status',
      numeric: false,
    });
    expect(splitField('log.syslog.facility.code')).toEqual({
      name: 'log.syslog.facility.code',
      path: 'log.syslog.facility.code',
      numeric: true,
    });
    expect(splitField('status')).toEqual({
      name: 'http.response.status_code',
      path: 'http.response.status_code',
      numeric: true,
    });
    expect(splitField('method')).toEqual({
      name: 'http.request.method',
      path: 'http.request.method',
      numeric: false,
    });
  });

  it('refuses timestamps, free text, unindexed and unknown fields, saying what to do', () => {
    expect(() => splitField('@timestamp')).toThrow(
      /cannot split by '@timestamp' \(a timestamp\).*log\.level/,
    );
    expect(() => splitField('sender_timestamp')).toThrow(
      /cannot split by 'sender_timestamp' \(a timestamp\)/,
    );
    expect(() => splitField('message')).toThrow(/free text/);
    expect(() => splitField('event.original')).toThrow(/not indexed/);
    expect(() => splitField('log.flags')).toThrow(/several flags/);
    expect(() => splitField('nope')).toThrow(UnknownFieldError);
  });
});

describe('bucketPlan: buckets at multiples of the interval since the epoch', () => {
  it('from the bucket holding `from` to the one holding the last instant before `to`', () => {
    const p = bucketPlan(T('10:30:00.000000000'), T('13:00:00.000000000'), HOUR)!;
    expect(p.firstMs).toBe(Date.parse(T('10:00:00.000')));
    expect(p.lastMs).toBe(Date.parse(T('12:00:00.000')));
    expect(p.count).toBe(3);
  });

  it('a `to` one nanosecond past a bucket start includes that bucket', () => {
    expect(bucketPlan(T('10:00:00.000000000'), T('13:00:00.000000001'), HOUR)!.count).toBe(4);
    expect(bucketPlan(T('10:00:00.000000000'), T('12:59:59.999999999'), HOUR)!.count).toBe(3);
  });

  it('an empty range has no buckets; a bad interval is a RangeError', () => {
    expect(bucketPlan(T('10:00:00.000000000'), T('10:00:00.000000000'), HOUR)).toBeNull();
    expect(bucketPlan(T('11:00:00.000000000'), T('10:00:00.000000000'), HOUR)).toBeNull();
    expect(() => bucketPlan(T('10:00:00.000000000'), T('11:00:00.000000000'), 0)).toThrow(RangeError);
    expect(() => bucketPlan(T('10:00:00.000000000'), T('11:00:00.000000000'), 1.5)).toThrow(RangeError);
  });

  it('refuses more buckets than Elasticsearch would build', () => {
    expect(() =>
      bucketPlan('2024-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z', 1000),
    ).toThrow(new RegExp(`at most ${MAX_HISTOGRAM_BUCKETS} — use a larger interval`));
  });
});

describe('the two searches', () => {
  const shape = { index: 'lw-*', filter: [{ match_all: {} }] };
  const field = splitField('fields.status');

  it('search 1 asks for the top values over the whole range, most frequent first', () => {
    const r = topValuesRequest(shape, field, 3);
    expect(r).toMatchObject({ index: 'lw-*', size: 0, ignore_unavailable: true, allow_no_indices: true });
    // More than `limit`, so that ties at the cut are ranked here (readTopValues).
    expect(r.aggs?.top?.terms).toMatchObject({
      field: 'fields.status',
      size: 53,
      order: [{ _count: 'desc' }, { _key: 'asc' }],
    });
  });

  it('search 2 counts each top value, (none) and other per bucket', () => {
    const plan = bucketPlan(T('10:00:00.000000000'), T('12:00:00.000000000'), HOUR)!;
    const r = splitRequest(shape, field, ['502', '200'], plan, HOUR);
    const time = r.aggs?.time as estypes.AggregationsAggregationContainer;
    expect(time.date_histogram).toEqual({
      field: '@timestamp',
      fixed_interval: '3600000ms',
      min_doc_count: 0,
      extended_bounds: { min: plan.firstMs, max: plan.lastMs },
    });
    expect(time.aggs).toEqual({
      v0: { filter: { term: { 'fields.status': '502' } } },
      v1: { filter: { term: { 'fields.status': '200' } } },
      none: { missing: { field: 'fields.status' } },
      other: {
        filter: {
          bool: {
            filter: [{ exists: { field: 'fields.status' } }],
            must_not: [{ term: { 'fields.status': '502' } }, { term: { 'fields.status': '200' } }],
          },
        },
      },
    });
  });

  it('integer values are compared as numbers', () => {
    const plan = bucketPlan(T('10:00:00.000000000'), T('11:00:00.000000000'), HOUR)!;
    const r = splitRequest(shape, splitField('compose.container_number'), ['2'], plan, HOUR);
    expect(timeAgg(r).aggs?.v0).toEqual({
      filter: { term: { 'compose.container_number': 2 } },
    });
  });

  it('with no top values, every event with the field is other', () => {
    const plan = bucketPlan(T('10:00:00.000000000'), T('11:00:00.000000000'), HOUR)!;
    const r = splitRequest(shape, field, [], plan, HOUR);
    expect(timeAgg(r).aggs?.other).toEqual({
      filter: { exists: { field: 'fields.status' } },
    });
  });
});

describe('reading the answers', () => {
  const response = (aggregations: Record<string, unknown>) =>
    ({
      took: 1,
      timed_out: false,
      _shards: {},
      hits: { hits: [] },
      aggregations,
    }) as unknown as estypes.SearchResponse;

  it('top values as strings, numbers included', () => {
    const buckets = [
      { key: 'err', doc_count: 5 },
      { key: 3, doc_count: 2 },
    ];
    expect(readTopValues(response({ top: { buckets } }), 5)).toEqual(['err', '3']);
    expect(readTopValues(response({}), 5)).toEqual([]);
  });

  it('the top `limit`, ties ranked by value as a string, as the embedded store ranks them', () => {
    // Elasticsearch orders integer keys numerically: 2 before 10.
    const buckets = [
      { key: 7, doc_count: 9 },
      { key: 2, doc_count: 4 },
      { key: 10, doc_count: 4 },
      { key: 3, doc_count: 1 },
    ];
    expect(readTopValues(response({ top: { buckets } }), 2)).toEqual(['7', '10']);
    expect(readTopValues(response({ top: { buckets } }), 10)).toEqual(['7', '10', '2', '3']);
  });

  it('every planned bucket, in order, with sparse counts and canonical starts', () => {
    const plan = bucketPlan(T('10:00:00.000000000'), T('13:00:00.000000000'), HOUR)!;
    const at = (s: string) => Date.parse(T(s));
    const r = readBuckets(
      response({
        time: {
          buckets: [
            {
              key: at('10:00:00.000'),
              doc_count: 4,
              v0: { doc_count: 2 },
              v1: { doc_count: 0 },
              none: { doc_count: 1 },
              other: { doc_count: 1 },
            },
            // 11:00 missing from the answer: counts zero
            {
              key: at('12:00:00.000'),
              doc_count: 1,
              v0: { doc_count: 0 },
              v1: { doc_count: 1 },
              none: { doc_count: 0 },
              other: { doc_count: 0 },
            },
          ],
        },
      }),
      ['a', 'b'],
      plan,
      HOUR,
    );
    expect(r).toEqual([
      { start: '2024-05-01T10:00:00.000000000Z', total: 4, counts: { a: 2, other: 1, '(none)': 1 } },
      { start: '2024-05-01T11:00:00.000000000Z', total: 0, counts: {} },
      { start: '2024-05-01T12:00:00.000000000Z', total: 1, counts: { b: 1 } },
    ]);
  });
});
