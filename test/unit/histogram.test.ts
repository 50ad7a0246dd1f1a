import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../src/api/errors.js';
import {
  autoInterval,
  bucketCount,
  chooseInterval,
  formatInterval,
  NICE_INTERVALS_MS,
} from '../../src/api/routes/histogram.js';
import { ECS_VERSION } from '../../src/core/ecs.js';
import { LogwharfError } from '../../src/core/errors.js';
import type { HistogramRequest } from '../../src/core/store.js';
import { UnknownFieldError } from '../../src/query/fields.js';
import { parseQuery } from '../../src/query/parser.js';
import { toSqlGroupKey } from '../../src/query/sql.js';
import {
  decodeValue,
  fileQuery,
  millisOf,
  planBuckets,
  planHistogram,
  resolveField,
  Tally,
  topValues,
} from '../../src/sinks/embedded/histogram.js';

/** Canonical form of a short RFC 3339 literal: `2024-05-01T10:00:00Z` -> nine fraction digits. */
const c = (ts: string): string => {
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(ts);
  if (!m) throw new Error(`bad literal ${ts}`);
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
};

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('interval', () => {
  it.each([
    [1000, '1s'],
    [30_000, '30s'],
    [5 * MIN, '5m'],
    [90 * MIN, '90m'],
    [HOUR, '1h'],
    [3 * HOUR, '3h'],
    [DAY, '1d'],
    [7 * DAY, '7d'],
    [1500, '1500ms'],
    [1, '1ms'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatInterval(ms)).toBe(text);
  });

  it.each([
    ['2024-05-01T11:00:00Z', '2024-05-01T12:00:00Z', MIN], // exactly 60 one-minute buckets
    ['2024-05-01T11:00:00Z', '2024-05-01T12:00:00.000000001Z', 5 * MIN], // 61 would not do
    ['2024-05-01T11:59:30Z', '2024-05-01T12:00:00Z', 1000],
    ['2024-05-01T11:59:59.999Z', '2024-05-01T12:00:00Z', 1000],
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z', 1000], // empty range: the smallest
    ['2024-04-30T12:00:00Z', '2024-05-01T12:00:00Z', 30 * MIN],
    ['2024-04-24T12:00:00Z', '2024-05-01T12:00:00Z', 3 * HOUR],
    ['2024-04-01T00:00:00Z', '2024-05-01T00:00:00Z', 12 * HOUR],
    ['2023-05-01T00:00:00Z', '2024-05-01T00:00:00Z', 7 * DAY],
    ['1990-01-01T00:00:00Z', '2024-05-01T00:00:00Z', 7 * DAY], // nothing fits 60: the widest
  ])('auto over [%s, %s) is %d ms', (from, to, ms) => {
    expect(autoInterval(c(from), c(to))).toBe(ms);
  });

  it('auto never gives more than 60 buckets while a nice interval can', () => {
    const from = c('2024-05-01T00:00:00Z');
    for (let span = 1000; span < 400 * DAY; span = Math.ceil(span * 1.37)) {
      const to = new Date(Date.parse(from) + span).toISOString().replace('Z', '000000Z');
      expect(bucketCount(from, to, autoInterval(from, to))).toBeLessThanOrEqual(60);
    }
  });

  it('takes a duration as written', () => {
    expect(chooseInterval('5m', c('2024-05-01T00:00:00Z'), c('2024-05-02T00:00:00Z'))).toBe(5 * MIN);
    expect(chooseInterval(' 1d ', c('2024-01-01T00:00:00Z'), c('2024-05-02T00:00:00Z'))).toBe(DAY);
  });

  it('allows 1000 buckets and refuses 1001, suggesting a wider interval', () => {
    const from = c('2024-05-01T00:00:00Z');
    expect(chooseInterval('1s', from, c('2024-05-01T00:16:40Z'))).toBe(1000);
    expect(() => chooseInterval('1s', from, c('2024-05-01T00:16:40.000000001Z'))).toThrow(
      /^interval: 1s makes 1001 buckets .* more than 1000; widen the interval \(5s or more, or auto\)/,
    );
  });

  it('refuses even auto when the range is too long for any interval', () => {
    const err = (() => {
      try {
        chooseInterval('auto', c('1900-01-01T00:00:00Z'), c('2024-05-01T00:00:00Z'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).parameter).toBe('interval');
    expect((err as Error).message).toMatch(/more than 1000; narrow from\/to$/);
  });

  it.each(['soon', '5', 'm', '1h 30m', '-5m', '0s'])('refuses interval %s', (text) => {
    expect(() => chooseInterval(text, c('2024-05-01T00:00:00Z'), c('2024-05-02T00:00:00Z'))).toThrow(
      ParameterError,
    );
  });

  it('lists nice intervals in increasing order', () => {
    expect([...NICE_INTERVALS_MS].sort((a, b) => a - b)).toEqual(NICE_INTERVALS_MS);
  });
});

describe('bucket alignment', () => {
  it.each([
    // from, to, interval, first bucket start, count
    ['2024-05-01T10:07:30Z', '2024-05-01T10:20:00Z', 5 * MIN, '2024-05-01T10:05:00Z', 3],
    ['2024-05-01T10:05:00Z', '2024-05-01T10:20:00Z', 5 * MIN, '2024-05-01T10:05:00Z', 3],
    ['2024-05-01T10:05:00Z', '2024-05-01T10:20:00.000000001Z', 5 * MIN, '2024-05-01T10:05:00Z', 4],
    ['2024-05-01T10:05:00Z', '2024-05-01T10:20:00.001Z', 5 * MIN, '2024-05-01T10:05:00Z', 4],
    ['2024-05-01T10:04:59.999999999Z', '2024-05-01T10:05:00Z', 5 * MIN, '2024-05-01T10:00:00Z', 1],
    ['2024-05-01T13:00:00Z', '2024-05-03T00:00:00Z', DAY, '2024-05-01T00:00:00Z', 2],
    // Weeks start where the epoch does: on a Thursday.
    ['2024-05-01T00:00:00Z', '2024-05-02T00:00:00Z', 7 * DAY, '2024-04-25T00:00:00Z', 1],
    ['1969-12-31T23:59:59.5Z', '1970-01-01T00:00:01Z', 1000, '1969-12-31T23:59:59Z', 2],
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00Z', MIN, '2024-05-01T10:00:00Z', 0],
    ['2024-05-01T10:00:30Z', '2024-05-01T10:00:00Z', MIN, '2024-05-01T10:00:00Z', 0],
  ])('[%s, %s) by %d ms starts at %s, %d buckets', (from, to, interval, start, count) => {
    const plan = planBuckets(c(from), c(to), interval);
    expect(plan).toEqual({ startMs: Date.parse(start), intervalMs: interval, count });
    // The API counts buckets the same way, or it would refuse what the store answers.
    expect(bucketCount(c(from), c(to), interval)).toBe(count);
  });

  it('reads milliseconds exactly, nanoseconds only as "there is more"', () => {
    expect(millisOf(c('2024-05-01T10:00:00.123Z'))).toEqual({
      ms: Date.parse('2024-05-01T10:00:00.123Z'),
      exact: true,
    });
    expect(millisOf(c('2024-05-01T10:00:00.123000001Z'))).toEqual({
      ms: Date.parse('2024-05-01T10:00:00.123Z'),
      exact: false,
    });
    // Years below 100 too (Date.UTC would read year 1 as 1901).
    expect(millisOf(c('0001-01-01T00:00:00Z')).ms).toBe(-62_135_596_800_000);
  });
});

describe('filling and top values', () => {
  const plan = { startMs: Date.parse('2024-05-01T10:00:00Z'), intervalMs: 5 * MIN, count: 4 };

  it('answers every bucket oldest first, empty ones with total 0', () => {
    const t = new Tally();
    t.add(2, 'info', 3);
    expect(t.toBuckets(plan, 10)).toEqual([
      { start: '2024-05-01T10:00:00.000000000Z', total: 0, counts: {} },
      { start: '2024-05-01T10:05:00.000000000Z', total: 0, counts: {} },
      { start: '2024-05-01T10:10:00.000000000Z', total: 3, counts: { info: 3 } },
      { start: '2024-05-01T10:15:00.000000000Z', total: 0, counts: {} },
    ]);
  });

  it('merges the rows of several day files', () => {
    const t = new Tally();
    t.add(0, 'err', 1);
    t.add(0, 'err', 2);
    t.add(0, 'info', 4);
    expect(t.toBuckets({ ...plan, count: 1 }, 10)[0]).toEqual({
      start: '2024-05-01T10:00:00.000000000Z',
      total: 7,
      counts: { info: 4, err: 3 },
    });
  });

  it('keeps the top values over the whole range and sums the rest as other', () => {
    const t = new Tally();
    // Totals: web 10, api 6, db 5, cache 1. With limit 2: web, api; db and cache are "other".
    t.add(0, 'web', 1);
    t.add(0, 'db', 5);
    t.add(1, 'web', 9);
    t.add(1, 'api', 6);
    t.add(3, 'cache', 1);
    expect(t.toBuckets(plan, 2).map((b) => [b.total, b.counts])).toEqual([
      [6, { web: 1, other: 5 }],
      [15, { web: 9, api: 6 }],
      [0, {}],
      [1, { other: 1 }],
    ]);
  });

  it('counts events without the field as (none), never ranked nor folded into other', () => {
    const t = new Tally();
    t.add(0, null, 100);
    t.add(0, 'a', 2);
    t.add(1, 'b', 1);
    expect(t.toBuckets({ ...plan, count: 2 }, 1).map((b) => [b.total, b.counts])).toEqual([
      [102, { a: 2, '(none)': 100 }],
      [1, { other: 1 }],
    ]);
  });

  it('breaks ties by value, so the same data always gives the same answer', () => {
    expect(
      topValues(
        new Map([
          ['b', 2],
          ['c', 5],
          ['a', 2],
          ['d', 1],
        ]),
        3,
      ),
    ).toEqual(['c', 'a', 'b']);
  });

  it('adds a real value spelled other to the other sum rather than losing either', () => {
    const t = new Tally();
    t.add(0, 'other', 5);
    t.add(0, 'x', 1);
    expect(t.toBuckets({ ...plan, count: 1 }, 1)[0]?.counts).toEqual({ other: 6 });
  });
});

describe('values as the API shows them', () => {
  it.each([
    [3, { names: ['emerg', 'alert', 'crit', 'err'] }, 'err'],
    [9, { names: ['emerg'] }, '9'],
    [null, {}, null],
    ['web', {}, 'web'],
    [500, {}, '500'],
    ['"web"', { json: true }, 'web'],
    ['"500"', { json: true }, '500'],
    ['500', { json: true }, '500'],
    ['1.5', { json: true }, '1.5'],
    ['true', { json: true }, 'true'],
    ['null', { json: true }, null],
    ['{"a":1}', { json: true }, '{"a":1}'],
    ['[1,"two"]', { json: true }, '[1,"two"]'],
  ])('%j with %j is %j', (raw, key, shown) => {
    expect(decodeValue(raw, key)).toBe(shown);
  });
});

describe('by', () => {
  it.each([
    'service',
    'project',
    'container',
    'image',
    'level',
    'stream',
    'host',
    'app',
    'status',
    'method',
    'SERVICE',
  ])('resolves the short name %s as the query parser does', (short) => {
    const node = parseQuery(`${short}:0`);
    const parsed = node.type === 'field' ? node.field : node.type === 'severity' ? 'log.level' : node.type;
    expect(resolveField(short)).toBe(parsed);
  });

  it('leaves full paths alone', () => {
    expect(resolveField('fields.Service')).toBe('fields.Service');
    expect(resolveField('log.level')).toBe('log.level');
  });

  it.each([
    ['log.level', { expr: 'events.severity', params: [] }],
    ['service.name', { expr: 'events.service', params: [] }],
    ['log.syslog.severity.code', { expr: 'events.severity', params: [] }],
    ['fields.status', { expr: 'events.fields -> ?', params: ['$."status"'], json: true }],
    [
      'fields.http.status',
      {
        expr: 'coalesce(events.fields -> ?, events.fields -> ?)',
        params: ['$."http"."status"', '$."http.status"'],
        json: true,
      },
    ],
    [
      'container.name',
      { expr: 'events.container_ref', params: [], container: { expr: 'containers.name', params: [] } },
    ],
    [
      'container.labels.com.docker.compose.service',
      {
        expr: 'events.container_ref',
        params: [],
        container: {
          expr: 'json_extract(containers.labels, ?)',
          params: ['$."com.docker.compose.service"'],
        },
      },
    ],
    [
      'log.syslog.structured_data.origin.ip',
      { expr: 'json_extract(events.sd, ?)', params: ['$."origin"."ip"'] },
    ],
    ['http.response.status_code', { expr: 'events.http_status', params: [] }],
    ['http.request.method', { expr: 'events.http_method', params: [] }],
    ['log.source.address', { expr: 'events.log_source_address', params: [] }],
    ['ecs.version', { expr: '?', params: [ECS_VERSION] }],
  ])('groups %s by %j', (field, key) => {
    expect(toSqlGroupKey(field)).toMatchObject(key);
  });

  it('names severities and facilities', () => {
    expect(toSqlGroupKey('log.level').names?.[3]).toBe('err');
    expect(toSqlGroupKey('log.syslog.facility.name').names?.[3]).toBe('daemon');
  });

  it.each(['nosuch', 'fields.', 'container.labels.', 'log.syslog.structured_data.origin'])(
    'refuses the unknown field %s',
    (field) => {
      expect(() => toSqlGroupKey(field)).toThrow(UnknownFieldError);
    },
  );

  it('refuses log.flags, which holds several values per event', () => {
    expect(() => toSqlGroupKey('log.flags')).toThrow(LogwharfError);
    expect(() => toSqlGroupKey('log.flags')).toThrow(/several flags/);
  });

  it.each([
    ['message', 'free text'],
    ['event.original', 'free text'],
    ['@timestamp', 'a timestamp'],
    ['event.ingested', 'a timestamp'],
    ['sender_timestamp', 'a timestamp'],
  ])('refuses %s (%s): a group per event', (field, why) => {
    expect(() => toSqlGroupKey(field)).toThrow(`histogram: cannot split by '${field}' (${why})`);
  });
});

describe('the query per day file', () => {
  const req = (over: Partial<HistogramRequest> = {}): HistogramRequest => ({
    query: { type: 'all' },
    from: c('2024-05-01T06:00:00Z'),
    to: c('2024-05-03T00:00:00Z'),
    intervalMs: HOUR,
    by: 'level',
    limit: 10,
    ...over,
  });

  it('bounds time only on a day the range covers in part', () => {
    const plan = planHistogram(req());
    expect(fileQuery(plan, '2024-05-01').sql).toContain('events.ts >= ? AND events.ts < ?');
    expect(fileQuery(plan, '2024-05-02').sql).not.toContain('events.ts >=');
  });

  it('steers an unfiltered log.level histogram of a partial day to the severity index', () => {
    const hint = 'events.severity IN (0, 1, 2, 3, 4, 5, 6, 7)';
    expect(fileQuery(planHistogram(req()), '2024-05-01').sql).toContain(hint);
    expect(fileQuery(planHistogram(req()), '2024-05-02').sql).not.toContain(hint);
    expect(fileQuery(planHistogram(req({ by: 'service' })), '2024-05-01').sql).not.toContain(hint);
    const filtered = planHistogram(req({ query: parseQuery('service:web') }));
    expect(fileQuery(filtered, '2024-05-01').sql).not.toContain(hint);
  });

  it('binds parameters in the order they appear', () => {
    const plan = planHistogram(req({ by: 'container.labels.x', query: parseQuery('service:web') }));
    const q = fileQuery(plan, '2024-05-01');
    expect(q.params).toEqual([
      '$."x"',
      plan.buckets.startMs,
      HOUR,
      'web',
      c('2024-05-01T06:00:00Z'),
      c('2024-05-03T00:00:00Z'),
    ]);
    expect(q.sql.split('?').length - 1).toBe(q.params.length);
  });

  it('checks the request before reading anything', () => {
    expect(() => planHistogram(req({ by: 'nosuch' }))).toThrow(UnknownFieldError);
    expect(() => planHistogram(req({ from: '2024-05-01' }))).toThrow(/from: '2024-05-01' is not/);
    expect(() => planHistogram(req({ intervalMs: 0 }))).toThrow(RangeError);
    expect(() => planHistogram(req({ limit: 0 }))).toThrow(RangeError);
    expect(() => planHistogram(req({ intervalMs: 1 }))).toThrow(/buckets; at most 100000/);
    expect(planHistogram(req({ by: 'service' })).by).toBe('service.name');
  });
});
