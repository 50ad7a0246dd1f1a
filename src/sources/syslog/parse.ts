/**
 * Syslog messages (RFC 5424, RFC 3164/BSD and its real-world variants) to fields. Pure.
 *
 * Detection: `<PRI>` then VERSION SP (1-3 digits, not starting with 0) is RFC 5424;
 * anything else is the lenient BSD format, with rsyslog as the reference for what its
 * header may look like. When an RFC 5424 header cannot be read (a bad timestamp, a
 * control character in a field, a field over its length limit, the message ending
 * early), the text is read as BSD instead, which with a PRI always succeeds (RFC 3164
 * section 4.3.2: without a valid timestamp, all after the PRI is the message) and
 * `problem` says what failed. Troubles after a complete RFC 5424 header (bad structured
 * data, junk after it) keep the header: what cannot be read becomes the start of the
 * message. A text with neither a PRI nor a timestamp is `unparsed`, kept whole.
 *
 * The parsers never throw and never drop a message. Every field is a slice of the text and
 * the message is always its tail: what is not a header field (or a separator, a BOM, a
 * Cisco counter, whitespace before the PRI, the trailing NUL/CR/LF of framing) is in the
 * message. See docs/syslog.md, "Syslog message compatibility", for how this compares with
 * rsyslog, go-syslog and others.
 */

import { newMessage, type SyslogMessage } from './message.js';
import { fill3164 } from './rfc3164.js';
import { fill5424 } from './rfc5424.js';
import {
  CH_BOM,
  CH_CR,
  CH_GT,
  CH_LF,
  CH_LT,
  CH_SP,
  CH_TAB,
  digitsValue,
  isDigit,
  trimmedEnd,
} from './scan.js';

export type { SyslogMessage } from './message.js';

export interface ParseOptions {
  /** Reference time: RFC 3164 timestamps have no year; pick the year that puts the time nearest to `now` (a time more than ~1 day in the future belongs to the previous year, as rsyslog/syslog-ng do). */
  now: Date;
}

/** user.notice: what rsyslog (and RFC 3164 section 4.3.3) assign to a message without PRI. */
const DEFAULT_PRI = 13;
const MAX_PRI = 191;

/**
 * Parses one syslog message (one frame: framing is done before this). Never throws: a
 * message that fits no grammar comes back `unparsed` with the whole text as its message.
 *
 * Fields absent from the message (NILVALUE `-`, no hostname, ...) are `undefined`; every
 * result has the same set of keys. Offsets in `problem` count UTF-16 code units from the
 * start of `text` (the same as bytes while the header is ASCII).
 */
export function parseSyslog(text: string, opts: ParseOptions): SyslogMessage {
  const end = trimmedEnd(text);
  try {
    return parseFrame(text, end, opts.now);
  } catch (error) {
    // A parser bug must not cost the line: keep it whole and say why.
    const reason = error instanceof Error ? error.message : 'unknown error';
    return unparsed(text, end, `internal parser error (${reason}); the whole text is the message`);
  }
}

function parseFrame(text: string, end: number, now: Date): SyslogMessage {
  // A BOM before the PRI is a sender bug (a UTF-8 writer marking the whole frame); skip it.
  let start = end > 0 && text.charCodeAt(0) === CH_BOM ? 1 : 0;
  // So is whitespace before it (a newline left over from the previous frame of a sender that
  // ends lines with CRLF or LF LF): skipped, but only when a PRI follows.
  const lead = skipWhitespace(text, start, end);
  if (lead > start && priEnd(text, lead, end) > 0) start = lead;
  const afterPri = priEnd(text, start, end);
  if (afterPri > 0) {
    const pri = digitsValue(text, start + 1, afterPri - 1);
    if (versionEnd(text, afterPri, end) > 0) {
      const msg = newMessage(pri, true);
      const failure = fill5424(text, afterPri, end, msg);
      if (failure === undefined) return msg;
      const bsd = newMessage(pri, true);
      bsd.problem = failure;
      fill3164(text, afterPri, end, bsd, now);
      return bsd;
    }
    const msg = newMessage(pri, true);
    fill3164(text, afterPri, end, msg, now);
    return msg;
  }

  // No PRI: BSD when a timestamp starts the text (RFC 3164 section 4.3.3 and rsyslog accept that),
  // RFC 5424 only when its whole header is clean; otherwise nothing says this is syslog.
  const bsd = newMessage(DEFAULT_PRI, false);
  if (fill3164(text, start, end, bsd, now)) return bsd;
  if (versionEnd(text, start, end) > 0) {
    const msg = newMessage(DEFAULT_PRI, false);
    if (fill5424(text, start, end, msg) === undefined && msg.problem === undefined) {
      msg.problem = 'rfc5424: no PRI (user.notice assumed)';
      return msg;
    }
  }
  const why =
    end === 0
      ? 'empty message'
      : text.charCodeAt(start) === CH_LT
        ? `malformed PRI at offset ${start} (expecting <0> to <191>) and no timestamp`
        : `no PRI and no timestamp at offset ${start}`;
  return unparsed(text, end, why);
}

function unparsed(text: string, end: number, why: string): SyslogMessage {
  const msg = newMessage(DEFAULT_PRI, false);
  msg.format = 'unparsed';
  msg.message = end === text.length ? text : text.slice(0, end);
  msg.problem = why;
  return msg;
}

/**
 * Index just past a valid PRI (`<0>` .. `<191>`) at `p`, or -1. Leading zeros (`<013>`) are
 * accepted: RFC 5424 forbids them, but the value is unambiguous.
 */
function priEnd(text: string, p: number, end: number): number {
  if (p >= end || text.charCodeAt(p) !== CH_LT) return -1;
  let i = p + 1;
  while (i < end && i <= p + 3 && isDigit(text.charCodeAt(i))) i++;
  if (i === p + 1 || i >= end || text.charCodeAt(i) !== CH_GT) return -1;
  return digitsValue(text, p + 1, i) <= MAX_PRI ? i + 1 : -1;
}

/** Past the spaces, tabs, CRs and LFs at `p`. */
function skipWhitespace(text: string, p: number, end: number): number {
  let i = p;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== CH_SP && c !== CH_TAB && c !== CH_CR && c !== CH_LF) break;
    i++;
  }
  return i;
}

/** Index just past an RFC 5424 VERSION (1-3 digits, no leading 0) followed by SP at `p`, or -1. */
function versionEnd(text: string, p: number, end: number): number {
  const first = text.charCodeAt(p);
  if (p >= end || !isDigit(first) || first === 48) return -1;
  let i = p + 1;
  while (i < end && i < p + 3 && isDigit(text.charCodeAt(i))) i++;
  return i < end && text.charCodeAt(i) === CH_SP ? i : -1;
}
