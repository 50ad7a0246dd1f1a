/**
 * Timestamp comparisons of the query language, for Elasticsearch's `date_nanos` fields.
 *
 * The embedded store compares `@timestamp` and `event.ingested` as canonical strings
 * (`2024-05-01T12:00:00.123456789Z`, fixed width, so string order is time order), which lets a
 * user write `@timestamp>=2024-05-01` or `@timestamp:2024-05-01T12*` and get "from that day" or
 * "that hour". Elasticsearch compares dates, and refuses a bound that is not a date. So each
 * string comparison is turned into the equivalent bound on valid timestamps:
 *
 *   t >= s  <=>  t >= ceil(s)            t <  s  <=>  t <  ceil(s)
 *   t >  s  <=>  t >= ceil(s + "\0")     t <= s  <=>  t <  ceil(s + "\0")
 *   t starts with p  <=>  ceil(p) <= t < ceil(p + "\uffff")
 *
 * where ceil(s) is the smallest canonical timestamp that is >= s as a string (null: none is).
 * These hold because every t is canonical: `s + "\0"` is the immediate successor of s in string
 * order, and no canonical character sorts at or above U+FFFF.
 *
 * `date_nanos` also cannot hold instants before 1970 or after 2262-04-11, and Elasticsearch
 * answers 400 to a bound outside that range instead of clamping it, so bounds are clamped here.
 */

/** What one date comparison became: no bound (every event with the field), nothing, or a range. */
export type DateRange =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'range'; gte?: string; lt?: string; lte?: string };

/** The earliest and latest instants a `date_nanos` field can hold. */
export const DATE_NANOS_MIN = '1970-01-01T00:00:00.000000000Z';
export const DATE_NANOS_MAX = '2262-04-11T23:47:16.854775807Z';

/** `d` is a digit; anything else must appear as it is. */
const TEMPLATE = 'dddd-dd-ddTdd:dd:dd.dddddddddZ';
const LENGTH = TEMPLATE.length;

/** The numeric fields of the canonical form: where they start, how wide, their fixed range. */
const PARTS = [
  { start: 0, width: 4, min: 0, max: 9999 }, // year
  { start: 5, width: 2, min: 1, max: 12 }, // month
  { start: 8, width: 2, min: 1, max: 31 }, // day (checked against the month below)
  { start: 11, width: 2, min: 0, max: 23 }, // hour
  { start: 14, width: 2, min: 0, max: 59 }, // minute
  { start: 17, width: 2, min: 0, max: 59 }, // second (no leap seconds, as in time.ts)
  { start: 20, width: 9, min: 0, max: 999_999_999 }, // nanoseconds
] as const;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function fitsTemplate(c: string, at: number): boolean {
  const t = TEMPLATE[at];
  return t === 'd' ? c >= '0' && c <= '9' : c === t;
}

/**
 * The smallest valid canonical timestamp that starts with `prefix`, or null. `prefix` must
 * already fit the template. Greedy per field works: a field only partly given by the prefix
 * leaves every later field free, and the minimum of a free field is always valid.
 */
function smallestWithPrefix(prefix: string): string | null {
  const values: number[] = [];
  for (const part of PARTS) {
    const given = prefix.slice(part.start, part.start + part.width);
    const max = part.start === 8 ? daysInMonth(values[0]!, values[1]!) : part.max;
    const lowest = Number(given.padEnd(part.width, '0'));
    const highest = Number(given.padEnd(part.width, '9'));
    const value = Math.max(lowest, part.min);
    if (value > Math.min(highest, max)) return null;
    values.push(value);
  }
  let result = TEMPLATE;
  PARTS.forEach((part, i) => {
    const digits = String(values[i]).padStart(part.width, '0');
    result = result.slice(0, part.start) + digits + result.slice(part.start + part.width);
  });
  return result;
}

/**
 * The smallest canonical timestamp t with t >= s in string order, or null when there is none.
 *
 * A t that starts with s (when s can begin a timestamp) is below every t that leaves s upward,
 * so that is tried first; otherwise t keeps as long a start of s as possible and then takes the
 * smallest character above s's at the first position where that still leads to a valid time.
 */
export function timestampCeiling(s: string): string | null {
  let valid = 0;
  while (valid < Math.min(s.length, LENGTH) && fitsTemplate(s[valid]!, valid)) valid++;
  if (valid === s.length) {
    const t = smallestWithPrefix(s);
    if (t !== null) return t;
  }
  // Leave s upward at position i: at most `valid` (t cannot copy a character that no timestamp
  // has there) and before the end of s (t starting with all of s was ruled out above). The
  // longest shared start gives the smallest t.
  for (let i = Math.min(valid, s.length - 1, LENGTH - 1); i >= 0; i--) {
    const head = s.slice(0, i);
    const candidates = TEMPLATE[i] === 'd' ? '0123456789' : TEMPLATE[i]!;
    for (const c of candidates) {
      if (c <= s[i]!) continue;
      const t = smallestWithPrefix(head + c);
      if (t !== null) return t;
    }
  }
  return null;
}

/**
 * A string comparison on a canonical timestamp field, as a range on valid instants that
 * `date_nanos` can hold (see the top of this file). `value` is the query value as written
 * (the parser has already canonicalized those that are RFC 3339 date-times).
 */
export function timestampComparison(
  op: 'eq' | 'prefix' | 'lt' | 'lte' | 'gt' | 'gte',
  value: string,
): DateRange {
  switch (op) {
    case 'eq': {
      // Only a canonical value can equal a stored (canonical) timestamp.
      const exact = timestampCeiling(value);
      return exact === value ? clamp(exact, null, true) : { kind: 'none' };
    }
    case 'gte':
      return lowerOnly(timestampCeiling(value));
    case 'gt':
      return lowerOnly(timestampCeiling(`${value}\0`));
    case 'lt':
      return clamp(null, timestampCeiling(value), false);
    case 'lte':
      return clamp(null, timestampCeiling(`${value}\0`), false);
    case 'prefix': {
      const from = timestampCeiling(value);
      if (from === null) return { kind: 'none' };
      return clamp(from, timestampCeiling(`${value}\uffff`), false);
    }
  }
}

/** `t >= from` where a null `from` means that no timestamp is that late. */
function lowerOnly(from: string | null): DateRange {
  return from === null ? { kind: 'none' } : clamp(from, null, false);
}

/**
 * [from, to) — or [from, from] when `exact` — limited to what `date_nanos` holds. A null `to`
 * is "no upper bound"; a null `from` "no lower bound".
 */
function clamp(from: string | null, to: string | null, exact: boolean): DateRange {
  if (exact) {
    if (from === null || from < DATE_NANOS_MIN || from > DATE_NANOS_MAX) return { kind: 'none' };
    return { kind: 'range', gte: from, lte: from };
  }
  if (from !== null && from > DATE_NANOS_MAX) return { kind: 'none' };
  if (to !== null && to <= DATE_NANOS_MIN) return { kind: 'none' };
  if (from !== null && to !== null && from >= to) return { kind: 'none' };
  const gte = from !== null && from > DATE_NANOS_MIN ? from : undefined;
  const lt = to !== null && to <= DATE_NANOS_MAX ? to : undefined;
  if (gte === undefined && lt === undefined) return { kind: 'all' };
  return { kind: 'range', ...(gte !== undefined ? { gte } : {}), ...(lt !== undefined ? { lt } : {}) };
}

/** The search window `from` (inclusive) .. `to` (exclusive), canonical, as a clamped range. */
export function timeWindow(from: string | undefined, to: string | undefined): DateRange {
  return clamp(from ?? null, to ?? null, false);
}
