/**
 * Makes a line's text safe to store, search and print: terminal escape sequences go, control
 * characters become visible, a trailing carriage return goes.
 *
 * - ANSI/ECMA-48 escape sequences are removed: CSI (`ESC [` parameters, intermediates, a final
 *   byte: colours, cursor moves), string sequences (`ESC ]` OSC such as titles and hyperlinks,
 *   and `ESC P`/`X`/`^`/`_`) up to BEL or ST (`ESC \`), and the short forms `ESC` + intermediates
 *   + one final byte (`ESC ( B` from `tput sgr0`, `ESC 7`, `ESC c`). A lone ESC goes alone.
 *   A string sequence without its terminator loses only its `ESC ]` opener: a terminal would
 *   swallow the rest, but a log should not lose text over a stray byte.
 * - Other C0 control characters (NUL, BS, BEL, VT, FF, a lone CR, ...) are replaced by U+FFFD,
 *   one per run, rather than dropped. Dropping would glue the words on either side into one
 *   (`foo\0bar` would be found as `foobar`), and would hide that the program wrote bytes that
 *   are not text; U+FFFD is also what invalid UTF-8 already became, so "not text" looks the same
 *   everywhere. The exact bytes stay in `event.original`.
 * - TAB is kept, and so is LF: a Docker line never holds one, but an event that the multiline
 *   transform joined, or a syslog message received with octet counting, does on purpose.
 *   A CR right before an LF or at the end (after escape sequences are gone) is a line ending and
 *   is removed.
 * - C1 controls (U+0080..U+009F) and DEL are left alone: they only come from valid UTF-8 that
 *   says so explicitly, and the web page and CLI print them inertly.
 *
 * The common line has none of this and is returned as the same string, with no allocation.
 */

const ESC = 0x1b;
const BEL = 0x07;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const REPLACEMENT = '\uFFFD';

/**
 * Every C0 control but TAB and LF (ESC and CR included). Finding the first one is the whole
 * cost for a clean line, and here the regex beats a charCodeAt loop: measured on Node 20,
 * 60 ns against 180-220 ns for a 70-char line, 1.0 us against 2.7 us for 1000 chars
 * (irregexp scans a character class in native code). The rebuilding below, for the rare line
 * that needs it, is char-code work.
 */
const CONTROL = /[\x00-\x08\x0b-\x1f]/;

export function sanitizeMessage(text: string): string {
  if (!CONTROL.test(text)) return text;
  return rebuild(text, text.search(CONTROL));
}

/** `text[0, first)` is clean; build the cleaned string from there. */
function rebuild(text: string, first: number): string {
  const n = text.length;
  let out = text.slice(0, first);
  let seg = first; // start of the clean run not yet copied
  let pendingCR = false; // a CR whose fate depends on what visible text follows
  let lastWasReplacement = false;
  // No string sequence terminator (BEL, ST) at or after this index: known once a search failed.
  // Without it every unterminated `ESC X` searched to the end again: quadratic in a line of them.
  const noEnd = { from: n + 1 };
  let i = first;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 || c === TAB || c === LF) {
      i++;
      continue;
    }
    if (i > seg) {
      out = put(out, text, seg, i, pendingCR && !lastWasReplacement);
      pendingCR = false;
      lastWasReplacement = false;
    }
    if (c === ESC) {
      i = skipEscape(text, i, noEnd);
    } else if (c === CR) {
      pendingCR = true; // a run of CRs counts as one
      i++;
    } else {
      if (!lastWasReplacement) {
        out += REPLACEMENT;
        lastWasReplacement = true;
      }
      pendingCR = false;
      i++;
    }
    seg = i;
  }
  if (seg < n) out = put(out, text, seg, n, pendingCR && !lastWasReplacement);
  return out;
}

/** Appends `text[from, to)`, preceded by U+FFFD for a CR that turned out not to end a line. */
function put(out: string, text: string, from: number, to: number, pendingCR: boolean): string {
  if (pendingCR && text.charCodeAt(from) !== LF) out += REPLACEMENT;
  return out + text.slice(from, to);
}

/**
 * `text[i]` is ESC; returns the index after the escape sequence that starts there. `noEnd.from`
 * is where a string sequence's terminator is known not to occur any more (updated here).
 */
function skipEscape(text: string, i: number, noEnd: { from: number }): number {
  const n = text.length;
  if (i + 1 >= n) return n;
  const c = text.charCodeAt(i + 1);
  if (c === 0x5b) {
    // CSI: parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, final byte 0x40-0x7E.
    let j = i + 2;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d >= 0x40 && d <= 0x7e) return j + 1;
      if (d < 0x20 || d > 0x3f) break;
      j++;
    }
    return j; // malformed or cut short: drop what was read of it
  }
  if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) {
    // OSC, DCS, SOS, PM, APC: a string up to BEL or ST.
    if (i + 2 < noEnd.from) {
      for (let j = i + 2; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === BEL) return j + 1;
        if (d === ESC && j + 1 < n && text.charCodeAt(j + 1) === 0x5c) return j + 2;
      }
      noEnd.from = i + 2;
    }
    return i + 2;
  }
  if (c >= 0x20 && c <= 0x2f) {
    // nF sequence: intermediates, then one final byte.
    let j = i + 2;
    while (j < n && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
    if (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x7e) return j + 1;
    return j;
  }
  if (c >= 0x30 && c <= 0x7e) return i + 2; // ESC + one final byte
  return i + 1; // a lone ESC
}
