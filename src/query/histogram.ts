import type { QueryNode } from './ast.js';
import { UnknownFieldError } from './fields.js';
import { parseQuery } from './parser.js';

/**
 * What every histogram agrees on, whichever store answers: the keys of the two synthetic
 * values, how `by` names a field, and which buckets cover a range (HistogramRequest's rule:
 * starts at multiples of the interval since the epoch, from the one holding `from` up to `to`).
 * The API (to size and refuse a request), the embedded store and Elasticsearch all use these.
 */

/** The key of events without the field. */
export const NONE_KEY = '(none)';
/** The key under which values beyond the top `limit` are summed. */
export const OTHER_KEY = 'other';

/**
 * Resolves `by` the way the query parser resolves a field (short names in any case: `level`,
 * `service`, ...; full paths as written), by parsing `<by>:info`, so short names are defined
 * in the parser only. An unknown path comes back as written, for the store to refuse.
 */
export function resolveByField(by: string): string {
  let node: QueryNode;
  try {
    node = parseQuery(`${by}:info`);
  } catch {
    throw new UnknownFieldError(by);
  }
  if (node.type === 'severity') return 'log.level';
  if (node.type === 'field' && node.op === 'eq' && node.value === 'info') return node.field;
  throw new UnknownFieldError(by);
}

/** Milliseconds since the epoch of a canonical timestamp, rounded down, and whether that was exact. */
export function millisOf(ts: string): { ms: number; exact: boolean } {
  // Canonical: `YYYY-MM-DDTHH:MM:SS.mmmuuunnnZ`; Date.parse reads 4-digit years 0000..9999 as written.
  return { ms: Date.parse(`${ts.slice(0, 23)}Z`), exact: ts.slice(23, 29) === '000000' };
}

/**
 * The buckets of `intervalMs` that cover [from, to) (canonical bounds): the first one's start,
 * and how many; count 0 when from >= to. Integer arithmetic only: at today's epoch a double
 * cannot hold a nanosecond past a millisecond.
 */
export function bucketRange(
  from: string,
  to: string,
  intervalMs: number,
): { startMs: number; count: number } {
  const startMs = Math.floor(millisOf(from).ms / intervalMs) * intervalMs;
  if (from >= to) return { startMs, count: 0 };
  const end = millisOf(to);
  // A bucket starting at `to`'s millisecond still holds events when `to` has nanoseconds past it.
  const endMs = end.exact ? end.ms : end.ms + 1;
  return { startMs, count: Math.ceil((endMs - startMs) / intervalMs) };
}
