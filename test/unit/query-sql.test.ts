import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECS_VERSION } from '../../src/core/ecs.js';
import type { LogEvent } from '../../src/core/event.js';
import type { FieldOp, QueryNode } from '../../src/query/ast.js';
import { FieldValueError, KNOWN_FIELDS, UnknownFieldError } from '../../src/query/fields.js';
import { parseQuery } from '../../src/query/parser.js';
import { ftsQueryString, toSqlWhere } from '../../src/query/sql.js';
import { openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { ECS_FIELD_QUERIES, queryEvents, web1 } from '../helpers/query-events.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The SQL translator, run against a real day file written by the embedded store: each case
 * says which of five events a query selects.
 */

const DAY = '2024-05-01';
const ts = (n: number) => `${DAY}T12:00:0${n}.000000000Z`;

const EVENTS: LogEvent[] = queryEvents(ts, `${DAY}T12:01:00.000000000Z`);

let dir: string | undefined;
let db: Database.Database;

beforeAll(async () => {
  dir = await tempDir('lw-sql-');
  const store = await openEmbeddedStore({ dataDir: dir });
  expect(await store.writer.write(EVENTS)).toEqual({ status: 'delivered' });
  await store.close();
  db = new Database(path.join(dir, 'store', 'default', `${DAY}.sqlite`), { readonly: true });
});

afterAll(async () => {
  db?.close();
  if (dir) await removeTempDir(dir);
});

function ids(q: QueryNode): string[] {
  const { where, params } = toSqlWhere(q);
  const rows = db.prepare(`SELECT id FROM events WHERE ${where} ORDER BY id`).all(...params) as {
    id: string;
  }[];
  return rows.map((r) => r.id);
}

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

describe('message text', () => {
  it.each([
    ['connection', ['e1', 'e2']],
    ['CONNECTION', ['e1', 'e2']],
    ['cafe', ['e3']],
    ['CRÈME', ['e3']],
    ['api/v1', ['e1']],
    ['v1/api', []],
    ['nothing', []],
  ])('word %s is case- and diacritic-insensitive', (w, expected) => {
    expect(ids(text(w))).toEqual(expected);
  });

  it('a phrase matches adjacent words in order', () => {
    expect(ids(text('connection refused', { phrase: true }))).toEqual(['e2']);
    expect(ids(text('refused connection', { phrase: true }))).toEqual([]);
  });

  it('a prefix matches the start of a word', () => {
    expect(ids(text('conn', { prefix: true }))).toEqual(['e1', 'e2']);
    expect(ids(text('retr', { prefix: true }))).toEqual(['e2']);
    expect(ids(text('etrying', { prefix: true }))).toEqual([]);
  });

  it('a word without letters or digits is a substring match', () => {
    expect(ids(text(':-)'))).toEqual(['e2']);
    expect(ids(text('->'))).toEqual([]);
    expect(ids(text('*'))).toEqual(['e5']);
  });

  it.each([
    'NEAR(a',
    'a)',
    'c*',
    '^x',
    '"',
    '""',
    'AND',
    'OR',
    'NOT',
    'col:val',
    'message:checkpoint',
    '{message}:x',
    '-dash',
    '+',
    "a' OR '1'='1",
    '\0vitest', // found by the fuzzer: FTS5 read the NUL as the end of its query
    'a\0" OR "b',
  ])('FTS5 syntax in a word is plain text: %s', (w) => {
    expect(() => ids(text(w))).not.toThrow();
    expect(() => ids(text(w, { prefix: true }))).not.toThrow();
    expect(() => ids(text(w, { phrase: true }))).not.toThrow();
  });

  it('operators inside a word are its tokens, not FTS5 operators', () => {
    expect(ids(text('NEAR(a'))).toEqual(['e5']); // the phrase "near a"
    expect(ids(text('col:val'))).toEqual(['e5']); // not a column filter
    expect(ids(text('message:checkpoint'))).toEqual([]); // "message checkpoint" is not in e3
  });

  it('a quote inside a value cannot end the FTS5 string', () => {
    expect(ids(text('a" OR 1=1'))).toEqual([]);
    expect(ids(text('admin" OR 1=1', { phrase: true }))).toEqual(['e4']);
    expect(ids(text('" OR "x'))).toEqual([]);
  });

  it('ftsQueryString quotes the whole value and doubles quotes', () => {
    expect(ftsQueryString('a"b', false)).toBe('"a""b"');
    expect(ftsQueryString('conn', true)).toBe('"conn" *');
    expect(ftsQueryString(':-)', false)).toBeNull();
    expect(ftsQueryString('ünï', false)).toBe('"ünï"');
    expect(ftsQueryString('a\0b', true)).toBe('"a b" *');
  });
});

describe('keyword fields', () => {
  it.each([
    ['service.name', 'web', ['e1', 'e2']],
    ['service.name', 'Web', []],
    ['stream', 'stderr', ['e2']],
    ['host.name', 'router', ['e4']],
    ['event.dataset', 'syslog', ['e4']],
    ['event.id', 'e3', ['e3']],
    ['log.syslog.hostname', 'router', ['e4']],
    ['log.syslog.appname', 'sshd', ['e4']],
    ['log.syslog.procid', '123', ['e4']],
    ['log.syslog.msgid', 'AUTH', ['e4']],
    ['container.name', 'demo-web-1', ['e1']],
    ['container.image.name', 'postgres:16', ['e3']],
    ['compose.project', 'demo', ['e1', 'e2', 'e3']],
    ['compose.service', 'web', ['e1', 'e2']],
    ['compose.container_number', '2', ['e2']],
    ['container.id', web1.id, ['e1']],
    ['container.id', 'aaaa1111', ['e1']],
    ['container.id', 'aaaa', ['e1', 'e2']],
    ['log.flags', 'multiline', ['e3']],
    ['@timestamp', ts(3), ['e3']],
  ])('%s:%s is exact', (f, v, expected) => {
    expect(ids(field(f, v))).toEqual(expected);
  });

  it.each([
    ['service.name', 'w', ['e1', 'e2']],
    ['container.name', 'demo-', ['e1', 'e2', 'e3']],
    ['container.image.name', 'nginx:', ['e1', 'e2']],
    ['compose.container_number', '1', ['e1', 'e3']],
    ['@timestamp', `${DAY}T12:00:0`, ['e1', 'e2', 'e3', 'e4', 'e5']],
    ['service.name', '', ['e1', 'e2', 'e3', 'e4']],
  ])('%s:%s* is a prefix', (f, v, expected) => {
    expect(ids(field(f, v, 'prefix'))).toEqual(expected);
  });

  it('compares keywords and timestamps in order', () => {
    expect(ids(field('@timestamp', ts(4), 'gte'))).toEqual(['e4', 'e5']);
    expect(ids(field('@timestamp', ts(2), 'lt'))).toEqual(['e1']);
    expect(ids(field('compose.container_number', '2', 'lt'))).toEqual(['e1', 'e3']);
  });

  it('message:value is a case-sensitive substring, message:value* a starts-with', () => {
    expect(ids(field('message', 'refused'))).toEqual(['e2']);
    expect(ids(field('message', 'Refused'))).toEqual([]);
    expect(ids(field('message', 'GET', 'prefix'))).toEqual(['e1']);
    expect(ids(field('event.original', 'sshd 123'))).toEqual(['e4']);
  });

  it('a number field refuses a non-number', () => {
    expect(() => toSqlWhere(field('compose.container_number', 'abc'))).toThrow(FieldValueError);
  });
});

describe('severity and facility', () => {
  it('severity nodes compare codes', () => {
    expect(ids({ type: 'severity', op: 'lte', code: 4 })).toEqual(['e2', 'e3']);
    expect(ids({ type: 'severity', op: 'eq', code: 5 })).toEqual(['e4']);
    expect(ids({ type: 'severity', op: 'gt', code: 5 })).toEqual(['e1', 'e5']);
    expect(ids({ type: 'severity', op: 'lt', code: 0 })).toEqual([]);
  });

  it('by name, with aliases and "or worse" comparisons', () => {
    expect(ids(field('log.level', 'error'))).toEqual(['e2']);
    expect(ids(field('log.syslog.severity.name', 'notice'))).toEqual(['e4']);
    expect(ids(field('log.level', 'warning', 'gte'))).toEqual(['e2', 'e3']);
    expect(ids(field('log.level', 'de', 'prefix'))).toEqual(['e5']);
    expect(() => toSqlWhere(field('log.level', 'loud'))).toThrow(/log\.level.*emerg/);
  });

  it('by code', () => {
    expect(ids(field('log.syslog.severity.code', '5'))).toEqual(['e4']);
    expect(ids(field('log.syslog.severity.code', '4', 'lte'))).toEqual(['e2', 'e3']);
    expect(ids(field('log.syslog.facility.code', '4'))).toEqual(['e4']);
    expect(ids(field('log.syslog.facility.code', '3', 'lte'))).toEqual(['e1', 'e2', 'e3', 'e5']);
  });

  it('facility by name and name prefix', () => {
    expect(ids(field('log.syslog.facility.name', 'auth'))).toEqual(['e4']);
    expect(ids(field('log.syslog.facility.name', 'daemon'))).toEqual(['e1', 'e2', 'e3', 'e5']);
    expect(ids(field('log.syslog.facility.name', 'au', 'prefix'))).toEqual(['e4']);
    expect(ids(field('log.syslog.facility.name', 'zz', 'prefix'))).toEqual([]);
    expect(() => toSqlWhere(field('log.syslog.facility.name', 'bogus'))).toThrow(FieldValueError);
  });
});

describe('container labels', () => {
  it('keys with dots, backquotes and quotes', () => {
    expect(ids(field('container.labels.com.docker.compose.project', 'demo'))).toEqual(['e1', 'e2', 'e3']);
    expect(ids(field('container.labels.com.docker.compose.service', 'web'))).toEqual(['e1', 'e2']);
    expect(ids(field('container.labels.traefik.http.routers.web.rule', 'Host(`a.example`)'))).toEqual([
      'e1',
      'e2',
    ]);
    expect(ids(field('container.labels.quote"key', 'q'))).toEqual(['e1', 'e2']);
    expect(ids(field('container.labels.com.docker.compose.project', 'oth', 'prefix'))).toEqual(['e5']);
    expect(ids(field('container.labels.no.such.label', 'x'))).toEqual([]);
  });
});

describe('fields.*', () => {
  it.each<[string, FieldOp, string, string[]]>([
    ['status', 'eq', '503', ['e2']],
    ['status', 'eq', '500', ['e3']], // a string "500" equals the number 500 in text
    ['status', 'gte', '500', ['e2', 'e3']],
    ['status', 'lt', '300', ['e1']],
    ['status', 'prefix', '5', ['e2', 'e3']],
    ['duration_ms', 'gt', '1000', ['e2']], // numeric string compared as a number
    ['duration_ms', 'gt', '2000', []],
    ['count', 'eq', '7', ['e5']],
    ['count', 'eq', '7.0', ['e5']],
    ['count', 'eq', '07', ['e5']],
    ['user', 'eq', 'alice', ['e1']],
    ['user', 'eq', 'Alice', []],
    ['user', 'prefix', 'al', ['e1']],
    ['user', 'gt', 'a', ['e1']],
    ['ok', 'eq', 'false', ['e2']],
    ['ok', 'eq', '0', []], // a boolean is not the number 0
    ['http.method', 'eq', 'GET', ['e1']], // nested object
    ['http.method', 'eq', 'POST', ['e2']], // flat key with a dot
    ['nested.deep.key', 'eq', 'v', ['e5']],
    ['missing', 'eq', 'x', []],
    ['missing', 'prefix', '', []],
  ])('fields.%s %s %s', (f, op, v, expected) => {
    expect(ids(field(`fields.${f}`, v, op))).toEqual(expected);
  });
});

describe('ECS fields of an access line and a syslog sender', () => {
  it.each(ECS_FIELD_QUERIES)('%s', (q, expected) => {
    expect(ids(parseQuery(q))).toEqual(expected);
  });

  it('negations also match the events without the field', () => {
    expect(ids(parseQuery('-status>=500'))).toEqual(['e1', 'e3', 'e4', 'e5']);
    expect(ids(parseQuery('-sender_timestamp:*'))).toEqual(['e1', 'e2', 'e3', 'e5']);
  });

  it('ecs.version is the same on every event', () => {
    expect(ids(parseQuery(`ecs.version:${ECS_VERSION}`))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(parseQuery('ecs.version:1.0.0'))).toEqual([]);
    expect(ids(parseQuery('ecs.version:8.*'))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('a number field refuses a non-number', () => {
    expect(() => toSqlWhere(parseQuery('status:abc'))).toThrow(FieldValueError);
    expect(() => toSqlWhere(parseQuery('http.response.body.bytes>lots'))).toThrow(FieldValueError);
  });
});

describe('syslog structured data', () => {
  it('SD-ID and param, dots allowed in both', () => {
    expect(ids(field('log.syslog.structured_data.origin.ip', '10.0.0.1'))).toEqual(['e4']);
    expect(ids(field('log.syslog.structured_data.meta@32473.sequenceId', '7'))).toEqual(['e4']);
    expect(ids(field('log.syslog.structured_data.a.b@1.c.d', 'x'))).toEqual(['e4']);
    expect(ids(field('log.syslog.structured_data.origin.ip', '10.', 'prefix'))).toEqual(['e4']);
    expect(ids(field('log.syslog.structured_data.origin.ip', '10.0.0.2'))).toEqual([]);
    // Names over RFC 5424's 32 characters are never stored: such splits are not tried.
    expect(ids(field(`log.syslog.structured_data.${'a.'.repeat(3000)}b`, 'x'))).toEqual([]);
    expect(toSqlWhere(field(`log.syslog.structured_data.${'x'.repeat(40)}.ip`, 'x')).where).toBe('0');
  });
});

describe('boolean structure', () => {
  it('all, empty AND and OR', () => {
    expect(ids({ type: 'all' })).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(and())).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(or())).toEqual([]);
  });

  it('NOT also matches events that lack the field', () => {
    expect(ids(not(field('service.name', 'web')))).toEqual(['e3', 'e4', 'e5']);
    expect(ids(not(field('container.name', 'demo-web-1')))).toEqual(['e2', 'e3', 'e4', 'e5']);
    expect(ids(not(field('fields.status', '500', 'gte')))).toEqual(['e1', 'e4', 'e5']);
    expect(ids(not(text('connection')))).toEqual(['e3', 'e4', 'e5']);
    expect(ids(not(not(field('stream', 'stderr'))))).toEqual(['e2']);
  });

  it('AND and OR, with words merged into one FTS5 query', () => {
    expect(ids(and(text('connection'), text('refused')))).toEqual(['e2']);
    expect(ids(or(text('connection'), text('cafe')))).toEqual(['e1', 'e2', 'e3']);
    expect(ids(or(text('cafe'), field('stream', 'stderr'), text(':-)')))).toEqual(['e2', 'e3']);
    expect(ids(and(field('service.name', 'web'), not(text('refused'))))).toEqual(['e1']);
    expect(
      ids(and(text('connection'), or(field('stream', 'stderr'), field('fields.user', 'alice')))),
    ).toEqual(['e1', 'e2']);
    const merged = toSqlWhere(and(text('a'), text('b'), field('stream', 'stdout')));
    expect(merged.where.match(/MATCH/g)).toHaveLength(1);
    expect(merged.params[0]).toBe('"a" AND "b"');
  });

  it('a query of thousands of terms stays within SQLite expression depth (found by the fuzzer)', () => {
    // SQLite nests a row of N terms N deep and refuses more than 1000; 8192 characters allow 4000.
    const many = (n: number, term: (i: number) => QueryNode) => Array.from({ length: n }, (_, i) => term(i));
    expect(ids(and(...many(3000, () => text('.'))))).toEqual(ids(text('.')));
    expect(ids(and(...many(1500, (i) => not(text(`w${i}`)))))).toHaveLength(EVENTS.length);
    expect(ids(or(...many(2000, (i) => field('service.name', `s${i}`)), field('stream', 'stderr')))).toEqual(
      ids(field('stream', 'stderr')),
    );
    expect(ids(parseQuery('. '.repeat(4000)))).toEqual(ids(text('.')));
    expect(ids(text('.'))).toEqual(['e4']);
  });

  it('parsed queries translate end to end', () => {
    expect(ids(parseQuery('service:web level>=warning "connection refused" -healthcheck'))).toEqual(['e2']);
    expect(ids(parseQuery('(container:demo-web-1 OR container:demo-web-2) AND fields.status:5*'))).toEqual([
      'e2',
    ]);
    expect(ids(parseQuery('project:demo -service:web'))).toEqual(['e3']);
  });
});

describe('safety', () => {
  it.each(["web' OR '1'='1", 'web" OR 1=1 --', "'); DROP TABLE events; --", 'we%', 'w_b', 'a\\b'])(
    'a value is bound, never part of the SQL: %s',
    (v) => {
      for (const f of ['service.name', 'container.name', 'fields.user', 'container.labels.x', 'message']) {
        const { where, params } = toSqlWhere(field(f, v));
        expect(where).not.toContain(v);
        expect(params).toContain(v);
        expect(ids(field(f, v))).toEqual([]);
      }
      expect(ids(field('service.name', v, 'prefix'))).toEqual([]);
    },
  );

  it('a field name with quotes only reaches SQL as a bound JSON path', () => {
    const f = `fields.a"); DROP TABLE events; --`;
    expect(toSqlWhere(field(f, 'x')).where).not.toContain('DROP');
    expect(ids(field(f, 'x'))).toEqual([]);
    expect(ids(field(`container.labels.x')) OR 1=1 --`, 'x'))).toEqual([]);
  });

  it('every parameter is a string or a number', () => {
    const { params } = toSqlWhere(
      and(
        field('fields.n', '5', 'gte'),
        field('log.level', 'err', 'lte'),
        text('x'),
        field('container.id', 'ab'),
      ),
    );
    for (const p of params) expect(['string', 'number']).toContain(typeof p);
  });
});

describe('unknown fields', () => {
  it.each([
    'nope',
    'container',
    'fields.',
    'container.labels.',
    'log.syslog.structured_data.origin',
    'Service.name',
  ])('%s is an UnknownFieldError naming the field and the known ones', (f) => {
    let err: unknown;
    try {
      toSqlWhere(and(field('stream', 'stdout'), not(field(f, 'x'))));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownFieldError);
    expect((err as UnknownFieldError).field).toBe(f);
    expect((err as UnknownFieldError).name).toBe('UnknownFieldError');
    expect((err as UnknownFieldError).code).toBe('LOGWHARF_ERR_QUERY');
    expect((err as Error).message).toContain(`unknown field '${f}'`);
    expect((err as Error).message).toContain('service.name');
  });

  it('every field listed as known translates', () => {
    for (const f of KNOWN_FIELDS) {
      const concrete = f.replace('<sd-id>.<param>', 'origin.ip').replace(/<[^>]+>/, 'k');
      const value = /code|number|bytes/.test(f)
        ? '1'
        : f === 'log.level' || f.endsWith('severity.name')
          ? 'err'
          : f.endsWith('facility.name')
            ? 'auth'
            : 'x';
      expect(() => ids(field(concrete, value)), concrete).not.toThrow();
    }
  });
});
