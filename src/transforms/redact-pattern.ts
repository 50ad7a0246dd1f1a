/**
 * The user's redaction patterns: refusing those that can match empty text, and replacement
 * strings with `$` references, read once at compile time the way String.prototype.replace
 * reads them, so the replacement can go through a callback (which counts hits and leaves
 * empty matches alone) and still mean what the user wrote.
 */

/** Strings on which a pattern that can match empty text nearly always does. */
const EMPTY_PROBES = ['', 'a', ' ', '0', 'a b', 'x\ny', 'aZ0_-.:=/ "\'@[]{}', 'password=secret token: x'];

/**
 * Whether the pattern matched empty text on any probe. Not a proof (a lookahead for a rare word
 * escapes it), so the replacement also leaves empty matches alone at run time.
 */
export function canMatchEmpty(re: RegExp): boolean {
  for (const probe of EMPTY_PROBES) {
    re.lastIndex = 0;
    for (;;) {
      const m = re.exec(probe);
      if (m === null) break;
      if (m[0] === '') return true;
    }
  }
  re.lastIndex = 0;
  return false;
}

/** A parsed replacement: literal text, or a reference (group number; -1 before, -2 after; a group name). */
export type Part = string | number | { group: string };

/** `$$ $& $\` $' $n $nn $<name>` as String.prototype.replace reads them; null: no `$` at all. */
export function parseReplacement(replacement: string, re: RegExp): Part[] | null {
  if (!replacement.includes('$')) return null;
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  const named = /\(\?<[A-Za-z_$]/.test(re.source);
  const parts: Part[] = [];
  let lit = '';
  const n = replacement.length;
  for (let i = 0; i < n; i++) {
    const c = replacement[i]!;
    const d = replacement[i + 1];
    if (c !== '$' || d === undefined) {
      lit += c;
      continue;
    }
    let ref: Part | undefined;
    let used = 1;
    if (d === '$') ref = '$';
    else if (d === '&') ref = 0;
    else if (d === '`') ref = -1;
    else if (d === "'") ref = -2;
    else if (d >= '0' && d <= '9') {
      const two = Number(replacement.slice(i + 1, i + 3));
      const one = Number(d);
      if (/^[0-9]{2}$/.test(replacement.slice(i + 1, i + 3)) && two >= 1 && two <= groups) {
        ref = two;
        used = 2;
      } else if (one >= 1 && one <= groups) ref = one;
    } else if (d === '<' && named) {
      const close = replacement.indexOf('>', i + 2);
      if (close > 0) {
        ref = { group: replacement.slice(i + 2, close) };
        used = close - i;
      }
    }
    if (ref === undefined) {
      lit += c;
      continue;
    }
    if (typeof ref === 'string') lit += ref;
    else {
      if (lit !== '') parts.push(lit);
      lit = '';
      parts.push(ref);
    }
    i += used;
  }
  if (lit !== '') parts.push(lit);
  return parts;
}

/** The replacement for one match; `args` are String.prototype.replace's callback arguments. */
export function expand(parts: readonly Part[], args: readonly unknown[]): string {
  let out = '';
  // args: match, p1..pn, offset, input, [groups]: find offset as the first number after the captures.
  let o = 1;
  while (typeof args[o] !== 'number') o++;
  const offset = args[o] as number;
  const input = args[o + 1] as string;
  const groups = args[o + 2] as Record<string, string | undefined> | undefined;
  const match = args[0] as string;
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (typeof p === 'number') {
      if (p === -1) out += input.slice(0, offset);
      else if (p === -2) out += input.slice(offset + match.length);
      else out += (args[p] as string | undefined) ?? '';
    } else out += groups?.[p.group] ?? '';
  }
  return out;
}
