import type { AccessLog, ContainerInfo, LogEvent } from '../core/event.js';

/**
 * LogEvent[] <-> the payload of one disk-buffer record. Pure functions.
 *
 * Payload layout (little-endian):
 *
 *   [u8 codec version][3 bytes zero][u32 event count][f64 appendedAt ms][JSON text, UTF-8]
 *
 * The fixed prefix lets recovery count events and find the oldest record without parsing JSON.
 * The JSON text is `[containers, rows]`:
 * - `containers`: each distinct ContainerInfo object of the batch once (by identity), as is;
 * - `rows`: one array per event, fields by position (see ROW below), a container as its index
 *   in `containers`, an absent optional field as `null`, trailing nulls cut off, and a
 *   `sourceKey` equal to its container's id (every docker event: 64 characters) as the number 1
 *   (a sourceKey is a string, so a number cannot be mistaken for one).
 * - `access` (an access line's facts) as a positional array too (see ACCESS below).
 * Positional rows keep the bytes small (no key repeated per event) and decoding rebuilds each
 * event with one object literal. Decoding hands every event of a container the same
 * ContainerInfo object, as the sources do.
 *
 * Exactness: every field is a JSON value (strings, integers, plain objects and arrays), so JSON
 * round-trips it. `JSON.stringify` escapes a lone surrogate as `\udxxx` (ES2019), so the text
 * written is always valid UTF-8 and lone surrogates come back unchanged. Within `fields`
 * (arbitrary JSON) JSON's own rules apply: `undefined` members vanish, non-finite numbers
 * become null — values parsed out of JSON or logfmt never hold those. A field set to
 * `undefined` (or `null`, which the type does not allow) decodes as absent.
 *
 * Upgrades: a buffer can hold a backlog across an upgrade of logwharf, so records written by an
 * older version must decode. New fields are only ever appended to the row (and to ACCESS), so an
 * older row is simply shorter: what it lacks decodes as absent. Its events are stored as that
 * version made them (an older one put an access line's facts in `fields.*`).
 */

export const CODEC_VERSION = 1;
/** Bytes before the JSON text. */
export const PREFIX_BYTES = 16;

/** Positions of the fields in a row; the first REQUIRED_FIELDS are always present. */
const REQUIRED_FIELDS = 8;
// 0 timestamp, 1 id, 2 dataset, 3 ingested, 4 message, 5 severity, 6 facility, 7 host,
// 8 original, 9 stream, 10 container, 11 service, 12 syslog, 13 fields, 14 flags,
// 15 sourceKey, 16 seq, 17 checkpoint, 18 access, 19 senderAddress, 20 senderTimestamp
// ACCESS: 0 client, 1 status, 2 bytes, 3 user, 4 method, 5 url, 6 version, 7 referrer, 8 agent
const ACCESS_REQUIRED = 3;
const SOURCE_KEY_IS_CONTAINER_ID = 1;

export interface DecodedBatch {
  events: LogEvent[];
  appendedAt: number;
}

/**
 * Encodes `events` into a fresh buffer that starts with `headroom` unused bytes (room for the
 * record frame, so that the whole record is one buffer and one write).
 */
export function encodeBatch(events: readonly LogEvent[], appendedAt: number, headroom = 0): Buffer {
  const containers: ContainerInfo[] = [];
  let index: Map<ContainerInfo, number> | undefined;
  let last: ContainerInfo | undefined;
  let lastIndex = -1;
  const rows: unknown[][] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    let k: number | null = null;
    const c = e.container;
    if (c !== undefined) {
      if (c === last) k = lastIndex;
      else {
        index ??= new Map();
        let found = index.get(c);
        if (found === undefined) {
          found = containers.length;
          containers.push(c);
          index.set(c, found);
        }
        last = c;
        lastIndex = found;
        k = found;
      }
    }
    const row: unknown[] = [
      e.timestamp,
      e.id,
      e.dataset,
      e.ingested,
      e.message,
      e.severity,
      e.facility,
      e.host,
      e.original ?? null,
      e.stream ?? null,
      k,
      e.service ?? null,
      e.syslog ?? null,
      e.fields ?? null,
      e.flags ?? null,
      c !== undefined && e.sourceKey === c.id ? SOURCE_KEY_IS_CONTAINER_ID : (e.sourceKey ?? null),
      e.seq ?? null,
      e.checkpoint ?? null,
      e.access !== undefined ? accessRow(e.access) : null,
      e.senderAddress ?? null,
      e.senderTimestamp ?? null,
    ];
    let n = row.length;
    while (n > REQUIRED_FIELDS && row[n - 1] === null) n--;
    row.length = n;
    rows[i] = row;
  }
  const json = JSON.stringify([containers, rows]);
  const start = headroom + PREFIX_BYTES;
  const buf = Buffer.allocUnsafe(start + Buffer.byteLength(json, 'utf8'));
  buf.fill(0, 0, start);
  writePrefix(buf, headroom, events.length, appendedAt);
  buf.write(json, start, 'utf8');
  return buf;
}

function accessRow(a: AccessLog): unknown[] {
  const row: unknown[] = [
    a.client,
    a.status,
    a.bytes,
    a.user ?? null,
    a.method ?? null,
    a.url ?? null,
    a.version ?? null,
    a.referrer ?? null,
    a.agent ?? null,
  ];
  let n = row.length;
  while (n > ACCESS_REQUIRED && row[n - 1] === null) n--;
  row.length = n;
  return row;
}

function writePrefix(buf: Buffer, at: number, count: number, appendedAt: number): void {
  buf[at] = CODEC_VERSION;
  buf.writeUInt32LE(count, at + 4);
  buf.writeDoubleLE(appendedAt, at + 8);
}

export interface PayloadPrefix {
  eventCount: number;
  appendedAt: number;
}

/** Reads the fixed prefix of the payload at `buf[at..end)`; null when it is not one this codec wrote. */
export function readPrefix(buf: Buffer, at: number, end: number): PayloadPrefix | null {
  if (end - at < PREFIX_BYTES || buf[at] !== CODEC_VERSION) return null;
  const appendedAt = buf.readDoubleLE(at + 8);
  if (!Number.isFinite(appendedAt)) return null;
  return { eventCount: buf.readUInt32LE(at + 4), appendedAt };
}

/** Decodes the payload at `buf[at..end)`. Throws (a message saying what is wrong) on a payload this codec did not write. */
export function decodeBatch(buf: Buffer, at: number, end: number): DecodedBatch {
  const prefix = readPrefix(buf, at, end);
  if (prefix === null) throw new Error(`not a version ${CODEC_VERSION} payload`);
  const doc: unknown = JSON.parse(buf.toString('utf8', at + PREFIX_BYTES, end));
  if (!Array.isArray(doc) || !Array.isArray(doc[0]) || !Array.isArray(doc[1])) {
    throw new Error('payload is not [containers, rows]');
  }
  const containers = doc[0] as ContainerInfo[];
  const rows = doc[1] as unknown[];
  if (rows.length !== prefix.eventCount) {
    throw new Error(`payload holds ${rows.length} events, its prefix says ${prefix.eventCount}`);
  }
  const events: LogEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) events[i] = decodeRow(rows[i], containers);
  return { events, appendedAt: prefix.appendedAt };
}

function decodeRow(raw: unknown, containers: ContainerInfo[]): LogEvent {
  if (!Array.isArray(raw) || raw.length < REQUIRED_FIELDS) throw new Error('event row is not an array');
  const r = raw as unknown[];
  const e: LogEvent = {
    timestamp: r[0] as string,
    id: r[1] as string,
    dataset: r[2] as LogEvent['dataset'],
    ingested: r[3] as string,
    message: r[4] as string,
    severity: r[5] as number,
    facility: r[6] as number,
    host: r[7] as string,
  };
  if (r.length === REQUIRED_FIELDS) return e;
  // Past the end of a row, r[i] is undefined: `!= null` covers both a null and a cut-off field.
  if (r[8] != null) e.original = r[8] as string;
  if (r[9] != null) e.stream = r[9] as LogEvent['stream'];
  if (r[10] != null) {
    const c = containers[r[10] as number];
    if (c === undefined) throw new Error(`event names container ${String(r[10])} of ${containers.length}`);
    e.container = c;
  }
  if (r[11] != null) e.service = r[11] as string;
  if (r[12] != null) e.syslog = r[12] as LogEvent['syslog'];
  if (r[13] != null) e.fields = r[13] as LogEvent['fields'];
  if (r[14] != null) e.flags = r[14] as string[];
  if (r[15] === SOURCE_KEY_IS_CONTAINER_ID && e.container !== undefined) e.sourceKey = e.container.id;
  else if (typeof r[15] === 'string') e.sourceKey = r[15];
  if (r[16] != null) e.seq = r[16] as number;
  if (r[17] != null) e.checkpoint = r[17] as LogEvent['checkpoint'];
  if (r[18] != null) e.access = decodeAccess(r[18]);
  if (r[19] != null) e.senderAddress = r[19] as string;
  if (r[20] != null) e.senderTimestamp = r[20] as string;
  return e;
}

function decodeAccess(raw: unknown): AccessLog {
  if (!Array.isArray(raw) || raw.length < ACCESS_REQUIRED) throw new Error('access row is not an array');
  const r = raw as unknown[];
  const a: AccessLog = { client: r[0] as string, status: r[1] as number, bytes: r[2] as number };
  if (r[3] != null) a.user = r[3] as string;
  if (r[4] != null) a.method = r[4] as string;
  if (r[5] != null) a.url = r[5] as string;
  if (r[6] != null) a.version = r[6] as string;
  if (r[7] != null) a.referrer = r[7] as string;
  if (r[8] != null) a.agent = r[8] as string;
  return a;
}
