/**
 * What the built-in redaction finders share: the span they report, the marker they skip, and
 * character tests on char codes (the finders never build substrings while they search).
 */

/** Where a finder found a secret: `[start, end)` of the text to replace. */
export interface Span {
  start: number;
  end: number;
  /**
   * The marker must be written in double quotes: the secret was a bare JSON value
   * (`"pin": 1234`), and a bare marker would make the document invalid JSON.
   */
  quote: boolean;
}

/** Finds the first secret at or after `from`; fills `span` and returns true, or returns false. */
export type Finder = (s: string, from: number, span: Span) => boolean;

/** How every marker starts: a value that already is one is not redacted again. */
export const MARKER_START = '[REDACTED:';

/**
 * Index in `s` where `word` starts if `s[from, to)` ends with it (case-insensitive, `_-.`
 * skipped), else -1.
 */
export function endsWithWord(s: string, from: number, to: number, word: string): number {
  let i = to - 1;
  let w = word.length - 1;
  while (w >= 0) {
    if (i < from) return -1;
    const c = s.charCodeAt(i);
    if (c === 0x5f || c === 0x2d || c === 0x2e) {
      i--;
      continue;
    }
    if ((c | 0x20) !== word.charCodeAt(w)) return -1;
    i--;
    w--;
  }
  return i + 1;
}

export function isWordChar(c: number): boolean {
  return isUpper(c) || isLower(c) || isDigit(c) || c === 0x5f;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

export function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
