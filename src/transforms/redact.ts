/**
 * Redaction: secrets are replaced by a marker (`[REDACTED:<rule>]`) before an event is buffered,
 * stored or forwarded. Only the secret goes; the rest of the line stays as written, so the event
 * can still be found and read.
 *
 * Built-in rules (redact-rules.ts) run first, in the order of BUILTIN_REDACTIONS, then the
 * user's rules in the order configured; each rule runs on the output of the one before.
 * An event's `message`, `original`, the texts of an access line (`url.original`, referrer, user
 * agent, user), every string inside `fields` (keys kept) and the values of
 * `syslog.structuredData` are redacted; a field or structured-data parameter whose key names a
 * secret (`password`, `db_pass`, `apiKey`, `aws_secret_access_key`...) has its whole value
 * replaced, whatever the value looks like.
 *
 * This runs on every string of every event. A string with nothing to redact costs one
 * case-insensitive test of the built-ins' hints (redact-rules.ts HINTS), a card-number scan that
 * skips ahead 13 characters at a time, and the user's patterns; it allocates nothing (V8 may box
 * a fractional number read from `fields`, which no code here can avoid).
 */

import { editDistance, formatPath, type RawProblem } from '../config/problems.js';
import { LogwharfError } from '../core/errors.js';
import type { AccessLog, LogEvent } from '../core/event.js';
import { KEY_AWS_SECRET, KEY_NONE, KEY_PASSWORD, keyKind } from './redact-pairs.js';
import { canMatchEmpty, expand, type Part, parseReplacement } from './redact-pattern.js';
import { BUILTIN_REDACTIONS, type BuiltinRedaction, FINDERS, HINTS } from './redact-rules.js';
import type { Finder, Span } from './redact-scan.js';

export { BUILTIN_REDACTIONS } from './redact-rules.js';

/** The free texts of an access line (the method, version and numbers cannot hold a secret; the client is an address). */
const ACCESS_TEXTS = ['url', 'referrer', 'agent', 'user'] as const;

export interface RedactRuleConfig {
  name: string;
  /** A JavaScript regular expression, without slashes or flags; `g` is added. */
  pattern: string;
  /** Default `[REDACTED:<name>]`. `$1`, `$<name>`, `$&`, `$$` work as in String.prototype.replace. */
  replacement?: string;
}

export interface RedactConfig {
  /** true: every built-in rule; false: none; a list: those, by name. */
  builtin: boolean | string[];
  rules: RedactRuleConfig[];
}

export interface Redactor {
  /** The text with every secret replaced; the same string when there is none. */
  redactText(s: string): string;
  /** Redacts the event in place; true if anything changed. */
  redactEvent(e: LogEvent): boolean;
  /** Replacements made, per rule name (every rule is listed, from 0). */
  counters: Map<string, number>;
}

/** Everything wrong with a redaction config, at once; `problems` have paths relative to it. */
export class RedactConfigError extends LogwharfError {
  readonly problems: RawProblem[];
  constructor(problems: RawProblem[]) {
    const lines = problems.map((p) => `${formatPath(p.segments)}: ${p.message}`);
    super('LOGWHARF_ERR_CONFIG', `invalid redaction rules: ${lines.join('; ')}`);
    this.name = 'RedactConfigError';
    this.problems = problems;
  }
}

/**
 * Checks and compiles a redaction config; null when it asks for nothing (no built-ins, no rules),
 * so the caller can leave redaction out of the pipeline. Throws RedactConfigError.
 *
 * A user pattern runs on every string of every event. A pattern that backtracks
 * catastrophically on some input (nested quantifiers such as `(a+)+$`, or `(.*)*x`) can stall
 * the whole pipeline on one crafted line (ReDoS): keep patterns anchored on literal text, and
 * prefer `[^ ]+` to `.*`. Patterns that can match the empty string are refused, since they
 * would insert the marker between characters.
 */
export function compileRedactor(cfg: RedactConfig): Redactor | null {
  const problems: RawProblem[] = [];
  const rules: Rule[] = [];
  const names = new Set<string>();

  const builtins = builtinNames(cfg.builtin, problems);
  for (const name of builtins) {
    names.add(name);
    rules.push({ name, marker: marker(name), find: FINDERS[name], hinted: HINTS[name] !== undefined });
  }
  cfg.rules.forEach((r, i) => {
    const at = (key: string, message: string) =>
      problems.push({ segments: ['rules', String(i), key], message, at: 'value' });
    if (typeof r.name !== 'string' || r.name.trim() === '') {
      at('name', 'a rule needs a name (it labels the marker and the counter)');
      return;
    }
    if (names.has(r.name)) {
      at('name', `rule name '${r.name}' is used twice (built-in names are taken too)`);
      return;
    }
    names.add(r.name);
    let re: RegExp;
    try {
      re = new RegExp(r.pattern, 'g');
    } catch (err) {
      at('pattern', `rule '${r.name}': not a valid regular expression: ${(err as Error).message}`);
      return;
    }
    if (canMatchEmpty(re)) {
      at(
        'pattern',
        `rule '${r.name}': the pattern can match empty text; make it match at least one character`,
      );
      return;
    }
    const replacement = r.replacement ?? marker(r.name);
    rules.push({ name: r.name, marker: replacement, re, parts: parseReplacement(replacement, re) });
  });
  if (problems.length > 0) throw new RedactConfigError(problems);
  if (rules.length === 0) return null;
  return new RuleRedactor(rules, builtins);
}

function marker(name: string): string {
  return `[REDACTED:${name}]`;
}

function builtinNames(builtin: boolean | string[], problems: RawProblem[]): BuiltinRedaction[] {
  if (builtin === true) return [...BUILTIN_REDACTIONS];
  if (builtin === false) return [];
  const wanted = new Set<string>();
  builtin.forEach((name, i) => {
    if ((BUILTIN_REDACTIONS as readonly string[]).includes(name)) {
      wanted.add(name);
      return;
    }
    const near = BUILTIN_REDACTIONS.find((b) => editDistance(b, String(name)) <= 2);
    problems.push({
      segments: ['builtin', String(i)],
      at: 'value',
      message:
        `unknown built-in redaction '${name}'` +
        (near ? ` (did you mean '${near}'?)` : '') +
        `; known: ${BUILTIN_REDACTIONS.join(', ')}`,
    });
  });
  // The built-in order, not the listed one: later rules rely on earlier ones having run.
  return BUILTIN_REDACTIONS.filter((b) => wanted.has(b));
}

// ---- the redactor ---------------------------------------------------------------------------

type Rule =
  /** A built-in; `hinted`: it runs only on text that matches the redactor's hint expression. */
  | { name: string; marker: string; find: Finder; hinted: boolean; re?: undefined; parts?: undefined }
  /** A user's pattern; `parts`: its parsed replacement, null when it has no `$` reference. */
  | { name: string; marker: string; find?: undefined; hinted?: undefined; re: RegExp; parts: Part[] | null };

/** Containers deeper than this are walked with an explicit stack instead of recursion. */
const MAX_RECURSION = 64;

class RuleRedactor implements Redactor {
  readonly counters = new Map<string, number>();
  private readonly span: Span = { start: 0, end: 0, quote: false };
  /** The markers for values under secret-naming keys, when those rules are on. */
  private readonly passwordMarker: string | undefined;
  private readonly awsMarker: string | undefined;
  private readonly keyRules: boolean;
  /** The hints of the built-ins in use, joined (redact-rules.ts HINTS); null when none has one. */
  private readonly hint: RegExp | null;
  /** Set by the field walk when it changed something. */
  private touched = false;

  constructor(
    private readonly rules: readonly Rule[],
    builtins: readonly BuiltinRedaction[],
  ) {
    for (const r of rules) this.counters.set(r.name, 0);
    this.passwordMarker = builtins.includes('password_pair') ? marker('password_pair') : undefined;
    this.awsMarker = builtins.includes('aws_access_key') ? marker('aws_access_key') : undefined;
    this.keyRules = this.passwordMarker !== undefined || this.awsMarker !== undefined;
    const hints = builtins.map((b) => HINTS[b]).filter((h) => h !== undefined);
    this.hint = hints.length === 0 ? null : new RegExp(hints.join('|'), 'i');
  }

  redactText(s: string): string {
    // Nothing a built-in looks for is shorter than 3 characters (`pwd`): short values such as
    // `GET` or `200` skip straight to the user's rules. The hints are tested on the input: a rule
    // before a hinted one can only have added markers, which hold nothing a hinted rule acts on.
    const builtins = s.length >= 3;
    const hinted = builtins && this.hint?.test(s) === true;
    let out = s;
    for (const rule of this.rules) {
      if (rule.find === undefined) out = this.applyPattern(rule, out);
      else if (builtins && (hinted || !rule.hinted)) out = this.applyFinder(rule.find, rule, out);
    }
    return out;
  }

  redactEvent(e: LogEvent): boolean {
    this.touched = false;
    const message = this.redactText(e.message);
    if (message !== e.message) {
      e.message = message;
      this.touched = true;
    }
    if (e.original !== undefined) {
      const original = this.redactText(e.original);
      if (original !== e.original) {
        e.original = original;
        this.touched = true;
      }
    }
    if (e.access !== undefined) this.redactAccess(e.access);
    if (e.fields !== undefined) this.walk(e.fields, 0);
    const sd = e.syslog?.structuredData;
    if (sd !== undefined) {
      for (const id in sd) {
        const params = sd[id];
        if (params !== undefined) this.walk(params, 0);
      }
    }
    return this.touched;
  }

  /** The texts of an access line that can carry a secret: `?token=` in a URL, a password in a referrer. */
  private redactAccess(a: AccessLog): void {
    for (const key of ACCESS_TEXTS) {
      const v = a[key];
      if (v === undefined) continue;
      const r = this.redactText(v);
      if (r !== v) {
        a[key] = r;
        this.touched = true;
      }
    }
  }

  private applyFinder(find: Finder, rule: Rule, s: string): string {
    const span = this.span;
    if (!find(s, 0, span)) return s;
    let out = '';
    let last = 0;
    let hits = 0;
    do {
      out += s.slice(last, span.start) + (span.quote ? `"${rule.marker}"` : rule.marker);
      last = span.end;
      hits++;
    } while (last < s.length && find(s, last, span));
    this.count(rule.name, hits);
    return out + s.slice(last);
  }

  private applyPattern(rule: Rule, s: string): string {
    const re = rule.re!;
    re.lastIndex = 0;
    if (!re.test(s)) return s;
    let hits = 0;
    const parts = rule.parts;
    const out = s.replace(re, (...args: unknown[]) => {
      if (args[0] === '') return ''; // an empty match the probes missed: leave the text alone
      hits++;
      return parts == null ? rule.marker : expand(parts, args);
    });
    if (hits > 0) this.count(rule.name, hits);
    return out;
  }

  private count(name: string, hits: number): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + hits);
  }

  /** Redacts the strings inside an object or array, in place. */
  private walk(c: Record<string, unknown> | unknown[], depth: number): void {
    if (depth >= MAX_RECURSION) {
      this.walkDeep(c);
      return;
    }
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) {
        const nested = this.entry(c, i, undefined);
        if (nested !== undefined) this.walk(nested, depth + 1);
      }
    } else {
      for (const key in c) {
        if (!Object.hasOwn(c, key)) continue;
        const nested = this.entry(c, key, key);
        if (nested !== undefined) this.walk(nested, depth + 1);
      }
    }
  }

  /** The same walk with an explicit stack, for nesting too deep to recurse safely. */
  private walkDeep(root: Record<string, unknown> | unknown[]): void {
    const stack: (Record<string, unknown> | unknown[])[] = [root];
    for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
      if (Array.isArray(c)) {
        for (let i = 0; i < c.length; i++) {
          const nested = this.entry(c, i, undefined);
          if (nested !== undefined) stack.push(nested);
        }
      } else {
        for (const key in c) {
          if (!Object.hasOwn(c, key)) continue;
          const nested = this.entry(c, key, key);
          if (nested !== undefined) stack.push(nested);
        }
      }
    }
  }

  /**
   * Redacts `c[at]`: the whole value when `key` names a secret, else the text of a string.
   * Returns the value when it is a container to descend into.
   */
  private entry(
    c: Record<string, unknown> | unknown[],
    at: string | number,
    key: string | undefined,
  ): Record<string, unknown> | unknown[] | undefined {
    const v = (c as Record<string | number, unknown>)[at];
    if (key !== undefined && this.keyRules) {
      const kind = keyKind(key);
      if (kind !== KEY_NONE) {
        const m =
          kind === KEY_PASSWORD ? this.passwordMarker : kind === KEY_AWS_SECRET ? this.awsMarker : undefined;
        if (m !== undefined && isSecretValue(v) && v !== m) {
          set(c, at, m);
          this.count(kind === KEY_PASSWORD ? 'password_pair' : 'aws_access_key', 1);
          this.touched = true;
          return undefined;
        }
      }
    }
    if (typeof v === 'string') {
      const r = this.redactText(v);
      if (r !== v) {
        set(c, at, r);
        this.touched = true;
      }
      return undefined;
    }
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown> | unknown[]) : undefined;
  }
}

/** What a secret-naming key may hold that is worth hiding: not null, not a flag, not empty. */
function isSecretValue(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  return v !== '';
}

/** `c[at] = v`, except that a key named `__proto__` must stay an own field, not a prototype. */
function set(c: Record<string, unknown> | unknown[], at: string | number, v: string): void {
  if (at === '__proto__') {
    Object.defineProperty(c, at, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    (c as Record<string | number, unknown>)[at] = v;
  }
}
