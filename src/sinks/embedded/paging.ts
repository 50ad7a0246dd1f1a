import { InvalidCursorError } from '../../core/store.js';
import { CANONICAL_TS_RE } from './codec.js';
import { isValidRetentionClass } from './files.js';

export { InvalidCursorError };

/**
 * Search cursors of the embedded store.
 *
 * Results are ordered by the key (ts, retention class, rowid): ts is the event time; rowid is
 * the insertion order inside one day file and breaks ties; the class orders the files of one
 * day (each has its own rowids). A cursor is the key of the last row returned, so the next
 * page is "strictly after this key". Rows inserted meanwhile get larger rowids and land where
 * their ts puts them: a page never repeats a row and never skips one that existed when the
 * previous page was read.
 */

export interface CursorKey {
  ts: string;
  retentionClass: string;
  rowid: number;
}

export function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify([1, k.ts, k.retentionClass, k.rowid])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor');
  }
  if (!Array.isArray(v) || v.length !== 4 || v[0] !== 1) throw new InvalidCursorError('not a cursor');
  const [, ts, retentionClass, rowid] = v as [number, unknown, unknown, unknown];
  if (
    typeof ts !== 'string' ||
    !CANONICAL_TS_RE.test(ts) ||
    typeof retentionClass !== 'string' ||
    !isValidRetentionClass(retentionClass) ||
    typeof rowid !== 'number' ||
    !Number.isSafeInteger(rowid) ||
    rowid < 1
  ) {
    throw new InvalidCursorError('not a cursor');
  }
  return { ts, retentionClass, rowid };
}

/** -1, 0, 1 by (ts, class, rowid). */
export function compareKeys(a: CursorKey, b: CursorKey): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.retentionClass !== b.retentionClass) return a.retentionClass < b.retentionClass ? -1 : 1;
  return a.rowid - b.rowid;
}

/**
 * The condition "after the cursor" for the file of `retentionClass`, in SQL over `events`.
 * Inside one file the class is fixed, so the three-part key comparison becomes a comparison
 * on (ts, rowid) or on ts alone. Written as `ts <= ? AND (...)` rather than one OR so that
 * SQLite can use the ts index for the range.
 */
export function afterCursorSql(
  c: CursorKey,
  retentionClass: string,
  order: 'asc' | 'desc',
): { sql: string; params: (string | number)[] } {
  const desc = order === 'desc';
  if (retentionClass === c.retentionClass) {
    return desc
      ? { sql: 'events.ts <= ? AND (events.ts < ? OR events.rowid < ?)', params: [c.ts, c.ts, c.rowid] }
      : { sql: 'events.ts >= ? AND (events.ts > ? OR events.rowid > ?)', params: [c.ts, c.ts, c.rowid] };
  }
  // Rows of this file with ts equal to the cursor's come after it iff this class does.
  const classAfter = desc ? retentionClass < c.retentionClass : retentionClass > c.retentionClass;
  const op = desc ? (classAfter ? '<=' : '<') : classAfter ? '>=' : '>';
  return { sql: `events.ts ${op} ?`, params: [c.ts] };
}
