import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toEcs } from '../../src/core/ecs.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import type { HistogramRequest, HistogramResult, SearchRequest } from '../../src/core/store.js';
import type { QueryNode } from '../../src/query/ast.js';
import { parseQuery } from '../../src/query/parser.js';
import { type EmbeddedReader, openEmbeddedReader } from '../../src/sinks/embedded/reader.js';
import { classify, openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The embedded store against real SQLite files: day files, round trips through toEcs, replays,
 * cursors under concurrent inserts, bounds, a second (read-only) reader, the LRU of open files,
 * histograms.
 * No Docker needed.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const READER_MODULE = path.resolve(here, '../../src/sinks/embedded/reader.ts');

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function store(dataDir: string, opts: Partial<Parameters<typeof openEmbeddedStore>[0]> = {}) {
  const s = await openEmbeddedStore({ dataDir, ...opts });
  open.push(s);
  return s;
}

async function reader(dataDir: string): Promise<EmbeddedReader> {
  const r = await openEmbeddedReader({ dataDir });
  open.push(r);
  return r;
}

const web: ContainerInfo = {
  id: 'f00dfeed1234'.padEnd(64, '5'),
  name: 'demo-web-1',
  imageName: 'nginx:1.25',
  labels: {
    'com.docker.compose.project': 'demo',
    'com.docker.compose.service': 'web',
    'com.docker.compose.container-number': '1',
  },
  composeProject: 'demo',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

let n = 0;
/** An event at `timestamp` (canonical), with a unique id unless given. */
function ev(timestamp: string, over: Partial<LogEvent> = {}): LogEvent {
  n++;
  return {
    timestamp,
    id: `ev-${n}`,
    dataset: 'docker',
    ingested: '2024-05-03T00:00:00.000000000Z',
    message: `line ${n} hello`,
    severity: 6,
    facility: 3,
    stream: 'stdout',
    container: web,
    host: 'docker-1',
    service: 'web',
    ...over,
  };
}

/**
 * A day file exactly as logwharf wrote it at schema version 1 (before the access-log, sender
 * address and sender time columns), with one event in it. Kept here as written then, not taken
 * from migrations.ts, so that the test keeps describing the files out there.
 */
function writeSchemaV1File(dataDir: string, day: string, id: string): void {
  const dirPath = path.join(dataDir, 'store', 'default');
  fs.mkdirSync(dirPath, { recursive: true });
  const db = new Database(path.join(dirPath, `${day}.sqlite`));
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.exec(`
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE containers (
  ref INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, image TEXT NOT NULL,
  labels TEXT NOT NULL, compose_project TEXT, compose_service TEXT, compose_number INTEGER,
  tty INTEGER NOT NULL
);
CREATE TABLE events (
  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, ts TEXT NOT NULL, severity INTEGER NOT NULL,
  facility INTEGER NOT NULL, dataset TEXT NOT NULL, stream TEXT, host TEXT NOT NULL, service TEXT,
  container_ref INTEGER, sl_hostname TEXT, sl_appname TEXT, sl_procid TEXT, sl_msgid TEXT,
  flags TEXT, ingested TEXT NOT NULL, message TEXT NOT NULL, sd TEXT, fields TEXT, original TEXT
);
CREATE UNIQUE INDEX events_ts_id ON events (ts, id);
CREATE INDEX events_service_ts ON events (service, ts);
CREATE INDEX events_container_ts ON events (container_ref, ts);
CREATE INDEX events_severity_ts ON events (severity, ts);
CREATE VIRTUAL TABLE events_fts USING fts5 (
  message, content = 'events', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2', detail = full, columnsize = 0
);
INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 16);
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF message ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
  INSERT INTO events_fts (rowid, message) VALUES (new.rowid, new.message);
END;
`);
  const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  put.run('day', day);
  put.run('retention_class', 'default');
  put.run('created', '2024-05-01T00:00:00.000Z');
  put.run('schema_version', '1');
  db.prepare(
    `INSERT INTO events (id, ts, severity, facility, dataset, stream, host, service, container_ref,
       sl_hostname, sl_appname, sl_procid, sl_msgid, flags, ingested, message, sd, fields, original)
     VALUES (?, ?, 6, 3, 'docker', 'stdout', 'docker-1', 'web', NULL, NULL, NULL, NULL, NULL, NULL, ?, 'old line', NULL, ?, NULL)`,
  ).run(
    id,
    `${day}T10:00:00.000000000Z`,
    `${day}T10:00:01.000000000Z`,
    JSON.stringify({ status: 503, method: 'GET' }),
  );
  db.exec('INSERT INTO events_fts (rowid, message) SELECT rowid, message FROM events');
  db.pragma('user_version = 1');
  db.close();
}

const at = (day: string, hms: string, nanos = 0) => `${day}T${hms}.${String(nanos).padStart(9, '0')}Z`;
const ALL: QueryNode = { type: 'all' };
const req = (over: Partial<SearchRequest> = {}): SearchRequest => ({
  query: ALL,
  limit: 100,
  order: 'desc',
  ...over,
});
const idsOf = (docs: Record<string, unknown>[]) => docs.map((d) => (d.event as { id: string }).id);

/** Every page of a search, following cursors. */
async function allPages(r: { search: EmbeddedReader['search'] }, base: SearchRequest): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const res = await r.search({ ...base, ...(cursor ? { cursor } : {}) });
    pages.push(idsOf(res.events));
    if (!res.nextCursor) return pages;
    cursor = res.nextCursor;
  }
}

describe('embedded store', () => {
  it('round-trips every ECS field through toEcs', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const events: LogEvent[] = [
      ev(at('2024-05-01', '10:00:00', 123456789), {
        original: '{"level":"error","msg":"boom","status":500}',
        message: 'boom',
        severity: 3,
        stream: 'stderr',
        fields: { level: 'error', msg: 'boom', status: 500, nested: { a: [1, 'two', null, true] } },
        flags: ['truncated', 'multiline'],
      }),
      // An access line: its ECS facts, numbers as numbers (bytes beyond 32 bits), extras in fields.
      ev(at('2024-05-01', '10:00:00', 200_000_000), {
        message: '203.0.113.9 - alice [01/May/2024:10:00:00 +0000] "POST /login?next=%2F HTTP/2.0" 302 0',
        access: {
          client: '203.0.113.9',
          user: 'alice',
          method: 'POST',
          url: '/login?next=%2F',
          version: '2.0',
          status: 302,
          bytes: 5_000_000_000,
          referrer: 'https://shop.example/',
          agent: 'curl/8.5.0',
        },
        fields: { client_chain: ['10.0.0.2', '203.0.113.9'] },
      }),
      ev(at('2024-05-01', '10:00:00', 300_000_000), { access: { client: '::1', status: 408, bytes: 0 } }),
      ev(at('2024-05-01', '10:00:01'), {
        dataset: 'syslog',
        container: undefined,
        stream: undefined,
        service: 'sshd',
        host: 'router',
        severity: 5,
        facility: 4,
        message: 'Accepted publickey for admin',
        original:
          '<37>1 2024-05-01T10:00:01Z router sshd 42 AUTH [origin ip="10.0.0.1"] Accepted publickey for admin',
        syslog: {
          hostname: 'router',
          appname: 'sshd',
          procid: '42',
          msgid: 'AUTH',
          structuredData: { origin: { ip: '10.0.0.1' }, 'meta@32473': { sequenceId: '1' } },
        },
        senderAddress: '10.0.0.1',
        senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      }),
      // A container without compose labels, and no service.
      ev(at('2024-05-01', '10:00:02'), {
        container: { id: 'b'.repeat(64), name: 'solo', imageName: 'busybox', labels: {}, tty: true },
        service: undefined,
      }),
    ];
    expect(await s.writer.write(events)).toEqual({ status: 'delivered' });
    const res = await s.reader.search(req({ order: 'asc' }));
    expect(res.events).toEqual(events.map(toEcs));
    expect(res.nextCursor).toBeNull();
  });

  it('stores nothing twice when a batch is replayed', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const batch = [
      ev(at('2024-05-01', '10:00:00')),
      ev(at('2024-05-02', '10:00:00')),
      ev(at('2024-05-01', '11:00:00')),
    ];
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    // A replay after a crash overlaps partly with new events.
    const next = ev(at('2024-05-02', '12:00:00'));
    expect(await s.writer.write([...batch.slice(1), next])).toEqual({ status: 'delivered' });
    expect(s.countAll()).toBe(4);
    // The full-text index was not doubled either.
    const hello = await s.reader.search(
      req({ query: { type: 'text', value: 'hello', phrase: false, prefix: false } }),
    );
    expect(idsOf(hello.events).sort()).toEqual([...batch, next].map((e) => e.id).sort());
    // And each day file holds one row for the container, however often it was written.
    for (const day of ['2024-05-01', '2024-05-02']) {
      const db = new Database(path.join(dir, 'store', 'default', `${day}.sqlite`), { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM containers').get()).toEqual({ n: 1 });
      db.close();
    }
  });

  it('recognises a replay by its timestamp and id together', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const first = ev(at('2024-05-01', '10:00:00'));
    expect(await s.writer.write([first])).toEqual({ status: 'delivered' });
    // Ids are made from the line, timestamp included: the same id at another time is another line.
    const elsewhen = { ...first, timestamp: at('2024-05-01', '10:00:01') };
    expect(await s.writer.write([first, elsewhen, first])).toEqual({ status: 'delivered' });
    expect(s.countAll()).toBe(2);
    const byId = await s.reader.search(
      req({ query: { type: 'field', field: 'event.id', op: 'eq', value: first.id } }),
    );
    expect(byId.events.map((e) => e['@timestamp'])).toEqual([elsewhen.timestamp, first.timestamp]);
  });

  it('keeps the full-text index in step with the rows through replays and new days', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const a = [ev(at('2024-05-01', '10:00:00')), ev(at('2024-05-01', '10:00:01'), { message: 'Café crème' })];
    const b = [
      ev(at('2024-05-01', '09:00:00'), { message: 'older, written later' }),
      ev(at('2024-05-02', '10:00:00')),
    ];
    await s.writer.write(a);
    await s.writer.write([...a, ...b]); // half replay, half new, over two days
    await s.writer.write(b); // all replay: nothing to index
    const words = async (value: string) =>
      idsOf(
        (await s.reader.search(req({ query: { type: 'text', value, phrase: false, prefix: false } }))).events,
      );
    expect(await words('cafe')).toEqual([a[1]!.id]);
    expect(await words('later')).toEqual([b[0]!.id]);
    expect((await words('hello')).sort()).toEqual([a[0]!.id, b[1]!.id].sort());
    for (const day of ['2024-05-01', '2024-05-02']) {
      const db = new Database(path.join(dir, 'store', 'default', `${day}.sqlite`));
      // FTS5 compares its index with the rows of `events` and throws on any difference.
      expect(() => db.exec("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")).not.toThrow();
      expect(db.pragma('page_size', { simple: true })).toBe(16384);
      expect(db.prepare("SELECT v FROM events_fts_config WHERE k = 'automerge'").pluck().get()).toBe(16);
      db.close();
    }
  });

  it('puts each UTC day in its own file and searches across them in both orders', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const days = ['2024-05-01', '2024-05-02', '2024-05-03'];
    const events = days.flatMap((d) => [ev(at(d, '23:59:59', 999999999)), ev(at(d, '00:00:00'))]);
    expect(await s.writer.write(events)).toEqual({ status: 'delivered' });

    expect(fs.readdirSync(path.join(dir, 'store', 'default')).filter((f) => f.endsWith('.sqlite'))).toEqual(
      days.map((d) => `${d}.sqlite`),
    );
    const byTime = [...events].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1)).map((e) => e.id);
    expect(idsOf((await s.reader.search(req({ order: 'asc' }))).events)).toEqual(byTime);
    expect(idsOf((await s.reader.search(req())).events)).toEqual([...byTime].reverse());
    // Paging two at a time crosses the day boundaries.
    expect((await allPages(s.reader, req({ limit: 2 }))).flat()).toEqual([...byTime].reverse());
    expect((await allPages(s.reader, req({ limit: 4, order: 'asc' }))).flat()).toEqual(byTime);
  });

  it('pages stably while new events are inserted between pages', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    // Ten events, two of them sharing a timestamp (rowid breaks the tie), over two days.
    const t = (i: number) => at(i < 5 ? '2024-05-01' : '2024-05-02', `12:00:0${i % 10}`);
    const initial = Array.from({ length: 10 }, (_, i) => ev(t(i)));
    initial.push(ev(t(4)));
    expect(await s.writer.write(initial)).toEqual({ status: 'delivered' });

    for (const order of ['desc', 'asc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let round = 0;
      const stamps: string[] = [];
      do {
        const res = await s.reader.search(req({ limit: 3, order, ...(cursor ? { cursor } : {}) }));
        seen.push(...idsOf(res.events));
        stamps.push(...res.events.map((e) => e['@timestamp'] as string));
        cursor = res.nextCursor ?? undefined;
        // Between pages: events newer than all, older than all, and at the same time as the
        // last row returned (so only the rowid orders them). None may cause a repeat or a skip.
        round++;
        await s.writer.write([
          ev(at('2024-05-03', '00:00:00', round)),
          ev(at('2024-04-30', '00:00:00', round)),
          ev(stamps[stamps.length - 1]!),
        ]);
      } while (cursor);
      const sorted = [...stamps].sort();
      expect(stamps).toEqual(order === 'asc' ? sorted : sorted.reverse());
      expect(new Set(seen).size).toBe(seen.length);
      for (const e of initial) expect(seen).toContain(e.id);
    }
  });

  it('bounds a search by from (inclusive) and to (exclusive), in any RFC 3339 form', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const a = ev(at('2024-05-01', '23:59:59', 999999999));
    const b = ev(at('2024-05-02', '00:00:00'));
    const c = ev(at('2024-05-02', '00:00:00', 500000000));
    const d = ev(at('2024-05-03', '08:00:00'));
    await s.writer.write([a, b, c, d]);
    const ids = async (from?: string, to?: string) =>
      idsOf(
        (await s.reader.search(req({ order: 'asc', ...(from ? { from } : {}), ...(to ? { to } : {}) })))
          .events,
      );
    expect(await ids(b.timestamp)).toEqual([b.id, c.id, d.id]);
    expect(await ids(undefined, b.timestamp)).toEqual([a.id]);
    expect(await ids(b.timestamp, d.timestamp)).toEqual([b.id, c.id]);
    expect(await ids('2024-05-02T00:00:00Z', '2024-05-02T00:00:00.5Z')).toEqual([b.id]);
    expect(await ids('2024-05-02T02:00:00+02:00', '2024-05-03T00:00:00Z')).toEqual([b.id, c.id]);
    expect(await ids('2024-06-01T00:00:00Z')).toEqual([]);
    await expect(s.reader.search(req({ from: 'yesterday' }))).rejects.toThrow(/from/);
  });

  it('refuses a cursor it did not make', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    await expect(s.reader.search(req({ cursor: 'bm9wZQ' }))).rejects.toMatchObject({
      name: 'InvalidCursorError',
      code: 'LOGWHARF_ERR_QUERY',
    });
  });

  it('a separate read-only reader sees new writes and new day files', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    await s.writer.write([ev(at('2024-05-01', '10:00:00'))]);
    const r = await reader(dir);
    expect((await r.search(req())).events).toHaveLength(1);
    await s.writer.write([ev(at('2024-05-01', '10:00:01')), ev(at('2024-05-02', '10:00:00'))]);
    expect((await r.search(req())).events).toHaveLength(3);
    expect(r.countAll()).toBe(3);
  });

  it('a reader in another process reads while the writer holds the files open', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const events = [ev(at('2024-05-01', '10:00:00')), ev(at('2024-05-02', '10:00:00'))];
    await s.writer.write(events);
    const script = path.join(dir, 'child-reader.mjs');
    fs.writeFileSync(
      script,
      `const { openEmbeddedReader } = await import(process.argv[2]);
       const r = await openEmbeddedReader({ dataDir: process.argv[3] });
       const res = await r.search({ query: { type: 'all' }, limit: 10, order: 'asc' });
       process.stdout.write(JSON.stringify(res.events.map((e) => e.event.id)));
       await r.close();`,
    );
    const run = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        script,
        READER_MODULE,
        dir,
      ]);
      return JSON.parse(stdout) as string[];
    };
    expect(await run()).toEqual(events.map((e) => e.id));
    const more = ev(at('2024-05-03', '10:00:00'));
    await s.writer.write([more]);
    expect(await run()).toEqual([...events, more].map((e) => e.id));
    // The writer still works after the other process came and went.
    expect(await s.writer.write([ev(at('2024-05-03', '10:00:01'))])).toEqual({ status: 'delivered' });
  });

  it('keeps at most maxOpenDays files open, closing and reopening as needed', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir, { maxOpenDays: 2 });
    const days = ['2024-05-01', '2024-05-02', '2024-05-03'];
    for (const d of days)
      expect(await s.writer.write([ev(at(d, '10:00:00'))])).toEqual({ status: 'delivered' });
    expect(s.openDays()).toEqual(['default/2024-05-02', 'default/2024-05-03']);
    // Back to the first day: it is reopened (its container row is found again, not doubled).
    expect(await s.writer.write([ev(at('2024-05-01', '11:00:00'))])).toEqual({ status: 'delivered' });
    expect(s.openDays()).toEqual(['default/2024-05-03', 'default/2024-05-01']);
    expect(s.countAll()).toBe(4);
    expect((await s.reader.search(req({ order: 'asc' }))).events.map((e) => e['@timestamp'])).toEqual([
      at('2024-05-01', '10:00:00'),
      at('2024-05-01', '11:00:00'),
      at('2024-05-02', '10:00:00'),
      at('2024-05-03', '10:00:00'),
    ]);
    const db = new Database(path.join(dir, 'store', 'default', '2024-05-01.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM containers').get()).toEqual({ n: 1 });
    db.close();
  });

  it('updates a container row when the container changes during the day', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    await s.writer.write([ev(at('2024-05-01', '10:00:00'))]);
    const renamed = { ...web, name: 'demo-web-renamed' };
    await s.writer.write([ev(at('2024-05-01', '10:00:01'), { container: renamed })]);
    const res = await s.reader.search(req());
    expect(res.events.map((e) => (e.container as { name: string }).name)).toEqual([
      'demo-web-renamed',
      'demo-web-renamed',
    ]);
  });

  it('keeps retention classes in their own directories and merges them in searches', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir, { retentionClass: (e) => (e.severity <= 3 ? 'audit' : 'default') });
    const events = [
      ev(at('2024-05-01', '10:00:00')),
      ev(at('2024-05-01', '10:00:01'), { severity: 3 }),
      ev(at('2024-05-01', '10:00:02')),
      ev(at('2024-05-01', '10:00:02'), { severity: 2 }),
      ev(at('2024-05-02', '10:00:00'), { severity: 3 }),
    ];
    expect(await s.writer.write(events)).toEqual({ status: 'delivered' });
    expect(fs.readdirSync(path.join(dir, 'store')).sort()).toEqual(['audit', 'default']);
    const byTime = idsOf((await s.reader.search(req({ order: 'asc' }))).events);
    expect(byTime).toEqual([events[0]!.id, events[1]!.id, events[3]!.id, events[2]!.id, events[4]!.id]);
    expect((await allPages(s.reader, req({ limit: 1, order: 'asc' }))).flat()).toEqual(byTime);
    expect((await allPages(s.reader, req({ limit: 2 }))).flat()).toEqual([...byTime].reverse());
  });

  it('drops a whole day by removing its files', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    await s.writer.write([ev(at('2024-05-01', '10:00:00')), ev(at('2024-05-02', '10:00:00'))]);
    await s.reader.search(req()); // opens both files in the reader too
    s.dropDay('default', '2024-05-01');
    expect(
      fs.readdirSync(path.join(dir, 'store', 'default')).filter((f) => f.startsWith('2024-05-01')),
    ).toEqual([]);
    expect((await s.reader.search(req())).events).toHaveLength(1);
    // Writing to the day again creates a fresh file.
    expect(await s.writer.write([ev(at('2024-05-01', '12:00:00'))])).toEqual({ status: 'delivered' });
    expect(s.countAll()).toBe(2);
  });

  it('removes a half-created day file that a crash left behind', async () => {
    const dir = await tempDir('lw-emb-');
    const classDir = path.join(dir, 'store', 'default');
    fs.mkdirSync(classDir, { recursive: true });
    fs.writeFileSync(path.join(classDir, '.2024-05-01.sqlite.tmp-999999'), 'half');
    const s = await store(dir);
    expect(fs.readdirSync(classDir)).toEqual([]);
    expect(await s.writer.write([ev(at('2024-05-01', '10:00:00'))])).toEqual({ status: 'delivered' });
    expect(fs.readdirSync(classDir).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('rejects a batch that can never be stored, and writes none of it', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    const good = ev(at('2024-05-01', '10:00:00'));
    const outcome = await s.writer.write([good, ev('2024-05-01T10:00:00Z')]);
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/timestamp/) });
    expect(s.countAll()).toBe(0);
    const badClass = await store(path.join(dir, 'other'), { retentionClass: () => '../escape' });
    expect(await badClass.writer.write([good])).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/retention class/),
    });
  });

  it('migrates the day files an older logwharf wrote (schema 1) when the writer opens, rows kept and searchable', async () => {
    const dir = await tempDir('lw-emb-');
    const days = ['2024-04-29', '2024-04-30'];
    for (const day of days) writeSchemaV1File(dir, day, `old-${day}`);
    // Before the service has run once, a reader refuses them and says what to do.
    const early = await reader(dir);
    await expect(early.search(req())).rejects.toThrow(/start the logwharf service once to migrate it/);
    await early.close();

    const s = await store(dir);
    for (const day of days) {
      const db = new Database(path.join(dir, 'store', 'default', `${day}.sqlite`), { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('2');
      db.close();
    }
    // The old rows read back as they were written (an access line's facts were fields then).
    const old = await s.reader.search(req({ order: 'asc' }));
    expect(idsOf(old.events)).toEqual(['old-2024-04-29', 'old-2024-04-30']);
    expect(old.events[0]).toMatchObject({ fields: { status: 503, method: 'GET' }, message: 'old line' });
    expect(old.events[0]).not.toHaveProperty('http');
    const status = (q: string) => s.reader.search(req({ query: parseQuery(q) }));
    expect(idsOf((await status('status>=500')).events)).toEqual([]);
    expect(idsOf((await status('fields.status>=500')).events)).toEqual(['old-2024-04-30', 'old-2024-04-29']);
    // New events go into the same (migrated) file, with the new fields.
    const fresh = ev(at('2024-04-30', '12:00:00'), { access: { client: '10.0.0.1', status: 500, bytes: 1 } });
    expect(await s.writer.write([fresh])).toEqual({ status: 'delivered' });
    expect(idsOf((await status('status>=500')).events)).toEqual([fresh.id]);
    // A reader in another process reads the migrated files.
    const other = await reader(dir);
    expect(idsOf((await other.search(req())).events)).toEqual([fresh.id, 'old-2024-04-30', 'old-2024-04-29']);
  });

  it('rejects writes to a day file of a newer schema, and readers refuse it', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    await s.writer.write([ev(at('2024-05-01', '10:00:00'))]);
    await s.close();
    const file = path.join(dir, 'store', 'default', '2024-05-01.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const again = await store(dir);
    const outcome = await again.writer.write([ev(at('2024-05-01', '11:00:00'))]);
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/schema version 99/) });
    await expect(again.reader.search(req())).rejects.toThrow(/schema version 99/);
  });

  it('answers retryable after close, and ready() reflects it', async () => {
    const dir = await tempDir('lw-emb-');
    const s = await store(dir);
    expect(await s.writer.ready()).toBe(true);
    await s.close();
    await s.close(); // idempotent
    expect(await s.writer.ready()).toBe(false);
    expect(await s.writer.write([ev(at('2024-05-01', '10:00:00'))])).toMatchObject({ status: 'retryable' });
  });

  it('classifies errors: retry what can succeed later, reject what never will', () => {
    const f = '/data/store/default/2024-05-01.sqlite';
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(classify(err('SQLITE_FULL'), f)).toMatchObject({
      status: 'retryable',
      reason: expect.stringMatching(/disk is full/),
    });
    expect(classify(err('SQLITE_BUSY'), f).status).toBe('retryable');
    expect(classify(err('SQLITE_BUSY_SNAPSHOT'), f).status).toBe('retryable');
    expect(classify(err('SQLITE_IOERR_WRITE'), f).status).toBe('retryable');
    expect(classify(err('ENOSPC'), f).status).toBe('retryable');
    expect(classify(err('SQLITE_CORRUPT'), f).status).toBe('retryable');
    // A failing disk reads as a damaged file too (test/faults/disk-eio.test.ts): the hint must not
    // send the operator to move a sound file aside before the disk is looked at.
    expect(classify(err('SQLITE_CORRUPT'), f).reason).toMatch(/damaged: if the disk reports I\/O errors/);
    expect(classify(err('SQLITE_IOERR_SHORT_READ'), f).reason).toMatch(/the disk failed a read or write/);
    expect(classify(err('SQLITE_ERROR'), f).status).toBe('rejected');
    expect(classify(err('SQLITE_CONSTRAINT_NOTNULL'), f).status).toBe('rejected');
    expect(classify(new TypeError('Do not know how to serialize a BigInt'), f).status).toBe('rejected');
    expect(classify(new Error('something new'), f).status).toBe('retryable');
  });
});

describe('embedded store histogram', () => {
  const api: ContainerInfo = {
    ...web,
    id: 'abcabc'.padEnd(64, '7'),
    name: 'demo-api-1',
    labels: { ...web.labels, 'com.docker.compose.service': 'api' },
    composeService: 'api',
  };
  const hreq = (over: Partial<HistogramRequest> = {}): HistogramRequest => ({
    query: ALL,
    from: at('2024-05-01', '22:00:00'),
    to: at('2024-05-02', '02:00:00'),
    intervalMs: 3_600_000,
    by: 'log.level',
    limit: 10,
    ...over,
  });
  const counts = (r: HistogramResult) => r.buckets.map((b) => [b.start.slice(0, 16), b.total, b.counts]);

  it('counts per hour by log.level over two day files, bounds and empty hours included', async () => {
    const dir = await tempDir('lw-hist-');
    const s = await store(dir, { retentionClass: (e) => (e.severity <= 3 ? 'audit' : 'default') });
    await s.writer.write([
      ev(at('2024-05-01', '21:59:59', 999999999), { severity: 3 }), // before from
      ev(at('2024-05-01', '22:00:00')),
      ev(at('2024-05-01', '22:59:59', 999999999), { severity: 3 }), // another class, same hour
      ev(at('2024-05-01', '22:30:00'), { severity: 4 }),
      ev(at('2024-05-02', '00:00:00')),
      ev(at('2024-05-02', '00:00:00', 1)),
      ev(at('2024-05-02', '01:59:59', 999999999), { severity: 0 }),
      ev(at('2024-05-02', '02:00:00')), // at to: excluded
    ]);
    const res = await s.reader.histogram(hreq());
    expect(res.intervalMs).toBe(3_600_000);
    expect(res.by).toBe('log.level');
    expect(counts(res)).toEqual([
      ['2024-05-01T22:00', 3, { info: 1, err: 1, warning: 1 }],
      ['2024-05-01T23:00', 0, {}],
      ['2024-05-02T00:00', 2, { info: 2 }],
      ['2024-05-02T01:00', 1, { emerg: 1 }],
    ]);
    expect(res.buckets[0]!.start).toBe('2024-05-01T22:00:00.000000000Z');
    // Bounds off the hour: the first bucket still starts on it; `to` with nanoseconds adds a bucket.
    const odd = await s.reader.histogram(
      hreq({ from: at('2024-05-01', '22:30:00'), to: at('2024-05-02', '02:00:00', 1) }),
    );
    expect(counts(odd)).toEqual([
      ['2024-05-01T22:00', 2, { err: 1, warning: 1 }],
      ['2024-05-01T23:00', 0, {}],
      ['2024-05-02T00:00', 2, { info: 2 }],
      ['2024-05-02T01:00', 1, { emerg: 1 }],
      ['2024-05-02T02:00', 1, { info: 1 }],
    ]);
    // Whole days (the files are read without time bounds), and a query.
    const days = await s.reader.histogram(
      hreq({ from: at('2024-05-01', '00:00:00'), to: at('2024-05-03', '00:00:00'), intervalMs: 86_400_000 }),
    );
    expect(counts(days)).toEqual([
      ['2024-05-01T00:00', 4, { info: 1, err: 2, warning: 1 }],
      ['2024-05-02T00:00', 4, { info: 3, emerg: 1 }],
    ]);
    const severe = await s.reader.histogram(hreq({ query: { type: 'severity', op: 'lte', code: 3 } }));
    expect(counts(severe).map(([, total]) => total)).toEqual([1, 0, 0, 1]);
  });

  it('splits by service, container, fields and labels, with (none) and other', async () => {
    const dir = await tempDir('lw-hist-');
    const s = await store(dir);
    const h = (hms: string) => at('2024-05-02', hms);
    // The same container name again after a re-create: a new id, so a second container row.
    const web2 = { ...web, id: 'feedf00d'.padEnd(64, '9') };
    await s.writer.write([
      ev(h('00:10:00'), { fields: { status: 200 } }),
      ev(h('00:11:00'), { fields: { status: '200' } }),
      ev(h('00:12:00'), { fields: { status: 500, http: { status: 404 } } }),
      ev(h('00:13:00'), { container: web2, fields: { 'http.status': '503' } }),
      ev(h('01:10:00'), { container: api, service: 'api', fields: { status: 404 } }),
      ev(h('01:11:00'), { container: api, service: 'api', fields: { status: null } }),
      ev(h('01:12:00'), {
        dataset: 'syslog',
        container: undefined,
        stream: undefined,
        service: 'sshd',
        facility: 4,
        message: 'Accepted publickey',
        syslog: { hostname: 'router', appname: 'sshd', structuredData: { origin: { ip: '10.0.0.1' } } },
      }),
    ]);
    const by = async (field: string, limit = 10) =>
      counts(await s.reader.histogram(hreq({ by: field, limit })));
    expect(await by('service')).toEqual([
      ['2024-05-01T22:00', 0, {}],
      ['2024-05-01T23:00', 0, {}],
      ['2024-05-02T00:00', 4, { web: 4 }],
      ['2024-05-02T01:00', 3, { api: 2, sshd: 1 }],
    ]);
    expect((await s.reader.histogram(hreq({ by: 'SERVICE' }))).by).toBe('service.name');
    expect((await by('container')).slice(2)).toEqual([
      ['2024-05-02T00:00', 4, { 'demo-web-1': 4 }],
      ['2024-05-02T01:00', 3, { 'demo-api-1': 2, '(none)': 1 }],
    ]);
    expect((await by('container.labels.com.docker.compose.service')).slice(2)).toEqual([
      ['2024-05-02T00:00', 4, { web: 4 }],
      ['2024-05-02T01:00', 3, { api: 2, '(none)': 1 }],
    ]);
    // 200 as a number and as a string are one value; JSON null and no field are (none).
    expect((await by('fields.status')).slice(2)).toEqual([
      ['2024-05-02T00:00', 4, { '200': 2, '500': 1, '(none)': 1 }],
      ['2024-05-02T01:00', 3, { '404': 1, '(none)': 2 }],
    ]);
    // The top value over the whole range is kept; the rest is other.
    expect((await by('fields.status', 1)).slice(2)).toEqual([
      ['2024-05-02T00:00', 4, { '200': 2, other: 1, '(none)': 1 }],
      ['2024-05-02T01:00', 3, { other: 1, '(none)': 2 }],
    ]);
    // Nested object or flat logfmt-style key.
    expect((await by('fields.http.status')).slice(2)).toEqual([
      ['2024-05-02T00:00', 4, { '404': 1, '503': 1, '(none)': 2 }],
      ['2024-05-02T01:00', 3, { '(none)': 3 }],
    ]);
    expect((await by('log.syslog.facility.name')).slice(3)).toEqual([
      ['2024-05-02T01:00', 3, { daemon: 2, auth: 1 }],
    ]);
    expect((await by('log.syslog.structured_data.origin.ip')).slice(3)).toEqual([
      ['2024-05-02T01:00', 3, { '10.0.0.1': 1, '(none)': 2 }],
    ]);
    const webHello = await s.reader.histogram(
      hreq({
        by: 'container',
        query: {
          type: 'and',
          children: [
            { type: 'field', field: 'service.name', op: 'eq', value: 'web' },
            { type: 'text', value: 'hello', phrase: false, prefix: false },
          ],
        },
      }),
    );
    expect(counts(webHello).map(([, total]) => total)).toEqual([0, 0, 4, 0]);
  });

  it('reads more days than it keeps open, and answers an empty store with empty buckets', async () => {
    const dir = await tempDir('lw-hist-');
    const empty = await reader(dir);
    const none = await empty.histogram(
      hreq({ from: at('2024-05-01', '00:00:00'), to: at('2024-05-04', '00:00:00'), intervalMs: 86_400_000 }),
    );
    expect(counts(none)).toEqual([
      ['2024-05-01T00:00', 0, {}],
      ['2024-05-02T00:00', 0, {}],
      ['2024-05-03T00:00', 0, {}],
    ]);
    const s = await store(dir);
    await s.writer.write(['2024-05-01', '2024-05-02', '2024-05-03'].map((d) => ev(at(d, '12:00:00'))));
    const one = await openEmbeddedReader({ dataDir: dir, maxOpenDays: 1 });
    open.push(one);
    const res = await one.histogram(
      hreq({ from: at('2024-05-01', '00:00:00'), to: at('2024-05-04', '00:00:00'), intervalMs: 86_400_000 }),
    );
    expect(res.buckets.map((b) => b.total)).toEqual([1, 1, 1]);
  });

  it('refuses an unknown field or a list field before reading', async () => {
    const dir = await tempDir('lw-hist-');
    const s = await store(dir);
    await expect(s.reader.histogram(hreq({ by: 'nosuch.field' }))).rejects.toMatchObject({
      name: 'UnknownFieldError',
      field: 'nosuch.field',
    });
    await expect(s.reader.histogram(hreq({ by: 'log.flags' }))).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_QUERY',
    });
  });
});
