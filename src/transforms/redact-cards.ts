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
    // A card starts at a group of the run: try each, from the first, up to the run's end. The run
    // is walked only as far as the card found: a call per card that measured the whole run first
    // made a line of short numbers quadratic (each card redacted cost the rest of the line).
    let a = start;
    for (;;) {
      const leftOk = a > start || start === 0 || !notCardBoundary(s.charCodeAt(a - 1), s.charCodeAt(a - 2));
      const first = s.charCodeAt(a);
      if (leftOk && first >= 0x32 && first <= 0x36 && cardFrom(s, a, span)) return true;
      while (a < n && isDigit(s.charCodeAt(a))) a++;
      if (!continuesRun(s, a)) break;
      a++;
    }
    q = a + 13;
  }
  return false;
}

/** A digit, or a single blank or dash between two digits. */
function inDigitRun(s: string, q: number): boolean {
  const c = s.charCodeAt(q);
  if (isDigit(c)) return true;
  return (c === 0x20 || c === 0x2d) && isDigit(s.charCodeAt(q - 1)) && isDigit(s.charCodeAt(q + 1));
}

/** `s[i]` is a blank or dash with a digit after it: the run of groups goes on past `i`. */
function continuesRun(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return (c === 0x20 || c === 0x2d) && isDigit(s.charCodeAt(i + 1));
}

/** Ends of the windows that cardFrom tries: at most 7 (13 to 19 digits, a group adding one or more). */
const windowEnds = new Int32Array(7);
const windowDigits = new Int32Array(7);
/**
 * Luhn sums of the first k digits from `a`, by the parity of each digit's index: `plain` adds the
 * digits as they are, `doubled` adds them doubled (less 9 when over 9). A window of c digits
 * doubles every digit whose index has the other parity than c - 1, so its sum is one lookup in
 * each (cardFrom), not a walk over the window.
 */
const plain = new Int32Array(2 * 21); // parity p, k digits: plain[p * 21 + k]
const doubled = new Int32Array(2 * 21);

/**
 * The longest window of whole groups starting at `a` that holds 13 to 19 digits and passes the
 * checks, so that `2024-05-01 4111111111111111` still finds the card after the date that the
 * separators joined to it. Only windows of at most 19 digits are looked at, found scanning
 * forward from `a`, and their Luhn sums come from one pass over those digits: walking back from
 * the run's end made a long run of short groups (`40 40 40 ...`) cost its length for every group,
 * quadratic in the line, and a Luhn walk per window cost 1 us per character of `3 3 3 ...`.
 */
function cardFrom(s: string, a: number, span: Span): boolean {
  const n = s.length;
  let found = 0;
  let count = 0;
  for (let i = a; ; i++) {
    while (i < n && isDigit(s.charCodeAt(i)) && count < 20) {
      const d = s.charCodeAt(i) - 0x30;
      const p = count & 1;
      const dd = d > 4 ? d * 2 - 9 : d * 2;
      const same = p * 21 + count;
      const other = (p ^ 1) * 21 + count;
      plain[same + 1] = plain[same]! + d;
      doubled[same + 1] = doubled[same]! + dd;
      plain[other + 1] = plain[other]!;
      doubled[other + 1] = doubled[other]!;
      i++;
      count++;
    }
    if (count > 19) break;
    if (count >= 13) {
      windowEnds[found] = i;
      windowDigits[found++] = count;
    }
    if (!continuesRun(s, i)) break;
  }
  for (let k = found - 1; k >= 0; k--) {
    const b = windowEnds[k]!;
    const c = windowDigits[k]!;
    // Inside the run, a window ends at a separator; at the run's end, the next character must not glue it to a word.
    const rightOk = continuesRun(s, b) || b === n || !notCardBoundary(s.charCodeAt(b), s.charCodeAt(b + 1));
    const last = (c - 1) & 1; // the parity of the indexes that are not doubled
    if (rightOk && (plain[last * 21 + c]! + doubled[(last ^ 1) * 21 + c]!) % 10 === 0) {
      span.start = a;
      span.end = b;
      span.quote = false;
      return true;
    }
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
