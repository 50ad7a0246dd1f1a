/**
 * Config problems: what a user sees when a configuration is wrong. Every check (YAML syntax,
 * schema, environment, cross-field rules) produces problems instead of throwing, so one run of
 * `logwharf check-config` reports all of them at once.
 */

/** One thing wrong with the configuration, located where the user can fix it. */
export interface ConfigProblem {
  /** Dotted key such as `sources.docker.project` (`retention[1].name` inside lists); '' when no key applies. */
  path: string;
  /** What was expected, and what was found. */
  message: string;
  /** The config file as it was named, or for `source: 'env'` the environment variable. */
  file?: string;
  /** 1-based line and column in `file` (absent for environment variables). */
  line?: number;
  column?: number;
  source: 'file' | 'env';
}

/**
 * A problem found on the merged config value, before it is located. `at` says which position
 * to report: the key itself (unknown key), its value (wrong value), or its parent (a missing
 * key has no position of its own).
 */
export interface RawProblem {
  segments: string[];
  message: string;
  at: 'key' | 'value' | 'parent';
}

/** `['retention', '1', 'name']` -> `retention[1].name` */
export function formatPath(segments: readonly string[]): string {
  let out = '';
  for (const segment of segments) {
    if (/^[0-9]+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** `FILE:LINE:COL: KEY: MESSAGE`, leaving out the parts a problem does not have. */
export function formatProblem(problem: ConfigProblem): string {
  let where = problem.file ?? '<config>';
  if (problem.line !== undefined) where += `:${problem.line}:${problem.column ?? 1}`;
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`;
}

/** A value as it appears in a message: strings quoted, collections named. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // A URL may carry credentials (https://user:secret@host); never repeat them.
    const shown = value.replace(/(:\/\/)[^/@\s]*@/g, '$1***@');
    return `'${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}'`;
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within a third of the word's length (at least 1 edit), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
