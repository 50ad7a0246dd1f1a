import { ECS_VERSION } from '../core/ecs.js';
import { LogwharfError } from '../core/errors.js';
import { FACILITY_NAMES, SEVERITY_NAMES } from '../core/event.js';
import { severityOfWord } from '../core/severity-words.js';
import type { FieldOp, QueryNode } from './ast.js';
import { FieldValueError, TIMESTAMP_FIELDS, UnknownFieldError } from './fields.js';

/**
 * QueryNode -> SQL WHERE fragment for one day file of the embedded store (schema in
 * src/sinks/embedded/migrations.ts). Pure: no database here.
 *
 * Rules that keep it safe and predictable:
 * - Every value is a bound parameter; the SQL text is built only from this file's constants
 *   (column names come from a fixed map, never from the query).
 * - Full text goes to FTS5 only as quoted strings (`"conn ""x"""`, optionally `*`): FTS5 then
 *   tokenizes the string itself and none of the user's characters act as FTS5 syntax.
 * - `field:value` is exact and case-sensitive, like a keyword field; message words are
 *   case-insensitive (the FTS5 unicode61 tokenizer folds case and diacritics).
 * - NOT is two-valued: `-service:web` also matches events that have no service at all
 *   (SQL would otherwise make NOT NULL unknown and drop them).
 */

export type SqlParam = string | number;

export interface SqlFragment {
  /** An SQL boolean expression over `events` (and subselects on `containers`, `events_fts`). */
  where: string;
  params: SqlParam[];
}

/** Columns of `events` compared as keywords. */
const EVENT_TEXT: Record<string, string> = {
  '@timestamp': 'events.ts',
  'event.id': 'events.id',
  'event.dataset': 'events.dataset',
  'event.ingested': 'events.ingested',
  stream: 'events.stream',
  'host.name': 'events.host',
  'service.name': 'events.service',
  'log.syslog.hostname': 'events.sl_hostname',
  'log.syslog.appname': 'events.sl_appname',
  'log.syslog.procid': 'events.sl_procid',
  'log.syslog.msgid': 'events.sl_msgid',
  'http.request.method': 'events.http_method',
  'http.request.referrer': 'events.http_referrer',
  'http.version': 'events.http_version',
  'url.original': 'events.url_original',
  'user_agent.original': 'events.user_agent',
  'user.name': 'events.user_name',
  'source.address': 'events.source_address',
  'log.source.address': 'events.log_source_address',
  sender_timestamp: 'events.sender_ts',
};

const EVENT_INT: Record<string, string> = {
  'log.syslog.severity.code': 'events.severity',
  'log.syslog.facility.code': 'events.facility',
  'http.response.status_code': 'events.http_status',
  'http.response.body.bytes': 'events.http_bytes',
};

/** Free text columns: `message:x` is a case-sensitive substring match (a grep), not FTS. */
const EVENT_FREE_TEXT: Record<string, string> = {
  message: 'events.message',
  'event.original': 'events.original',
};

/** Columns of `containers`, reached through `events.container_ref`. */
const CONTAINER_TEXT: Record<string, string> = {
  'container.name': 'name',
  'container.image.name': 'image',
  'compose.project': 'compose_project',
  'compose.service': 'compose_service',
};

/** Characters the unicode61 tokenizer keeps in tokens (its default categories: L* N* Co). */
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u;
/** Greater than every character, so [p, p + MAX_CHAR) is "starts with p" in BINARY order. */
const MAX_CHAR = '\u{10FFFF}';
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function toSqlWhere(node: QueryNode): SqlFragment {
  const params: SqlParam[] = [];
  const where = translate(node, params);
  return { where, params };
}

/**
 * A message word, phrase or prefix as an FTS5 query string, or null when the value has no
 * character that the tokenizer keeps (`:-)`, `->`): FTS5 would see no token at all there, so
 * the caller falls back to a substring match. Inside double quotes FTS5 treats everything as
 * text to tokenize (`"` is doubled), so `a" OR b`, `NEAR(`, `*`, `^`, `:` are all inert. A
 * word with punctuation inside (`connection-refused`, `api/v1`) becomes a phrase of its tokens.
 */
export function ftsQueryString(value: string, prefix: boolean): string | null {
  if (!TOKEN_CHAR.test(value)) return null;
  // FTS5 reads its query as a C string: a NUL would end it inside the quotes ("unterminated
  // string"). To the tokenizer NUL only separates tokens, as a space does.
  const text = value.includes('\0') ? value.replaceAll('\0', ' ') : value;
  return `"${text.replaceAll('"', '""')}"${prefix ? ' *' : ''}`;
}

function translate(node: QueryNode, params: SqlParam[]): string {
  switch (node.type) {
    case 'all':
      return '1';
    case 'and':
    case 'or':
      return translateBool(node.type, node.children, params);
    case 'not':
      // coalesce: see "NOT is two-valued" above.
      return `NOT coalesce((${translate(node.child, params)}), 0)`;
    case 'text': {
      const fts = ftsQueryString(node.value, node.prefix);
      if (fts === null) return textFallback(node.value, params);
      params.push(fts);
      return FTS_MATCH;
    }
    case 'severity':
      return severityIn(node.op, node.code, params);
    case 'field':
      return translateField(node.field, node.op, node.value, params);
  }
}

const FTS_MATCH = 'events.rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)';

/** Punctuation-only words: a substring match (such text has no letters, so no case to fold). */
function textFallback(value: string, params: SqlParam[]): string {
  params.push(value);
  return 'instr(events.message, ?) > 0';
}

const SQL_OP: Record<Exclude<FieldOp, 'prefix'>, string> = {
  eq: '=',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
};

/**
 * AND/OR. The full-text children of one AND (or one OR) are merged into one FTS5 query
 * (`"a" AND "b"`), so FTS5 intersects its posting lists itself instead of SQLite
 * materializing one rowid set per word.
 */
function translateBool(kind: 'and' | 'or', children: QueryNode[], params: SqlParam[]): string {
  if (children.length === 0) return kind === 'and' ? '1' : '0';
  const fts: string[] = [];
  const parts: string[] = [];
  const local: SqlParam[] = [];
  for (const child of children) {
    if (child.type === 'text') {
      const s = ftsQueryString(child.value, child.prefix);
      if (s !== null) {
        fts.push(s);
        continue;
      }
    }
    parts.push(translate(child, local));
  }
  if (fts.length > 0) {
    params.push(fts.join(kind === 'and' ? ' AND ' : ' OR '));
    parts.unshift(FTS_MATCH);
  }
  params.push(...local);
  return joinShallow(parts, kind === 'and' ? ' AND ' : ' OR ');
}

/** Up to this many terms are joined in a row; more are grouped (see joinShallow). */
const FLAT_TERMS = 16;

/**
 * `(a) OP (b) OP ...`, kept shallow: SQLite refuses an expression nested more than 1000 deep
 * ("Expression tree is too large"), and it nests a row of N terms N deep. A query of a few
 * thousand punctuation words or fields (8192 characters allow that) would fail, so a long row is
 * split in halves, recursively, each in parentheses: depth about 2 log2(N). Placeholders keep
 * their order, so the parameters still line up.
 */
function joinShallow(parts: readonly string[], op: string): string {
  if (parts.length === 1) return parts[0]!;
  if (parts.length <= FLAT_TERMS) return parts.map((p) => `(${p})`).join(op);
  const half = parts.length >> 1;
  return `(${joinShallow(parts.slice(0, half), op)})${op}(${joinShallow(parts.slice(half), op)})`;
}

function translateField(field: string, op: FieldOp, value: string, params: SqlParam[]): string {
  const textCol = EVENT_TEXT[field];
  if (textCol) return keyword(textCol, op, value, params);
  if (field === 'log.syslog.severity.code' && op !== 'prefix' && /^[0-7]$/.test(value)) {
    return severityIn(op, Number(value), params);
  }
  const intCol = EVENT_INT[field];
  if (intCol) return integer(field, intCol, op, value, params);
  const freeCol = EVENT_FREE_TEXT[field];
  if (freeCol) {
    if (op === 'eq') {
      params.push(value);
      return `instr(${freeCol}, ?) > 0`;
    }
    return keyword(freeCol, op, value, params);
  }
  if (field === 'log.level' || field === 'log.syslog.severity.name') {
    return severityByName(field, op, value, params);
  }
  if (field === 'log.syslog.facility.name') return facilityByName(field, op, value, params);
  // The same on every event (core/ecs.ts), so a constant: `? = ?`.
  if (field === 'ecs.version') return keyword('?', op, value, params, [ECS_VERSION]);
  if (field === 'log.flags') {
    return `EXISTS (SELECT 1 FROM json_each(events.flags) WHERE ${keyword('value', op, value, params)})`;
  }
  const containerCol = CONTAINER_TEXT[field];
  if (containerCol) return inContainers(keyword(containerCol, op, value, params));
  if (field === 'container.id') {
    // Like docker's short ids: `container.id:3f2a9c` matches the container whose id starts so.
    return inContainers(keyword('id', op === 'eq' ? 'prefix' : op, value, params));
  }
  if (field === 'compose.container_number') {
    return inContainers(integer(field, 'compose_number', op, value, params));
  }
  if (field.startsWith('container.labels.') && field.length > 'container.labels.'.length) {
    const key = field.slice('container.labels.'.length);
    return inContainers(keyword('json_extract(labels, ?)', op, value, params, [jsonPath([key])]));
  }
  if (field.startsWith('fields.') && field.length > 'fields.'.length) {
    return jsonField(field.slice('fields.'.length), op, value, params);
  }
  const sdPrefix = 'log.syslog.structured_data.';
  if (field.startsWith(sdPrefix) && field.indexOf('.', sdPrefix.length) > sdPrefix.length) {
    return structuredData(field.slice(sdPrefix.length), op, value, params);
  }
  throw new UnknownFieldError(field);
}

function inContainers(predicate: string): string {
  return `events.container_ref IN (SELECT ref FROM containers WHERE ${predicate})`;
}

/**
 * Exact, case-sensitive comparison of a text expression. Prefix is a range, so indexes apply.
 * `exprParams` are the parameters of `expr` itself, bound again wherever `expr` appears.
 */
function keyword(
  expr: string,
  op: FieldOp,
  value: string,
  params: SqlParam[],
  exprParams: SqlParam[] = [],
): string {
  if (op === 'prefix') {
    params.push(...exprParams, value, ...exprParams, value + MAX_CHAR);
    return `${expr} >= ? AND ${expr} < ?`;
  }
  params.push(...exprParams, value);
  return `${expr} ${SQL_OP[op]} ?`;
}

function integer(field: string, col: string, op: FieldOp, value: string, params: SqlParam[]): string {
  if (op === 'prefix') {
    params.push(value, value + MAX_CHAR);
    return `CAST(${col} AS TEXT) >= ? AND CAST(${col} AS TEXT) < ?`;
  }
  if (!NUMBER_RE.test(value)) throw new FieldValueError(field, value, 'a number');
  params.push(Number(value));
  return `${col} ${SQL_OP[op]} ?`;
}

/** `col IN (?, ...)` over codes chosen from our own name tables (never text from the query). */
function codeList(col: string, codes: number[], params: SqlParam[]): string {
  if (codes.length === 0) return '0';
  params.push(...codes);
  return `${col} IN (${codes.map(() => '?').join(', ')})`;
}

/**
 * Severity comparisons as an IN list of codes (`<= 3` -> `IN (0, 1, 2, 3)`): with the
 * (severity, ts) index SQLite then reads each code's newest rows in order and stops after
 * LIMIT per code, where a range made it scan the ts index over the whole day whenever few
 * rows match (`level<=alert` on a healthy day: 400 ms per million rows, now < 1 ms).
 */
function severityIn(op: Exclude<FieldOp, 'prefix'>, code: number, params: SqlParam[]): string {
  const codes = SEVERITY_NAMES.map((_, c) => c).filter((c) => compare(c, op, code));
  return codeList('events.severity', codes, params);
}

function compare(a: number, op: Exclude<FieldOp, 'prefix'>, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
  }
}

/**
 * Severity by name. Comparisons follow the query language's `level` rule: `>=warning` means
 * "warning or worse", i.e. a code <= 4 (lower codes are more severe).
 */
function severityByName(field: string, op: FieldOp, value: string, params: SqlParam[]): string {
  if (op === 'prefix') {
    return codeList('events.severity', namesWithPrefix(SEVERITY_NAMES, value.toLowerCase()), params);
  }
  const name = value.toLowerCase();
  const code = severityOfWord(name) ?? -1;
  if (code < 0) throw new FieldValueError(field, value, `one of ${SEVERITY_NAMES.join(' ')}`);
  const worse: Record<Exclude<FieldOp, 'prefix'>, Exclude<FieldOp, 'prefix'>> = {
    eq: 'eq',
    lt: 'gt',
    lte: 'gte',
    gt: 'lt',
    gte: 'lte',
  };
  return severityIn(worse[op], code, params);
}

function facilityByName(field: string, op: FieldOp, value: string, params: SqlParam[]): string {
  if (op === 'prefix') return codeList('events.facility', namesWithPrefix(FACILITY_NAMES, value), params);
  const code = (FACILITY_NAMES as readonly string[]).indexOf(value);
  if (code < 0) throw new FieldValueError(field, value, `one of ${FACILITY_NAMES.join(' ')}`);
  params.push(code);
  return `events.facility ${SQL_OP[op]} ?`;
}

function namesWithPrefix(names: readonly string[], prefix: string): number[] {
  const codes: number[] = [];
  names.forEach((n, i) => {
    if (n.startsWith(prefix)) codes.push(i);
  });
  return codes;
}

/** `$."a"."b"`: every key quoted, so dots, spaces and `$[` inside a key stay part of it. */
function jsonPath(keys: string[]): string {
  return `$${keys.map((k) => `."${k.replace(/["\\]/g, '\\$&')}"`).join('')}`;
}

/**
 * `fields.<path>`. A JSON line gives nested objects (`{"http":{"status":500}}`) and logfmt
 * gives flat keys (`http.status=500`), so `fields.http.status` tries both.
 *
 * A numeric query value compares numerically against JSON numbers and numeric strings
 * (logfmt values are strings), a `true`/`false` value also matches JSON booleans, anything
 * else compares as text. A prefix compares the value's text form, so `fields.status:5*`
 * finds 500..599 whether stored as numbers or strings.
 */
function jsonField(path: string, op: FieldOp, value: string, params: SqlParam[]): string {
  const keys = path.split('.');
  const paths = keys.length > 1 ? [jsonPath(keys), jsonPath([path])] : [jsonPath(keys)];
  const alternatives = paths.map((p) => jsonPredicate('events.fields', p, op, value, params));
  return joinShallow(alternatives, ' OR ');
}

function jsonPredicate(doc: string, path: string, op: FieldOp, value: string, params: SqlParam[]): string {
  const x = `json_extract(${doc}, ?)`;
  const t = `json_type(${doc}, ?)`;
  if (op === 'prefix') {
    params.push(path, path, value, path, value + MAX_CHAR);
    return `${t} IN ('text', 'integer', 'real') AND ` + `CAST(${x} AS TEXT) >= ? AND CAST(${x} AS TEXT) < ?`;
  }
  if (NUMBER_RE.test(value)) {
    const n = Number(value);
    if (op === 'eq') {
      // A number equal in value, or a string equal in text ("500" but not "500.0").
      params.push(path, path, n, path, path, value);
      return `(${t} IN ('integer', 'real') AND ${x} = ?) OR (${t} = 'text' AND ${x} = ?)`;
    }
    // The numeric view: JSON numbers as they are, strings that read as numbers converted
    // (`CAST(s AS NUMERIC) = s` holds only for those), everything else NULL (no match).
    params.push(path, path, path, path, path, path, n);
    return (
      `(CASE WHEN ${t} IN ('integer', 'real') THEN ${x} ` +
      `WHEN ${t} = 'text' AND CAST(${x} AS NUMERIC) = ${x} THEN CAST(${x} AS NUMERIC) END) ` +
      `${SQL_OP[op]} ?`
    );
  }
  if (op === 'eq' && (value === 'true' || value === 'false')) {
    params.push(path, value, path, path, value);
    return `${t} = ? OR (${t} = 'text' AND ${x} = ?)`;
  }
  params.push(path, path, value);
  return `${t} = 'text' AND ${x} ${SQL_OP[op]} ?`;
}

/** RFC 5424 SD-NAME: at most 32 characters, for SD-IDs and param names alike (as the receiver enforces). */
const SD_NAME_MAX = 32;

/**
 * `log.syslog.structured_data.<sd-id>.<param>`. Both SD-IDs (`origin`, `meta@32473`) and
 * param names may contain dots, so every split point of the rest is tried. Values are strings.
 */
function structuredData(rest: string, op: FieldOp, value: string, params: SqlParam[]): string {
  const alternatives: string[] = [];
  let possible = false;
  for (let i = 1; i < rest.length - 1; i++) {
    if (rest[i] !== '.') continue;
    possible = true;
    // The receiver keeps no SD-ID or param name over RFC 5424's 32 characters: a split with a
    // longer side cannot match, and trying every split of a long name was quadratic (a field of
    // 3000 dots took 200 ms to translate, into 3000 JSON lookups per row).
    if (i > SD_NAME_MAX || rest.length - i - 1 > SD_NAME_MAX) continue;
    const path = jsonPath([rest.slice(0, i), rest.slice(i + 1)]);
    alternatives.push(keyword('json_extract(events.sd, ?)', op, value, params, [path]));
  }
  if (!possible) throw new UnknownFieldError(`log.syslog.structured_data.${rest}`);
  return alternatives.length === 0 ? '0' : joinShallow(alternatives, ' OR ');
}

/**
 * How the embedded store reads one field's value to group by it (the histogram's `by`).
 * Pure, like the rest of this file: the caller puts `expr` in a SELECT with GROUP BY.
 */
export interface SqlGroupKey {
  /** A scalar over one `events` row; equal values form one group. */
  expr: string;
  params: SqlParam[];
  /**
   * Set for fields of the container row: `expr` is then `events.container_ref`, and this is the
   * value's expression over `containers`, to be looked up once per group rather than once per
   * event (measured on 1 M rows: 2.2 s with a per-row subquery, 0.45 s per group).
   */
  container?: { expr: string; params: SqlParam[] };
  /** The value is an integer code; `names[code]` is what the API shows (`log.level`: `err`). */
  names?: readonly string[];
  /** The value is JSON text (`fields.*` through `->`), to be decoded: `"web"`, `500`, `true`, `null`. */
  json?: boolean;
}

/**
 * The GROUP BY key of a full field path (as the parser resolves them), or UnknownFieldError.
 * Refused, with the same words as the Elasticsearch store: `log.flags` (several values per
 * event, so an event would count more than once), timestamps and free text (a group per event).
 */
export function toSqlGroupKey(field: string): SqlGroupKey {
  if (TIMESTAMP_FIELDS.has(field) || EVENT_FREE_TEXT[field]) {
    throw new LogwharfError(
      'LOGWHARF_ERR_QUERY',
      `histogram: cannot split by '${field}' (${EVENT_FREE_TEXT[field] ? 'free text' : 'a timestamp'}); ` +
        'split by a field with few values, such as log.level, service or fields.status',
    );
  }
  const col = EVENT_TEXT[field] ?? EVENT_INT[field];
  if (col) return { expr: col, params: [] };
  if (field === 'ecs.version') return { expr: '?', params: [ECS_VERSION] };
  if (field === 'log.level' || field === 'log.syslog.severity.name') {
    return { expr: 'events.severity', params: [], names: SEVERITY_NAMES };
  }
  if (field === 'log.syslog.facility.name') {
    return { expr: 'events.facility', params: [], names: FACILITY_NAMES };
  }
  if (field === 'log.flags') {
    throw new LogwharfError(
      'LOGWHARF_ERR_QUERY',
      `cannot split by 'log.flags': an event may carry several flags; filter on it instead (log.flags:truncated)`,
    );
  }
  const containerCol = CONTAINER_TEXT[field] ?? CONTAINER_OTHER[field];
  if (containerCol) return byContainer(`containers.${containerCol}`, []);
  if (field.startsWith('container.labels.') && field.length > 'container.labels.'.length) {
    return byContainer('json_extract(containers.labels, ?)', [
      jsonPath([field.slice('container.labels.'.length)]),
    ]);
  }
  if (field.startsWith('fields.') && field.length > 'fields.'.length) {
    // `->` gives JSON text, so 500, "500" and true stay apart in SQL and are told apart on
    // decoding; the nested path wins over a flat key with dots, as `jsonField` tries both.
    const keys = field.slice('fields.'.length).split('.');
    const paths = keys.length > 1 ? [jsonPath(keys), jsonPath([keys.join('.')])] : [jsonPath(keys)];
    const parts = paths.map(() => 'events.fields -> ?');
    return { expr: coalesce(parts), params: paths, json: true };
  }
  const sdPrefix = 'log.syslog.structured_data.';
  if (field.startsWith(sdPrefix)) {
    const rest = field.slice(sdPrefix.length);
    const paths: string[] = [];
    for (let i = 1; i < rest.length - 1; i++) {
      if (rest[i] === '.') paths.push(jsonPath([rest.slice(0, i), rest.slice(i + 1)]));
    }
    if (paths.length > 0) {
      return { expr: coalesce(paths.map(() => 'json_extract(events.sd, ?)')), params: paths };
    }
  }
  throw new UnknownFieldError(field);
}

/** Container columns that filters compare as numbers or by prefix, but group by as they are. */
const CONTAINER_OTHER: Record<string, string> = {
  'container.id': 'id',
  'compose.container_number': 'compose_number',
};

function byContainer(expr: string, params: SqlParam[]): SqlGroupKey {
  return { expr: 'events.container_ref', params: [], container: { expr, params } };
}

function coalesce(parts: string[]): string {
  return parts.length === 1 ? parts[0]! : `coalesce(${parts.join(', ')})`;
}
