/**
 * The RFC 5424 header after PRI:
 * `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
 *
 * What makes a header unreadable (the caller then reads the text as BSD and keeps this
 * reason as `problem`): a field that is empty (two spaces in a row) or holds a control
 * character, a field over its length limit (hostname 255, procid 128, app-name and msgid 255:
 * a longer one means the fields are not where RFC 5424 puts them; an app-name over 48 or a msgid
 * over 32 is kept with a `problem`, see LENIENT_MAX), a TIMESTAMP
 * that is neither `-` nor shaped like RFC 3339, the text ending before STRUCTURED-DATA.
 *
 * Repaired, the header kept, and named in `problem`: a TIMESTAMP shaped like RFC 3339 but
 * not quite (no offset, more than nine fraction digits, lower-case `t`), or naming no real
 * time (Feb 30: the timestamp is then left out); structured data that is lenient-readable
 * (see structured-data.ts); text after the header that is not structured data (it becomes
 * the start of the message). Accepted as is: any VERSION 1-999 (go-syslog does; only 1 is
 * defined), up to nine fraction digits (RFC 5424 says six; .NET and Go send seven or nine),
 * non-ASCII characters in header fields (RFC 5424 wants printable US-ASCII).
 *
 * MSG is everything after the one SP that follows STRUCTURED-DATA, further spaces included
 * (rsyslog's `rfc5424parser-sp_at_msg_start` test), less a leading BOM.
 */

import type { SyslogMessage } from './message.js';
import { addProblem } from './message.js';
import { CH_DASH, CH_DEL, CH_LBRACKET, CH_SP, isDigit, skipBom } from './scan.js';
import { readStructuredData } from './structured-data.js';
import { canonicalRfc3339, looksLikeRfc3339 } from './timestamp.js';

/**
 * Index of the SP that ends a header field starting at `p`, or -1 when the field is empty,
 * holds a control character, or the text ends before the SP.
 */
function fieldEnd(text: string, p: number, end: number): number {
  let i = p;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === CH_SP) return i === p ? -1 : i;
    if (c < CH_SP || c === CH_DEL) return -1;
    i++;
  }
  return -1;
}

/**
 * Docker's syslog driver writes its tag as both APP-NAME and MSGID, and a tag such as
 * `{{.Name}}/{{.ID}}` is longer than RFC 5424's 48 and 32: a strict reading would throw away a
 * whole, well-formed header (and make the message a BSD guess). Up to this length an over-long
 * app-name or msgid is kept, with a `problem`; beyond it the fields are surely not where
 * RFC 5424 puts them.
 */
const LENIENT_MAX = 255;

function isNil(text: string, p: number, f: number): boolean {
  return f === p + 1 && text.charCodeAt(p) === CH_DASH;
}

function expecting(what: string, p: number): string {
  return `rfc5424: expecting ${what} at offset ${p}`;
}

/**
 * MSG from `p`, less its BOM. A BOM promises UTF-8 (RFC 5424 section 6.4); U+FFFD after one
 * is how invalid UTF-8 bytes come out of the receiver's decoder, so that is named (the text
 * is kept as decoded).
 */
function readMessage(text: string, p: number, end: number, msg: SyslogMessage): void {
  if (p >= end) return;
  const from = skipBom(text, p, end);
  msg.message = text.slice(from, end);
  if (from > p && msg.message.includes('\uFFFD')) {
    addProblem(
      msg,
      `rfc5424: MSG starts with a BOM but is not valid UTF-8 (U+FFFD at offset ${text.indexOf('\uFFFD', from)})`,
    );
  }
}

/**
 * Fills `msg` from the header at `start` (the VERSION, which the caller has checked is 1-3
 * digits then SP). Returns undefined when the header was read (`msg.problem` names any
 * repair), or why it could not be (then `msg` is half-filled and must be discarded).
 */
export function fill5424(text: string, start: number, end: number, msg: SyslogMessage): string | undefined {
  let p = start;
  while (isDigit(text.charCodeAt(p))) p++;
  p++;

  let f = fieldEnd(text, p, end);
  if (f < 0) return expecting('a timestamp', p);
  if (!isNil(text, p, f)) {
    if (!looksLikeRfc3339(text, p, f)) return expecting('a timestamp', p);
    const time = canonicalRfc3339(text.slice(p, f));
    msg.timestamp = time.timestamp;
    if (time.problem !== undefined) addProblem(msg, `rfc5424: ${time.problem} at offset ${p}`);
  }

  p = f + 1;
  f = fieldEnd(text, p, end);
  if (f < 0 || f - p > 255) return expecting('a hostname (1 to 255 printable characters)', p);
  if (!isNil(text, p, f)) msg.hostname = text.slice(p, f);

  p = f + 1;
  f = fieldEnd(text, p, end);
  if (f < 0 || f - p > LENIENT_MAX) return expecting('an app-name (1 to 48 printable characters)', p);
  if (f - p > 48) addProblem(msg, `rfc5424: app-name longer than 48 characters at offset ${p}; kept whole`);
  if (!isNil(text, p, f)) msg.appname = text.slice(p, f);

  p = f + 1;
  f = fieldEnd(text, p, end);
  if (f < 0 || f - p > 128) return expecting('a procid (1 to 128 printable characters)', p);
  if (!isNil(text, p, f)) msg.procid = text.slice(p, f);

  p = f + 1;
  f = fieldEnd(text, p, end);
  if (f < 0 || f - p > LENIENT_MAX) return expecting('a msgid (1 to 32 printable characters)', p);
  if (f - p > 32) addProblem(msg, `rfc5424: msgid longer than 32 characters at offset ${p}; kept whole`);
  if (!isNil(text, p, f)) msg.msgid = text.slice(p, f);

  p = f + 1;
  if (p >= end) return expecting('structured data', p);
  msg.format = 'rfc5424';
  const c = text.charCodeAt(p);
  if (c === CH_DASH && (p + 1 === end || text.charCodeAt(p + 1) === CH_SP)) {
    readMessage(text, p + 2, end, msg);
    return undefined;
  }
  if (c !== CH_LBRACKET) {
    addProblem(msg, `rfc5424: expecting structured data ('-' or '[') at offset ${p}; kept as message text`);
    msg.message = text.slice(p, end);
    return undefined;
  }

  const sd = readStructuredData(text, p, end);
  msg.structuredData = sd.data;
  if (sd.problem !== undefined) {
    addProblem(msg, `rfc5424: ${sd.failed ? `${sd.problem}; kept as message text` : sd.problem}`);
  }
  const next = sd.next;
  if (sd.failed) {
    msg.message = text.slice(next, end);
  } else if (next < end && text.charCodeAt(next) === CH_SP) {
    readMessage(text, next + 1, end, msg);
  } else if (next < end) {
    addProblem(msg, `rfc5424: expecting a space after structured data at offset ${next}`);
    msg.message = text.slice(next, end);
  }
  return undefined;
}
