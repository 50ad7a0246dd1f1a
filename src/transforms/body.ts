/**
 * Finds structure in the text of one line: a JSON object, logfmt pairs, a syslog `<PRI>`, or a
 * leading level keyword. Pure; the caller decides what to do with what is found (a level found
 * here wins over the stream's default, per DESIGN.md).
 *
 * Most lines are plain text, so the cost of finding nothing is what matters: the first character
 * picks at most one parser, and each bails out at the first character that does not fit, before
 * allocating anything. Only a line that starts with `{` and ends with `}` reaches JSON.parse.
 */

import { SEVERITY } from '../core/event.js';
import { facilityFromPri, severityFromLevel, severityFromPri } from './severity.js';

export interface ParsedBody {
  /** The line's own message (JSON/logfmt `msg`, text after a PRI); absent: the line is the message. */
  message?: string;
  /** Syslog severity code 0..7. */
  severity?: number;
  /** Syslog facility code 0..23, from a `<PRI>` of 8 or more. */
  facility?: number;
  /** `fields.*`: the whole JSON object (nested values kept), or the logfmt pairs (values as strings). */
  fields?: Record<string, unknown>;
  /** The line's own time field as written (`@timestamp`, `timestamp`, `time`, `ts`), not normalised. */
  timestamp?: string;
  /** Which form was recognised. */
  format?: 'json' | 'logfmt' | 'pri' | 'keyword';
}

const MESSAGE_KEYS = ['msg', 'message', '@message'] as const;
const LEVEL_KEYS = ['level', 'lvl', 'severity', 'log.level'] as const;
const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'ts'] as const;

/** Returns undefined when the line is plain text. */
export function parseBody(text: string): ParsedBody | undefined {
  if (text.length === 0) return undefined;
  const c = text.charCodeAt(0);
  if (c === 0x7b) return parseJsonLine(text); // {
  if (c === 0x3c) return parsePri(text); // <
  if (isKeyStart(c)) {
    const logfmt = parseLogfmtLine(text);
    if (logfmt !== undefined) return logfmt;
  }
  const severity = leadingLevel(text);
  return severity === undefined ? undefined : { severity, format: 'keyword' };
}

// ---- JSON ---------------------------------------------------------------------------------

function parseJsonLine(text: string): ParsedBody | undefined {
  let last = text.length - 1;
  while (last > 0 && isSpace(text.charCodeAt(last))) last--;
  if (text.charCodeAt(last) !== 0x7d) return undefined; // } : `{"a":` and the like are plain text
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const out: ParsedBody = { fields: obj, format: 'json' };
  fillCommon(out, obj);
  if (out.severity === undefined) {
    // ECS written nested: {"log": {"level": "info"}}
    const log = obj.log;
    if (typeof log === 'object' && log !== null) {
      const severity = severityFromLevel((log as Record<string, unknown>).level);
      if (severity !== undefined) out.severity = severity;
    }
  }
  return out;
}

/** message, severity and timestamp from the usual keys, first hit wins. */
function fillCommon(out: ParsedBody, obj: Record<string, unknown>): void {
  for (const k of MESSAGE_KEYS) {
    const v = obj[k];
    if (typeof v === 'string') {
      out.message = v;
      break;
    }
  }
  for (const k of LEVEL_KEYS) {
    const severity = severityFromLevel(obj[k]);
    if (severity !== undefined) {
      out.severity = severity;
      break;
    }
  }
  for (const k of TIME_KEYS) {
    const v = obj[k];
    if (typeof v === 'string') {
      out.timestamp = v;
      break;
    }
  }
}

// ---- syslog PRI ---------------------------------------------------------------------------

/**
 * `<PRI>` then the message. PRI is 1 to 3 digits without a leading zero, 0..191. A PRI below 8
 * is taken as severity only: `<3>text` is the sd-daemon convention ("this line is an error")
 * that services use on stdout far more often than a kernel message would appear there.
 */
function parsePri(text: string): ParsedBody | undefined {
  const n = text.length;
  let i = 1;
  let pri = 0;
  while (i < n && i < 4) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    pri = pri * 10 + (c - 0x30);
    i++;
  }
  if (i === 1 || i >= n || text.charCodeAt(i) !== 0x3e) return undefined; // >
  if (i > 2 && text.charCodeAt(1) === 0x30) return undefined;
  const severity = severityFromPri(pri);
  if (severity === undefined) return undefined;
  const out: ParsedBody = { message: text.slice(i + 1), severity, format: 'pri' };
  if (pri >= 8) out.facility = facilityFromPri(pri);
  return out;
}

// ---- logfmt -------------------------------------------------------------------------------

/**
 * `key=value key2="quoted \"value\""`: every token must be a pair (a bare word means the line
 * is prose that happens to start with `a=b`), at least two pairs. Values stay strings.
 */
function parseLogfmtLine(text: string): ParsedBody | undefined {
  // Cheap rejection first: the first token must reach `=` through key characters.
  const n = text.length;
  let i = 1;
  while (i < n && isKeyChar(text.charCodeAt(i))) i++;
  if (i >= n || text.charCodeAt(i) !== 0x3d) return undefined;

  const fields: Record<string, unknown> = {};
  let pairs = 0;
  i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const keyStart = i;
    if (!isKeyStart(text.charCodeAt(i))) return undefined;
    i++;
    while (i < n && isKeyChar(text.charCodeAt(i))) i++;
    if (i >= n || text.charCodeAt(i) !== 0x3d) return undefined;
    const key = text.slice(keyStart, i);
    i++;
    let value: string;
    if (i < n && text.charCodeAt(i) === 0x22) {
      const quoted = readQuoted(text, i);
      if (quoted === undefined) return undefined;
      value = quoted;
      i = quotedEnd;
      if (i < n && !isSpace(text.charCodeAt(i))) return undefined;
    } else {
      const valueStart = i;
      while (i < n && !isSpace(text.charCodeAt(i))) i++;
      value = text.slice(valueStart, i);
    }
    setField(fields, key, value);
    pairs++;
  }
  if (pairs < 2) return undefined;
  const out: ParsedBody = { fields, format: 'logfmt' };
  fillCommon(out, fields);
  return out;
}

/** Set by readQuoted: the index after the closing quote. */
let quotedEnd = 0;

/** `text[i]` is `"`; the unescaped value, or undefined when the quote is not closed. */
function readQuoted(text: string, i: number): string | undefined {
  const n = text.length;
  let out = '';
  let seg = i + 1;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      quotedEnd = j + 1;
      return out + text.slice(seg, j);
    }
    if (c !== 0x5c || j + 1 >= n) continue; // not a backslash
    out += text.slice(seg, j);
    const e = text.charCodeAt(j + 1);
    let skip = 2;
    if (e === 0x6e) out += '\n';
    else if (e === 0x74) out += '\t';
    else if (e === 0x72) out += '\r';
    else if (e === 0x75 && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) {
      out += String.fromCharCode(Number.parseInt(text.slice(j + 2, j + 6), 16));
      skip = 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f) out += text[j + 1];
    else out += text.slice(j, j + 2); // unknown escape: kept as written
    j += skip - 1;
    seg = j + 1;
  }
  return undefined;
}

/** Plain assignment, except that a key named `__proto__` must stay a field, not a prototype. */
function setField(fields: Record<string, unknown>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    fields[key] = value;
  }
}

function isKeyStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x40; // a-z A-Z _ @
}

function isKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x40 || // @
    c === 0x2f // /
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

// ---- leading level keyword ----------------------------------------------------------------

const { emerg, alert, crit, err, warning, notice, info, debug } = SEVERITY;

/**
 * Words taken as a level at the start of a line. Bare, they must be upper case, as logging
 * libraries print them: a sentence that starts with "Error connecting" or "Trace id" is prose.
 * In brackets (`[error]`, `[Warning]`) any case. Logrus's four-letter forms are included
 * because Go programs (Docker's own tools among them) print `ERRO[0000] ...`.
 */
const KEYWORDS = new Map<string, number>([
  ['EMERG', emerg],
  ['ALERT', alert],
  ['CRIT', crit],
  ['CRITICAL', crit],
  ['FATAL', crit],
  ['FATA', crit],
  ['PANIC', crit],
  ['PANI', crit],
  ['ERROR', err],
  ['ERR', err],
  ['ERRO', err],
  ['WARN', warning],
  ['WARNING', warning],
  ['NOTICE', notice],
  ['INFO', info],
  ['DEBUG', debug],
  ['DEBU', debug],
  ['TRACE', debug],
  ['TRAC', debug],
]);
const MAX_KEYWORD = 8;
/** Longest bracketed group looked into (`[Mon Dec 26 16:15:55.103786 2016]` fits). */
const MAX_BRACKET = 48;

/** A level keyword at the start, or after a leading timestamp (log4j, Python, zap, nginx...). */
function leadingLevel(text: string): number | undefined {
  const atStart = levelAt(text, 0);
  if (atStart !== undefined) return atStart;
  const c = text.charCodeAt(0);
  if (!isDigit(c) && c !== 0x5b) return undefined;
  const after = skipTimestamp(text);
  return after < 0 ? undefined : levelAt(text, after);
}

function levelAt(text: string, i: number): number | undefined {
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === 0x5b) {
    // [error], [WARN], and Apache 2.4's [module:level]
    let start = i + 1;
    let j = start;
    const limit = Math.min(n, i + 1 + MAX_BRACKET);
    for (; j < limit; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x5d) break;
      if (d === 0x3a) start = j + 1;
    }
    if (j >= limit || j - start < 3 || j - start > MAX_KEYWORD) return undefined;
    for (let k = start; k < j; k++) if (!isLetter(text.charCodeAt(k))) return undefined;
    return KEYWORDS.get(text.slice(start, j).toUpperCase());
  }
  if (c < 0x41 || c > 0x5a) return undefined; // A-Z
  let j = i + 1;
  while (j < n && j - i <= MAX_KEYWORD) {
    const d = text.charCodeAt(j);
    if (d < 0x41 || d > 0x5a) break;
    j++;
  }
  if (j - i < 3 || j - i > MAX_KEYWORD) return undefined;
  if (j < n && isWordChar(text.charCodeAt(j))) return undefined; // ERRORS, Info, ERR_CONN...
  return KEYWORDS.get(text.slice(i, j));
}

/**
 * Index after a leading timestamp and the blanks after it, or -1. Accepts
 * `2024-05-01 12:00:00,123`, `2024-05-01T12:00:00.123456Z`, `2024-05-01T12:00:00+02:00`,
 * `2016/10/25 14:49:34`, any of them in brackets, and a short bracketed group with a clock in it
 * (`[Mon Dec 26 16:22:08 2016]`).
 */
function skipTimestamp(text: string): number {
  const n = text.length;
  let p = 0;
  const bracket = text.charCodeAt(0) === 0x5b;
  if (bracket) p = 1;
  const sep = text.charCodeAt(p + 4);
  if (
    (sep === 0x2d || sep === 0x2f) &&
    digitsAt(text, p, 4) &&
    digitsAt(text, p + 5, 2) &&
    text.charCodeAt(p + 7) === sep &&
    digitsAt(text, p + 8, 2)
  ) {
    p += 10;
    const t = text.charCodeAt(p);
    if (t !== 0x54 && t !== 0x20) return -1; // T or space
    p++;
    if (!(digitsAt(text, p, 2) && text.charCodeAt(p + 2) === 0x3a && digitsAt(text, p + 3, 2))) return -1;
    p += 5;
    if (text.charCodeAt(p) === 0x3a && digitsAt(text, p + 1, 2)) p += 3;
    const f = text.charCodeAt(p);
    if ((f === 0x2e || f === 0x2c) && isDigit(text.charCodeAt(p + 1))) {
      p++;
      while (p < n && isDigit(text.charCodeAt(p))) p++;
    }
    const z = text.charCodeAt(p);
    if (z === 0x5a) p++;
    else if ((z === 0x2b || z === 0x2d) && digitsAt(text, p + 1, 2)) {
      p += 3;
      if (text.charCodeAt(p) === 0x3a) p++;
      if (digitsAt(text, p, 2)) p += 2;
    }
    if (bracket) {
      if (text.charCodeAt(p) !== 0x5d) return -1;
      p++;
    }
  } else if (bracket) {
    const limit = Math.min(n, 1 + MAX_BRACKET);
    let close = 1;
    while (close < limit && text.charCodeAt(close) !== 0x5d) close++;
    if (close >= limit || !hasClock(text, 1, close)) return -1;
    p = close + 1;
  } else {
    return -1;
  }
  const blanks = p;
  while (p < n && isSpace(text.charCodeAt(p))) p++;
  return p === blanks || p >= n ? -1 : p;
}

/** `hh:mm:ss` somewhere in `text[from, to)`. */
function hasClock(text: string, from: number, to: number): boolean {
  for (let i = from; i + 8 <= to; i++) {
    if (
      text.charCodeAt(i + 2) === 0x3a &&
      text.charCodeAt(i + 5) === 0x3a &&
      digitsAt(text, i, 2) &&
      digitsAt(text, i + 3, 2) &&
      digitsAt(text, i + 6, 2)
    ) {
      return true;
    }
  }
  return false;
}

function digitsAt(text: string, p: number, count: number): boolean {
  for (let i = p; i < p + count; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x5f;
}
