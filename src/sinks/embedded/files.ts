import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fsyncDirSync } from '../../core/fsync-dir.js';
import { assertReadable, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';

/**
 * Where the embedded store keeps its files, and how one day file is opened.
 *
 * Layout: `<data_dir>/store/<retention class>/YYYY-MM-DD.sqlite`, one SQLite database per UTC
 * day and retention class, so retention drops a day by closing and unlinking its files
 * instead of running a DELETE over millions of rows.
 *
 * Invariant: a file with a day name is complete. A new day is built under a temporary name
 * (schema created, WAL mode set, closed) and then hard-linked into place, which fails rather
 * than overwrites if the name exists. A reader in another process that lists the directory
 * therefore never opens a half-created file.
 */

export const DEFAULT_RETENTION_CLASS = 'default';

/** The page size of a new day file, in bytes (see createDayFile). */
export const PAGE_SIZE = 16384;

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_FILE_RE = /^(\d{4}-\d{2}-\d{2})\.sqlite$/;
const CLASS_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface DayFile {
  retentionClass: string;
  /** YYYY-MM-DD (UTC) */
  day: string;
  path: string;
}

export function storeRoot(dataDir: string): string {
  return path.join(dataDir, 'store');
}

/** A retention class names a directory: letters, digits, `_` and `-` only (no path tricks). */
export function isValidRetentionClass(name: string): boolean {
  return CLASS_RE.test(name);
}

export function isValidDay(day: string): boolean {
  return DAY_RE.test(day);
}

export function dayFilePath(dataDir: string, retentionClass: string, day: string): string {
  return path.join(storeRoot(dataDir), retentionClass, `${day}.sqlite`);
}

/** Every day file of every retention class, sorted by day, then class. A missing store is empty. */
export function listDayFiles(dataDir: string): DayFile[] {
  const root = storeRoot(dataDir);
  const out: DayFile[] = [];
  let classes: fs.Dirent[];
  try {
    classes = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const c of classes) {
    if (!c.isDirectory() || !isValidRetentionClass(c.name)) continue;
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, c.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names) {
      const m = DAY_FILE_RE.exec(name);
      if (m) out.push({ retentionClass: c.name, day: m[1]!, path: path.join(root, c.name, name) });
    }
  }
  out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.retentionClass < b.retentionClass ? -1 : 1));
  return out;
}

/**
 * Pragmas for the writing connection of a log store.
 *
 * - WAL: readers (the API, the CLI in another process) never block the writer nor see a
 *   half-written batch; a commit appends to the -wal file instead of rewriting pages.
 * - synchronous: see `Durability` below; the default is FULL.
 * - busy_timeout: a lock another process holds makes a statement wait up to 5 s before
 *   SQLITE_BUSY. A write transaction here starts with a read (the highest rowid), and SQLite
 *   answers a read transaction that cannot become a write one with SQLITE_BUSY at once, busy
 *   timeout or not; `write()` reports it as retryable and the sink channel's backoff does the
 *   waiting, which keeps the event loop free (the fault suite holds such a lock for 30 s).
 * - cache_size 16 MiB: the current day's indexes stay in memory; older days are rarely written.
 * - journal_size_limit: after a checkpoint the -wal file is truncated back to 64 MiB at most,
 *   so a burst does not leave a huge file behind.
 */
export type Durability = 'full' | 'normal';

function applyWriterPragmas(db: Database.Database, durability: Durability): void {
  db.pragma('journal_mode = WAL');
  // FULL: each COMMIT fsyncs the WAL, so "delivered" survives a power loss or kernel crash
  // too, and a checkpoint saved after it (positions.json is fsynced) can never point past
  // data that was lost. With batches of thousands of events this is one fsync per batch
  // and per day file, which the benchmark shows is a small cost.
  // NORMAL: the WAL is fsynced only at checkpoints. A commit is still durable against a
  // crash of this process (the bytes are in the OS page cache once write() returns) and the
  // database never corrupts, but a power loss can roll back the last commits while the saved
  // positions already point past them: those lines would be lost, not re-read.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -16384');
  db.pragma('temp_store = MEMORY');
  db.pragma('journal_size_limit = 67108864');
}

/**
 * Opens (creating if needed) the day file for writing, migrated to the current schema.
 */
export function openDayForWrite(
  dataDir: string,
  retentionClass: string,
  day: string,
  durability: Durability,
): Database.Database {
  const file = dayFilePath(dataDir, retentionClass, day);
  if (!fs.existsSync(file)) createDayFile(file, retentionClass, day);
  const db = new Database(file, { fileMustExist: true });
  try {
    applyWriterPragmas(db, durability);
    migrate(db, file, { day, retentionClass });
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function createDayFile(file: string, retentionClass: string, day: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${day}.sqlite.tmp-${process.pid}`);
  removeDbFiles(tmp);
  const db = new Database(tmp);
  try {
    // Before the first table: a page size is fixed when the file is created (and cannot change
    // in WAL mode). 16 KiB rather than SQLite's 4 KiB: a batch's rows fill a quarter as many
    // pages, so a commit writes fewer WAL frames and the B-trees split a quarter as often.
    // Measured (bench/embedded-insert.bench.ts, 1 M rows in batches of 4,096): ~20 % less
    // CPU per row. The costs: a commit of a few rows writes larger pages (one row per
    // transaction: ~20 % more CPU), and a search that fetches rows scattered over the day (a
    // rare word) reads 16 KiB per row (~5 -> ~12 ms at 1 M rows); other searches unchanged.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    migrate(db, file, { day, retentionClass });
  } finally {
    // Closing the last connection checkpoints and removes tmp-wal/-shm: tmp is self-contained.
    db.close();
  }
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    // Another writer created it first: theirs is as good as ours.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fsyncDirSync(dir);
}

/**
 * Removes what a crash during `createDayFile` can leave behind: a temporary day file (with its
 * -wal/-shm) that never got its day name. Only for the writer, at open.
 */
export function removeStaleTempFiles(dataDir: string): void {
  const root = storeRoot(dataDir);
  let classes: string[];
  try {
    classes = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const c of classes) {
    if (!isValidRetentionClass(c)) continue;
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(root, c));
    } catch {
      continue;
    }
    for (const name of names) {
      if (/^\.\d{4}-\d{2}-\d{2}\.sqlite\.tmp-\d+(-wal|-shm)?$/.test(name)) {
        fs.rmSync(path.join(root, c, name), { force: true });
      }
    }
  }
}

/**
 * Brings every day file written by an older logwharf to the current schema, at the writer's
 * open. Readers refuse any other version, and the writer only opens the days it writes to, so
 * without this an upgrade would leave yesterday's files unsearchable. A migration is a schema
 * change only (no row is rewritten: see migrations.ts), milliseconds per file. A file that
 * cannot be migrated (damaged, locked, of a newer version) is left as it is: the reader and the
 * writer report it, with its name, when they reach it. Returns the files it could not migrate.
 */
export function upgradeDayFiles(dataDir: string): { file: string; error: string }[] {
  const failed: { file: string; error: string }[] = [];
  for (const f of listDayFiles(dataDir)) {
    // Most starts find every file up to date: the header says so without opening SQLite (~1 ms
    // a file, measured). It can lag behind a migration still in the WAL, never run ahead of one.
    if (headerUserVersion(f.path) >= SCHEMA_VERSION) continue;
    let db: Database.Database | undefined;
    try {
      db = new Database(f.path, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      if (schemaVersion(db) >= SCHEMA_VERSION) continue;
      migrate(db, f.path, { day: f.day, retentionClass: f.retentionClass });
    } catch (err) {
      failed.push({ file: f.path, error: err instanceof Error ? err.message : String(err) });
    } finally {
      if (db) closeQuietly(db);
    }
  }
  return failed;
}

/**
 * `PRAGMA user_version` as the database file's header holds it (4 bytes, big-endian, at offset
 * 60 of the SQLite file format), or -1 when it cannot be read.
 */
function headerUserVersion(file: string): number {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 60) === 4 ? b.readUInt32BE(0) : -1;
  } catch {
    return -1;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Opens a day file read-only; fails when it does not exist or has another schema version. */
export function openDayForRead(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    assertReadable(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Removes a database file and its -wal and -shm companions (missing ones are fine). */
export function removeDbFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/**
 * Closes a connection that is being dropped from a cache. A connection that failed (I/O
 * error, vanished file) may fail to close too; there is nothing left to do with it then.
 */
export function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    // see above
  }
}

/**
 * A small least-recently-used map of open day files. `onEvict` closes what falls out, so at
 * most `capacity` day databases (and their file descriptors and page caches) stay open.
 */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(
    private readonly capacity: number,
    private readonly onEvict: (key: string, value: V) => void,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`LRU capacity must be >= 1, got ${capacity}`);
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const [oldKey, oldValue] = this.map.entries().next().value as [string, V];
      this.map.delete(oldKey);
      this.onEvict(oldKey, oldValue);
    }
  }

  /** Removes and evicts (closes) one entry. */
  delete(key: string): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.onEvict(key, v);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }
}
