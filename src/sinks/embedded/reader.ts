import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { toEcs } from '../../core/ecs.js';
import type { ContainerInfo, LogEvent } from '../../core/event.js';
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
 * cursor), runs the translated query on each file with the rows still wanted as LIMIT, and
 * stops as soon as it has one row more than `limit`: that extra row says whether a next page
 * exists, so `nextCursor` is null exactly when there is nothing more (costing at most what the
 * empty next page would have cost).
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

interface Hit {
  key: CursorKey;
  event: LogEvent;
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
    const { order, from, to } = searchBounds(req);
    const cursor = req.cursor ? decodeCursor(req.cursor) : undefined;
    const filter = toSqlWhere(req.query);

    const days = this.daysToSearch(from, to, cursor, order);
    const want = req.limit + 1;
    const hits: Hit[] = [];
    for (const files of days) {
      const dayHits: Hit[] = [];
      for (const file of files) {
        const db = this.db(file);
        if (!db) continue;
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
        if (cursor) {
          const c = afterCursorSql(cursor, file.retentionClass, order);
          conds.push(c.sql);
          params.push(...c.params);
        }
        const dir = order === 'desc' ? 'DESC' : 'ASC';
        const sql =
          `SELECT events.* FROM events WHERE ${conds.join(' AND ')} ` +
          `ORDER BY events.ts ${dir}, events.rowid ${dir} LIMIT ?`;
        params.push(want - hits.length);
        const rows = db.prepare(sql).all(...params) as EventRow[];
        const container = containerLookup(db);
        for (const row of rows) {
          dayHits.push({
            key: { ts: row.ts, retentionClass: file.retentionClass, rowid: row.rowid },
            event: rowToEvent(row, row.container_ref === null ? undefined : container(row.container_ref)),
          });
        }
      }
      // Files of one day interleave in time; a single file's rows are already in order.
      if (files.length > 1) {
        dayHits.sort((a, b) => (order === 'desc' ? -1 : 1) * compareKeys(a.key, b.key));
      }
      hits.push(...dayHits.slice(0, want - hits.length));
      if (hits.length >= want) break;
    }

    const page = hits.slice(0, req.limit);
    const last = page[page.length - 1];
    return {
      events: page.map((h) => toEcs(h.event)),
      nextCursor: hits.length > req.limit && last ? encodeCursor(last.key) : null,
    };
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
