/**
 * A level keyword at the start of a plain-text line (`ERROR ...`, `2024-05-01 12:00:00 WARN ...`,
 * `[error] ...`). Split out of body.ts; pure.
 */
import { severityOfWord } from '../core/severity-words.js';

/**
 * Words taken as a level at the start of a line. Bare, they must be upper case, as logging
 * libraries print them: a sentence that starts with "Error connecting" or "Trace id" is prose.
 * In brackets (`[error]`, `[Warning]`) any case. Logrus's four-letter forms are included
 * because Go programs (Docker's own tools among them) print `ERRO[0000] ...`. What each word
 * means comes from the one table (src/core/severity-words.ts).
 */
const KEYWORDS = new Map<string, number>(
  [
    'EMERG',
    'ALERT',
    'CRIT',
    'CRITICAL',
    'FATAL',
    'FATA',
    'PANIC',
    'PANI',
    'ERROR',
    'ERR',
    'ERRO',
    'WARN',
    'WARNING',
    'NOTICE',
    'INFO',
    'DEBUG',
    'DEBU',
    'TRACE',
    'TRAC',
  ].map((word) => [word, severityOfWord(word)!]),
);
const MAX_KEYWORD = 8;
/** Longest bracketed group looked into (`[Mon Dec 26 16:15:55.103786 2016]` fits). */
const MAX_BRACKET = 48;

/** A level keyword at the start, or after a leading timestamp (log4j, Python, zap, nginx...). */
/** The severity of a level word that opens the line (after an optional timestamp), if any. */
export function leadingLevel(text: string): number | undefined {
  const atStart = levelAt(text, 0);
  if (atStart !== undefined) return atStart;
  const c = text.charCodeAt(0);
  if (!isDigit(c) && c !== 0x5b) return undefined;
  const after = skipTimestamp(text);
  return after < 0 ? undefined : levelAt(text, after);
}

function levelAt(text: string, i: number): number | undefined {
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === 0x5b) {
    // [error], [WARN], and Apache 2.4's [module:level]
    let start = i + 1;
    let j = start;
    const limit = Math.min(n, i + 1 + MAX_BRACKET);
    for (; j < limit; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x5d) break;
      if (d === 0x3a) start = j + 1;
    }
    if (j >= limit || j - start < 3 || j - start > MAX_KEYWORD) return undefined;
    for (let k = start; k < j; k++) if (!isLetter(text.charCodeAt(k))) return undefined;
    return KEYWORDS.get(text.slice(start, j).toUpperCase());
  }
  if (c < 0x41 || c > 0x5a) return undefined; // A-Z
  let j = i + 1;
  while (j < n && j - i <= MAX_KEYWORD) {
    const d = text.charCodeAt(j);
    if (d < 0x41 || d > 0x5a) break;
    j++;
  }
  if (j - i < 3 || j - i > MAX_KEYWORD) return undefined;
  if (j < n && isWordChar(text.charCodeAt(j))) return undefined; // ERRORS, Info, ERR_CONN...
  return KEYWORDS.get(text.slice(i, j));
}

/**
 * Index after a leading timestamp and the blanks after it, or -1. Accepts
 * `2024-05-01 12:00:00,123`, `2024-05-01T12:00:00.123456Z`, `2024-05-01T12:00:00+02:00`,
 * `2016/10/25 14:49:34`, any of them in brackets, and a short bracketed group with a clock in it
 * (`[Mon Dec 26 16:22:08 2016]`).
 */
function skipTimestamp(text: string): number {
  const n = text.length;
  let p = 0;
  const bracket = text.charCodeAt(0) === 0x5b;
  if (bracket) p = 1;
  const sep = text.charCodeAt(p + 4);
  if (
    (sep === 0x2d || sep === 0x2f) &&
    digitsAt(text, p, 4) &&
    digitsAt(text, p + 5, 2) &&
    text.charCodeAt(p + 7) === sep &&
    digitsAt(text, p + 8, 2)
  ) {
    p += 10;
    const t = text.charCodeAt(p);
    if (t !== 0x54 && t !== 0x20) return -1; // T or space
    p++;
    if (!(digitsAt(text, p, 2) && text.charCodeAt(p + 2) === 0x3a && digitsAt(text, p + 3, 2))) return -1;
    p += 5;
    if (text.charCodeAt(p) === 0x3a && digitsAt(text, p + 1, 2)) p += 3;
    const f = text.charCodeAt(p);
    if ((f === 0x2e || f === 0x2c) && isDigit(text.charCodeAt(p + 1))) {
      p++;
      while (p < n && isDigit(text.charCodeAt(p))) p++;
    }
    const z = text.charCodeAt(p);
    if (z === 0x5a) p++;
    else if ((z === 0x2b || z === 0x2d) && digitsAt(text, p + 1, 2)) {
      p += 3;
      if (text.charCodeAt(p) === 0x3a) p++;
      if (digitsAt(text, p, 2)) p += 2;
    }
    if (bracket) {
      if (text.charCodeAt(p) !== 0x5d) return -1;
      p++;
    }
  } else if (bracket) {
    const limit = Math.min(n, 1 + MAX_BRACKET);
    let close = 1;
    while (close < limit && text.charCodeAt(close) !== 0x5d) close++;
    if (close >= limit || !hasClock(text, 1, close)) return -1;
    p = close + 1;
  } else {
    return -1;
  }
  const blanks = p;
  while (p < n && isSpace(text.charCodeAt(p))) p++;
  return p === blanks || p >= n ? -1 : p;
}

/** `hh:mm:ss` somewhere in `text[from, to)`. */
function hasClock(text: string, from: number, to: number): boolean {
  for (let i = from; i + 8 <= to; i++) {
    if (
      text.charCodeAt(i + 2) === 0x3a &&
      text.charCodeAt(i + 5) === 0x3a &&
      digitsAt(text, i, 2) &&
      digitsAt(text, i + 3, 2) &&
      digitsAt(text, i + 6, 2)
    ) {
      return true;
    }
  }
  return false;
}

function digitsAt(text: string, p: number, count: number): boolean {
  for (let i = p; i < p + count; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x5f;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
