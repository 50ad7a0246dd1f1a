import { LogwharfError } from '../core/errors.js';
import { FACILITY_NAMES, SEVERITY_NAMES } from '../core/event.js';
import { severityOfWord } from '../core/severity-words.js';
import type { FieldOp } from './ast.js';
import { type EsQuery, phrasePrefixQuery, phraseQuery } from './es-text.js';
import { timestampComparison } from './es-time.js';
import { ECS_KEYWORD_FIELDS, ECS_NUMBER_FIELDS, FieldValueError, UnknownFieldError } from './fields.js';

/**
 * The query language's fields on the Elasticsearch index layout (src/sinks/elasticsearch:
 * `<prefix>-<class>-YYYY.MM.DD`, documents from `toEcs`). The same field paths as the SQL
 * translator (KNOWN_FIELDS in fields.ts), with the same UnknownFieldError and FieldValueError, so
 * a query means the same on both stores as far as the index mapping allows:
 *
 * - keyword fields: `term`, `prefix`, `range` — exact and case-sensitive, byte order, as SQLite's
 *   BINARY collation compares the embedded store's text columns.
 * - `container.labels.*`, `fields.*`, `log.syslog.structured_data.*` are `flattened`: every leaf
 *   is a keyword under its dotted path, so `fields.http.method` finds both `{"http":{"method":..}}`
 *   (JSON) and `{"http.method":..}` (logfmt), as sql.ts tries both. Numbers and booleans are
 *   indexed as their text. Elasticsearch refuses a one-sided range on a flattened key, so a
 *   comparison gets the missing bound added ("" below, U+10FFFF above).
 * - integers (severity and facility codes, `compose.container_number`; and as `long` an access
 *   line's `http.response.status_code` and `http.response.body.bytes`): `term`/`range` on the
 *   number; a prefix (`compose.container_number:1*`, "its decimal text starts with 1", as the
 *   embedded store's CAST AS TEXT) becomes the ranges [1,1], [10,19], [100,199], ...
 * - `ecs.version` and `sender_timestamp` are keywords (the latter's values canonicalized by the
 *   parser, so a range is a time range).
 * - timestamps are `date_nanos`: string comparisons become date ranges (es-time.ts).
 *
 * Differences from the embedded store that the mapping forces:
 * - `fields.x>=5` compares text, not numbers: a flattened leaf is a keyword, and neither
 *   scripts, `regexp` nor `wildcard` work on flattened keys, so no query can read it as a number.
 *   Values with the same number of digits (HTTP statuses) compare right, others do not:
 *   `fields.ms>1000` also finds "999" and "2" (they sort after "1000" as text), and
 *   `fields.ms<1000` misses them. The embedded store compares numbers and numeric strings as
 *   numbers.
 * - A text comparison on `fields.*` also sees numbers and booleans (as text); the embedded
 *   store compares strings only.
 * - `fields.x:1` finds an element of an array `[1, 2]`; the embedded store compares the array
 *   as a whole (no match). Equality with a number matches its text (`7`, or `7` for `7.0`),
 *   not every number equal in value (`1e0`).
 * - `message:x` is a phrase (case-insensitive words), not a case-sensitive substring; see
 *   messageFieldQuery. `event.original` is not indexed and cannot be searched.
 */

/** How a field is indexed, which decides the queries it takes. */
export type EsField =
  | { kind: 'keyword'; path: string }
  /** `container.id`: `container.id:3f2a9c` matches by prefix, like docker's short ids. */
  | { kind: 'container-id'; path: string }
  | { kind: 'flattened'; path: string; numericEquality: boolean }
  /** `long`: an Elasticsearch `long` (else `integer`), which bounds what a query may ask. */
  | { kind: 'integer'; path: string; long: boolean }
  | { kind: 'date'; path: string }
  /** `log.level`, `log.syslog.severity.name`: compared by severity code (worse is lower). */
  | { kind: 'severity-name'; path: string }
  | { kind: 'facility-name'; path: string }
  /** `message`: analyzed text. */
  | { kind: 'text'; path: string }
  /** `event.original`: kept in `_source` for audit, not indexed. */
  | { kind: 'unindexed'; path: string };

/** The field is known but the index cannot search it (`event.original`): a 400 for the API. */
export class UnsearchableFieldError extends LogwharfError {
  readonly field: string;
  constructor(field: string, why: string) {
    super('LOGWHARF_ERR_QUERY', `field '${field}' cannot be searched in Elasticsearch: ${why}`);
    this.name = 'UnsearchableFieldError';
    this.field = field;
  }
}

const KEYWORDS: ReadonlySet<string> = new Set([
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
  ...ECS_KEYWORD_FIELDS,
]);

const INTEGERS: ReadonlySet<string> = new Set([
  'log.syslog.severity.code',
  'log.syslog.facility.code',
  'compose.container_number',
]);

/** Mapped `long` (ECS), not `integer`. */
const LONGS: ReadonlySet<string> = new Set(ECS_NUMBER_FIELDS);

const SEVERITY_CODE = 'log.syslog.severity.code';
const FACILITY_CODE = 'log.syslog.facility.code';

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;
const INT_BOUNDS = { min: INT_MIN, max: INT_MAX } as const;
/** A long holds [-2^63, 2^63 - 1]; the largest double below 2^63 is 2^63 - 1024 (2^63 - 1 is not a double). */
const LONG_BOUNDS = { min: -(2 ** 63), max: 2 ** 63 - 1024 } as const;
/** Above every string a keyword holds in practice: the upper end of an open flattened range. */
const KEYWORD_MAX = '\u{10FFFF}';

const MATCH_NONE: EsQuery = { match_none: {} };

/** Where a field lives in the index, or UnknownFieldError — the same fields sql.ts knows. */
export function esField(field: string): EsField {
  if (KEYWORDS.has(field)) return { kind: 'keyword', path: field };
  if (INTEGERS.has(field)) return { kind: 'integer', path: field, long: false };
  if (LONGS.has(field)) return { kind: 'integer', path: field, long: true };
  if (field === '@timestamp' || field === 'event.ingested') return { kind: 'date', path: field };
  if (field === 'container.id') return { kind: 'container-id', path: field };
  if (field === 'log.level' || field === 'log.syslog.severity.name')
    return { kind: 'severity-name', path: field };
  if (field === 'log.syslog.facility.name') return { kind: 'facility-name', path: field };
  if (field === 'message') return { kind: 'text', path: field };
  if (field === 'event.original') return { kind: 'unindexed', path: field };
  if (field.startsWith('container.labels.') && field.length > 'container.labels.'.length) {
    return { kind: 'flattened', path: field, numericEquality: false };
  }
  if (field.startsWith('fields.') && field.length > 'fields.'.length) {
    return { kind: 'flattened', path: field, numericEquality: true };
  }
  // `<sd-id>.<param>`, both non-empty: the flattened key is exactly that dotted pair, so one
  // key covers every way sql.ts splits it (SD-IDs and param names may contain dots).
  const sd = 'log.syslog.structured_data.';
  if (field.startsWith(sd)) {
    const dot = field.indexOf('.', sd.length + 1);
    if (dot > 0 && dot < field.length - 1) return { kind: 'flattened', path: field, numericEquality: false };
  }
  throw new UnknownFieldError(field);
}

/** `field <op> value` as an Elasticsearch query (the `field` node of the AST). */
export function fieldQuery(field: string, op: FieldOp, value: string): EsQuery {
  const f = esField(field);
  switch (f.kind) {
    case 'keyword':
      return keywordQuery(f.path, op, value, false);
    case 'container-id':
      return keywordQuery(f.path, op === 'eq' ? 'prefix' : op, value, false);
    case 'flattened':
      if (op === 'eq' && f.numericEquality) return flattenedEquals(f.path, value);
      return keywordQuery(f.path, op, value, true);
    case 'integer':
      if (f.path === SEVERITY_CODE && op !== 'prefix' && /^[0-7]$/.test(value)) {
        return severityQuery(op, Number(value));
      }
      return integerQuery(field, f.path, op, value, f.long);
    case 'date':
      return dateQuery(f.path, op, value);
    case 'severity-name':
      return severityByName(field, op, value);
    case 'facility-name':
      return facilityByName(field, op, value);
    case 'text':
      return messageFieldQuery(field, op, value);
    case 'unindexed':
      throw new UnsearchableFieldError(
        field,
        'it is stored for audit but not indexed; search message instead',
      );
  }
}

/** A `severity` node: codes compared directly (the parser already turned `>=warning` into `<= 4`). */
export function severityQuery(op: Exclude<FieldOp, 'prefix'>, code: number): EsQuery {
  if (op === 'eq') return { term: { [SEVERITY_CODE]: code } };
  return { range: { [SEVERITY_CODE]: { [op]: code } } };
}

/**
 * Exact, case-sensitive keyword comparisons. A prefix of "" is "has the field", as `>= ''` is in
 * SQL. `flattened` keys need both ends of a range.
 */
function keywordQuery(path: string, op: FieldOp, value: string, flattened: boolean): EsQuery {
  switch (op) {
    case 'eq':
      return { term: { [path]: value } };
    case 'prefix':
      return value === '' ? { exists: { field: path } } : { prefix: { [path]: value } };
    case 'gt':
    case 'gte':
      return { range: { [path]: { [op]: value, ...(flattened ? { lte: KEYWORD_MAX } : {}) } } };
    case 'lt':
    case 'lte':
      return { range: { [path]: { ...(flattened ? { gte: '' } : {}), [op]: value } } };
  }
}

/**
 * `fields.x:500`: the embedded store compares a numeric value numerically, so `500.0` and `07`
 * also find the JSON number 500 and 7. Flattened fields hold the text JSON.stringify gave the
 * number, which for a JavaScript number is `String(n)`; asking for that text too comes closest.
 */
function flattenedEquals(path: string, value: string): EsQuery {
  if (NUMBER_RE.test(value)) {
    const canonical = String(Number(value));
    if (canonical !== value && Number.isFinite(Number(value)))
      return { terms: { [path]: [value, canonical] } };
  }
  return { term: { [path]: value } };
}

function integerQuery(field: string, path: string, op: FieldOp, value: string, long: boolean): EsQuery {
  if (op === 'prefix') return integerPrefix(path, value, long);
  if (!NUMBER_RE.test(value)) throw new FieldValueError(field, value, 'a number');
  const n = Number(value);
  const { min, max } = long ? LONG_BOUNDS : INT_BOUNDS;
  // Elasticsearch answers 400 to a bound outside the field's range: decide those here.
  if (op === 'eq') return n < min || n > max ? MATCH_NONE : { term: { [path]: n } };
  const below = op === 'lt' || op === 'lte';
  if (n > max) return below ? { exists: { field: path } } : MATCH_NONE;
  if (n < min) return below ? MATCH_NONE : { exists: { field: path } };
  return { range: { [path]: { [op]: n } } };
}

/**
 * Integers whose decimal text starts with `prefix`, as ranges: `1` -> 1, 10..19, 100..199, ...
 * up to the integer maximum; `-1` -> -1, -19..-10, ...; `0` -> 0 only (no other number is
 * written with a leading zero). `long`: up to the largest integer a double holds exactly
 * (2^53 - 1), beyond which no decimal text is exact anyway.
 */
export function integerPrefixRanges(prefix: string, long = false): [number, number][] {
  const max = long ? Number.MAX_SAFE_INTEGER : INT_MAX;
  const min = long ? -Number.MAX_SAFE_INTEGER : INT_MIN;
  if (prefix === '') return [[min, max]];
  if (prefix === '-') return [[min, -1]];
  const negative = prefix.startsWith('-');
  const digits = negative ? prefix.slice(1) : prefix;
  if (!/^\d+$/.test(digits)) return [];
  if (digits.startsWith('0')) return digits === '0' && !negative ? [[0, 0]] : [];
  const limit = negative ? -min : max;
  const ranges: [number, number][] = [];
  for (let scale = 1; Number(digits) * scale <= limit; scale *= 10) {
    const low = Number(digits) * scale;
    const high = Math.min((Number(digits) + 1) * scale - 1, limit);
    ranges.push(negative ? [-high, -low] : [low, high]);
  }
  return ranges;
}

function integerPrefix(path: string, prefix: string, long: boolean): EsQuery {
  if (prefix === '') return { exists: { field: path } };
  const ranges = integerPrefixRanges(prefix, long);
  if (ranges.length === 0) return MATCH_NONE;
  const clauses: EsQuery[] = ranges.map(([gte, lte]) =>
    gte === lte ? { term: { [path]: gte } } : { range: { [path]: { gte, lte } } },
  );
  return clauses.length === 1 ? clauses[0]! : { bool: { should: clauses, minimum_should_match: 1 } };
}

function dateQuery(path: string, op: FieldOp, value: string): EsQuery {
  const r = timestampComparison(op, value);
  if (r.kind === 'none') return MATCH_NONE;
  if (r.kind === 'all') return { exists: { field: path } };
  const { kind: _, ...bounds } = r;
  return { range: { [path]: { ...bounds, format: 'strict_date_optional_time_nanos' } } };
}

function codeList(path: string, codes: number[]): EsQuery {
  return codes.length === 0 ? MATCH_NONE : { terms: { [path]: codes } };
}

function namesWithPrefix(names: readonly string[], prefix: string): number[] {
  const codes: number[] = [];
  names.forEach((n, i) => {
    if (n.startsWith(prefix)) codes.push(i);
  });
  return codes;
}

/** As sql.ts: by name, with aliases; `>=warning` is "warning or worse", i.e. a code <= 4. */
function severityByName(field: string, op: FieldOp, value: string): EsQuery {
  const name = value.toLowerCase();
  if (op === 'prefix') return codeList(SEVERITY_CODE, namesWithPrefix(SEVERITY_NAMES, name));
  const code = severityOfWord(name) ?? -1;
  if (code < 0) throw new FieldValueError(field, value, `one of ${SEVERITY_NAMES.join(' ')}`);
  const worse = { eq: 'eq', lt: 'gt', lte: 'gte', gt: 'lt', gte: 'lte' } as const;
  return severityQuery(worse[op], code);
}

/** As sql.ts: by name (case-sensitive), compared by code. */
function facilityByName(field: string, op: FieldOp, value: string): EsQuery {
  if (op === 'prefix') return codeList(FACILITY_CODE, namesWithPrefix(FACILITY_NAMES, value));
  const code = (FACILITY_NAMES as readonly string[]).indexOf(value);
  if (code < 0) throw new FieldValueError(field, value, `one of ${FACILITY_NAMES.join(' ')}`);
  if (op === 'eq') return { term: { [FACILITY_CODE]: code } };
  return { range: { [FACILITY_CODE]: { [op]: code } } };
}

/**
 * `message:x`. The embedded store greps (a case-sensitive substring); an analyzed text field
 * can only match words, so here it is a phrase (`message:x*`: a phrase whose last word is a
 * prefix, anywhere in the message, not only at its start). Comparisons have no meaning on
 * analyzed text and are refused rather than answered wrongly.
 */
function messageFieldQuery(field: string, op: FieldOp, value: string): EsQuery {
  if (op === 'eq') return phraseQuery(value, field);
  if (op === 'prefix') return phrasePrefixQuery(value, field);
  throw new FieldValueError(field, value, "':' (a phrase) or ':word*' in Elasticsearch, not a comparison");
}
