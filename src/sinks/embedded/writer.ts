import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { ContainerInfo, LogEvent } from '../../core/event.js';
import { fsyncDirSync } from '../../core/fsync-dir.js';
import type { StoreWriter, WriteOutcome } from '../../core/store.js';
import {
  containerChanged,
  containerParams,
  dayOf,
  eventParams,
  eventParamsWithEcs,
  hasEcsColumns,
  INDEX_FTS_SINCE_SQL,
  INSERT_EVENT_ECS_SQL,
  INSERT_EVENT_SQL,
  invalidReason,
  MAX_ROWID_SQL,
  UPSERT_CONTAINER_SQL,
} from './codec.js';
import {
  closeQuietly,
  DEFAULT_RETENTION_CLASS,
  type Durability,
  dayFilePath,
  isValidDay,
  isValidRetentionClass,
  LruCache,
  openDayForWrite,
  removeDbFiles,
  removeStaleTempFiles,
  storeRoot,
  upgradeDayFiles,
} from './files.js';
import { SchemaVersionError } from './migrations.js';
import { type EmbeddedReader, openEmbeddedReader } from './reader.js';

/**
 * The embedded store's writer, and the object that owns the store's connections.
 *
 * Invariants of `write(batch)`:
 * - The batch is validated whole before anything is written: an event that can never be
 *   stored (no id, a timestamp not in canonical form) rejects the batch with the reason.
 * - Events are grouped by (retention class, UTC day); each group is one transaction on its
 *   day file. `delivered` is answered only after every group's COMMIT returned.
 * - A failure after some groups committed answers `retryable`: the retry writes the whole
 *   batch again, and `INSERT OR IGNORE` on the unique (timestamp, event id) skips what is
 *   already stored (ids are deterministic, so a replayed event has the same pair).
 * - A container's row is upserted at most once per day file while it is unchanged; the cache
 *   of written containers is updated only after COMMIT, so a rolled-back transaction cannot
 *   leave the cache claiming a row that is not there.
 */

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** Retention class of an event (default: `default` for all). Names a directory: [A-Za-z0-9_-]. */
  retentionClass?: (e: LogEvent) => string;
  /** Day files kept open for writing (default 8); the least recently written is closed first. */
  maxOpenDays?: number;
  /** `full` (default): a commit survives power loss. `normal`: only a crash of this process. */
  durability?: Durability;
  /** Told about each day file of an older schema that could not be migrated at open. */
  onUpgradeFailed?: (file: string, error: string) => void;
}

export interface EmbeddedStore {
  readonly writer: StoreWriter;
  readonly reader: EmbeddedReader;
  /** Events in all day files (tests, diagnostics). */
  countAll(): number;
  /** `<class>/<day>` of the day files open for writing, least recently used first. */
  openDays(): string[];
  /** Retention: closes the day file of a class everywhere in this process and removes its files. */
  dropDay(retentionClass: string, day: string): void;
  /** Closes writer and reader. Idempotent. */
  close(): Promise<void>;
}

interface DayHandle {
  db: Database.Database;
  insertEvent: Database.Statement;
  insertEventEcs: Database.Statement;
  maxRowid: Database.Statement;
  indexFtsSince: Database.Statement;
  upsertContainer: Database.Statement;
  /** Container rows known to be in this file: docker id -> ref and the info it was written from. */
  containers: Map<string, { ref: number; info: ContainerInfo }>;
}

interface Group {
  retentionClass: string;
  day: string;
  events: LogEvent[];
}

export async function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  fs.mkdirSync(storeRoot(opts.dataDir), { recursive: true });
  removeStaleTempFiles(opts.dataDir);
  for (const f of upgradeDayFiles(opts.dataDir)) opts.onUpgradeFailed?.(f.file, f.error);
  const writer = new Writer(opts);
  const reader = await openEmbeddedReader({ dataDir: opts.dataDir, maxOpenDays: opts.maxOpenDays ?? 8 });
  return {
    writer,
    reader,
    countAll: () => reader.countAll(),
    openDays: () => writer.openDays(),
    dropDay(retentionClass, day) {
      if (!isValidRetentionClass(retentionClass) || !isValidDay(day)) {
        throw new RangeError(`not a day file: ${retentionClass}/${day}`);
      }
      const file = dayFilePath(opts.dataDir, retentionClass, day);
      writer.forget(`${retentionClass}/${day}`);
      reader.forget(file);
      removeDbFiles(file);
      fsyncDirSync(storeRoot(opts.dataDir));
    },
    async close() {
      // Readers first: the writer's close then is the last connection to each file, so SQLite
      // checkpoints the WAL into the database and removes the -wal and -shm files.
      await reader.close();
      await writer.close();
    },
  };
}

class Writer implements StoreWriter {
  private readonly dataDir: string;
  private readonly classOf: (e: LogEvent) => string;
  private readonly durability: Durability;
  private readonly handles: LruCache<DayHandle>;
  private closed = false;

  constructor(opts: EmbeddedStoreOptions) {
    this.dataDir = opts.dataDir;
    this.classOf = opts.retentionClass ?? (() => DEFAULT_RETENTION_CLASS);
    this.durability = opts.durability ?? 'full';
    this.handles = new LruCache(opts.maxOpenDays ?? 8, (_key, h) => closeQuietly(h.db));
  }

  async write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (this.closed) return { status: 'retryable', reason: 'embedded store is closed' };
    const grouped = this.group(batch);
    if (!Array.isArray(grouped)) return grouped;
    let committed = 0;
    for (const g of grouped) {
      const key = `${g.retentionClass}/${g.day}`;
      try {
        this.writeGroup(this.handle(g), g.events);
        committed++;
      } catch (err) {
        const outcome = classify(err, dayFilePath(this.dataDir, g.retentionClass, g.day));
        // A fresh connection next time: after an I/O error or a lost lock, this one's state
        // is not worth trusting. Data errors (bad values) leave the connection healthy.
        if (outcome.status === 'retryable') this.handles.delete(key);
        const progress =
          committed > 0 ? ` (${committed} of ${grouped.length} day files committed; a retry skips them)` : '';
        return { ...outcome, reason: outcome.reason + progress };
      }
    }
    return { status: 'delivered' };
  }

  async ready(): Promise<boolean> {
    if (this.closed) return false;
    const root = storeRoot(this.dataDir);
    try {
      fs.mkdirSync(root, { recursive: true });
      fs.accessSync(root, fs.constants.W_OK);
      const s = fs.statfsSync(root);
      // Not ready when a write would hit ENOSPC anyway; 16 MiB leaves room for a WAL checkpoint.
      return s.bavail * s.bsize > 16 * 1024 * 1024;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handles.clear();
  }

  openDays(): string[] {
    return this.handles.keys();
  }

  forget(key: string): void {
    this.handles.delete(key);
  }

  /** Groups by (class, day) in first-seen order, or the outcome that rejects the whole batch. */
  private group(batch: readonly LogEvent[]): Group[] | WriteOutcome {
    const groups = new Map<string, Group>();
    // Consecutive events nearly always share class and day: the previous event's group is
    // tried first, so most events skip the class check, the key string and the map lookup.
    let last: Group | undefined;
    for (const e of batch) {
      const invalid = invalidReason(e);
      if (invalid) return { status: 'rejected', reason: invalid };
      let retentionClass: string;
      try {
        retentionClass = this.classOf(e);
      } catch (err) {
        return { status: 'rejected', reason: `event ${e.id}: retention class: ${(err as Error).message}` };
      }
      if (last && retentionClass === last.retentionClass && e.timestamp.startsWith(last.day)) {
        last.events.push(e);
        continue;
      }
      if (!isValidRetentionClass(retentionClass)) {
        return {
          status: 'rejected',
          reason: `event ${e.id}: retention class ${JSON.stringify(retentionClass)} is not [A-Za-z0-9_-]{1,64}`,
        };
      }
      const day = dayOf(e.timestamp);
      const key = `${retentionClass}/${day}`;
      last = groups.get(key);
      if (last) last.events.push(e);
      else {
        last = { retentionClass, day, events: [e] };
        groups.set(key, last);
      }
    }
    return [...groups.values()];
  }

  private handle(g: Group): DayHandle {
    const key = `${g.retentionClass}/${g.day}`;
    const cached = this.handles.get(key);
    if (cached) return cached;
    const db = openDayForWrite(this.dataDir, g.retentionClass, g.day, this.durability);
    const h: DayHandle = {
      db,
      insertEvent: db.prepare(INSERT_EVENT_SQL),
      insertEventEcs: db.prepare(INSERT_EVENT_ECS_SQL),
      maxRowid: db.prepare(MAX_ROWID_SQL).pluck(),
      indexFtsSince: db.prepare(INDEX_FTS_SINCE_SQL),
      upsertContainer: db.prepare(UPSERT_CONTAINER_SQL),
      containers: new Map(),
    };
    this.handles.set(key, h);
    return h;
  }

  private writeGroup(h: DayHandle, events: LogEvent[]): void {
    const written = new Map<string, { ref: number; info: ContainerInfo }>();
    const params: unknown[] = [];
    const paramsEcs: unknown[] = [];
    h.db.transaction(() => {
      const before = (h.maxRowid.get() as number | null) ?? 0;
      for (const e of events) {
        let ref: number | null = null;
        const c = e.container;
        if (c) {
          const known = written.get(c.id) ?? h.containers.get(c.id);
          if (known && (known.info === c || !containerChanged(known.info, c))) {
            ref = known.ref;
            known.info = c; // equal: compare by identity from now on
          } else {
            ref = (h.upsertContainer.get(...containerParams(c)) as { ref: number }).ref;
            written.set(c.id, { ref, info: c });
          }
        }
        // A (ts, id) already stored (a replay) is skipped, and gets no rowid above `before`.
        if (hasEcsColumns(e)) h.insertEventEcs.run(...eventParamsWithEcs(e, ref, paramsEcs));
        else h.insertEvent.run(...eventParams(e, ref, params));
      }
      h.indexFtsSince.run(before);
    })();
    for (const [id, v] of written) h.containers.set(id, v);
  }
}

const RETRYABLE_SQLITE = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
  'SQLITE_INTERRUPT',
  // A damaged file is for the operator to move aside; stalling (and buffering) loses nothing,
  // rejecting would drop every batch for that day until then.
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
];

const HINTS: Record<string, string> = {
  SQLITE_FULL: 'the disk is full: free space under data_dir',
  ENOSPC: 'the disk is full: free space under data_dir',
  SQLITE_BUSY: 'another process holds the database lock: is a second logwharf writing to this data_dir?',
  SQLITE_READONLY: 'the file or its directory is read-only: check permissions of data_dir',
  EACCES: 'permission denied: check permissions of data_dir',
  // A disk that fails reads shows as this too: SQLite's unix VFS answers a read that fails with
  // EIO (or ENXIO, ERANGE) with SQLITE_IOERR_CORRUPTFS, which reaches us as SQLITE_CORRUPT
  // (test/faults/disk-eio.test.ts sees it). logwharf retries either way.
  SQLITE_CORRUPT:
    'the file reads as damaged: if the disk reports I/O errors (EIO, see the kernel log), fix the disk and ' +
    'logwharf goes on by itself; if not, stop logwharf and move the file aside',
  SQLITE_IOERR: 'the disk failed a read or write (EIO, see the kernel log): logwharf retries until it works',
  SQLITE_NOTADB: 'the file is not a SQLite database: move it aside',
};

/**
 * Retryable: the same batch can succeed later (disk full, locks, I/O, permissions).
 * Rejected: it never will (a value SQLite refuses, a file of a newer schema, a schema error).
 * Unknown errors are retryable: the default is never to drop.
 */
export function classify(err: unknown, file: string): Exclude<WriteOutcome, { status: 'delivered' }> {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const base = code && HINTS[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')];
  const reason = `${file}: ${code ? `${code}: ` : ''}${message}${base ? ` — ${base}` : ''}`;
  if (err instanceof SchemaVersionError) return { status: 'rejected', reason };
  if (err instanceof TypeError || err instanceof RangeError) return { status: 'rejected', reason };
  if (code?.startsWith('SQLITE_')) {
    const primary = code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
    if (RETRYABLE_SQLITE.includes(primary)) return { status: 'retryable', reason, code };
    // SQLITE_ERROR (no such table/column), SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_TOOBIG, ...
    return { status: 'rejected', reason };
  }
  return { status: 'retryable', reason, ...(code ? { code } : {}) };
}
