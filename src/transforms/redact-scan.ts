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

/**
 * `s.indexOf(needle, from)` that remembers its last answer. A finder is called once per secret,
 * each time from just past the one before, and looks for two or three needles: one that no
 * longer occurs was searched for to the end of the string on every call, quadratic in the number
 * of secrets in a line (a 90 KB line of `redis://:p@ss` took 150 ms, of AWS key ids 300 ms).
 * An answer stays right for any later `from` up to it, and "none" for any later `from` at all.
 */
export class NextIndex {
  private s: string | null = null;
  private from = 0;
  private at = -1;

  constructor(private readonly needle: string) {}

  in(s: string, from: number): number {
    if (s === this.s && from >= this.from && (this.at < 0 || from <= this.at)) return this.at;
    this.s = s;
    this.from = from;
    this.at = s.indexOf(this.needle, from);
    return this.at;
  }
}
