/**
 * The query language (src/query/parser.ts parseQuery) and its translators (sql.ts toSqlWhere,
 * es.ts toEsQuery) on mutated queries from the unit tests and the field names of DESIGN.md.
 *
 * Invariants: parseQuery throws nothing but QuerySyntaxError, with an integer position inside
 * the query (0..length); a leading space moves that position by exactly one, and a query that
 * parses gives the same tree wrapped in parentheses (a natural round trip: the tree does not
 * depend on where the query sits); the tree is well formed; both translators throw nothing but
 * the documented LOGWHARF_ERR_QUERY errors; the SQL has one bound parameter per `?` and runs
 * against a real day-file schema (SQLite, FTS5 included: a full-text string FTS5 could not
 * parse would fail there); the Elasticsearch query is plain JSON (no undefined, NaN or Infinity).
 */

import Database from 'better-sqlite3';
import { LogwharfError } from '../../../src/core/errors.js';
import { type QueryNode, QuerySyntaxError } from '../../../src/query/ast.js';
import { toEsQuery } from '../../../src/query/es.js';
import { MAX_NESTING_DEPTH, MAX_QUERY_LENGTH, parseQuery } from '../../../src/query/parser.js';
import { toSqlWhere } from '../../../src/query/sql.js';
import { eventParams, INDEX_FTS_SINCE_SQL, INSERT_EVENT_SQL } from '../../../src/sinks/embedded/codec.js';
import { migrate } from '../../../src/sinks/embedded/migrations.js';
import { inRange, invariant, jsonTarget } from '../harness.js';
import { mutatedText, tokens, unitTestStrings } from '../mutate.js';

type Parsed = { node: QueryNode } | { error: QuerySyntaxError };

function parse(text: string): Parsed {
  try {
    return { node: parseQuery(text) };
  } catch (err) {
    invariant(err instanceof QuerySyntaxError, () => `parseQuery threw ${String(err)}`);
    return { error: err };
  }
}

/** A day file's schema in memory, with one event, so that every subquery and FTS5 MATCH runs. */
let db: Database.Database | undefined;
function dayFile(): Database.Database {
  if (db === undefined) {
    db = new Database(':memory:');
    migrate(db, ':memory:', { day: '2026-11-27', retentionClass: 'default' });
    db.prepare(INSERT_EVENT_SQL).run(
      eventParams(
        {
          timestamp: '2026-11-27T02:00:00.000000001Z',
          id: 'fuzz',
          dataset: 'docker',
          ingested: '2026-11-27T02:00:00.000000001Z',
          message: 'connection refused by upstream api/v1 ÉTÉ 日本語',
          severity: 3,
          facility: 3,
          host: 'h',
          fields: { status: 500, user: { id: 7 } },
          flags: ['truncated'],
        },
        null,
      ),
    );
    db.prepare(INDEX_FTS_SINCE_SQL).run(0);
  }
  return db;
}

function translates(what: string, f: () => unknown): unknown {
  try {
    return f();
  } catch (err) {
    invariant(
      err instanceof LogwharfError && err.code === 'LOGWHARF_ERR_QUERY',
      () => `${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    );
    return undefined;
  }
}

function wellFormed(node: QueryNode, depth = 0): void {
  invariant(depth <= 2 * MAX_NESTING_DEPTH + 2, 'tree deeper than the nesting bound allows');
  switch (node.type) {
    case 'and':
    case 'or':
      invariant(node.children.length >= 2, () => `${node.type} with ${node.children.length} children`);
      for (const c of node.children) {
        invariant(c.type !== node.type && c.type !== 'all', () => `${node.type} not flattened`);
        wellFormed(c, depth + 1);
      }
      return;
    case 'not':
      invariant(node.child.type !== 'not', 'double negation kept');
      wellFormed(node.child, depth + 1);
      return;
    case 'severity':
      inRange('severity code', node.code, 0, 7);
      return;
    case 'field':
      invariant(node.field.length > 0, 'field without a name');
      return;
    default:
      return;
  }
}

/** Every value is plain JSON: what the Elasticsearch client would send. */
function plainJson(v: unknown, path = '$'): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    invariant(Number.isFinite(v), () => `${path} is ${v}`);
    return;
  }
  invariant(typeof v === 'object', () => `${path} is ${typeof v}`);
  for (const [k, x] of Object.entries(v as object)) plainJson(x, `${path}.${k}`);
}

export function checkQuery(text: string): void {
  const parsed = parse(text);
  if (text.length < MAX_QUERY_LENGTH) {
    const shifted = parse(` ${text}`);
    invariant('node' in parsed === 'node' in shifted, 'a leading space changed whether the query parses');
    if ('error' in parsed && 'error' in shifted) {
      invariant(
        shifted.error.position === parsed.error.position + 1,
        () => `error at ${parsed.error.position} moved to ${shifted.error.position} after a leading space`,
      );
    }
  }
  if ('error' in parsed) {
    const p = parsed.error.position;
    invariant(
      Number.isInteger(p) && p >= 0 && p <= text.length,
      () => `error position ${p} outside a query of ${text.length}`,
    );
    return;
  }
  const node = parsed.node;
  wellFormed(node);
  if (text.trim() !== '' && text.length + 2 <= MAX_QUERY_LENGTH) {
    const wrapped = parse(`(${text})`);
    invariant(
      'node' in wrapped || wrapped.error.message.includes('too deeply nested'),
      () => `(query) does not parse: ${'error' in wrapped ? wrapped.error.message : ''}`,
    );
    if ('node' in wrapped) {
      invariant(
        JSON.stringify(wrapped.node) === JSON.stringify(node),
        'parentheses around the query changed its tree',
      );
    }
  }

  const sql = translates('toSqlWhere', () => toSqlWhere(node)) as ReturnType<typeof toSqlWhere> | undefined;
  if (sql !== undefined) {
    const marks = sql.where.split('?').length - 1;
    invariant(marks === sql.params.length, () => `${marks} placeholders for ${sql.params.length} parameters`);
    for (const p of sql.params) {
      invariant(typeof p === 'string' || typeof p === 'number', 'a parameter is neither text nor number');
    }
  }
  const es = translates('toEsQuery', () => toEsQuery(node));
  if (es !== undefined) plainJson(es);
}

/**
 * The SQL of a query that translates, run in SQLite (outside the time bound: 1500 negated words
 * are 1500 FTS5 lookups, the user's choice, not the translator's cost).
 */
export function runQuerySql(text: string): void {
  let sql: ReturnType<typeof toSqlWhere>;
  try {
    sql = toSqlWhere(parseQuery(text));
  } catch {
    return; // checkQuery has vouched for these errors
  }
  try {
    dayFile()
      .prepare(`SELECT count(*) FROM events WHERE ${sql.where}`)
      .pluck()
      .get(...sql.params);
  } catch (err) {
    throw new Error(
      `SQLite refused the translation: ${err instanceof Error ? err.message : String(err)}; WHERE ${sql.where.slice(0, 300)}`,
    );
  }
}

/** Field names and operators of the query language (DESIGN.md), to splice into the seeds. */
const QUERY_TOKENS = tokens(
  'service:',
  'level>=',
  'level<',
  'host.name:',
  'fields.http.status>',
  'fields.user.id:',
  'log.syslog.structured_data.meta@1.k:',
  'container.labels.com.docker.compose.service:',
  'container.id:',
  '@timestamp>=',
  'event.original:',
  'message:',
  'log.syslog.facility.name:',
  'log.syslog.severity.code<=',
  'compose.container_number:',
  ' AND ',
  ' OR ',
  'NOT ',
  '-',
  '(',
  ')',
  '"',
  '\\"',
  '*',
  '\u3000',
);

export const query = jsonTarget<string>({
  name: 'query',
  arbitrary: mutatedText(
    [
      ...unitTestStrings('query-parser.test.ts'),
      ...unitTestStrings('query-sql.test.ts'),
      ...unitTestStrings('query-es.test.ts'),
    ],
    { tokens: QUERY_TOKENS },
  ),
  check: checkQuery,
  untimedCheck: runQuerySql,
});
