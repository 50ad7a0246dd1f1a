/**
 * Durations as people write them in configs and on the command line: a number and a unit, or
 * several in a row as Go and Docker's `--since` take them (`1h30m`, `2d12h`, `1.5h`).
 * Units: ms, s, m, h, d (24 h), w (7 d). The result is whole milliseconds.
 */

/** A duration that is not one or more numbers each followed by a unit. */
export class DurationError extends Error {
  readonly value: string;
  constructor(value: string) {
    super(
      `invalid duration '${value}': expected a number and a unit (ms, s, m, h, d or w), ` +
        'or several in a row (e.g. 500ms, 15m, 14d, 1h30m)',
    );
    this.name = 'DurationError';
    this.value = value;
  }
}

/** Milliseconds per unit. */
const UNIT_MILLIS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
]);

/** One `<number><unit>` part, anchored where the previous part ended (sticky). */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** The pattern a duration matches, for schemas (config/schema.ts). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$';

/**
 * Milliseconds of `text`, or null when it is not a duration. Fractions are rounded to the
 * millisecond (`1.5s` is 1500, `0.0001s` is 0); results beyond 2^53 ms are refused.
 */
export function durationMillis(text: string): number | null {
  if (text.length === 0 || text.length > 64) return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) return null;
    total += Number(m[1]) * UNIT_MILLIS.get(m[2]!)!;
  }
  const millis = Math.round(total);
  return Number.isSafeInteger(millis) ? millis : null;
}

/** Milliseconds of a duration such as `500ms`, `30s`, `15m`, `14d`, `1h30m`; throws DurationError. */
export function parseDuration(text: string): number {
  const millis = durationMillis(text);
  if (millis === null) throw new DurationError(text);
  return millis;
}
