import { durationMillis } from '../core/duration.js';
import { canonicalFromMillis, toCanonicalTimestamp } from '../core/timestamp.js';

/**
 * The query API's time bounds (`from`, `to`, `--since`): an RFC 3339 timestamp, `now`, or a
 * span back from now. Timestamps and durations themselves live in src/core/.
 */

/** A `from`/`to` value that is neither RFC 3339, a relative span, nor `now`. */
export class TimeBoundError extends Error {
  readonly value: string;
  constructor(value: string) {
    super(
      `invalid time '${value}': expected an RFC 3339 timestamp (2024-05-01T12:00:00Z, ` +
        `2024-05-01T14:00:00.123+02:00), a span back from now (500ms, 30s, 15m, 2h, 7d, 1w, 1h30m) or 'now'`,
    );
    this.name = 'TimeBoundError';
    this.value = value;
  }
}

/**
 * A `from`/`to` bound in canonical form: an RFC 3339 timestamp (any offset), `now`, or a
 * span back from `now` (`15m` is fifteen minutes ago). Surrounding whitespace is ignored.
 * Throws TimeBoundError on anything else.
 */
export function parseTimeBound(value: string, now: Date): string {
  const text = value.trim();
  const span = text === 'now' ? 0 : durationMillis(text);
  if (span !== null) {
    try {
      return canonicalFromMillis(now.getTime() - span);
    } catch {
      throw new TimeBoundError(value);
    }
  }
  const timestamp = toCanonicalTimestamp(text);
  if (timestamp === null) throw new TimeBoundError(value);
  return timestamp;
}
