import { LogwharfError } from '../../core/errors.js';
import { InvalidCursorError } from '../../core/store.js';
import { toCanonicalTimestamp } from '../../core/timestamp.js';
import { DATE_NANOS_MAX, DATE_NANOS_MIN } from '../../query/es-time.js';

export { InvalidCursorError };

/**
 * Search cursors of the Elasticsearch store.
 *
 * Results are sorted by (`@timestamp`, `event.id`): the id breaks ties between events of the
 * same nanosecond, and since it is also `_id`, no two documents share a key. A cursor is the key
 * of the last event returned, and the next page is `search_after` it, i.e. strictly after it in
 * the sort order. Events indexed meanwhile land where their key puts them: a page never repeats
 * an event and never skips one that was searchable when the previous page was read. (Unlike a
 * point in time, this needs no state on the cluster and never expires.)
 *
 * The embedded store breaks ties by insertion order instead; for events with distinct
 * timestamps (nanoseconds from Docker) both orders are the same.
 */

export interface EsCursorKey {
  /** `@timestamp`, canonical. */
  ts: string;
  /** `event.id`. */
  id: string;
}

/** Marks the format, so a cursor of the embedded store (or a later format) is refused, not misread. */
const FORMAT = 'es1';
/** Elasticsearch's own limit on `_id`, which `event.id` is. */
const MAX_ID_BYTES = 512;

export function encodeCursor(k: EsCursorKey): string {
  return Buffer.from(JSON.stringify([FORMAT, k.ts, k.id])).toString('base64url');
}

export function decodeCursor(cursor: string): EsCursorKey {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor');
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== FORMAT) throw new InvalidCursorError('not a cursor');
  const [, ts, id] = v as [string, unknown, unknown];
  if (
    typeof ts !== 'string' ||
    toCanonicalTimestamp(ts) !== ts ||
    // No stored event is outside what date_nanos holds, and Elasticsearch would answer 400.
    ts < DATE_NANOS_MIN ||
    ts > DATE_NANOS_MAX ||
    typeof id !== 'string' ||
    id === '' ||
    Buffer.byteLength(id) > MAX_ID_BYTES
  ) {
    throw new InvalidCursorError('not a cursor');
  }
  return { ts, id };
}

/**
 * The key of a hit from its `sort` values. Elasticsearch formats the date with as few fraction
 * digits as it needs (`...:02.000Z`); the cursor keeps the canonical form.
 */
export function keyOfSortValues(sort: readonly unknown[] | undefined): EsCursorKey {
  const [ts, id] = sort ?? [];
  const canonical = typeof ts === 'string' ? toCanonicalTimestamp(ts) : null;
  if (canonical === null || typeof id !== 'string') {
    throw new LogwharfError(
      'LOGWHARF_ERR_STORE',
      `elasticsearch returned a hit without the expected sort values: ${JSON.stringify(sort)}`,
    );
  }
  return { ts: canonical, id };
}
