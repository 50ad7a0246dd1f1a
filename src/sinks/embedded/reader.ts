import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { Answer } from '../../core/answer.js';
import { type EcsDocument, toEcs } from '../../core/ecs.js';
import type { ContainerInfo } from '../../core/event.js';
import {
  type HistogramRequest,
  type HistogramResult,
  type SearchRequest,
  type SearchResult,
  type StoreReader,
  searchBounds,
} from '../../core/store.js';
import { toSqlWhere } from '../../query/sql.js';
import { type ContainerRow, type EventRow, rowToContainer, rowToEvent } from './codec.js';
import { closeQuietly, type DayFile, LruCache, listDayFiles, openDayForRead } from './files.js';
import { planHistogram, runHistogram } from './histogram.js';
import { afterCursorSql, type CursorKey, compareKeys, decodeCursor, encodeCursor } from './paging.js';

/**
 * Search over the day files, read-only. Works in the service process next to the writer and
 * in another process (the CLI) while the service writes: WAL lets readers see every commit
 * without blocking the writer, and the directory is listed again on every search, so day
 * files created after the reader opened are found (and dropped ones forgotten).
 *
 * A search walks the days in the requested order, only those within from/to (and past the
 * cursor), runs the translated query on each file with the rows still wanted as LIMIT, reads
 * the rows one at a time, and stops at the first row its answer has no room for (`limit`
 * events, or the byte budget; answer.ts): that row says a next page exists, so `nextCursor` is
 * null exactly when there is nothing more (costing at most what the empty next page would have
 * cost). Memory is bounded by the answer, not by `limit` times the largest row.
 */

export interface EmbeddedReaderOptions {
  dataDir: string;
  /** How many day files stay open between searches (default 8). */
  maxOpenDays?: number;
}

export interface EmbeddedReader extends StoreReader {
  /** Events in all day files (for tests and diagnostics; reads every file). */
  countAll(): number;
  /** Closes the cached connection of one file, if open (before retention unlinks it). */
  forget(file: string): void;
}

export async function openEmbeddedReader(opts: EmbeddedReaderOptions): Promise<EmbeddedReader> {
  return new Reader(opts.dataDir, opts.maxOpenDays ?? 8);
}

class Reader implements EmbeddedReader {
  private readonly open: LruCache<Database.Database>;
  private closed = false;

  constructor(
    private readonly dataDir: string,
    maxOpenDays: number,
  ) {
    this.open = new LruCache(maxOpenDays, (_file, db) => closeQuietly(db));
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    this.assertOpen();
    const { order, from, to, maxBytes } = searchBounds(req);
    const cursor = req.cursor ? decodeCursor(req.cursor) : undefined;
    const filter = toSqlWhere(req.query);

    const answer = new Answer<CursorKey>(req.limit, maxBytes);
    for (const files of this.daysToSearch(from, to, cursor, order)) {
      const conds = [`(${filter.where})`];
      const params: (string | number)[] = [...filter.params];
      if (from !== undefined) {
        conds.push('events.ts >= ?');
        params.push(from);
      }
      if (to !== undefined) {
        conds.push('events.ts < ?');
        params.push(to);
      }
      // The rows still wanted and one more, which says whether a next page exists. The LIMIT
      // matters when SQLite must sort (a full-text match): its sorter then keeps that many rows.
      const rows = req.limit + 1 - answer.events.length;
      const streams: Generator<Match>[] = [];
      for (const file of files) {
        const db = this.db(file);
        if (!db) continue;
        const after = cursor ? afterCursorSql(cursor, file.retentionClass, order) : undefined;
        const dir = order === 'desc' ? 'DESC' : 'ASC';
        const sql =
          `SELECT events.* FROM events WHERE ${[...conds, ...(after ? [after.sql] : [])].join(' AND ')} ` +
          `ORDER BY events.ts ${dir}, events.rowid ${dir} LIMIT ?`;
        streams.push(matches(db, file, sql, [...params, ...(after?.params ?? []), rows]));
      }
      try {
        for (const m of inOrder(streams, order)) if (!answer.offer(m.key, m.doc)) break;
      } finally {
        // Ends the statements that are still stepping (and their read snapshots).
        for (const s of streams) s.return(undefined);
      }
      if (answer.full) break;
    }
    return answer.result(encodeCursor);
  }

  /** Counts per time bucket split by a field: one aggregate query per day file (see histogram.ts). */
  async histogram(req: HistogramRequest): Promise<HistogramResult> {
    this.assertOpen();
    // Checked before any file is listed: a bad `by` or bound fails the same on an empty store.
    const plan = planHistogram(req);
    const files = this.daysToSearch(plan.from, plan.to, undefined, 'asc').flat();
    // Files are opened one at a time, as the query reaches them: a long range may hold more
    // days than the LRU keeps open.
    return runHistogram(plan, files, (file) => this.db(file));
  }

  countAll(): number {
    this.assertOpen();
    let n = 0;
    for (const file of listDayFiles(this.dataDir)) {
      const db = this.db(file);
      if (db) n += (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    }
    return n;
  }

  forget(file: string): void {
    this.open.delete(file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.open.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('embedded store reader is closed');
  }

  /** Day files grouped by day, in search order, limited to the days that can hold matches. */
  private daysToSearch(
    from: string | undefined,
    to: string | undefined,
    cursor: CursorKey | undefined,
    order: 'asc' | 'desc',
  ): DayFile[][] {
    const all = listDayFiles(this.dataDir);
    const present = new Set(all.map((f) => f.path));
    for (const file of this.open.keys()) if (!present.has(file)) this.open.delete(file);

    const fromDay = from?.slice(0, 10);
    const toDay = to?.slice(0, 10);
    const cursorDay = cursor?.ts.slice(0, 10);
    const byDay = new Map<string, DayFile[]>();
    for (const f of all) {
      if (fromDay !== undefined && f.day < fromDay) continue;
      if (toDay !== undefined && f.day > toDay) continue;
      if (cursorDay !== undefined && (order === 'desc' ? f.day > cursorDay : f.day < cursorDay)) continue;
      const list = byDay.get(f.day);
      if (list) list.push(f);
      else byDay.set(f.day, [f]);
    }
    const groups = [...byDay.values()]; // listDayFiles sorts by day ascending
    return order === 'desc' ? groups.reverse() : groups;
  }

  /** The cached read-only connection of a file, or undefined if the file vanished meanwhile. */
  private db(file: DayFile): Database.Database | undefined {
    const cached = this.open.get(file.path);
    if (cached) return cached;
    let db: Database.Database;
    try {
      db = openDayForRead(file.path);
    } catch (err) {
      // Dropped by retention between listing and opening. (If the file is still there, the
      // error is real — e.g. no permission to create the -shm file — and must not be hidden.)
      if ((err as { code?: string }).code === 'SQLITE_CANTOPEN' && !fs.existsSync(file.path))
        return undefined;
      throw err;
    }
    this.open.set(file.path, db);
    return db;
  }
}

/** One matching row: its key, and its document, built only if the answer takes it. */
interface Match {
  key: CursorKey;
  doc: () => EcsDocument;
}

/**
 * The rows of one file that `sql` selects, read one at a time as they are asked for: a search
 * stops reading where its answer is full, so it never holds more rows than it sends (and one).
 */
function* matches(
  db: Database.Database,
  file: DayFile,
  sql: string,
  params: (string | number)[],
): Generator<Match> {
  const container = containerLookup(db);
  for (const row of db.prepare(sql).iterate(...params) as IterableIterator<EventRow>) {
    yield {
      key: { ts: row.ts, retentionClass: file.retentionClass, rowid: row.rowid },
      doc: () =>
        toEcs(rowToEvent(row, row.container_ref === null ? undefined : container(row.container_ref))),
    };
  }
}

/**
 * The matches of the files of one day (one per retention class) as one sequence in search
 * order. Each file's rows come in order already, and their times interleave, so this merges:
 * it holds the next row of each file and passes on the first by key.
 */
function* inOrder(streams: Iterator<Match>[], order: 'asc' | 'desc'): Generator<Match> {
  const sign = order === 'desc' ? -1 : 1;
  const heads = streams.map((s) => s.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.done) continue;
      const b = heads[best];
      if (!b || b.done || sign * compareKeys(h.value.key, b.value.key) < 0) best = i;
    }
    if (best < 0) return;
    yield (heads[best] as IteratorYieldResult<Match>).value;
    // Read the file's next row only when the one passed on was taken and another is wanted.
    heads[best] = streams[best]!.next();
  }
}

/** Container rows of one file by ref, each read and parsed once per search. */
function containerLookup(db: Database.Database): (ref: number) => ContainerInfo | undefined {
  const seen = new Map<number, ContainerInfo | undefined>();
  let stmt: Database.Statement | undefined;
  return (ref) => {
    if (seen.has(ref)) return seen.get(ref);
    stmt ??= db.prepare('SELECT * FROM containers WHERE ref = ?');
    const row = stmt.get(ref) as ContainerRow | undefined;
    const info = row ? rowToContainer(row) : undefined;
    seen.set(ref, info);
    return info;
  };
}
