/**
 * Byte-level helpers of the Docker log decoder (frames.ts): recognising timestamps in a Buffer
 * without decoding it, and cutting a Buffer on a UTF-8 character boundary.
 */

import { isValidDateTime } from '../../core/timestamp.js';

const SPACE = 32;

// ---- timestamps -------------------------------------------------------------------------

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Characters that can occur in an RFC 3339 timestamp. */
export function isTimestampChar(c: number): boolean {
  return (
    (c >= 48 && c <= 58) || // 0-9 :
    c === 45 || // -
    c === 46 || // .
    c === 43 || // +
    c === 84 || // T
    c === 116 || // t
    c === 90 || // Z
    c === 122 // z
  );
}

/**
 * `2024-05-01T12:00:00.123456789Z ` at `pos` (the caller made sure 31 bytes are there), naming a
 * real date and time: the shape alone would let `2024-13-45T99:99:99...` through this fast path
 * while the slow path (toCanonicalTimestamp) refuses it, and a line's fate would then depend on
 * where the chunks were cut.
 */
export function isCanonicalTimestampAt(b: Buffer, p: number): boolean {
  return (
    b[p + 4] === 45 &&
    b[p + 7] === 45 &&
    b[p + 10] === 84 &&
    b[p + 13] === 58 &&
    b[p + 16] === 58 &&
    b[p + 19] === 46 &&
    b[p + 29] === 90 &&
    b[p + 30] === SPACE &&
    digits(b, p, 4) &&
    digits(b, p + 5, 2) &&
    digits(b, p + 8, 2) &&
    digits(b, p + 11, 2) &&
    digits(b, p + 14, 2) &&
    digits(b, p + 17, 2) &&
    digits(b, p + 20, 9) &&
    namesRealTime(b, p)
  );
}

/**
 * The digits at `p` name a real date and time. Month, hour, minute, second and a day up to 28
 * are two-digit comparisons; only a day of 29 to 31 needs the year and the month's length.
 */
function namesRealTime(b: Buffer, p: number): boolean {
  const month = two(b, p + 5);
  const day = two(b, p + 8);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    two(b, p + 11) > 23 ||
    two(b, p + 14) > 59 ||
    two(b, p + 17) > 59
  ) {
    return false;
  }
  return day <= 28 || isValidDateTime(two(b, p) * 100 + two(b, p + 2), month, day, 0, 0, 0);
}

/** The value of the two digits at `p` (already checked to be digits). */
function two(b: Buffer, p: number): number {
  return (b[p]! - 48) * 10 + (b[p + 1]! - 48);
}

function digits(b: Buffer, p: number, n: number): boolean {
  for (let i = p; i < p + n; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The current time in the canonical form (millisecond precision, zero-padded to nine digits). */
export function canonicalNow(): string {
  return `${new Date().toISOString().slice(0, 23)}000000Z`;
}

// ---- UTF-8 ------------------------------------------------------------------------------

/**
 * The largest cut `<= end` that does not split a UTF-8 character of `buf[start, end)`: when the
 * last character is incomplete, the cut goes before its lead byte.
 */
export function utf8Boundary(buf: Buffer, start: number, end: number): number {
  const min = Math.max(start, end - 4);
  let i = end - 1;
  while (i >= min && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < min) return end; // not a character anyway; the decoder makes U+FFFD of it
  const b = buf[i]!;
  const need = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  return i + need > end ? i : end;
}
