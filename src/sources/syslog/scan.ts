/**
 * Character codes and index-based scanning helpers shared by the syslog parsers.
 *
 * Why char codes: the receiver parses every message it gets (100k+/s), so the parsers walk
 * the text with `charCodeAt` and slice only the fields they keep; nothing here allocates.
 */

import { digitsAt } from '../../core/timestamp.js';

export const CH_NUL = 0;
export const CH_TAB = 9;
export const CH_LF = 10;
export const CH_CR = 13;
export const CH_SP = 32;
export const CH_DQUOTE = 34;
export const CH_PERCENT = 37;
export const CH_STAR = 42;
export const CH_PLUS = 43;
export const CH_COMMA = 44;
export const CH_DASH = 45;
export const CH_DOT = 46;
export const CH_0 = 48;
export const CH_9 = 57;
export const CH_COLON = 58;
export const CH_LT = 60;
export const CH_EQ = 61;
export const CH_GT = 62;
export const CH_LBRACKET = 91;
export const CH_BACKSLASH = 92;
export const CH_RBRACKET = 93;
export const CH_UNDERSCORE = 95;
export const CH_LBRACE = 123;
export const CH_DEL = 127;
/** U+FEFF: RFC 5424 says a UTF-8 MSG starts with it; it is an encoding mark, not text. */
export const CH_BOM = 0xfeff;

export function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

/** ASCII letters and digits only: what rsyslog's `isalnum` accepts in the C locale. */
export function isAlnum(c: number): boolean {
  return (c >= CH_0 && c <= CH_9) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isHexDigit(c: number): boolean {
  return (c >= CH_0 && c <= CH_9) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** The value of the decimal digits in [from, to); the caller has checked they are digits. */
export function digitsValue(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (text.charCodeAt(i) - CH_0);
  return n;
}

/** `count` digits at `at` as a number, or -1 when any of them is missing or not a digit. */
export function fixedDigits(text: string, at: number, count: number, end: number): number {
  return at + count > end ? -1 : digitsAt(text, at, count);
}

export function skipSpaces(text: string, p: number, end: number): number {
  while (p < end && text.charCodeAt(p) === CH_SP) p++;
  return p;
}

/** Past one U+FEFF at `p`, if there is one. */
export function skipBom(text: string, p: number, end: number): number {
  return p < end && text.charCodeAt(p) === CH_BOM ? p + 1 : p;
}

/**
 * The end of `text` without its trailing NUL/CR/LF run: framing leftovers (a NUL or LF
 * trailer, a CRLF from a line-based sender) that are never part of the message.
 */
export function trimmedEnd(text: string): number {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== CH_LF && c !== CH_CR && c !== CH_NUL) break;
    end--;
  }
  return end;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

export function pad4(n: number): string {
  return n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`;
}
