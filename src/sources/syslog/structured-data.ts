/**
 * RFC 5424 STRUCTURED-DATA: one or more `[SD-ID PARAM-NAME="value" ...]` elements.
 *
 * Escapes: `\"`, `\\` and `\]` in a value stand for the character; any other backslash is an
 * ordinary character (RFC 5424 section 6.3.3 says so, though go-syslog rejects it).
 * A parameter repeated within an element: the last value wins (RFC 5424 allows repeats, a
 * map keeps one). Lenient, as rsyslog is, and named in `problem`: spaces around `=`
 * (rsyslog's own tests send `eventSource= "Application"`), an unescaped `]` inside a quoted
 * value (the quotes still delimit it), an SD-ID repeated (its parameters are merged; RFC 5424
 * forbids the repeat). An element that cannot be read (no closing quote or bracket, a name
 * over 32 characters, junk between parameters) is not taken: reading stops at its `[` and
 * the caller keeps the rest as message text, so nothing is lost.
 *
 * SD-IDs and names come from the network, so they are stored as own properties whatever
 * they are: `__proto__` through `defineProperty` (a plain assignment would change the
 * prototype), and an existing element is looked up with `Object.hasOwn` (`constructor`
 * would otherwise find `Object`). Plain objects, not `Object.create(null)`: V8 keeps those
 * in dictionary mode, which made structured data five times slower to build.
 */

import {
  CH_BACKSLASH,
  CH_DEL,
  CH_DQUOTE,
  CH_EQ,
  CH_LBRACKET,
  CH_RBRACKET,
  CH_SP,
  skipSpaces,
} from './scan.js';

export type StructuredData = Record<string, Record<string, string>>;

export interface SdRead {
  /** The elements read completely; undefined when there were none. */
  data: StructuredData | undefined;
  /** Index just past the last element read completely (the start index when none was). */
  next: number;
  /** True when an element could not be read: `next` is then at its `[`. */
  failed: boolean;
  /** Repairs made, and why reading stopped (when `failed`). */
  problem: string | undefined;
}

/** RFC 5424 SD-NAME limit, for SD-IDs and parameter names. */
const MAX_NAME = 32;

/** Reads the elements starting at `start` (which holds a `[`). */
export function readStructuredData(text: string, start: number, end: number): SdRead {
  const sd: SdRead = { data: undefined, next: start, failed: false, problem: undefined };
  let p = start;
  while (p < end && text.charCodeAt(p) === CH_LBRACKET) {
    const after = readElement(text, p, end, sd);
    if (after < 0) {
      sd.failed = true;
      return sd;
    }
    p = after;
    sd.next = p;
  }
  return sd;
}

function note(sd: SdRead, problem: string): void {
  sd.problem = sd.problem === undefined ? problem : `${sd.problem}; ${problem}`;
}

function fail(sd: SdRead, problem: string): number {
  note(sd, problem);
  return -1;
}

/** `target[key] = value` as an own, enumerable property, also for the key `__proto__`. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** End of an SD-NAME at `p`: printable US-ASCII except `=`, `]`, `"` (and SP). */
function nameEnd(text: string, p: number, end: number): number {
  while (p < end) {
    const c = text.charCodeAt(p);
    if (c <= CH_SP || c >= CH_DEL || c === CH_EQ || c === CH_RBRACKET || c === CH_DQUOTE) break;
    p++;
  }
  return p;
}

/** Reads the element at `p` into `sd.data`; the index past its `]`, or -1 (reason in `sd.problem`). */
function readElement(text: string, p: number, end: number, sd: SdRead): number {
  let q = p + 1;
  const idEnd = nameEnd(text, q, end);
  if (idEnd === q || idEnd - q > MAX_NAME) {
    return fail(sd, `expecting an SD-ID (1 to ${MAX_NAME} printable characters) at offset ${q}`);
  }
  const id = text.slice(q, idEnd);
  q = idEnd;
  const params: Record<string, string> = {};
  let repairs = '';
  for (;;) {
    if (q >= end) return fail(sd, `structured data element not closed (expecting ']' at offset ${q})`);
    if (text.charCodeAt(q) === CH_RBRACKET) {
      q++;
      break;
    }
    if (text.charCodeAt(q) !== CH_SP) return fail(sd, `expecting ' ' or ']' at offset ${q}`);
    q = skipSpaces(text, q, end);
    if (text.charCodeAt(q) === CH_RBRACKET) continue;
    const nameStop = nameEnd(text, q, end);
    if (nameStop === q || nameStop - q > MAX_NAME) {
      return fail(sd, `expecting a parameter name (1 to ${MAX_NAME} printable characters) at offset ${q}`);
    }
    const name = text.slice(q, nameStop);
    let r = skipSpaces(text, nameStop, end);
    if (text.charCodeAt(r) !== CH_EQ) return fail(sd, `expecting '=' at offset ${r}`);
    r = skipSpaces(text, r + 1, end);
    if (text.charCodeAt(r) !== CH_DQUOTE) return fail(sd, `expecting '"' at offset ${r}`);
    if (r !== nameStop + 1) repairs += `; space around '=' at offset ${nameStop}`;

    // The value: segments between escapes are sliced, not copied character by character.
    q = r + 1;
    let value = '';
    let from = q;
    let bracketAt = -1;
    for (;;) {
      if (q >= end) return fail(sd, `parameter value not closed (expecting '"' at offset ${q})`);
      const c = text.charCodeAt(q);
      if (c === CH_DQUOTE) break;
      if (c === CH_BACKSLASH && q + 1 < end) {
        const next = text.charCodeAt(q + 1);
        if (next === CH_DQUOTE || next === CH_BACKSLASH || next === CH_RBRACKET) {
          value += text.slice(from, q);
          from = q + 1; // the escaped character starts the next segment
          q += 2;
          continue;
        }
      } else if (c === CH_RBRACKET && bracketAt < 0) {
        bracketAt = q;
      }
      q++;
    }
    value += text.slice(from, q);
    q++;
    if (bracketAt >= 0) repairs += `; unescaped ']' in a parameter value at offset ${bracketAt}`;
    setOwn(params, name, value);
  }

  if (sd.data === undefined) sd.data = {};
  const existing = Object.hasOwn(sd.data, id) ? sd.data[id] : undefined;
  if (existing === undefined) {
    setOwn(sd.data, id, params);
  } else {
    for (const [name, value] of Object.entries(params)) setOwn(existing, name, value);
    repairs += `; SD-ID ${JSON.stringify(id)} repeated (parameters merged)`;
  }
  if (repairs !== '') note(sd, repairs.slice(2));
  return q;
}
