/**
 * Card numbers (the `card_number` rule): digit runs that pass the Luhn check.
 */

import { isDigit, isWordChar, type Span } from './redact-scan.js';

/**
 * 13 to 19 digits, possibly grouped by single blanks or dashes, as a whole word, starting with
 * 2 to 6 (the issuer ranges of the card networks), passing the Luhn check. The Luhn check keeps
 * 9 in 10 other numbers; the first digit keeps epoch timestamps (`1714564800000`, which start
 * with 1 until 2033); the word rule keeps digits inside hex ids and decimals.
 */
export function findCardNumber(s: string, from: number, span: Span): boolean {
  const n = s.length;
  // A run long enough holds at least 13 characters, so probing every 13th character finds every
  // such run: a probe outside any run rules out the 12 characters before it. Text with few
  // digits is skipped 13 characters at a time.
  let q = from + 12;
  while (q < n) {
    if (!inDigitRun(s, q)) {
      q += 13;
      continue;
    }
    let start = q;
    while (start > from) {
      const c = s.charCodeAt(start - 1);
      if (
        isDigit(c) ||
        ((c === 0x20 || c === 0x2d) && start - 2 >= from && isDigit(s.charCodeAt(start - 2)))
      ) {
        start--;
      } else break;
    }
    if (!isDigit(s.charCodeAt(start))) start++; // began at a separator
    let digits = 0;
    let end = start;
    while (end < n) {
      const d = s.charCodeAt(end);
      if (isDigit(d)) {
        digits++;
        end++;
      } else if ((d === 0x20 || d === 0x2d) && isDigit(s.charCodeAt(end + 1))) {
        end++;
      } else {
        break;
      }
    }
    if (digits >= 13 && cardInRun(s, start, end, digits, span)) return true;
    q = end + 13;
  }
  return false;
}

/** A digit, or a single blank or dash between two digits. */
function inDigitRun(s: string, q: number): boolean {
  const c = s.charCodeAt(q);
  if (isDigit(c)) return true;
  return (c === 0x20 || c === 0x2d) && isDigit(s.charCodeAt(q - 1)) && isDigit(s.charCodeAt(q + 1));
}

/**
 * A card number among the groups of the run `s[start, end)`: the whole run first, then shorter
 * windows of whole groups from the left, so that `2024-05-01 4111111111111111` still finds the
 * card after the date that the separators joined to it.
 */
function cardInRun(s: string, start: number, end: number, digits: number, span: Span): boolean {
  let total = digits;
  for (let a = start; a < end; ) {
    const leftOk = a > start || start === 0 || !notCardBoundary(s.charCodeAt(a - 1), s.charCodeAt(a - 2));
    const first = s.charCodeAt(a);
    if (leftOk && first >= 0x32 && first <= 0x36 && total >= 13) {
      // Windows [a, b), longest first: shrink from the right one group at a time.
      let count = total;
      for (let b = end; b > a && count >= 13; ) {
        const rightOk = b < end || end === s.length || !notCardBoundary(s.charCodeAt(b), s.charCodeAt(b + 1));
        if (count <= 19 && rightOk && luhn(s, a, b)) {
          span.start = a;
          span.end = b;
          span.quote = false;
          return true;
        }
        // Drop the last group and its separator.
        let k = b;
        while (k > a && isDigit(s.charCodeAt(k - 1))) {
          k--;
          count--;
        }
        b = k - 1;
      }
    }
    // Next group.
    while (a < end && isDigit(s.charCodeAt(a))) {
      a++;
      total--;
    }
    a++;
  }
  return false;
}

/** `c` next to a number (and `d` beyond it) makes the number part of a word or a decimal. */
function notCardBoundary(c: number, d: number): boolean {
  return isWordChar(c) || (c === 0x2e && isDigit(d));
}

/** The Luhn (mod 10) check over the digits of `s[start, end)`. */
export function luhn(s: string, start = 0, end = s.length): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) continue;
    let d = c - 0x30;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
