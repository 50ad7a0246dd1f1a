/**
 * Timestamps in logwharf's one canonical form: RFC 3339, UTC, exactly nine
 * fraction digits, e.g. `2024-05-01T12:00:00.123456789Z`.
 *
 * Why a fixed width: positions, cursors and stores compare timestamps as strings, and with
 * a fixed width (and years 0000..9999) string order is time order.
 * Why not `Date`: it keeps milliseconds only, and Docker gives nanoseconds. The fraction is
 * carried as digits; only whole seconds go through arithmetic (plain integers, no Date).
 */

const SECONDS_PER_DAY = 86_400;
const NANOS_PER_MILLI = 1_000_000;

const CH_0 = 48;
const CH_9 = 57;
const CH_DASH = 45;
const CH_PLUS = 43;
const CH_COLON = 58;
const CH_DOT = 46;
const CH_T = 84;
const CH_t = 116;
const CH_SPACE = 32;
const CH_Z = 90;
const CH_z = 122;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
 * Used instead of Date.UTC, which maps years 0..99 to 1900..1999.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The canonical form can only spell years 0000..9999; anything outside is rejected. */
const MIN_EPOCH_SECONDS = daysFromCivil(0, 1, 1) * SECONDS_PER_DAY;
const MAX_EPOCH_SECONDS = daysFromCivil(9999, 12, 31) * SECONDS_PER_DAY + SECONDS_PER_DAY - 1;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Seconds 60 (leap seconds) are rejected: no store or Date can represent them. */
export function isValidDateTime(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
): boolean {
  return (
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && h <= 23 && m <= 59 && s <= 59
  );
}

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

/** `count` digits starting at `at` as a number, or -1 when any of them is not a digit. */
export function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - CH_0);
  }
  return n;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`;
}

/** Formats whole epoch seconds plus a nine-digit fraction (H. Hinnant's civil_from_days). */
function formatCanonical(epochSeconds: number, fraction9: string): string {
  const days = Math.floor(epochSeconds / SECONDS_PER_DAY);
  const secondOfDay = epochSeconds - days * SECONDS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  return (
    `${pad4(year)}-${pad2(month)}-${pad2(day)}T` +
    `${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${fraction9}Z`
  );
}

/**
 * True when `text` is already `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` with valid fields: the form
 * Docker sends for every line, so this is checked first, by char codes, allocating nothing.
 */
function isCanonical(text: string): boolean {
  if (text.length !== 30) return false;
  if (
    text.charCodeAt(4) !== CH_DASH ||
    text.charCodeAt(7) !== CH_DASH ||
    text.charCodeAt(10) !== CH_T ||
    text.charCodeAt(13) !== CH_COLON ||
    text.charCodeAt(16) !== CH_COLON ||
    text.charCodeAt(19) !== CH_DOT ||
    text.charCodeAt(29) !== CH_Z
  ) {
    return false;
  }
  for (let i = 20; i < 29; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return readDateTime(text);
}

/** year, month, day, hour, minute, second of the last `readDateTime` that succeeded (reused: no allocation). */
const fields = new Int32Array(6);

/**
 * Reads the date and time digits of `YYYY-MM-DD?hh:mm:ss` at the start of `text` (separators
 * already checked by the caller) into `fields`; false when they are not digits or not a
 * valid date-time.
 */
function readDateTime(text: string): boolean {
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return false;
  if (!isValidDateTime(year, month, day, hour, minute, second)) return false;
  fields[0] = year;
  fields[1] = month;
  fields[2] = day;
  fields[3] = hour;
  fields[4] = minute;
  fields[5] = second;
  return true;
}

/**
 * Any RFC 3339 date-time in the canonical form, or null when it is not one.
 *
 * Accepted: `T`, `t` or a space between date and time (RFC 3339 section 5.6 allows the
 * space), 0..9 fraction digits (more would lose precision silently, so they are refused),
 * `Z`, `z` or `±hh:mm` (`-00:00` is UTC). Leap seconds and results outside years
 * 0000..9999 are refused.
 */
export function toCanonicalTimestamp(rfc3339: string): string | null {
  if (isCanonical(rfc3339)) return rfc3339;
  const text = rfc3339;
  if (text.length < 20) return null;
  const sep = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== CH_DASH ||
    text.charCodeAt(7) !== CH_DASH ||
    (sep !== CH_T && sep !== CH_t && sep !== CH_SPACE) ||
    text.charCodeAt(13) !== CH_COLON ||
    text.charCodeAt(16) !== CH_COLON
  ) {
    return null;
  }
  if (!readDateTime(text)) return null;
  const year = fields[0]!;
  const month = fields[1]!;
  const day = fields[2]!;
  const hour = fields[3]!;
  const minute = fields[4]!;
  const second = fields[5]!;

  let i = 19;
  let fraction = '';
  if (text.charCodeAt(i) === CH_DOT) {
    const start = ++i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    const count = i - start;
    if (count === 0 || count > 9) return null;
    fraction = text.slice(start, i);
  }

  let offsetSeconds = 0;
  const zone = text.charCodeAt(i);
  if (zone === CH_Z || zone === CH_z) {
    if (i + 1 !== text.length) return null;
  } else if (zone === CH_PLUS || zone === CH_DASH) {
    if (i + 6 !== text.length || text.charCodeAt(i + 3) !== CH_COLON) return null;
    const offsetHours = digitsAt(text, i + 1, 2);
    const offsetMinutes = digitsAt(text, i + 4, 2);
    if (offsetHours < 0 || offsetMinutes < 0 || offsetHours > 23 || offsetMinutes > 59) return null;
    offsetSeconds = (zone === CH_PLUS ? 1 : -1) * (offsetHours * 3600 + offsetMinutes * 60);
  } else {
    return null;
  }

  // Local time minus its offset is UTC.
  const epochSeconds =
    daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (epochSeconds < MIN_EPOCH_SECONDS || epochSeconds > MAX_EPOCH_SECONDS) return null;
  return formatCanonical(epochSeconds, fraction.padEnd(9, '0'));
}

/**
 * The canonical form of a millisecond epoch time (as from `Date.now()`), plus nanoseconds
 * beyond the millisecond. A fractional `ms` keeps its sub-millisecond part to the nanosecond.
 * Throws RangeError for non-finite input or a time outside years 0000..9999.
 */
export function canonicalFromMillis(ms: number, extraNanos = 0): string {
  if (!Number.isFinite(ms) || !Number.isInteger(extraNanos)) {
    throw new RangeError(`cannot make a timestamp of ${ms} ms + ${extraNanos} ns`);
  }
  let wholeMillis = Math.floor(ms);
  let nanosInMilli = Math.round((ms - wholeMillis) * NANOS_PER_MILLI) + extraNanos;
  // Carry (or borrow) whole milliseconds so that 0 <= nanosInMilli < 1e6.
  const carry = Math.floor(nanosInMilli / NANOS_PER_MILLI);
  wholeMillis += carry;
  nanosInMilli -= carry * NANOS_PER_MILLI;
  const epochSeconds = Math.floor(wholeMillis / 1000);
  if (epochSeconds < MIN_EPOCH_SECONDS || epochSeconds > MAX_EPOCH_SECONDS) {
    throw new RangeError(`timestamp ${ms} ms is outside the years 0000..9999`);
  }
  const nanosInSecond = (wholeMillis - epochSeconds * 1000) * NANOS_PER_MILLI + nanosInMilli;
  return formatCanonical(epochSeconds, `${nanosInSecond}`.padStart(9, '0'));
}

/**
 * A canonical timestamp moved by `deltaMs` whole milliseconds, its sub-millisecond digits kept;
 * null when `canonical` is not canonical or the result falls outside the years 0000..9999.
 * Integer arithmetic only: at year 9999 epoch milliseconds are ~2.5e14, well inside 2^53.
 */
export function addMillis(canonical: string, deltaMs: number): string | null {
  if (!Number.isSafeInteger(deltaMs) || !isCanonical(canonical)) return null;
  const epochSeconds =
    daysFromCivil(fields[0]!, fields[1]!, fields[2]!) * SECONDS_PER_DAY +
    fields[3]! * 3600 +
    fields[4]! * 60 +
    fields[5]!;
  const totalMs = epochSeconds * 1000 + digitsAt(canonical, 20, 3) + deltaMs;
  const seconds = Math.floor(totalMs / 1000);
  if (seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS) return null;
  const millis = totalMs - seconds * 1000;
  const fraction = `${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}${canonical.slice(23, 29)}`;
  return formatCanonical(seconds, fraction);
}
