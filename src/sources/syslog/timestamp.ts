/**
 * Syslog timestamps to logwharf's canonical form (RFC 3339, UTC, nine fraction digits).
 *
 * Two shapes arrive:
 * - RFC 3339 (`2024-05-01T12:00:00.123+02:00`): RFC 5424's TIMESTAMP, and what many RFC 3164
 *   senders (rsyslog's RSYSLOG_ForwardFormat, docker) put in the BSD header. Converted by
 *   `toCanonicalTimestamp` from core/timestamp.ts, after a few repairs real senders need.
 * - BSD (`Oct 11 22:14:15`, `Oct  1 ...`, `Mar 7 2008 19:06:53`, Cisco's `19:46:03.295:`):
 *   no year and no zone. The zone is unknown, so the time is taken as UTC; the year is the
 *   one that puts the time nearest to `now` without being more than a day ahead (rsyslog and
 *   syslog-ng do the same: a December message read in January belongs to last year).
 */

import { toCanonicalTimestamp } from '../../core/timestamp.js';
import {
  CH_COLON,
  CH_DASH,
  CH_DOT,
  CH_PLUS,
  CH_SP,
  fixedDigits,
  isDigit,
  pad2,
  pad4,
  skipSpaces,
} from './scan.js';

/** A timestamp found in a header. */
export interface TimeRead {
  /** Index just past the timestamp. */
  end: number;
  /** Canonical form; undefined when the header has a timestamp but it names no real time (Feb 30, 25:00). */
  timestamp: string | undefined;
  /** What was repaired, or why the time is unusable; undefined when it was clean. */
  problem: string | undefined;
}

const DAY_MS = 86_400_000;
const CH_T = 84;
const CH_t = 116;
const CH_z = 122;

/** `dddd-dd-ddT` (or `t`) at `p`: the start of an RFC 3339 date-time. */
export function looksLikeRfc3339(text: string, p: number, end: number): boolean {
  if (p + 11 > end) return false;
  const sep = text.charCodeAt(p + 10);
  return (
    fixedDigits(text, p, 4, end) >= 0 &&
    text.charCodeAt(p + 4) === CH_DASH &&
    fixedDigits(text, p + 5, 2, end) >= 0 &&
    text.charCodeAt(p + 7) === CH_DASH &&
    fixedDigits(text, p + 8, 2, end) >= 0 &&
    (sep === CH_T || sep === CH_t)
  );
}

/** Quoted for a problem text, cut so that a huge token cannot make a huge problem. */
function quote(token: string): string {
  return JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}...` : token);
}

/**
 * The canonical form of an RFC 3339 token (already known to start like one). Repaired, with
 * the repair named in `problem`: no offset (taken as UTC, as for BSD times), more than nine
 * fraction digits (cut: the canonical form has nine), `+hhmm` without the colon. With
 * `rfc5424`, a lower-case `t`/`z` (which RFC 5424 forbids) is accepted but named too.
 * Unusable when the date or time does not exist (Feb 30, 24:00, a leap second).
 */
export function canonicalRfc3339(token: string, rfc5424: boolean): Omit<TimeRead, 'end'> {
  const direct = toCanonicalTimestamp(token);
  if (direct !== null) {
    const lower = token.charCodeAt(10) === CH_t || token.charCodeAt(token.length - 1) === CH_z;
    const problem = rfc5424 && lower ? `lower-case 't' or 'z' in timestamp ${quote(token)}` : undefined;
    return { timestamp: direct, problem };
  }
  if (token.length < 19) return { timestamp: undefined, problem: `unusable timestamp ${quote(token)}` };
  let repairs = '';
  let i = 19;
  let fraction = '';
  if (token.charCodeAt(i) === CH_DOT) {
    let j = i + 1;
    while (j < token.length && isDigit(token.charCodeAt(j))) j++;
    if (j - i - 1 > 9) repairs += ', fraction cut to nine digits';
    fraction = `.${token.slice(i + 1, Math.min(j, i + 10))}`;
    i = j;
  }
  let zone = token.slice(i);
  if (zone === '') {
    zone = 'Z';
    repairs += ', no time zone offset (taken as UTC)';
  } else if (
    zone.length === 5 &&
    (zone.charCodeAt(0) === CH_PLUS || zone.charCodeAt(0) === CH_DASH) &&
    fixedDigits(zone, 1, 4, 5) >= 0
  ) {
    zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
    repairs += ', offset without a colon';
  }
  const repaired = repairs === '' ? null : toCanonicalTimestamp(token.slice(0, 19) + fraction + zone);
  if (repaired === null) return { timestamp: undefined, problem: `unusable timestamp ${quote(token)}` };
  return { timestamp: repaired, problem: `timestamp ${quote(token)}: ${repairs.slice(2)}` };
}

/** An RFC 3339 timestamp at `p` in a BSD header (up to the next space), or null when there is none. */
export function readIsoTimestamp(text: string, p: number, end: number): TimeRead | null {
  if (!looksLikeRfc3339(text, p, end)) return null;
  let q = p + 11;
  while (q < end && text.charCodeAt(q) !== CH_SP) q++;
  const { timestamp, problem } = canonicalRfc3339(text.slice(p, q), false);
  return { end: q, timestamp, problem };
}

/** Month keys: the three lower-case letters packed into one number. */
const MONTHS = new Map<number, number>(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, i) => [
    (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2),
    i + 1,
  ]),
);

/**
 * Month 1..12 of the English three-letter name at `p`, in any case (rsyslog's tests send
 * `AUG`); 0 when there is none. `| 0x20` lower-cases ASCII letters and maps nothing else
 * onto a letter.
 */
function monthAt(text: string, p: number): number {
  const key =
    ((text.charCodeAt(p) | 0x20) << 16) |
    ((text.charCodeAt(p + 1) | 0x20) << 8) |
    (text.charCodeAt(p + 2) | 0x20);
  return MONTHS.get(key) ?? 0;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The year for a BSD time with none: the latest one in which the date exists and the time is
 * at most a day ahead of `now` (a little ahead is clock skew; more means last year). Going
 * back from next year, the first such year is also the nearest. Looks back up to four years
 * so that Feb 29 finds its leap year; -1 when none fits (or `now` is not a valid date).
 */
export function nearestYear(month: number, day: number, h: number, m: number, s: number, now: Date): number {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) return -1;
  const thisYear = now.getUTCFullYear();
  for (let year = thisYear + 1; year >= thisYear - 4; year--) {
    if (day > daysInMonth(year, month)) continue;
    if (Date.UTC(year, month - 1, day, h, m, s) - nowMs <= DAY_MS) return year;
  }
  return -1;
}

/**
 * A BSD timestamp at `p`: `Mmm dd hh:mm:ss`, with the variants seen in the wild: day padded
 * with a space or not at all (`Oct  1`, `Mar 7`), a year before the time (`Mar 7 2008
 * 19:06:53`, Cisco ASA and rsyslog's tests), a fraction (`.295`, Cisco IOS `msec`), a colon
 * after the time (Cisco). Null when the text at `p` is not shaped like one; `timestamp`
 * undefined when it is, but names no real time.
 */
export function readBsdTimestamp(text: string, p: number, end: number, now: Date): TimeRead | null {
  if (p + 4 > end || text.charCodeAt(p + 3) !== CH_SP) return null;
  const month = monthAt(text, p);
  if (month === 0) return null;
  let q = skipSpaces(text, p + 4, end);
  if (!isDigit(text.charCodeAt(q))) return null;
  let day = text.charCodeAt(q++) - 48;
  if (isDigit(text.charCodeAt(q))) day = day * 10 + (text.charCodeAt(q++) - 48);
  if (q >= end || text.charCodeAt(q) !== CH_SP) return null;
  q = skipSpaces(text, q, end);
  let year = -1;
  const maybeYear = fixedDigits(text, q, 4, end);
  if (maybeYear >= 0 && text.charCodeAt(q + 4) === CH_SP) {
    year = maybeYear;
    q = skipSpaces(text, q + 5, end);
  }
  const h = fixedDigits(text, q, 2, end);
  const m = fixedDigits(text, q + 3, 2, end);
  const s = fixedDigits(text, q + 6, 2, end);
  if (h < 0 || m < 0 || s < 0 || text.charCodeAt(q + 2) !== CH_COLON || text.charCodeAt(q + 5) !== CH_COLON) {
    return null;
  }
  q += 8;
  let fraction = '000000000';
  if (text.charCodeAt(q) === CH_DOT && isDigit(text.charCodeAt(q + 1))) {
    let j = q + 1;
    while (j < end && isDigit(text.charCodeAt(j))) j++;
    fraction = text.slice(q + 1, Math.min(j, q + 10)).padEnd(9, '0');
    q = j;
  }
  if (text.charCodeAt(q) === CH_COLON) q++;
  if (q < end && text.charCodeAt(q) !== CH_SP) return null;

  let y = -1;
  if (h <= 23 && m <= 59 && s <= 59 && day >= 1 && day <= 31) {
    if (year < 0) y = nearestYear(month, day, h, m, s, now);
    else if (day <= daysInMonth(year, month)) y = year;
  }
  if (y < 0) return { end: q, timestamp: undefined, problem: `unusable timestamp at offset ${p}` };
  const timestamp = `${pad4(y)}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}.${fraction}Z`;
  return { end: q, timestamp, problem: undefined };
}
