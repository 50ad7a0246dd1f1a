/**
 * The BSD (RFC 3164) header after PRI: `TIMESTAMP SP HOSTNAME SP TAG: MSG`, read the way
 * rsyslog (the reference central syslogd) reads it, since in the wild every part is
 * optional or varies:
 *
 * - TIMESTAMP: BSD (`Oct 11 22:14:15` and variants) or ISO 8601, after any spaces (the
 *   peers' tests send `<167> Mar  7 ...` and `<132> Apr  4 ...`); see header-time.ts for
 *   the shapes. With a PRI, Cisco IOS prefixes may come first: a message counter and a
 *   sequence number (`643: `, `000104: `, or a bare `: `, as NX-OS writes), a hostname
 *   (`router1: `), and `*` or `.` (clock not synchronised). They are taken only when a
 *   timestamp follows.
 * - HOSTNAME: a word of ASCII letters, digits, `.`, `_`, `-` ending in a letter or digit,
 *   followed by a space or the end (rsyslog's rule), or an IPv6 address. Anything else
 *   there is the TAG: programs that log without a hostname (`su: ...`, `sshd[42]: ...`,
 *   docker's default format) write their tag in its place, and `:` and `[` never occur in
 *   a hostname.
 * - TAG: up to `:` or a space (rsyslog's rule), `[...]` allowed to hold a colon
 *   (`monit[2340:0]:`). APP-NAME is the tag before `[`, PROCID what is inside a final
 *   `[...]`. A tag ended by a space, not a colon, is one only when more text follows it: a
 *   lone last word is the message, never emptied into the app-name (`host message`). A
 *   bare `: ` is an empty tag (`host : text`). After more than one space, only a tag ending
 *   in `: ` is taken (go-syslog reads `ix2105  IP6[015]: ...` so; rsyslog makes the tag empty
 *   there, and for a plain word so do we). Not a tag, so kept in the message: text starting
 *   with `[` or `{` (structured data, JSON: rsyslog reads a body starting so as headerless),
 *   a lone `-`, and syslogd's own `last message repeated N times` notice (also between
 *   `---`), which is read before any hostname is looked for.
 * - MSG: what follows the tag, less the one space after it (rsyslog keeps that space in
 *   `%msg%`, which users do not expect; its remove.msgFirstSpace option drops it too) and
 *   a leading BOM.
 *
 * Without a timestamp: with a PRI, all after it is the message (RFC 3164 section 4.3.2:
 * the header is missing), except that a leading `tag: ` still names the program (rsyslog
 * reads `<27>xapi: ...` so); no hostname is guessed (rsyslog guesses one from the first
 * word, rsyslog/rsyslog#5098, so `<38>User logged in` comes from host "User"). Without a PRI either, nothing says
 * this is syslog at all: the caller keeps the text unparsed.
 */

import { readHeaderTimestamp, type TimeRead } from './header-time.js';
import type { SyslogMessage } from './message.js';
import { addProblem } from './message.js';
import {
  CH_COLON,
  CH_DASH,
  CH_DOT,
  CH_LBRACE,
  CH_LBRACKET,
  CH_PERCENT,
  CH_RBRACKET,
  CH_SP,
  CH_STAR,
  CH_UNDERSCORE,
  isAlnum,
  isDigit,
  isHexDigit,
  skipBom,
  skipSpaces,
} from './scan.js';

const MAX_HOSTNAME = 255;
/** Longest IPv6 address text (with an embedded IPv4 address). */
const MAX_IPV6 = 45;
/** rsyslog takes up to 510 characters; a longer "tag" is a message without one. */
const MAX_TAG = 255;

/**
 * Fills `msg` (format, timestamp, hostname, appname, procid, message) from the text at
 * `start` (just past the PRI, or the start of a text without one). Returns false, leaving
 * `msg` untouched, only when there is no PRI and no timestamp.
 */
export function fill3164(text: string, start: number, end: number, msg: SyslogMessage, now: Date): boolean {
  let p = skipSpaces(text, start, end);
  const time = readHeaderTime(text, p, end, now, msg);
  if (time === null) {
    if (!msg.hasPri) return false;
    msg.format = 'rfc3164';
    const afterTag = readTag(text, p, end, msg, true);
    msg.message = messageAt(text, afterTag > p ? afterTag : start, end);
    return true;
  }
  msg.format = 'rfc3164';
  msg.timestamp = time.timestamp;
  if (time.problem !== undefined) addProblem(msg, `rfc3164: ${time.problem}`);
  p = skipSpaces(text, time.end, end);
  let gap = p > time.end + 1;
  if (msg.hostname === undefined && !isRepeatNotice(text, p, end)) {
    const h = hostnameEnd(text, p, end);
    if (h > p) {
      msg.hostname = text.slice(p, h);
      p = skipSpaces(text, h, end);
      gap = p > h + 1;
    }
  }
  // After more than one space, only an unmistakable `tag: ` is taken (`ix2105  IP6[015]: ...`);
  // a plain word there stays in the message (rsyslog's `2009  netips-warden2-p [audit] ...`,
  // ZScaler's `2022-01-27 10:32:35      reason=Allowed ...`).
  msg.message = messageAt(text, readTag(text, p, end, msg, gap), end);
  return true;
}

function messageAt(text: string, p: number, end: number): string {
  if (p >= end) return '';
  return text.slice(skipBom(text, p, end), end);
}

/** A timestamp at `p`, optionally after Cisco's `*`/`.` clock marks (only with a PRI). */
function timeAt(text: string, p: number, end: number, now: Date, cisco: boolean): TimeRead | null {
  let q = p;
  if (cisco) {
    const c = text.charCodeAt(q);
    if (c === CH_STAR || c === CH_DOT) q++;
  }
  return readHeaderTimestamp(text, q, end, now, cisco);
}

/**
 * The header's timestamp at `p`, or after Cisco IOS prefixes (only with a PRI: go-syslog's
 * optional-PRI mode refuses them without one, and a bare `123: ...` line is more likely
 * text). A Cisco hostname prefix is stored in `msg.hostname`, only once a timestamp is found.
 */
function readHeaderTime(
  text: string,
  p: number,
  end: number,
  now: Date,
  msg: SyslogMessage,
): TimeRead | null {
  const direct = timeAt(text, p, end, now, msg.hasPri);
  if (direct !== null || !msg.hasPri) return direct;
  let q = p;
  let hostStart = -1;
  let hostStop = -1;
  for (let prefixes = 0; prefixes < 3; prefixes++) {
    let i = q;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== CH_COLON) {
      if (i !== q || hostStart >= 0) return null;
      i = hostnameRun(text, q, end);
      if (i === q || text.charCodeAt(i) !== CH_COLON) return null;
      hostStart = q;
      hostStop = i;
    }
    if (text.charCodeAt(i + 1) !== CH_SP) return null;
    q = skipSpaces(text, i + 1, end);
    const time = timeAt(text, q, end, now, true);
    if (time !== null) {
      if (hostStart >= 0) msg.hostname = text.slice(hostStart, hostStop);
      return time;
    }
  }
  return null;
}

/** End of a run of hostname characters at `p` that ends in a letter or digit, or `p`. */
function hostnameRun(text: string, p: number, end: number): number {
  let i = p;
  while (i < end && i - p <= MAX_HOSTNAME) {
    const c = text.charCodeAt(i);
    if (!isAlnum(c) && c !== CH_DOT && c !== CH_DASH && c !== CH_UNDERSCORE) break;
    i++;
  }
  if (i === p || i - p > MAX_HOSTNAME || !isAlnum(text.charCodeAt(i - 1))) return p;
  return i;
}

/** End of a hostname at `p` (followed by a space or the end), or `p` when there is none. */
function hostnameEnd(text: string, p: number, end: number): number {
  const run = hostnameRun(text, p, end);
  if (run > p && (run === end || text.charCodeAt(run) === CH_SP)) return run;
  return ipv6End(text, p, end);
}

/**
 * End of an IPv6 address at `p` (what rsyslog and others send as HOSTNAME when a host has
 * no name), with a zone index if any (`fe80::1%eth0`), or `p`. At least two colons and a
 * final hex digit: a tag ends in `:`.
 */
function ipv6End(text: string, p: number, end: number): number {
  let i = p;
  let colons = 0;
  while (i < end && i - p <= MAX_IPV6) {
    const c = text.charCodeAt(i);
    if (c === CH_COLON) colons++;
    else if (!isHexDigit(c) && c !== CH_DOT) break;
    i++;
  }
  if (colons < 2 || i - p > MAX_IPV6 || !isHexDigit(text.charCodeAt(i - 1))) return p;
  if (text.charCodeAt(i) === CH_PERCENT) {
    const zone = hostnameRun(text, i + 1, end);
    if (zone === i + 1) return p;
    i = zone;
  }
  return i === end || text.charCodeAt(i) === CH_SP ? i : p;
}

const REPEATED = 'last message repeated ';
const CH_l = 108;

/**
 * syslogd's own notice that it suppressed duplicates at `p`: `last message repeated N
 * times` (FreeBSD, sysklogd), also between `--- ` and ` ---` (macOS). A message, not a
 * hostname and a tag.
 */
function isRepeatNotice(text: string, p: number, end: number): boolean {
  const first = text.charCodeAt(p);
  if (first !== CH_DASH && first !== CH_l) return false;
  let q = p;
  if (text.startsWith('--- ', q)) q += 4;
  return (
    q + REPEATED.length < end && text.startsWith(REPEATED, q) && isDigit(text.charCodeAt(q + REPEATED.length))
  );
}

/**
 * Reads a TAG at `p` into `msg.appname`/`msg.procid`; returns where the message starts
 * (`p` when there is no tag). With `colonSpace`, only a tag ended by `:` and a space (or the
 * end) counts: the form that is unmistakably a tag when no header precedes it (no timestamp,
 * or more than one space after the hostname); otherwise a bare `: ` is an empty tag.
 */
function readTag(text: string, p: number, end: number, msg: SyslogMessage, colonSpace: boolean): number {
  const first = text.charCodeAt(p);
  if (first === CH_LBRACKET || first === CH_LBRACE || isRepeatNotice(text, p, end)) return p;
  if (first === CH_COLON && !colonSpace) {
    if (p + 1 === end) return end;
    if (text.charCodeAt(p + 1) === CH_SP) return p + 2;
  }
  let i = p;
  while (i < end && i - p <= MAX_TAG) {
    const c = text.charCodeAt(i);
    if (c === CH_SP || c === CH_COLON) break;
    if (c === CH_LBRACKET) {
      // `[...]` may hold a colon (`monit[2340:0]:`), not a space.
      let j = i + 1;
      while (j < end && text.charCodeAt(j) !== CH_RBRACKET && text.charCodeAt(j) !== CH_SP) j++;
      if (j < end && text.charCodeAt(j) === CH_RBRACKET) {
        i = j + 1;
        continue;
      }
    }
    i++;
  }
  if (i === p || i - p > MAX_TAG) return p;
  const colon = i < end && text.charCodeAt(i) === CH_COLON;
  if (colonSpace && !(colon && (i + 1 === end || text.charCodeAt(i + 1) === CH_SP))) return p;
  // A word ended by a space is a tag only when text follows it: a last word is the message.
  if (!colon && skipSpaces(text, i, end) === end) return p;

  let bracket = p;
  while (bracket < i && text.charCodeAt(bracket) !== CH_LBRACKET) bracket++;
  const appname = text.slice(p, bracket);
  if (appname === '-') return p;
  msg.appname = appname;
  if (bracket < i - 2 && text.charCodeAt(i - 1) === CH_RBRACKET) msg.procid = text.slice(bracket + 1, i - 1);

  let q = colon ? i + 1 : i;
  if (q < end && text.charCodeAt(q) === CH_SP) q++;
  return q;
}
