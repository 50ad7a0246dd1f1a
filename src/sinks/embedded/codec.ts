import type { AccessLog, ContainerInfo, LogEvent, Stream, SyslogHeader } from '../../core/event.js';

/**
 * LogEvent <-> row of a day file (schema in migrations.ts). Pure functions: the writer and
 * the reader are the only I/O around them.
 */

const EVENT_COLUMNS = `id, ts, severity, facility, dataset, stream, host, service, container_ref,
  sl_hostname, sl_appname, sl_procid, sl_msgid, flags, ingested, message, sd, fields, original`;
/** The columns of schema 2: an access line's facts, the syslog sender's address and claimed time. */
const ECS_COLUMNS = `http_method, url_original, http_version, http_status, http_bytes, http_referrer,
  user_agent, source_address, user_name, log_source_address, sender_ts`;

/**
 * Two statements: most events (every plain container line) have none of schema 2's columns and
 * take the shorter one, which binds 19 values instead of 30 (11 NULLs bound per row cost ~3 %
 * of an insert's CPU, measured). The row stored is the same either way.
 */
export const INSERT_EVENT_SQL = `INSERT OR IGNORE INTO events (${EVENT_COLUMNS})
VALUES (${placeholders(19)})`;
export const INSERT_EVENT_ECS_SQL = `INSERT OR IGNORE INTO events (${EVENT_COLUMNS}, ${ECS_COLUMNS})
VALUES (${placeholders(30)})`;

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * The newest rowid of a day file (null while it is empty). A row inserted without a rowid gets
 * one larger than every rowid in the table (INTEGER PRIMARY KEY without AUTOINCREMENT), so the
 * rows a batch added are exactly those above the value read before its inserts.
 */
export const MAX_ROWID_SQL = 'SELECT max(rowid) FROM events';

/**
 * Adds the rows above a rowid to the full-text index, once per batch and after its inserts.
 * Measured against the alternatives:
 * - an AFTER INSERT trigger made inserts ~3x as expensive (FTS5 flushes its pending terms at
 *   the statement savepoint that every trigger statement runs in, so each row became its own
 *   tiny segment);
 * - one `INSERT ... VALUES (?, ?)` per row from JS converted every message to UTF-8 a second
 *   time; this statement reads the text SQLite has just stored (still in the page cache).
 * Rows that `INSERT OR IGNORE` skipped (replays) get no new rowid, so they are not indexed twice.
 */
export const INDEX_FTS_SINCE_SQL =
  'INSERT INTO events_fts (rowid, message) SELECT rowid, message FROM events WHERE rowid > ?';

/** Upsert by docker id; RETURNING gives the ref whether the row was new or updated. */
export const UPSERT_CONTAINER_SQL = `INSERT INTO containers (
  id, name, image, labels, compose_project, compose_service, compose_number, tty
) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
  name = excluded.name, image = excluded.image, labels = excluded.labels,
  compose_project = excluded.compose_project, compose_service = excluded.compose_service,
  compose_number = excluded.compose_number, tty = excluded.tty
RETURNING ref`;

export interface EventRow {
  rowid: number;
  id: string;
  ts: string;
  severity: number;
  facility: number;
  dataset: string;
  stream: string | null;
  host: string;
  service: string | null;
  container_ref: number | null;
  sl_hostname: string | null;
  sl_appname: string | null;
  sl_procid: string | null;
  sl_msgid: string | null;
  flags: string | null;
  ingested: string;
  message: string;
  sd: string | null;
  fields: string | null;
  original: string | null;
  http_method: string | null;
  url_original: string | null;
  http_version: string | null;
  http_status: number | null;
  http_bytes: number | null;
  http_referrer: string | null;
  user_agent: string | null;
  source_address: string | null;
  user_name: string | null;
  log_source_address: string | null;
  sender_ts: string | null;
}

export interface ContainerRow {
  ref: number;
  id: string;
  name: string;
  image: string;
  labels: string;
  compose_project: string | null;
  compose_service: string | null;
  compose_number: number | null;
  tty: number;
}

/** Canonical `@timestamp`: text order is time order only in exactly this form. */
export const CANONICAL_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

/** Why an event cannot be stored as it is (a bug upstream, so retrying will not help), or undefined. */
export function invalidReason(e: LogEvent): string | undefined {
  if (typeof e.id !== 'string' || e.id === '') return 'event without an id';
  if (typeof e.timestamp !== 'string' || !CANONICAL_TS_RE.test(e.timestamp)) {
    return `event ${e.id}: timestamp ${JSON.stringify(e.timestamp)} is not RFC 3339 UTC with 9 fraction digits`;
  }
  if (!Number.isInteger(e.severity) || e.severity < 0 || e.severity > 7) {
    return `event ${e.id}: severity ${String(e.severity)} is not 0..7`;
  }
  if (!Number.isInteger(e.facility) || e.facility < 0 || e.facility > 23) {
    return `event ${e.id}: facility ${String(e.facility)} is not 0..23`;
  }
  if (typeof e.message !== 'string') return `event ${e.id}: message is not a string`;
  return undefined;
}

/** The day file an event belongs to: its UTC date. */
export function dayOf(timestamp: string): string {
  return timestamp.slice(0, 10);
}

/** Whether an event has a value for one of schema 2's columns, and so needs INSERT_EVENT_ECS_SQL. */
export function hasEcsColumns(e: LogEvent): boolean {
  return e.access !== undefined || e.senderAddress !== undefined || e.senderTimestamp !== undefined;
}

/**
 * Parameters for INSERT_EVENT_SQL, in its column order, written into `out` and returned. The
 * writer passes one array for a whole batch, so a row allocates no parameter array of its own.
 */
export function eventParams(e: LogEvent, containerRef: number | null, out: unknown[] = []): unknown[] {
  const s = e.syslog;
  out[0] = e.id;
  out[1] = e.timestamp;
  out[2] = e.severity;
  out[3] = e.facility;
  out[4] = e.dataset;
  out[5] = e.stream ?? null;
  out[6] = e.host;
  out[7] = e.service ?? null;
  out[8] = containerRef;
  out[9] = s?.hostname ?? null;
  out[10] = s?.appname ?? null;
  out[11] = s?.procid ?? null;
  out[12] = s?.msgid ?? null;
  out[13] = e.flags?.length ? JSON.stringify(e.flags) : null;
  out[14] = e.ingested;
  out[15] = e.message;
  out[16] = s?.structuredData !== undefined ? JSON.stringify(s.structuredData) : null;
  out[17] = e.fields !== undefined ? JSON.stringify(e.fields) : null;
  out[18] = e.original ?? null;
  return out;
}

/** Parameters for INSERT_EVENT_ECS_SQL: eventParams', then schema 2's columns. */
export function eventParamsWithEcs(e: LogEvent, containerRef: number | null, out: unknown[] = []): unknown[] {
  eventParams(e, containerRef, out);
  const a = e.access;
  out[19] = a?.method ?? null;
  out[20] = a?.url ?? null;
  out[21] = a?.version ?? null;
  out[22] = a?.status ?? null;
  out[23] = a?.bytes ?? null;
  out[24] = a?.referrer ?? null;
  out[25] = a?.agent ?? null;
  out[26] = a?.client ?? null;
  out[27] = a?.user ?? null;
  out[28] = e.senderAddress ?? null;
  out[29] = e.senderTimestamp ?? null;
  return out;
}

/** Parameters for UPSERT_CONTAINER_SQL. */
export function containerParams(c: ContainerInfo): unknown[] {
  return [
    c.id,
    c.name,
    c.imageName,
    JSON.stringify(c.labels),
    c.composeProject ?? null,
    c.composeService ?? null,
    c.composeNumber ?? null,
    c.tty ? 1 : 0,
  ];
}

/** True when the stored row no longer describes this container (renamed, relabelled...). */
export function containerChanged(a: ContainerInfo, b: ContainerInfo): boolean {
  return (
    a.name !== b.name ||
    a.imageName !== b.imageName ||
    a.composeProject !== b.composeProject ||
    a.composeService !== b.composeService ||
    a.composeNumber !== b.composeNumber ||
    a.tty !== b.tty ||
    JSON.stringify(a.labels) !== JSON.stringify(b.labels)
  );
}

export function rowToContainer(r: ContainerRow): ContainerInfo {
  const c: ContainerInfo = {
    id: r.id,
    name: r.name,
    imageName: r.image,
    labels: JSON.parse(r.labels) as Record<string, string>,
    tty: r.tty !== 0,
  };
  if (r.compose_project !== null) c.composeProject = r.compose_project;
  if (r.compose_service !== null) c.composeService = r.compose_service;
  if (r.compose_number !== null) c.composeNumber = r.compose_number;
  return c;
}

/** Rebuilds the LogEvent that was written (minus `sourceKey`/`seq`, which are not stored). */
export function rowToEvent(r: EventRow, container: ContainerInfo | undefined): LogEvent {
  const e: LogEvent = {
    timestamp: r.ts,
    id: r.id,
    dataset: r.dataset as LogEvent['dataset'],
    ingested: r.ingested,
    message: r.message,
    severity: r.severity,
    facility: r.facility,
    host: r.host,
  };
  if (r.original !== null) e.original = r.original;
  if (r.stream !== null) e.stream = r.stream as Stream;
  if (container) e.container = container;
  if (r.service !== null) e.service = r.service;
  if (
    r.sl_hostname !== null ||
    r.sl_appname !== null ||
    r.sl_procid !== null ||
    r.sl_msgid !== null ||
    r.sd !== null
  ) {
    const s: SyslogHeader = {};
    if (r.sl_hostname !== null) s.hostname = r.sl_hostname;
    if (r.sl_appname !== null) s.appname = r.sl_appname;
    if (r.sl_procid !== null) s.procid = r.sl_procid;
    if (r.sl_msgid !== null) s.msgid = r.sl_msgid;
    if (r.sd !== null) s.structuredData = JSON.parse(r.sd) as SyslogHeader['structuredData'];
    e.syslog = s;
  }
  if (r.fields !== null) e.fields = JSON.parse(r.fields) as Record<string, unknown>;
  // An access line always has a client and a status; both are NULL on every other row.
  if (r.source_address !== null && r.http_status !== null) e.access = rowToAccess(r);
  if (r.log_source_address !== null) e.senderAddress = r.log_source_address;
  if (r.sender_ts !== null) e.senderTimestamp = r.sender_ts;
  if (r.flags !== null) e.flags = JSON.parse(r.flags) as string[];
  return e;
}

function rowToAccess(r: EventRow): AccessLog {
  const a: AccessLog = { client: r.source_address!, status: r.http_status!, bytes: r.http_bytes ?? 0 };
  if (r.user_name !== null) a.user = r.user_name;
  if (r.http_method !== null) a.method = r.http_method;
  if (r.url_original !== null) a.url = r.url_original;
  if (r.http_version !== null) a.version = r.http_version;
  if (r.http_referrer !== null) a.referrer = r.http_referrer;
  if (r.user_agent !== null) a.agent = r.user_agent;
  return a;
}
