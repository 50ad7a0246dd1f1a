/**
 * The timestamp of a BSD (RFC 3164) header, in the shapes real senders write, to logwharf's
 * canonical form (RFC 3339, UTC, nine fraction digits). Pure.
 *
 * - BSD: `Oct 11 22:14:15`, with the variants seen in the wild: the day padded with a space or
 *   not at all (`Oct  1`, `Mar 7`), the month in any case (`AUG`) or in full (`September`), a
 *   year before the time (`Mar 7 2008 19:06:53`: Cisco ASA) or, after a PRI, before the month
 *   (`2017 Mar 06 09:22:34`: Cisco NX-OS, Brocade), a fraction (`.295`: Cisco IOS `msec`), a
 *   zone (`UTC`, `CET`, `+0100`: see time-zones.ts) and a colon after it all (Cisco).
 * - ISO 8601 (`2024-05-01T12:00:00.123+02:00`): what rsyslog's RSYSLOG_ForwardFormat, docker and
 *   many devices put in the BSD header. Any fraction length (nine digits are kept), any offset
 *   spelling (`Z`, `+00`, `-07`, `+0000`, `+00:00`, also as a word of its own and followed by
 *   the zone's name, as Go writes `2024-05-01 12:00:00 +0000 UTC`), and, after a PRI, a space
 *   instead of the `T` (syslog-ng reads that too). No standard defines an ISO time in a BSD
 *   header, so none of these spellings counts as a repair.
 *
 * A time with a zone is a real instant and is converted to UTC. Without a zone it is taken as
 * UTC, since the sender's zone is unknown (an ISO time without an offset says so in `problem`;
 * a classic BSD time never has one). Without a year, the year is the one that puts the time
 * nearest to `now` without being more than a day ahead (rsyslog and syslog-ng do the same: a
 * December message read in January belongs to last year).
 */

import { canonicalFromMillis, toCanonicalTimestamp } from '../../core/timestamp.js';
import {
  CH_COLON,
  CH_COMMA,
  CH_DASH,
  CH_DOT,
  CH_SP,
  fixedDigits,
  isDigit,
  pad2,
  pad4,
  skipSpaces,
} from './scan.js';
import { offsetAt, type ZoneRead, zoneWordAt } from './time-zones.js';
import { quote } from './timestamp.js';

/** A timestamp found in a header. */
export interface TimeRead {
  /** Index just past the timestamp. */
  end: number;
  /** Canonical form; undefined when the header has a timestamp but it names no real time (Feb 30, 25:00). */
  timestamp: string | undefined;
  /** What was assumed, or why the time is unusable; undefined when it was clean. */
  problem: string | undefined;
}

const DAY_MS = 86_400_000;
const CH_T = 84;
const CH_t = 116;
const CH_Z = 90;
const CH_z = 122;

/**
 * The timestamp at `p`, BSD or ISO 8601, or null when the text there is not shaped like one.
 * `deviceForms` (the message had a PRI) also allows the shapes that only devices write and that
 * would otherwise be too likely the start of plain text: a year before the month, a space
 * instead of the ISO `T`.
 */
export function readHeaderTimestamp(
  text: string,
  p: number,
  end: number,
  now: Date,
  deviceForms: boolean,
): TimeRead | null {
  return readBsdTimestamp(text, p, end, now, deviceForms) ?? readIsoTimestamp(text, p, end, deviceForms);
}

const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** Month keys: the first three letters packed into one number. */
const MONTHS = new Map<number, number>(
  MONTH_NAMES.map((name, i) => [
    (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2),
    i + 1,
  ]),
);

/**
 * The English month name at `p`, three letters or in full, in any case (rsyslog's tests send
 * `AUG`), followed by a space: `(length << 4) | month`, or 0 when there is none. `| 0x20`
 * lower-cases ASCII letters and maps nothing else onto a letter.
 */
function monthAt(text: string, p: number, end: number): number {
  const key =
    ((text.charCodeAt(p) | 0x20) << 16) |
    ((text.charCodeAt(p + 1) | 0x20) << 8) |
    (text.charCodeAt(p + 2) | 0x20);
  const month = MONTHS.get(key);
  if (month === undefined || p + 3 >= end) return 0;
  if (text.charCodeAt(p + 3) === CH_SP) return (3 << 4) | month;
  const name = MONTH_NAMES[month - 1]!;
  if (p + name.length >= end || text.charCodeAt(p + name.length) !== CH_SP) return 0;
  for (let k = 3; k < name.length; k++) {
    if ((text.charCodeAt(p + k) | 0x20) !== name.charCodeAt(k)) return 0;
  }
  return (name.length << 4) | month;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The year for a BSD time with none: the latest one in which the date exists and the time
 * (at `offsetMinutes` east of UTC) is at most a day ahead of `now` (a little ahead is clock
 * skew; more means last year). Going back from next year, the first such year is also the
 * nearest. Looks back up to four years so that Feb 29 finds its leap year; -1 when none fits
 * (or `now` is not a valid date).
 */
export function nearestYear(
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  now: Date,
  offsetMinutes = 0,
): number {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) return -1;
  const thisYear = now.getUTCFullYear();
  for (let year = thisYear + 1; year >= thisYear - 4; year--) {
    if (day > daysInMonth(year, month)) continue;
    if (Date.UTC(year, month - 1, day, h, m, s) - offsetMinutes * 60_000 - nowMs <= DAY_MS) return year;
  }
  return -1;
}

/**
 * `hh:mm:ss` at `q` (the values unchecked, 0..99) as `h << 16 | m << 8 | s`, or -1 when the
 * text there is not shaped so. One number, so that reading it allocates nothing.
 */
function clockAt(text: string, q: number, end: number): number {
  const h = fixedDigits(text, q, 2, end);
  const m = fixedDigits(text, q + 3, 2, end);
  const s = fixedDigits(text, q + 6, 2, end);
  if (h < 0 || m < 0 || s < 0 || text.charCodeAt(q + 2) !== CH_COLON || text.charCodeAt(q + 5) !== CH_COLON) {
    return -1;
  }
  return (h << 16) | (m << 8) | s;
}

const NO_FRACTION = '000000000';
/** The nine fraction digits of the last fractionEnd() (a scratch value: nothing allocated per call). */
let fraction = NO_FRACTION;

/** Where the digits after a `.` (or `,`) at `q` end, their first nine (padded) in `fraction`; `q` when there are none. */
function fractionEnd(text: string, q: number, end: number): number {
  fraction = NO_FRACTION;
  const c = text.charCodeAt(q);
  if ((c !== CH_DOT && c !== CH_COMMA) || !isDigit(text.charCodeAt(q + 1))) return q;
  let j = q + 1;
  while (j < end && isDigit(text.charCodeAt(j))) j++;
  fraction = text.slice(q + 1, Math.min(j, q + 10)).padEnd(9, '0');
  return j;
}

/** The canonical form of a valid wall time at `offsetMinutes` east of UTC; undefined outside years 0000..9999. */
function canonical(
  y: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  nanos: string,
  offsetMinutes: number,
): string | undefined {
  if (offsetMinutes === 0)
    return `${pad4(y)}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}.${nanos}Z`;
  // Date.UTC reads years 0..99 as 19xx, and the shift may leave 0000..9999: those few go the long way.
  if (y >= 100 && y <= 9998) {
    const whole = canonicalFromMillis(Date.UTC(y, month - 1, day, h, m, s) - offsetMinutes * 60_000);
    return `${whole.slice(0, 20)}${nanos}Z`;
  }
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  const wall = `${pad4(y)}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}.${nanos}`;
  return toCanonicalTimestamp(wall + offset) ?? undefined;
}

function ambiguous(zone: ZoneRead): string {
  return `time zone ${zone.name ?? ''} has more than one meaning (taken as UTC)`;
}

/**
 * A BSD timestamp at `p` (see the module comment). Null when the text at `p` is not shaped
 * like one; `timestamp` undefined when it is, but names no real time.
 */
function readBsdTimestamp(
  text: string,
  p: number,
  end: number,
  now: Date,
  deviceForms: boolean,
): TimeRead | null {
  let q = p;
  let year = -1;
  if (deviceForms && isDigit(text.charCodeAt(p))) {
    year = fixedDigits(text, p, 4, end);
    if (year < 0 || text.charCodeAt(p + 4) !== CH_SP) return null;
    q = skipSpaces(text, p + 5, end);
  }
  const name = monthAt(text, q, end);
  if (name === 0) return null;
  const month = name & 15;
  q = skipSpaces(text, q + (name >> 4), end);
  if (!isDigit(text.charCodeAt(q))) return null;
  let day = text.charCodeAt(q++) - 48;
  if (isDigit(text.charCodeAt(q))) day = day * 10 + (text.charCodeAt(q++) - 48);
  if (q >= end || text.charCodeAt(q) !== CH_SP) return null;
  q = skipSpaces(text, q, end);
  const maybeYear = fixedDigits(text, q, 4, end);
  if (maybeYear >= 0 && text.charCodeAt(q + 4) === CH_SP) {
    if (year >= 0) return null;
    year = maybeYear;
    q = skipSpaces(text, q + 5, end);
  }
  const clock = clockAt(text, q, end);
  if (clock < 0) return null;
  const h = clock >> 16;
  const m = (clock >> 8) & 0xff;
  const s = clock & 0xff;
  fraction = NO_FRACTION;
  q += 8;
  if (text.charCodeAt(q) === CH_DOT) q = fractionEnd(text, q, end);
  const zone = text.charCodeAt(q) === CH_SP ? zoneWordAt(text, q + 1, end) : null;
  if (zone !== null) q = zone.end;
  if (text.charCodeAt(q) === CH_COLON) q++;
  if (q < end && text.charCodeAt(q) !== CH_SP) return null;

  const offset = zone?.minutes ?? 0;
  let y = -1;
  if (h <= 23 && m <= 59 && s <= 59 && day >= 1 && day <= 31) {
    if (year < 0) y = nearestYear(month, day, h, m, s, now, offset);
    else if (day <= daysInMonth(year, month)) y = year;
  }
  const timestamp = y < 0 ? undefined : canonical(y, month, day, h, m, s, fraction, offset);
  if (timestamp === undefined) return { end: q, timestamp, problem: `unusable timestamp at offset ${p}` };
  return { end: q, timestamp, problem: zone?.minutes === null ? ambiguous(zone) : undefined };
}

/**
 * An ISO 8601 date-time at `p` (see the module comment), or null when there is none. A token
 * that starts like one (`2024-05-01T`) but cannot be read is still the header's timestamp,
 * unusable: up to the next space.
 */
function readIsoTimestamp(text: string, p: number, end: number, deviceForms: boolean): TimeRead | null {
  if (p + 11 > end) return null;
  const sep = text.charCodeAt(p + 10);
  const t = sep === CH_T || sep === CH_t;
  if (!t && !(deviceForms && sep === CH_SP)) return null;
  if (t) {
    const strict = rfc3339Token(text, p, end);
    if (strict !== null) return strict;
  }
  const year = fixedDigits(text, p, 4, end);
  const month = fixedDigits(text, p + 5, 2, end);
  const day = fixedDigits(text, p + 8, 2, end);
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    text.charCodeAt(p + 4) !== CH_DASH ||
    text.charCodeAt(p + 7) !== CH_DASH
  ) {
    return null;
  }
  const clock = clockAt(text, p + 11, end);
  if (clock < 0) return t ? unusableToken(text, p, end) : null;
  const h = clock >> 16;
  const m = (clock >> 8) & 0xff;
  const s = clock & 0xff;
  let q = fractionEnd(text, p + 19, end);
  const z = text.charCodeAt(q);
  let zone: ZoneRead | null = z === CH_Z || z === CH_z ? { end: q + 1, minutes: 0 } : offsetAt(text, q, end);
  if (zone !== null) q = zone.end;
  // A zone as a word of its own (`+0000`, `UTC`); after an offset, its name (`-0700 MST`, `+0300 +03`).
  for (let words = 0; words < 2 && text.charCodeAt(q) === CH_SP; words++) {
    const word = zoneWordAt(text, q + 1, end);
    if (word === null) break;
    q = word.end;
    zone ??= word;
    if (word.name !== undefined) break;
  }
  if (text.charCodeAt(q) === CH_COLON) q++;
  if (q < end && text.charCodeAt(q) !== CH_SP) return t ? unusableToken(text, p, end) : null;

  const valid =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && h <= 23 && m <= 59 && s <= 59;
  const timestamp = valid ? canonical(year, month, day, h, m, s, fraction, zone?.minutes ?? 0) : undefined;
  const token = text.slice(p, q);
  if (timestamp === undefined) return { end: q, timestamp, problem: `unusable timestamp ${quote(token)}` };
  const problem =
    zone === null
      ? `timestamp ${quote(token)}: no time zone offset (taken as UTC)`
      : zone.minutes === null
        ? ambiguous(zone)
        : undefined;
  return { end: q, timestamp, problem };
}

/**
 * The common case, read the quick way: a whole RFC 3339 token (what rsyslog and docker send)
 * not followed by a zone word. Null for anything else, which the general reader then takes.
 */
function rfc3339Token(text: string, p: number, end: number): TimeRead | null {
  let q = p + 11;
  while (q < end && text.charCodeAt(q) !== CH_SP) q++;
  const timestamp = toCanonicalTimestamp(text.slice(p, q));
  if (timestamp === null || (q < end && zoneWordAt(text, q + 1, end) !== null)) return null;
  return { end: q, timestamp, problem: undefined };
}

/** A token that starts like an ISO time but is not one: the header's timestamp all the same, unusable. */
function unusableToken(text: string, p: number, end: number): TimeRead {
  let q = p;
  while (q < end && text.charCodeAt(q) !== CH_SP) q++;
  return { end: q, timestamp: undefined, problem: `unusable timestamp ${quote(text.slice(p, q))}` };
}
