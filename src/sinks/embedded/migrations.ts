import type BetterSqlite3 from 'better-sqlite3';

/**
 * The schema of one day file and how a file written by an older logwharf is brought up to date.
 *
 * The version lives in `PRAGMA user_version` (one integer in the file header, readable without
 * touching a table); `meta` repeats it next to the day and retention class for a human with
 * the sqlite3 shell. Each migration runs in one transaction with the version bump, so a file is
 * always at exactly one version. A file whose version is newer than this code knows was written
 * by a newer logwharf: it is refused, never "migrated" down.
 *
 * Why these columns and indexes (measured with bench/embedded-insert.bench.ts):
 * - `containers` holds the per-container facts (name, image, ~1 KB of compose labels, the compose
 *   project/service/number) once per container per day; an event row carries only the small
 *   integer `container_ref`. A 64-hex-digit container id per row would have cost ~64 bytes in
 *   the row plus as much again in its index.
 * - `events.rowid` is the INTEGER PRIMARY KEY, the FTS5 content rowid, and the tie-breaker after
 *   `ts` for ordering and cursors. `ts` is canonical RFC 3339 with nine fraction digits, so text
 *   order is time order.
 * - One unique index on `(ts, id)` is both the time index and the replay guard. An event id is
 *   deterministic and made from the line, its timestamp included, so a replayed line comes back
 *   with the same (ts, id) and `INSERT OR IGNORE` skips it. It replaced an index on (ts) plus a
 *   unique index on (id): one B-tree less to update per row (~6 % fewer instructions). Time
 *   order comes from its leading `ts`; the rare rows that share a ts are put in rowid order by a
 *   small sort per ts (SQLite: "USE TEMP B-TREE FOR LAST TERM OF ORDER BY"), which LIMIT stops
 *   early. The price: `event.id:x` alone finds its row by scanning the day (~0.1 s per million
 *   rows) instead of by an index lookup.
 * - `(service, ts)`, `(container_ref, ts)` and `(severity, ts)` let the usual filters
 *   (`service:web`, `container:x`, `level>=err`) read matching rows already in time order,
 *   so a rare service does not mean scanning the whole day. `compose.project` gets none: a
 *   sidecar usually serves one project, so that filter selects nearly every row and the ts
 *   index is the better path anyway.
 * - `events_fts` is an external-content FTS5 index on `message` (the text is stored once, in
 *   `events`). `detail=full` keeps token positions so "quoted phrases" work; `columnsize=0`
 *   drops the per-row size table, which only bm25 ranking would need (results are ordered by
 *   time, never by relevance). The writer adds each batch's new rows to it in the same
 *   transaction (see INDEX_FTS_SINCE_SQL in codec.ts for why not an INSERT trigger), so a
 *   search never sees a row that its full-text index does not; delete and update triggers
 *   keep it right if rows are ever removed or edited by hand.
 * - `automerge = 16` (FTS5's default is 4): each commit writes the batch's terms as a new
 *   segment, and FTS5 merges the segments of a level into one of the next once there are
 *   `automerge` of them, so a posting is rewritten once per level it climbs; with 16 it
 *   climbs half as many levels. Measured: FTS5 indexing ~30 % fewer instructions per row
 *   (250 k rows, batches of 4,096), the whole insert ~20 % less CPU at 1 M rows, searches
 *   unchanged (a word is looked up in a few more segments).
 */

type Db = BetterSqlite3.Database;

interface Migration {
  version: number;
  description: string;
  up(db: Db): void;
}

const V1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE containers (
  ref             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  image           TEXT NOT NULL,
  labels          TEXT NOT NULL,      -- JSON object
  compose_project TEXT,
  compose_service TEXT,
  compose_number  INTEGER,
  tty             INTEGER NOT NULL
);

CREATE TABLE events (
  rowid         INTEGER PRIMARY KEY,
  id            TEXT NOT NULL,
  ts            TEXT NOT NULL,
  severity      INTEGER NOT NULL,
  facility      INTEGER NOT NULL,
  dataset       TEXT NOT NULL,
  stream        TEXT,
  host          TEXT NOT NULL,
  service       TEXT,
  container_ref INTEGER,              -- containers.ref, NULL for syslog events
  sl_hostname   TEXT,
  sl_appname    TEXT,
  sl_procid     TEXT,
  sl_msgid      TEXT,
  flags         TEXT,                 -- JSON array
  ingested      TEXT NOT NULL,
  message       TEXT NOT NULL,
  sd            TEXT,                 -- JSON: SD-ID -> param -> value
  fields        TEXT,                 -- JSON object
  original      TEXT
);

CREATE UNIQUE INDEX events_ts_id ON events (ts, id);
CREATE INDEX events_service_ts ON events (service, ts);
CREATE INDEX events_container_ts ON events (container_ref, ts);
CREATE INDEX events_severity_ts ON events (severity, ts);

CREATE VIRTUAL TABLE events_fts USING fts5 (
  message,
  content = 'events',
  content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2',
  detail = full,
  columnsize = 0
);
INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 16);

CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF message ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
  INSERT INTO events_fts (rowid, message) VALUES (new.rowid, new.message);
END;
`;

/**
 * An access line's facts under their ECS names, the syslog sender's address, and the time a
 * sender claimed when it was replaced (src/core/event.ts). Columns, not JSON: numbers compare as
 * numbers and group as they are, and a row without them pays one header byte per NULL. ADD
 * COLUMN only rewrites the schema, never a row, so old files migrate in milliseconds whatever
 * their size; their rows read as NULL there. No index: a status filter reads the ts index (or
 * the service's) as `fields.*` filters do.
 */
const V2 = `
ALTER TABLE events ADD COLUMN http_method TEXT;
ALTER TABLE events ADD COLUMN url_original TEXT;
ALTER TABLE events ADD COLUMN http_version TEXT;
ALTER TABLE events ADD COLUMN http_status INTEGER;
ALTER TABLE events ADD COLUMN http_bytes INTEGER;
ALTER TABLE events ADD COLUMN http_referrer TEXT;
ALTER TABLE events ADD COLUMN user_agent TEXT;
ALTER TABLE events ADD COLUMN source_address TEXT;
ALTER TABLE events ADD COLUMN user_name TEXT;
ALTER TABLE events ADD COLUMN log_source_address TEXT;
ALTER TABLE events ADD COLUMN sender_ts TEXT;
`;

const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'events, containers, FTS5 on message', up: (db) => db.exec(V1) },
  {
    version: 2,
    description: 'access-log ECS fields, log.source.address, sender_timestamp',
    up: (db) => db.exec(V2),
  },
];

/** The version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The file was written by a newer logwharf, or an older one that this (read-only) opener cannot upgrade. */
export class SchemaVersionError extends Error {
  readonly found: number;
  constructor(file: string, found: number, message: string) {
    super(`${file}: schema version ${found}: ${message}`);
    this.name = 'SchemaVersionError';
    this.found = found;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings a writable day file to SCHEMA_VERSION. A new (empty) file is created from scratch;
 * `meta` records which day and retention class the file belongs to.
 */
export function migrate(db: Db, file: string, meta: { day: string; retentionClass: string }): void {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      file,
      found,
      `this logwharf knows versions up to ${SCHEMA_VERSION}; upgrade logwharf`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= found) continue;
    db.transaction(() => {
      m.up(db);
      if (m.version === 1) {
        const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
        put.run('day', meta.day);
        put.run('retention_class', meta.retentionClass);
        put.run('created', new Date().toISOString());
      }
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(
        String(m.version),
      );
      // user_version cannot take a bound parameter; m.version is an integer from this file.
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** For read-only openers: they cannot migrate, so anything but the current version is refused. */
export function assertReadable(db: Db, file: string): void {
  const found = schemaVersion(db);
  if (found === SCHEMA_VERSION) return;
  throw new SchemaVersionError(
    file,
    found,
    found > SCHEMA_VERSION
      ? `this logwharf reads version ${SCHEMA_VERSION}; upgrade logwharf`
      : `expected version ${SCHEMA_VERSION}; start the logwharf service once to migrate it`,
  );
}
