/**
 * Web server access lines: nginx `combined`, Apache `common` and `combined`, and the variants
 * seen in the wild (a virtual host in front, an X-Forwarded-For chain in place of the client,
 * nginx's trailing `"$http_x_forwarded_for"`).
 *
 *   [vhost[:port] ]addr[, addr...] - user [07/Dec/2016:11:05:07 +0100] "GET /p HTTP/1.1" 200 571
 *       [ "referer" "agent" [ "x-forwarded-for" ]] [anything else, ignored]
 *
 * The facts go to `AccessLog` (ECS `http.*`, `url.original`, `source.address`, ...), the rest
 * to `AccessLogExtras` (`fields.*`).
 *
 * Pure, and cheap when the line is something else: everything up to the `[time]` is checked on
 * character codes before anything is allocated, so a plain line costs one `indexOf(' - ')`.
 *
 * No severity is derived: a 5xx is a server error, but the line itself is a record of a request,
 * not a report of a failure, and Filebeat keeps these at info too. The stream's default applies.
 */

import type { AccessLog } from '../core/event.js';
import { isDigit, isDigits, readAddresses } from './access-log-client.js';

/**
 * What an access line holds beyond the ECS facts (`AccessLog`), kept under `fields.*`: ECS has
 * no field for a proxy chain, a virtual host in front of the address, or a request line that is
 * not `METHOD TARGET PROTOCOL`.
 */
export type AccessLogExtras = {
  /** Every address, in order, when the server logged a chain (`10.0.0.2, 10.0.0.1, 127.0.0.1`). */
  client_chain?: string[];
  /** A virtual host written before the address (Apache `vhost_combined`, nginx `$host ...`). */
  vhost?: string;
  vhost_port?: number;
  /** The request line as written, only when it is not `METHOD TARGET PROTOCOL` (`-`, empty, TLS bytes). */
  request?: string;
  /** nginx's trailing `"$http_x_forwarded_for"`. */
  forwarded_for?: string;
};

export interface AccessLogParse {
  access: AccessLog;
  /** Absent when the line has none of them (the usual case). */
  extras?: AccessLogExtras;
  /** The line's own time as written (`07/Dec/2016:11:05:07 +0100`), not normalised. */
  timestamp: string;
  format: 'access';
}

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const COLON = 0x3a;
const SLASH = 0x2f;
/** `dd/Mon/yyyy:hh:mm:ss +zzzz` */
const TIME_LENGTH = 26;
/** A user name longer than this is not what sits between ` - ` and `[`. */
const MAX_USER = 256;

/**
 * True when the line has the shape of an access record up to its time: a plausible first
 * character, ` - user [`, and a `dd/Mon/yyyy:hh:mm:ss +zzzz]` time. Allocation-free.
 */
export function looksLikeAccessLog(text: string): boolean {
  return timeStart(text) >= 0;
}

/** The parsed line, or undefined when it is not an access record. */
export function parseAccessLog(text: string): AccessLogParse | undefined {
  const t = timeStart(text);
  if (t < 0) return undefined;
  const n = text.length;
  // `] "request" status bytes`
  let i = t + TIME_LENGTH + 1;
  if (text.charCodeAt(i) !== SPACE || text.charCodeAt(i + 1) !== QUOTE) return undefined;
  const request = readQuoted(text, i + 1);
  if (request === undefined) return undefined;
  i = quotedEnd;
  if (text.charCodeAt(i) !== SPACE || !isDigits(text, i + 1, 3) || text.charCodeAt(i + 4) !== SPACE) {
    return undefined;
  }
  const status = num(text, i + 1, i + 4);
  i += 5;
  let bytes = 0;
  if (text.charCodeAt(i) === DASH) {
    i++;
  } else {
    const start = i;
    while (i < n && i - start < 16 && isDigit(text.charCodeAt(i))) i++;
    if (i === start) return undefined;
    bytes = num(text, start, i);
  }
  if (i < n && text.charCodeAt(i) !== SPACE) return undefined;

  const dash = dashAt;
  const parse = addresses(text, dash, text.slice(t, t + TIME_LENGTH));
  if (parse === undefined) return undefined;
  const access = parse.access;
  const user = text.slice(dash + 3, t - 2);
  if (user !== '-' && user !== '') access.user = user;
  splitRequest(request, parse);
  access.status = status;
  access.bytes = bytes;

  // Combined: ` "referer" "agent"`, and nginx setups often add ` "$http_x_forwarded_for"`.
  // Whatever follows (timings, upstream addresses) is left in the message, not parsed.
  const referrer = quotedAfterSpace(text, i);
  if (referrer !== undefined) {
    i = quotedEnd;
    if (referrer !== '-') access.referrer = referrer;
    const agent = quotedAfterSpace(text, i);
    if (agent !== undefined) {
      i = quotedEnd;
      if (agent !== '-') access.agent = agent;
      const forwarded = quotedAfterSpace(text, i);
      if (forwarded !== undefined && forwarded !== '-' && forwarded !== '') {
        parse.extras = { ...parse.extras, forwarded_for: forwarded };
      }
    }
  }
  return parse;
}

/** Set by timeStart: where ` - ` (the ident) is. */
let dashAt = 0;

/**
 * Index of the time inside `[...]`, or -1: the allocation-free part of the recognition.
 * `addr - user [` then the fixed-width time and `]`.
 */
function timeStart(text: string): number {
  if (text.length < 40 || !isAddressStart(text.charCodeAt(0))) return -1;
  const dash = text.indexOf(' - ');
  if (dash <= 0) return -1;
  dashAt = dash;
  // The user runs to the first ` [`; Apache and nginx write `-` when there is none.
  const bracket = text.indexOf(' [', dash + 2);
  if (bracket < 0 || bracket - dash > MAX_USER) return -1;
  const t = bracket + 2;
  if (!isAccessTime(text, t)) return -1;
  for (let k = 0; k < dash; k++) if (!isAddressChar(text.charCodeAt(k))) return -1;
  return t;
}

/** `07/Dec/2016:11:05:07 +0100]` at `t`. */
function isAccessTime(text: string, t: number): boolean {
  return (
    isDigits(text, t, 2) &&
    text.charCodeAt(t + 2) === SLASH &&
    isUpper(text.charCodeAt(t + 3)) &&
    isLower(text.charCodeAt(t + 4)) &&
    isLower(text.charCodeAt(t + 5)) &&
    text.charCodeAt(t + 6) === SLASH &&
    isDigits(text, t + 7, 4) &&
    text.charCodeAt(t + 11) === COLON &&
    isDigits(text, t + 12, 2) &&
    text.charCodeAt(t + 14) === COLON &&
    isDigits(text, t + 15, 2) &&
    text.charCodeAt(t + 17) === COLON &&
    isDigits(text, t + 18, 2) &&
    text.charCodeAt(t + 20) === SPACE &&
    (text.charCodeAt(t + 21) === 0x2b || text.charCodeAt(t + 21) === DASH) && // + or -
    isDigits(text, t + 22, 4) &&
    text.charCodeAt(t + TIME_LENGTH) === 0x5d // ]
  );
}

// ---- the addresses before ` - ` -------------------------------------------------------------

/**
 * The client, and for a chain or a virtual host what access-log-client.ts makes of them: the
 * parse to fill in, with status and bytes at 0 until read.
 */
function addresses(text: string, end: number, timestamp: string): AccessLogParse | undefined {
  // The usual case, one address and nothing else: no groups to build.
  let k = 0;
  while (k < end && !isGroupChar(text.charCodeAt(k))) k++;
  if (k === end) return newParse(text.slice(0, end), timestamp);
  const a = readAddresses(text, end);
  if (a === undefined) return undefined;
  const parse = newParse(a.client, timestamp);
  if (a.chain.length > 1 || a.vhost !== undefined) {
    const extras: AccessLogExtras = {};
    if (a.chain.length > 1) extras.client_chain = a.chain;
    if (a.vhost !== undefined) extras.vhost = a.vhost;
    if (a.vhostPort !== undefined) extras.vhost_port = a.vhostPort;
    parse.extras = extras;
  }
  return parse;
}

function newParse(client: string, timestamp: string): AccessLogParse {
  return { access: { client, status: 0, bytes: 0 }, timestamp, format: 'access' };
}

// ---- the request line -----------------------------------------------------------------------

/**
 * `METHOD TARGET PROTOCOL` into method, url and version (`HTTP/1.1` -> `1.1`, as ECS and
 * Filebeat write http.version; another protocol stays whole: `RTSP/1.0`); anything else whole
 * into the extra `request`.
 */
function splitRequest(request: string, parse: AccessLogParse): void {
  const s1 = request.indexOf(' ');
  const s2 = request.lastIndexOf(' ');
  if (s1 > 0 && s2 > s1 + 1 && isMethod(request, s1) && isProtocol(request, s2 + 1)) {
    const a = parse.access;
    a.method = request.slice(0, s1);
    a.url = request.slice(s1 + 1, s2);
    a.version = request.startsWith('HTTP/', s2 + 1) ? request.slice(s2 + 6) : request.slice(s2 + 1);
  } else {
    parse.extras = { ...parse.extras, request };
  }
}

/** Upper-case letters, `-` and `_` (WebDAV has `VERSION-CONTROL`), starting with a letter. */
function isMethod(s: string, end: number): boolean {
  if (end > 32 || !isUpper(s.charCodeAt(0))) return false;
  for (let i = 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isUpper(c) && c !== DASH && c !== 0x5f) return false;
  }
  return true;
}

/** `HTTP/1.1`, `HTTP/2.0`, `HTTP/3`, `RTSP/1.0`: upper-case letters, `/`, a version. */
function isProtocol(s: string, from: number): boolean {
  const n = s.length;
  let i = from;
  while (i < n && isUpper(s.charCodeAt(i))) i++;
  if (i === from || s.charCodeAt(i) !== SLASH || !isDigit(s.charCodeAt(i + 1))) return false;
  i += 2;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i < n && s.charCodeAt(i) === 0x2e && isDigit(s.charCodeAt(i + 1))) {
    i += 2;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  }
  return i === n;
}

// ---- quoted strings -------------------------------------------------------------------------

/** Set by readQuoted: the index after the closing quote. */
let quotedEnd = 0;

/**
 * `text[i]` is `"`: the value up to the closing quote, or undefined when it does not close.
 * Apache writes `"` and `\` inside a value as `\"` and `\\`, which are undone; other escapes
 * (`\xHH` from both servers: nginx writes even `"` that way) stay as written, since decoding
 * them could produce bytes that are not text.
 */
function readQuoted(text: string, i: number): string | undefined {
  const n = text.length;
  let out: string | undefined;
  let seg = i + 1;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      quotedEnd = j + 1;
      return out === undefined ? text.slice(seg, j) : out + text.slice(seg, j);
    }
    if (c === BACKSLASH && j + 1 < n) {
      const e = text.charCodeAt(j + 1);
      if (e === QUOTE || e === BACKSLASH) {
        out = (out ?? '') + text.slice(seg, j);
        seg = j + 1; // keep the escaped character
        j++;
      }
    }
  }
  return undefined;
}

/** ` "value"` at `i`: the value, with quotedEnd after it; undefined when `i` is not that. */
function quotedAfterSpace(text: string, i: number): string | undefined {
  if (text.charCodeAt(i) !== SPACE || text.charCodeAt(i + 1) !== QUOTE) return undefined;
  return readQuoted(text, i + 1);
}

// ---- characters -----------------------------------------------------------------------------

/** Hex digits and letters (addresses, host names), `:` (IPv6), `"` (a quoted chain), `[` (`[::1]:80`). */
function isAddressStart(c: number): boolean {
  return isDigit(c) || isUpper(c) || isLower(c) || c === COLON || c === QUOTE || c === 0x5b;
}

/** What separates or wraps the entries of a chain or a virtual host: blank, comma, quote. */
function isGroupChar(c: number): boolean {
  return c === SPACE || c === 0x2c || c === QUOTE;
}

function isAddressChar(c: number): boolean {
  return (
    isDigit(c) ||
    isUpper(c) ||
    isLower(c) ||
    c === 0x2e || // .
    c === COLON ||
    c === DASH ||
    c === 0x5f || // _
    c === 0x25 || // % (IPv6 zone)
    c === 0x2c || // ,
    c === SPACE ||
    c === QUOTE ||
    c === 0x5b || // [
    c === 0x5d // ]
  );
}

function num(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (text.charCodeAt(i) - 0x30);
  return v;
}

function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
