/**
 * The query language (DESIGN.md, "Query language"): text -> QueryNode.
 *
 * Two small stages, both hand-written so that every error can name an exact position:
 * `readToken` reads words, phrases, field terms, keywords and parentheses one at a time;
 * a recursive-descent parser applies the grammar
 *
 *   query   := orExpr
 *   orExpr  := andExpr ( 'OR' andExpr )*
 *   andExpr := unary ( 'AND'? unary )*          -- whitespace is an implicit AND
 *   unary   := ( 'NOT' | '-' )* primary
 *   primary := '(' orExpr ')' | word | "phrase" | field term
 *
 * so NOT binds tighter than AND, and AND tighter than OR. Field names come out as full ECS
 * paths and `log.level` values as severity codes, so translators never see short names.
 *
 * Positions are 0-based offsets into the JavaScript string (UTF-16 code units), the unit a
 * browser's `setSelectionRange` and a terminal caret under an ASCII query both agree on.
 */
import { severityOfWord } from '../core/severity-words.js';
import { toCanonicalTimestamp } from '../core/timestamp.js';
import { type FieldOp, type QueryNode, QuerySyntaxError } from './ast.js';
import { TIMESTAMP_FIELDS } from './fields.js';

/** Longer queries are refused: they are never typed by hand and only cost parse time. */
export const MAX_QUERY_LENGTH = 8192;
/** Deeper parentheses are refused, so the recursive descent has a fixed stack bound. */
export const MAX_NESTING_DEPTH = 64;

/** Short field names (matched case-insensitively) and the ECS paths they stand for. */
const SHORT_FIELDS: ReadonlyMap<string, string> = new Map([
  ['service', 'service.name'],
  ['project', 'compose.project'],
  ['container', 'container.name'],
  ['image', 'container.image.name'],
  ['level', 'log.level'],
  ['stream', 'stream'],
  ['host', 'host.name'],
  ['app', 'log.syslog.appname'],
  // An access line's (DESIGN.md: `status >= 500`). Neither names a field of its own.
  ['status', 'http.response.status_code'],
  ['method', 'http.request.method'],
]);

type Comparison = Exclude<FieldOp, 'prefix'>;

/**
 * `level>=warning` means "warning or worse", and worse is a lower code: each comparison
 * on names turns around on codes.
 */
const SEVERITY_OP: Readonly<Record<Comparison, Comparison>> = {
  eq: 'eq',
  gte: 'lte',
  gt: 'lt',
  lte: 'gte',
  lt: 'gt',
};

type Token =
  | { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus'; pos: number }
  | { kind: 'word'; pos: number; value: string }
  | { kind: 'phrase'; pos: number; value: string }
  | {
      kind: 'field';
      pos: number;
      name: string;
      /** The name and the operator without spaces between, e.g. `service:` or `level>=`, for messages. */
      head: string;
      op: Comparison;
      value: string;
      valuePos: number;
      quoted: boolean;
    };

const CH_TAB = 9;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_QUOTE = 34;
const CH_LPAREN = 40;
const CH_RPAREN = 41;
const CH_STAR = 42;
const CH_DASH = 45;
const CH_DOT = 46;
const CH_SLASH = 47;
const CH_COLON = 58;
const CH_LT = 60;
const CH_EQ = 61;
const CH_GT = 62;
const CH_AT = 64;
const CH_BACKSLASH = 92;
const CH_UNDERSCORE = 95;

const UNICODE_SPACE = /\s/u;
const UNICODE_LETTER = /\p{L}/u;
const UNICODE_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isSpace(c: number): boolean {
  if (c === CH_SPACE || (c >= CH_TAB && c <= CH_CR)) return true;
  return c >= 0x80 && UNICODE_SPACE.test(String.fromCharCode(c));
}

/** Where a bare word or an unquoted value ends. */
function isDelimiter(c: number): boolean {
  return c === CH_LPAREN || c === CH_RPAREN || c === CH_QUOTE || isSpace(c);
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAsciiDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Letters, digits, `_` and `-` (non-ASCII letters and digits too: JSON keys may be any language). */
function isSegmentChar(c: number): boolean {
  if (isAsciiLetter(c) || isAsciiDigit(c) || c === CH_UNDERSCORE || c === CH_DASH) return true;
  return c >= 0x80 && UNICODE_LETTER_OR_DIGIT.test(String.fromCharCode(c));
}

function isSegmentStart(c: number): boolean {
  return (
    isAsciiLetter(c) || c === CH_UNDERSCORE || (c >= 0x80 && UNICODE_LETTER.test(String.fromCharCode(c)))
  );
}

/**
 * End of a field path starting at `start`, or `start` when there is none. A path is
 * dot-separated segments; a segment may begin with `@` (`@timestamp`, `fields.@version`);
 * the first one begins with a letter or `_`. Being strict here is what keeps ordinary text
 * out of field syntax: `12:30:00` and `user@host:22` stay words.
 */
function scanFieldPath(text: string, start: number): number {
  let i = start;
  for (let segment = 0; ; segment++) {
    if (text.charCodeAt(i) === CH_AT) i++;
    const first = text.charCodeAt(i);
    if (segment === 0 ? !isSegmentStart(first) : !isSegmentChar(first)) return start;
    while (i < text.length && isSegmentChar(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== CH_DOT) return i;
    i++;
  }
}

/** Whether a field operator starts at `i`. `scheme://` is a URL in a message, not a field. */
function isOperatorAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === CH_LT || c === CH_GT) return true;
  return c === CH_COLON && !(text.charCodeAt(i + 1) === CH_SLASH && text.charCodeAt(i + 2) === CH_SLASH);
}

/** A quoted string at `start` (the `"`): `\"` and `\\` are escapes, any other `\` is literal. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let chunkStart = start + 1;
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CH_QUOTE) return { value: value + text.slice(chunkStart, i), end: i + 1 };
    if (c === CH_BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (next === CH_QUOTE || next === CH_BACKSLASH) {
        value += text.slice(chunkStart, i);
        chunkStart = i + 1;
        i++;
      }
    }
  }
  throw new QuerySyntaxError('unterminated quote', start);
}

/** A `*` glued to a closing quote would look like a prefix search but could never be one. */
function rejectStarAfterQuote(text: string, end: number): void {
  if (text.charCodeAt(end) === CH_STAR) {
    throw new QuerySyntaxError("'*' after a quote: prefix search works on bare words only, e.g. conn*", end);
  }
}

function scanBare(text: string, start: number): number {
  let i = start;
  while (i < text.length && !isDelimiter(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads the operator and value of a field term whose path ends at `nameEnd` and whose operator
 * starts at `opStart` (after spaces, in `status >= 500`). Spaces after the operator are allowed
 * too (`service: web`), as DESIGN.md and Kibana's KQL allow them.
 */
function readField(
  text: string,
  start: number,
  nameEnd: number,
  opStart: number,
): { token: Token; end: number } {
  let i = opStart;
  if (text.charCodeAt(i) === CH_COLON) i++;
  let op: Comparison = 'eq';
  const c = text.charCodeAt(i);
  if (c === CH_GT || c === CH_LT) {
    const orEqual = text.charCodeAt(i + 1) === CH_EQ;
    op = c === CH_GT ? (orEqual ? 'gte' : 'gt') : orEqual ? 'lte' : 'lt';
    i += orEqual ? 2 : 1;
  }
  const name = text.slice(start, nameEnd);
  // As written without the spaces, for messages: `status>=`, `service:`.
  const head = name + text.slice(opStart, i);
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (i >= text.length || first === CH_RPAREN) {
    throw new QuerySyntaxError(`missing value after '${head}'`, i);
  }
  if (first === CH_LPAREN) {
    throw new QuerySyntaxError(
      `missing value after '${head}': to match several values, write (${head}a OR ${head}b)`,
      i,
    );
  }
  const quoted = first === CH_QUOTE;
  let value: string;
  let end: number;
  if (quoted) {
    const read = readQuoted(text, i);
    rejectStarAfterQuote(text, read.end);
    value = read.value;
    end = read.end;
  } else {
    end = scanBare(text, i);
    value = text.slice(i, end);
  }
  return { token: { kind: 'field', pos: start, name, head, op, value, valuePos: i, quoted }, end };
}

/**
 * Where an operator starts after the spaces that follow a field path (`status >= 500`,
 * `service : web`), or -1. The keywords are never field names: `a AND :x` stays as it was.
 */
function operatorAfterSpaces(text: string, start: number, nameEnd: number): number {
  let j = nameEnd;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  if (j === nameEnd || j >= text.length || !isOperatorAt(text, j)) return -1;
  const name = text.slice(start, nameEnd);
  return name === 'AND' || name === 'OR' || name === 'NOT' ? -1 : j;
}

/** Reads the term (field, keyword or word) that starts at `start`, a non-delimiter. */
function readTerm(text: string, start: number): { token: Token; end: number } {
  const nameEnd = scanFieldPath(text, start);
  if (nameEnd > start) {
    if (isOperatorAt(text, nameEnd)) return readField(text, start, nameEnd, nameEnd);
    const opStart = operatorAfterSpaces(text, start, nameEnd);
    if (opStart > 0) return readField(text, start, nameEnd, opStart);
  }
  const end = scanBare(text, start);
  const value = text.slice(start, end);
  // Keywords are uppercase only, so `and`/`or` in a message stay searchable as words.
  if (value === 'AND') return { token: { kind: 'and', pos: start }, end };
  if (value === 'OR') return { token: { kind: 'or', pos: start }, end };
  if (value === 'NOT') return { token: { kind: 'not', pos: start }, end };
  return { token: { kind: 'word', pos: start, value }, end };
}

/**
 * The next token at or after `from`, or undefined at the end. Tokens are read on demand, one
 * ahead of the parser, so the first problem in reading order is the one reported.
 */
function readToken(text: string, from: number): { token: Token; end: number } | undefined {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (i >= text.length) return undefined;
  const c = text.charCodeAt(i);
  if (c === CH_LPAREN) return { token: { kind: 'lparen', pos: i }, end: i + 1 };
  if (c === CH_RPAREN) return { token: { kind: 'rparen', pos: i }, end: i + 1 };
  // Only reached at the start of a term (`a-b` is read whole by readTerm), so it negates.
  if (c === CH_DASH) return { token: { kind: 'minus', pos: i }, end: i + 1 };
  if (c === CH_QUOTE) {
    const quoted = readQuoted(text, i);
    rejectStarAfterQuote(text, quoted.end);
    return { token: { kind: 'phrase', pos: i, value: quoted.value }, end: quoted.end };
  }
  return readTerm(text, i);
}

/** A level word (the one table shared with ingest) or a syslog code 0..7. */
function levelCode(value: string): number | undefined {
  return /^[0-7]$/.test(value) ? Number(value) : severityOfWord(value);
}

function severityNode(token: Extract<Token, { kind: 'field' }>): QueryNode {
  if (!token.quoted && token.value.endsWith('*')) {
    throw new QuerySyntaxError(
      `level does not take a '*' prefix: write ${token.name}:warning or ${token.name}>=warning`,
      token.valuePos,
    );
  }
  const code = levelCode(token.value);
  if (code === undefined) {
    throw new QuerySyntaxError(
      `unknown level '${token.value}': use emerg, alert, crit, err, warning, notice, info, debug ` +
        '(or a word logs use: error, warn, fatal, panic, critical, trace, ...; or a code 0..7)',
      token.valuePos,
    );
  }
  return { type: 'severity', op: SEVERITY_OP[token.op], code };
}

function fieldNode(token: Extract<Token, { kind: 'field' }>): QueryNode {
  const field = SHORT_FIELDS.get(token.name.toLowerCase()) ?? token.name;
  if (field === 'log.level') return severityNode(token);
  const { value, op } = token;
  if (!token.quoted && value.endsWith('*')) {
    if (op !== 'eq') {
      throw new QuerySyntaxError(
        `'*' (prefix) works with ':' only, not with '${token.head.slice(token.name.length)}'`,
        token.valuePos + value.length - 1,
      );
    }
    return { type: 'field', field, op: 'prefix', value: value.slice(0, -1) };
  }
  const canonical = TIMESTAMP_FIELDS.has(field) ? toCanonicalTimestamp(value) : null;
  return { type: 'field', field, op, value: canonical ?? value };
}

function termNode(token: Token): QueryNode {
  switch (token.kind) {
    case 'word': {
      // A word of stars alone (`*`) is the match-everything query, as in Kibana.
      if (/^\*+$/.test(token.value)) return { type: 'all' };
      const prefix = token.value.endsWith('*');
      return { type: 'text', value: prefix ? token.value.slice(0, -1) : token.value, phrase: false, prefix };
    }
    case 'phrase':
      if (token.value.trim() === '') throw new QuerySyntaxError('empty quotes', token.pos);
      return { type: 'text', value: token.value, phrase: true, prefix: false };
    case 'field':
      return fieldNode(token);
    default:
      throw new Error(`not a term: ${token.kind}`);
  }
}

/** Builds an and/or node: nested nodes of the same kind are flattened, one child collapses. */
function combine(type: 'and' | 'or', parts: QueryNode[]): QueryNode {
  const children: QueryNode[] = [];
  for (const part of parts) {
    if (part.type === type) children.push(...part.children);
    else if (part.type === 'all') {
      // `*` is the identity of AND and absorbs OR.
      if (type === 'or') return part;
    } else children.push(part);
  }
  if (children.length === 0) return { type: 'all' };
  if (children.length === 1) return children[0]!;
  return { type, children };
}

interface Cursor {
  readonly text: string;
  /** Where the next token is read from. */
  offset: number;
  /** The token at `offset`, once read; null when not read yet. */
  next: { token: Token; end: number } | undefined | null;
  /** Open parentheses around the current position. */
  depth: number;
}

function peek(c: Cursor): Token | undefined {
  if (c.next === null) c.next = readToken(c.text, c.offset);
  return c.next?.token;
}

function advance(c: Cursor): Token {
  const token = peek(c);
  if (token === undefined || !c.next) throw new Error('parser read past the end');
  c.offset = c.next.end;
  c.next = null;
  return token;
}

function startsTerm(token: Token | undefined): boolean {
  return token !== undefined && token.kind !== 'rparen' && token.kind !== 'and' && token.kind !== 'or';
}

/** Explains why no term can start here, where the grammar needs one. */
function missingTerm(c: Cursor, token: Token | undefined): QuerySyntaxError {
  if (token === undefined) return new QuerySyntaxError("expected ')'", c.text.length);
  if (token.kind === 'and' || token.kind === 'or') {
    return new QuerySyntaxError(`${token.kind.toUpperCase()} needs a term on both sides`, token.pos);
  }
  return new QuerySyntaxError("unexpected ')'", token.pos);
}

function parseOr(c: Cursor): QueryNode {
  const parts = [parseAnd(c)];
  for (let token = peek(c); token?.kind === 'or'; token = peek(c)) {
    advance(c);
    if (!startsTerm(peek(c))) throw new QuerySyntaxError('OR needs a term on both sides', token.pos);
    parts.push(parseAnd(c));
  }
  return combine('or', parts);
}

function parseAnd(c: Cursor): QueryNode {
  if (!startsTerm(peek(c))) throw missingTerm(c, peek(c));
  const parts = [parseUnary(c)];
  for (let token = peek(c); token !== undefined; token = peek(c)) {
    if (token.kind === 'rparen' || token.kind === 'or') break;
    if (token.kind === 'and') {
      advance(c);
      if (!startsTerm(peek(c))) throw new QuerySyntaxError('AND needs a term on both sides', token.pos);
    }
    parts.push(parseUnary(c));
  }
  return combine('and', parts);
}

/** Negations are counted in a loop, not recursed into, so `NOT NOT ...` cannot blow the stack. */
function parseUnary(c: Cursor): QueryNode {
  let negated = false;
  for (let token = peek(c); token?.kind === 'not' || token?.kind === 'minus'; token = peek(c)) {
    advance(c);
    const next = peek(c);
    if (token.kind === 'not' && !startsTerm(next)) {
      throw new QuerySyntaxError('NOT needs a term after it', token.pos);
    }
    // `-` must touch its term: `a - b` is more likely a typo than "a and not b".
    if (token.kind === 'minus' && (!startsTerm(next) || next?.pos !== token.pos + 1)) {
      throw new QuerySyntaxError("'-' needs a term right after it, with no space", token.pos);
    }
    negated = !negated;
  }
  const node = parsePrimary(c);
  // `NOT NOT x` is x: double negations cancel instead of reaching the translators.
  return negated ? { type: 'not', child: node } : node;
}

function parsePrimary(c: Cursor): QueryNode {
  const token = advance(c);
  if (token.kind !== 'lparen') return termNode(token);
  if (c.depth >= MAX_NESTING_DEPTH) {
    throw new QuerySyntaxError(
      `too deeply nested: at most ${MAX_NESTING_DEPTH} levels of parentheses`,
      token.pos,
    );
  }
  c.depth++;
  if (peek(c)?.kind === 'rparen') throw new QuerySyntaxError('empty parentheses', token.pos);
  const node = parseOr(c);
  if (peek(c)?.kind !== 'rparen') throw new QuerySyntaxError("expected ')'", c.text.length);
  advance(c);
  c.depth--;
  return node;
}

/**
 * Parses a query into its syntax tree. An empty or blank query matches everything.
 * Throws QuerySyntaxError with the position of the first problem.
 */
export function parseQuery(text: string): QueryNode {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(
      `query is too long: ${text.length} characters, at most ${MAX_QUERY_LENGTH} are allowed`,
      MAX_QUERY_LENGTH,
    );
  }
  const cursor: Cursor = { text, offset: 0, next: null, depth: 0 };
  if (peek(cursor) === undefined) return { type: 'all' };
  const node = parseOr(cursor);
  const rest = peek(cursor);
  if (rest !== undefined) throw new QuerySyntaxError("unexpected ')'", rest.pos);
  return node;
}
