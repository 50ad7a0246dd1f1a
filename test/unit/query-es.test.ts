import { describe, expect, it } from 'vitest';
import type { FieldOp, QueryNode } from '../../src/query/ast.js';
import {
  type EsQuery,
  esField,
  integerPrefixRanges,
  toEsQuery,
  UnsearchableFieldError,
} from '../../src/query/es.js';
import { PREFIX_EXPANSIONS } from '../../src/query/es-text.js';
import {
  ECS_KEYWORD_FIELDS,
  FieldValueError,
  KNOWN_FIELDS,
  UnknownFieldError,
} from '../../src/query/fields.js';
import { parseQuery } from '../../src/query/parser.js';

/**
 * The Elasticsearch translator, construct by construct: what DSL each node becomes. What the
 * DSL then finds in a real index is test/integration/es-reader.test.ts.
 */

const text = (value: string, opts: { phrase?: boolean; prefix?: boolean } = {}): QueryNode => ({
  type: 'text',
  value,
  phrase: opts.phrase ?? false,
  prefix: opts.prefix ?? false,
});
const field = (f: string, value: string, op: FieldOp = 'eq'): QueryNode => ({
  type: 'field',
  field: f,
  op,
  value,
});
const not = (child: QueryNode): QueryNode => ({ type: 'not', child });
const and = (...children: QueryNode[]): QueryNode => ({ type: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ type: 'or', children });

/** The translated node, without the outer `bool.filter` every query is wrapped in. */
function es(node: QueryNode): EsQuery {
  const q = toEsQuery(node);
  expect(q.bool.filter).toHaveLength(1);
  return q.bool.filter[0]!;
}

describe('the outer query', () => {
  it('is always one bool with the translation as its only filter, so callers can add theirs', () => {
    expect(toEsQuery({ type: 'all' })).toEqual({ bool: { filter: [{ match_all: {} }] } });
    expect(toEsQuery(field('stream', 'stderr'))).toEqual({
      bool: { filter: [{ term: { stream: 'stderr' } }] },
    });
  });
});

describe('boolean structure', () => {
  it('all, and the empty AND and OR', () => {
    expect(es({ type: 'all' })).toEqual({ match_all: {} });
    expect(es(and())).toEqual({ match_all: {} });
    expect(es(or())).toEqual({ match_none: {} });
  });

  it('a single child is the child itself', () => {
    expect(es(and(field('stream', 'stdout')))).toEqual({ term: { stream: 'stdout' } });
    expect(es(or(field('stream', 'stdout')))).toEqual({ term: { stream: 'stdout' } });
  });

  it('AND is bool.filter (no scoring: results are sorted by time)', () => {
    expect(es(and(field('stream', 'stdout'), field('service.name', 'web')))).toEqual({
      bool: { filter: [{ term: { stream: 'stdout' } }, { term: { 'service.name': 'web' } }] },
    });
  });

  it('OR is bool.should with minimum_should_match 1', () => {
    expect(es(or(field('stream', 'stdout'), field('service.name', 'web')))).toEqual({
      bool: {
        should: [{ term: { stream: 'stdout' } }, { term: { 'service.name': 'web' } }],
        minimum_should_match: 1,
      },
    });
  });

  it('NOT is bool.must_not (which also matches events without the field)', () => {
    expect(es(not(field('service.name', 'web')))).toEqual({
      bool: { must_not: [{ term: { 'service.name': 'web' } }] },
    });
    expect(es(not(not(field('stream', 'stderr'))))).toEqual({
      bool: { must_not: [{ bool: { must_not: [{ term: { stream: 'stderr' } }] } }] },
    });
  });

  it('nests', () => {
    expect(es(and(text('connection'), or(field('stream', 'stderr'), not(text('ok')))))).toEqual({
      bool: {
        filter: [
          { match_phrase: { message: { query: 'connection' } } },
          {
            bool: {
              should: [
                { term: { stream: 'stderr' } },
                { bool: { must_not: [{ match_phrase: { message: { query: 'ok' } } }] } },
              ],
              minimum_should_match: 1,
            },
          },
        ],
      },
    });
  });
});

describe('message text', () => {
  it('a bare word is a phrase of its tokens (as FTS5 reads a quoted word)', () => {
    expect(es(text('connection'))).toEqual({ match_phrase: { message: { query: 'connection' } } });
    expect(es(text('api/v1'))).toEqual({ match_phrase: { message: { query: 'api/v1' } } });
  });

  it('a quoted phrase is match_phrase, quotes and operators in it are plain text', () => {
    expect(es(text('connection refused', { phrase: true }))).toEqual({
      match_phrase: { message: { query: 'connection refused' } },
    });
    expect(es(text('admin" OR 1=1', { phrase: true }))).toEqual({
      match_phrase: { message: { query: 'admin" OR 1=1' } },
    });
  });

  it.each(['conn', 'CONN', 'Café', 'ΟΔΟΣ', 'v1', 'İs', '2024'])(
    'word* of one token (%s) is match_bool_prefix: analyzed, then a prefix with no expansion limit',
    (w) => {
      expect(es(text(w, { prefix: true }))).toEqual({ match_bool_prefix: { message: { query: w } } });
    },
  );

  it.each(['api/v', 'connection_ref', 'example.co', '日本', "don'", '10.0.0'])(
    'word* of a value the analyzer may split (%s) is match_phrase_prefix',
    (w) => {
      expect(es(text(w, { prefix: true }))).toEqual({
        match_phrase_prefix: { message: { query: w, max_expansions: PREFIX_EXPANSIONS } },
      });
    },
  );

  it('an empty word matches everything (as the embedded store’s empty substring)', () => {
    expect(es(text(''))).toEqual({ match_all: {} });
    expect(es(text('', { prefix: true }))).toEqual({ match_all: {} });
  });

  it('words without letters are still phrases (they find nothing: no tokens)', () => {
    expect(es(text(':-)'))).toEqual({ match_phrase: { message: { query: ':-)' } } });
  });
});

describe('severity', () => {
  it('severity nodes compare the code (worse is lower: >=warning arrives as lte 4)', () => {
    expect(es({ type: 'severity', op: 'lte', code: 4 })).toEqual({
      range: { 'log.syslog.severity.code': { lte: 4 } },
    });
    expect(es({ type: 'severity', op: 'eq', code: 3 })).toEqual({ term: { 'log.syslog.severity.code': 3 } });
    expect(es({ type: 'severity', op: 'gt', code: 5 })).toEqual({
      range: { 'log.syslog.severity.code': { gt: 5 } },
    });
  });

  it('the parser’s level comparisons arrive turned around', () => {
    expect(es(parseQuery('level>=warning'))).toEqual({ range: { 'log.syslog.severity.code': { lte: 4 } } });
    expect(es(parseQuery('level<err'))).toEqual({ range: { 'log.syslog.severity.code': { gt: 3 } } });
    expect(es(parseQuery('level:error'))).toEqual({ term: { 'log.syslog.severity.code': 3 } });
  });

  it('by name as a field, with aliases and "or worse" comparisons', () => {
    expect(es(field('log.level', 'error'))).toEqual({ term: { 'log.syslog.severity.code': 3 } });
    expect(es(field('log.syslog.severity.name', 'Notice'))).toEqual({
      term: { 'log.syslog.severity.code': 5 },
    });
    expect(es(field('log.level', 'warning', 'gte'))).toEqual({
      range: { 'log.syslog.severity.code': { lte: 4 } },
    });
    expect(es(field('log.level', 'info', 'lt'))).toEqual({
      range: { 'log.syslog.severity.code': { gt: 6 } },
    });
  });

  it('by name prefix: the codes whose names start so', () => {
    expect(es(field('log.level', 'e', 'prefix'))).toEqual({ terms: { 'log.syslog.severity.code': [0, 3] } });
    expect(es(field('log.level', 'zz', 'prefix'))).toEqual({ match_none: {} });
  });

  it('an unknown level name is a FieldValueError', () => {
    expect(() => toEsQuery(field('log.level', 'loud'))).toThrow(FieldValueError);
    expect(() => toEsQuery(field('log.level', 'loud'))).toThrow(/log\.level.*emerg/);
  });

  it('by code: 0..7 is the same severity query', () => {
    expect(es(field('log.syslog.severity.code', '5'))).toEqual({ term: { 'log.syslog.severity.code': 5 } });
    expect(es(field('log.syslog.severity.code', '4', 'lte'))).toEqual({
      range: { 'log.syslog.severity.code': { lte: 4 } },
    });
    expect(es(field('log.syslog.severity.code', '9'))).toEqual({ term: { 'log.syslog.severity.code': 9 } });
  });
});

describe('facility', () => {
  it('by code and by name (case-sensitive, compared by code)', () => {
    expect(es(field('log.syslog.facility.code', '4'))).toEqual({ term: { 'log.syslog.facility.code': 4 } });
    expect(es(field('log.syslog.facility.name', 'auth'))).toEqual({
      term: { 'log.syslog.facility.code': 4 },
    });
    expect(es(field('log.syslog.facility.name', 'daemon', 'lte'))).toEqual({
      range: { 'log.syslog.facility.code': { lte: 3 } },
    });
    expect(es(field('log.syslog.facility.name', 'local', 'prefix'))).toEqual({
      terms: { 'log.syslog.facility.code': [16, 17, 18, 19, 20, 21, 22, 23] },
    });
    expect(() => toEsQuery(field('log.syslog.facility.name', 'Auth'))).toThrow(FieldValueError);
  });
});

describe('keyword fields', () => {
  it.each([
    'event.id',
    'event.dataset',
    'stream',
    'host.name',
    'service.name',
    'log.flags',
    'log.syslog.hostname',
    'log.syslog.appname',
    'log.syslog.procid',
    'log.syslog.msgid',
    'container.name',
    'container.image.name',
    'compose.project',
    'compose.service',
  ])('%s: term, prefix, range', (f) => {
    expect(es(field(f, 'Web'))).toEqual({ term: { [f]: 'Web' } });
    expect(es(field(f, 'we', 'prefix'))).toEqual({ prefix: { [f]: 'we' } });
    expect(es(field(f, 'm', 'gte'))).toEqual({ range: { [f]: { gte: 'm' } } });
    expect(es(field(f, 'm', 'lt'))).toEqual({ range: { [f]: { lt: 'm' } } });
  });

  it('an empty prefix is "has the field"', () => {
    expect(es(field('service.name', '', 'prefix'))).toEqual({ exists: { field: 'service.name' } });
  });

  it('container.id matches by prefix, like docker’s short ids', () => {
    expect(es(field('container.id', '3f2a9c'))).toEqual({ prefix: { 'container.id': '3f2a9c' } });
    expect(es(field('container.id', '3f', 'prefix'))).toEqual({ prefix: { 'container.id': '3f' } });
  });

  it('values go through as they are (no query syntax is interpreted)', () => {
    for (const v of ['a*b', 'x OR y', '"q"', '{"match_all":{}}', 'a\\b', '*']) {
      expect(es(field('service.name', v))).toEqual({ term: { 'service.name': v } });
    }
  });
});

describe('ECS keyword fields of an access line and a syslog sender', () => {
  it.each(ECS_KEYWORD_FIELDS)('%s is exact, prefix and range as a keyword', (f) => {
    expect(es(field(f, 'v'))).toEqual({ term: { [f]: 'v' } });
    expect(es(field(f, 'v', 'prefix'))).toEqual({ prefix: { [f]: 'v' } });
    expect(es(field(f, 'v', 'lt'))).toEqual({ range: { [f]: { lt: 'v' } } });
  });

  it('short names: method, status', () => {
    expect(es(parseQuery('method:GET'))).toEqual({ term: { 'http.request.method': 'GET' } });
    expect(es(parseQuery('status:5*'))).toMatchObject({
      bool: {
        should: expect.arrayContaining([{ range: { 'http.response.status_code': { gte: 500, lte: 599 } } }]),
      },
    });
  });
});

describe('integer fields', () => {
  it('eq and comparisons take numbers', () => {
    expect(es(field('compose.container_number', '2'))).toEqual({ term: { 'compose.container_number': 2 } });
    expect(es(field('compose.container_number', '2', 'lt'))).toEqual({
      range: { 'compose.container_number': { lt: 2 } },
    });
    expect(es(field('compose.container_number', '1.5', 'gt'))).toEqual({
      range: { 'compose.container_number': { gt: 1.5 } },
    });
  });

  it('a non-number is a FieldValueError', () => {
    expect(() => toEsQuery(field('compose.container_number', 'abc'))).toThrow(FieldValueError);
    expect(() => toEsQuery(field('log.syslog.facility.code', 'x', 'gt'))).toThrow(/a number/);
  });

  it('bounds outside the integer range are decided here (Elasticsearch would answer 400)', () => {
    const f = 'compose.container_number';
    expect(es(field(f, '99999999999'))).toEqual({ match_none: {} });
    expect(es(field(f, '99999999999', 'gte'))).toEqual({ match_none: {} });
    expect(es(field(f, '99999999999', 'lt'))).toEqual({ exists: { field: f } });
    expect(es(field(f, '-99999999999', 'gt'))).toEqual({ exists: { field: f } });
    expect(es(field(f, '-99999999999', 'lte'))).toEqual({ match_none: {} });
    expect(es(field(f, '1e400', 'lte'))).toEqual({ exists: { field: f } });
  });

  it('long fields (an access line’s status and bytes) take numbers beyond 32 bits', () => {
    const bytes = 'http.response.body.bytes';
    expect(es(field(bytes, '3000000000', 'gt'))).toEqual({ range: { [bytes]: { gt: 3_000_000_000 } } });
    expect(es(field(bytes, '3000000000'))).toEqual({ term: { [bytes]: 3_000_000_000 } });
    // 2^63 and beyond: outside a long, decided here.
    expect(es(field(bytes, '9223372036854775808'))).toEqual({ match_none: {} });
    expect(es(field(bytes, '1e30', 'lt'))).toEqual({ exists: { field: bytes } });
    expect(es(field(bytes, '-1e30', 'gt'))).toEqual({ exists: { field: bytes } });
    expect(es(parseQuery('status>=500'))).toEqual({ range: { 'http.response.status_code': { gte: 500 } } });
    expect(esField('http.response.status_code')).toEqual({
      kind: 'integer',
      path: 'http.response.status_code',
      long: true,
    });
    expect(esField('compose.container_number')).toMatchObject({ long: false });
  });

  it('a long prefix reaches past 32 bits', () => {
    expect(integerPrefixRanges('3', true)).toContainEqual([3_000_000_000, 3_999_999_999]);
    expect(integerPrefixRanges('', true)).toEqual([[-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]]);
    expect(integerPrefixRanges('9', true).at(-1)).toEqual([9e15, Number.MAX_SAFE_INTEGER]);
  });

  it('a prefix is the ranges of numbers whose decimal text starts so', () => {
    expect(es(field('compose.container_number', '1', 'prefix'))).toEqual({
      bool: {
        should: [
          { term: { 'compose.container_number': 1 } },
          { range: { 'compose.container_number': { gte: 10, lte: 19 } } },
          { range: { 'compose.container_number': { gte: 100, lte: 199 } } },
          { range: { 'compose.container_number': { gte: 1000, lte: 1999 } } },
          { range: { 'compose.container_number': { gte: 10000, lte: 19999 } } },
          { range: { 'compose.container_number': { gte: 100000, lte: 199999 } } },
          { range: { 'compose.container_number': { gte: 1000000, lte: 1999999 } } },
          { range: { 'compose.container_number': { gte: 10000000, lte: 19999999 } } },
          { range: { 'compose.container_number': { gte: 100000000, lte: 199999999 } } },
          { range: { 'compose.container_number': { gte: 1000000000, lte: 1999999999 } } },
        ],
        minimum_should_match: 1,
      },
    });
    expect(es(field('log.syslog.severity.code', '', 'prefix'))).toEqual({
      exists: { field: 'log.syslog.severity.code' },
    });
    expect(es(field('log.syslog.facility.code', 'x', 'prefix'))).toEqual({ match_none: {} });
    expect(es(field('log.syslog.facility.code', '0', 'prefix'))).toEqual({
      term: { 'log.syslog.facility.code': 0 },
    });
  });

  it.each<[string, [number, number][]]>([
    ['', [[-2147483648, 2147483647]]],
    ['-', [[-2147483648, -1]]],
    ['0', [[0, 0]]],
    ['00', []],
    ['-0', []],
    ['05', []],
    ['a', []],
    ['1a', []],
    ['2147483647', [[2147483647, 2147483647]]],
    ['2147483648', []],
    [
      '21474836',
      [
        [21474836, 21474836],
        [214748360, 214748369],
        [2147483600, 2147483647],
      ],
    ],
    [
      '-21474836',
      [
        [-21474836, -21474836],
        [-214748369, -214748360],
        [-2147483648, -2147483600],
      ],
    ],
    ['9', Array.from({ length: 9 }, (_, k): [number, number] => [9 * 10 ** k, 10 ** (k + 1) - 1])],
  ])('integerPrefixRanges(%j)', (p, ranges) => {
    expect(integerPrefixRanges(p)).toEqual(ranges);
  });

  it('integerPrefixRanges agrees with String(n).startsWith for small numbers', () => {
    const wrong: string[] = [];
    for (const p of ['', '-', '1', '2', '12', '-1', '-12', '0', '9', '99', '100']) {
      const ranges = integerPrefixRanges(p);
      for (let n = -1200; n <= 1200; n++) {
        const inRanges = ranges.some(([lo, hi]) => n >= lo && n <= hi);
        if (inRanges !== String(n).startsWith(p)) wrong.push(`${p}: ${n}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('timestamps (date_nanos)', () => {
  const range = (bounds: Record<string, string>, f = '@timestamp') => ({
    range: { [f]: { ...bounds, format: 'strict_date_optional_time_nanos' } },
  });

  it('eq a canonical timestamp is that nanosecond', () => {
    const t = '2024-05-01T12:00:03.000000000Z';
    expect(es(field('@timestamp', t))).toEqual(range({ gte: t, lte: t }));
    expect(es(parseQuery('@timestamp:"2024-05-01T14:00:03+02:00"'))).toEqual(range({ gte: t, lte: t }));
  });

  it('eq anything else matches nothing (no stored timestamp equals it as text)', () => {
    expect(es(field('@timestamp', '2024-05-01'))).toEqual({ match_none: {} });
    expect(es(field('event.ingested', 'yesterday'))).toEqual({ match_none: {} });
  });

  it('comparisons are string comparisons on the canonical form, as ranges of instants', () => {
    expect(es(field('@timestamp', '2024-05-01', 'gte'))).toEqual(
      range({ gte: '2024-05-01T00:00:00.000000000Z' }),
    );
    expect(es(field('@timestamp', '2024-05-01', 'lt'))).toEqual(
      range({ lt: '2024-05-01T00:00:00.000000000Z' }),
    );
    // "2024-05-01T..." > "2024-05-01": every instant of that day is greater, as text.
    expect(es(field('@timestamp', '2024-05-01', 'gt'))).toEqual(
      range({ gte: '2024-05-01T00:00:00.000000000Z' }),
    );
    expect(es(field('@timestamp', '2024-05-01T12:00:01.000000000Z', 'gt'))).toEqual(
      range({ gte: '2024-05-01T12:00:01.000000001Z' }),
    );
    expect(es(field('event.ingested', '2024-05-01T12:00:01.000000000Z', 'lte'))).toEqual(
      range({ lt: '2024-05-01T12:00:01.000000001Z' }, 'event.ingested'),
    );
  });

  it('a prefix is the range of instants that are written so', () => {
    expect(es(field('@timestamp', '2024-05-01', 'prefix'))).toEqual(
      range({ gte: '2024-05-01T00:00:00.000000000Z', lt: '2024-05-02T00:00:00.000000000Z' }),
    );
    expect(es(field('@timestamp', '2024-05-01T12:00:0', 'prefix'))).toEqual(
      range({ gte: '2024-05-01T12:00:00.000000000Z', lt: '2024-05-01T12:00:10.000000000Z' }),
    );
    expect(es(field('@timestamp', '2024-12', 'prefix'))).toEqual(
      range({ gte: '2024-12-01T00:00:00.000000000Z', lt: '2025-01-01T00:00:00.000000000Z' }),
    );
    expect(es(field('@timestamp', '', 'prefix'))).toEqual({ exists: { field: '@timestamp' } });
    expect(es(field('@timestamp', '2024-13', 'prefix'))).toEqual({ match_none: {} });
    expect(es(field('@timestamp', 'x', 'prefix'))).toEqual({ match_none: {} });
  });

  it('bounds outside what date_nanos holds (1970..2262) are clamped, never sent', () => {
    expect(es(field('@timestamp', '1960', 'gte'))).toEqual({ exists: { field: '@timestamp' } });
    expect(es(field('@timestamp', '1960', 'lt'))).toEqual({ match_none: {} });
    expect(es(field('@timestamp', '2300', 'gte'))).toEqual({ match_none: {} });
    expect(es(field('@timestamp', '2300', 'lt'))).toEqual({ exists: { field: '@timestamp' } });
    expect(es(field('@timestamp', '1969-12-31T00:00:00.000000000Z'))).toEqual({ match_none: {} });
    expect(es(field('@timestamp', '19', 'prefix'))).toEqual(range({ lt: '2000-01-01T00:00:00.000000000Z' }));
  });
});

describe('message and event.original as fields', () => {
  it('message:x is a phrase, message:x* a phrase prefix', () => {
    expect(es(field('message', 'refused'))).toEqual({ match_phrase: { message: { query: 'refused' } } });
    expect(es(field('message', 'GET', 'prefix'))).toEqual({
      match_bool_prefix: { message: { query: 'GET' } },
    });
  });

  it('message comparisons are refused', () => {
    expect(() => toEsQuery(field('message', 'a', 'gt'))).toThrow(FieldValueError);
  });

  it('event.original is not indexed: a query error that says so', () => {
    let err: unknown;
    try {
      toEsQuery(field('event.original', 'sshd'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsearchableFieldError);
    expect((err as UnsearchableFieldError).code).toBe('LOGWHARF_ERR_QUERY');
    expect((err as Error).message).toMatch(/event\.original.*not indexed/);
  });
});

describe('flattened fields', () => {
  it('container labels: the key is everything after container.labels., dots and quotes included', () => {
    expect(es(field('container.labels.com.docker.compose.project', 'demo'))).toEqual({
      term: { 'container.labels.com.docker.compose.project': 'demo' },
    });
    expect(es(field('container.labels.quote"key', 'q'))).toEqual({
      term: { 'container.labels.quote"key': 'q' },
    });
    expect(es(field('container.labels.tier', 'fr', 'prefix'))).toEqual({
      prefix: { 'container.labels.tier': 'fr' },
    });
  });

  it('a comparison gets the other bound (Elasticsearch refuses a one-sided range on a flattened key)', () => {
    expect(es(field('fields.user', 'a', 'gt'))).toEqual({
      range: { 'fields.user': { gt: 'a', lte: '\u{10FFFF}' } },
    });
    expect(es(field('fields.user', 'a', 'gte'))).toEqual({
      range: { 'fields.user': { gte: 'a', lte: '\u{10FFFF}' } },
    });
    expect(es(field('fields.status', '500', 'lt'))).toEqual({
      range: { 'fields.status': { gte: '', lt: '500' } },
    });
    expect(es(field('fields.status', '500', 'lte'))).toEqual({
      range: { 'fields.status': { gte: '', lte: '500' } },
    });
  });

  it('fields.* equality with a number also asks for the number’s JSON text', () => {
    expect(es(field('fields.status', '503'))).toEqual({ term: { 'fields.status': '503' } });
    expect(es(field('fields.count', '7.0'))).toEqual({ terms: { 'fields.count': ['7.0', '7'] } });
    expect(es(field('fields.count', '07'))).toEqual({ terms: { 'fields.count': ['07', '7'] } });
    expect(es(field('fields.ok', 'false'))).toEqual({ term: { 'fields.ok': 'false' } });
    // Labels and structured data are strings: text equality only.
    expect(es(field('container.labels.n', '07'))).toEqual({ term: { 'container.labels.n': '07' } });
  });

  it('fields.<path>: nested JSON and flat logfmt keys are the same flattened key', () => {
    expect(es(field('fields.http.method', 'GET'))).toEqual({ term: { 'fields.http.method': 'GET' } });
    expect(es(field('fields.status', '5', 'prefix'))).toEqual({ prefix: { 'fields.status': '5' } });
    expect(es(field('fields.status', '', 'prefix'))).toEqual({ exists: { field: 'fields.status' } });
  });

  it('structured data: <sd-id>.<param> is one flattened key, however it splits', () => {
    expect(es(field('log.syslog.structured_data.origin.ip', '10.0.0.1'))).toEqual({
      term: { 'log.syslog.structured_data.origin.ip': '10.0.0.1' },
    });
    expect(es(field('log.syslog.structured_data.a.b@1.c.d', 'x'))).toEqual({
      term: { 'log.syslog.structured_data.a.b@1.c.d': 'x' },
    });
  });
});

describe('unknown fields', () => {
  it.each([
    'nope',
    'container',
    'fields.',
    'container.labels.',
    'log.syslog.structured_data.origin',
    'log.syslog.structured_data.origin.',
    'log.syslog.structured_data..ip',
    'Service.name',
  ])('%s is the UnknownFieldError of sql.ts, naming the field and the known ones', (f) => {
    let err: unknown;
    try {
      toEsQuery(and(field('stream', 'stdout'), not(field(f, 'x'))));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownFieldError);
    expect((err as UnknownFieldError).field).toBe(f);
    expect((err as UnknownFieldError).name).toBe('UnknownFieldError');
    expect((err as UnknownFieldError).code).toBe('LOGWHARF_ERR_QUERY');
    expect((err as Error).message).toContain('service.name');
  });

  it('every field the embedded store knows is known here too (event.original: known, not indexed)', () => {
    for (const f of KNOWN_FIELDS) {
      const concrete = f.replace('<sd-id>.<param>', 'origin.ip').replace(/<[^>]+>/, 'k');
      expect(() => esField(concrete), concrete).not.toThrow();
      const value = /code|number|bytes/.test(f)
        ? '1'
        : f === 'log.level' || f.endsWith('severity.name')
          ? 'err'
          : f.endsWith('facility.name')
            ? 'auth'
            : 'x';
      if (f === 'event.original')
        expect(() => toEsQuery(field(concrete, value))).toThrow(UnsearchableFieldError);
      else expect(() => toEsQuery(field(concrete, value)), concrete).not.toThrow();
    }
  });
});

describe('parsed queries, end to end', () => {
  it('the DESIGN.md examples', () => {
    expect(toEsQuery(parseQuery('service:web level>=warning "connection refused" -healthcheck'))).toEqual({
      bool: {
        filter: [
          {
            bool: {
              filter: [
                { term: { 'service.name': 'web' } },
                { range: { 'log.syslog.severity.code': { lte: 4 } } },
                { match_phrase: { message: { query: 'connection refused' } } },
                { bool: { must_not: [{ match_phrase: { message: { query: 'healthcheck' } } }] } },
              ],
            },
          },
        ],
      },
    });
    expect(es(parseQuery('(container:demo_web_1 OR container:demo_web_2) AND fields.status:5*'))).toEqual({
      bool: {
        filter: [
          {
            bool: {
              should: [
                { term: { 'container.name': 'demo_web_1' } },
                { term: { 'container.name': 'demo_web_2' } },
              ],
              minimum_should_match: 1,
            },
          },
          { prefix: { 'fields.status': '5' } },
        ],
      },
    });
  });

  it('short names resolve to ECS paths', () => {
    expect(es(parseQuery('project:demo'))).toEqual({ term: { 'compose.project': 'demo' } });
    expect(es(parseQuery('image:nginx*'))).toEqual({ prefix: { 'container.image.name': 'nginx' } });
    expect(es(parseQuery('host:h'))).toEqual({ term: { 'host.name': 'h' } });
    expect(es(parseQuery('app:sshd'))).toEqual({ term: { 'log.syslog.appname': 'sshd' } });
    expect(es(parseQuery('stream:stderr'))).toEqual({ term: { stream: 'stderr' } });
  });

  it('the result is plain JSON (what the client sends)', () => {
    const q = toEsQuery(
      parseQuery('a* "b c" -d fields.x>=5 level<=err @timestamp:2024* compose.container_number:1*'),
    );
    expect(JSON.parse(JSON.stringify(q))).toEqual(q);
  });
});
