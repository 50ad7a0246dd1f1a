/**
 * Finds structure in the text of one line: a JSON object, logfmt pairs, a syslog `<PRI>`, or a
 * leading level keyword. Pure; the caller decides what to do with what is found (a level found
 * here wins over the stream's default, per DESIGN.md).
 *
 * Most lines are plain text, so the cost of finding nothing is what matters: the first character
 * picks at most one parser, and each bails out at the first character that does not fit, before
 * allocating anything. Only a line that starts with `{` and ends with `}` reaches JSON.parse.
 */

import type { AccessLog } from '../core/event.js';
import { MAX_FIELDS_DEPTH } from '../core/event.js';
import { parseAccessLog } from './access-log.js';
import { leadingLevel } from './level-keyword.js';
import { facilityFromPri, severityFromLevel, severityFromPri } from './severity.js';

export interface ParsedBody {
  /** The line's own message (JSON/logfmt `msg`, text after a PRI); absent: the line is the message. */
  message?: string;
  /** Syslog severity code 0..7. */
  severity?: number;
  /** Syslog facility code 0..23, from a `<PRI>` of 8 or more. */
  facility?: number;
  /**
   * `fields.*`: the whole JSON object (nested values kept), the logfmt pairs (values as strings),
   * or what an access line holds beyond `access` (a proxy chain, a virtual host).
   */
  fields?: Record<string, unknown>;
  /** An access line's facts, under their ECS names (`http.*`, `url.original`, `source.address`...). */
  access?: AccessLog;
  /** The line's own time field as written (`@timestamp`, `timestamp`, `time`, `ts`), not normalised. */
  timestamp?: string;
  /** Which form was recognised. */
  format?: 'json' | 'logfmt' | 'pri' | 'keyword' | 'access';
}

const MESSAGE_KEYS = ['msg', 'message', '@message'] as const;
/**
 * A JSON line nested deeper than this is not taken apart: every store and the disk buffer write
 * `fields` with JSON.stringify, which recurses and throws past a few thousand levels (a 10 KB
 * line of brackets), and the event could then never be buffered or stored. No program logs
 * anything near this deep; such a line stays plain text, kept whole (core/event.ts says why
 * the stores take exactly this depth).
 */
export const MAX_JSON_DEPTH = MAX_FIELDS_DEPTH;
const LEVEL_KEYS = ['level', 'lvl', 'severity', 'log.level'] as const;
const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'ts'] as const;

/**
 * Returns undefined when the line is plain text. An access record carries no level: the
 * stream's default stays (a 5xx line records a server error, but is itself routine, as Filebeat
 * treats it).
 */
export function parseBody(text: string): ParsedBody | undefined {
  if (text.length === 0) return undefined;
  const c = text.charCodeAt(0);
  if (c === 0x7b) return parseJsonBody(text); // {
  if (c === 0x3c) return parsePri(text); // <
  if (isKeyStart(c)) {
    const logfmt = parseLogfmtBody(text);
    if (logfmt !== undefined) return logfmt;
  }
  // nginx/Apache access records; the check stops at the first character that does not fit.
  const access = parseAccessLog(text);
  if (access !== undefined) {
    const out: ParsedBody = { access: access.access, timestamp: access.timestamp, format: 'access' };
    if (access.extras !== undefined) out.fields = access.extras;
    return out;
  }
  const severity = leadingLevel(text);
  return severity === undefined ? undefined : { severity, format: 'keyword' };
}

// ---- JSON ---------------------------------------------------------------------------------

export function parseJsonBody(text: string): ParsedBody | undefined {
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
  if (nestsDeeper(value, MAX_JSON_DEPTH)) return undefined;
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

/** True when `value` holds objects or arrays more than `levels` deep (the recursion stops there). */
function nestsDeeper(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (nestsDeeper(v, levels - 1)) return true;
    return false;
  }
  for (const k in value) if (nestsDeeper((value as Record<string, unknown>)[k], levels - 1)) return true;
  return false;
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
export function parseLogfmtBody(text: string): ParsedBody | undefined {
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
