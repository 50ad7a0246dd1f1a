import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { answerBytes, MAX_ANSWER_BYTES } from '../../src/core/answer.js';
import type { EcsDocument } from '../../src/core/ecs.js';
import { LogwharfError } from '../../src/core/errors.js';
import { describeFailure, Health } from '../../src/core/health.js';
import type { SourceStatus, StatusProvider } from '../../src/core/status.js';
import { QuerySyntaxError } from '../../src/query/ast.js';
import { UnknownFieldError } from '../../src/query/fields.js';
import { parseQuery } from '../../src/query/parser.js';
import { InvalidCursorError } from '../../src/sinks/embedded/paging.js';
import { type EmbeddedStore, openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { FakeReader } from '../helpers/fake-reader.js';
import { answerEventBytes, bigEvents, idOf, MiB } from '../helpers/search-bytes.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');

const EVENT_A: EcsDocument = {
  '@timestamp': '2024-05-01T11:59:59.123456789Z',
  event: { id: 'a1', dataset: 'docker', ingested: '2024-05-01T11:59:59.200000000Z' },
  message: 'GET / 200',
  log: {
    level: 'info',
    syslog: { severity: { code: 6, name: 'info' }, facility: { code: 3, name: 'daemon' } },
  },
  container: {
    id: 'c1',
    name: 'demo-web-1',
    image: { name: 'nginx' },
    labels: { 'com.docker.compose.service': 'web' },
  },
  fields: { status: 200, nested: { deep: [1, 'two', null] } },
};
const EVENT_B: EcsDocument = {
  '@timestamp': '2024-05-01T11:59:58.000000000Z',
  message: 'older',
  host: { name: 'h' },
};

class FakeStatus implements StatusProvider {
  list: SourceStatus[] = [];
  isReady = true;
  sources(): SourceStatus[] {
    return this.list;
  }
  ready(): boolean {
    return this.isReady;
  }
}

let reader: FakeReader;
let status: FakeStatus;
let storeOk: boolean | Error;
let app: FastifyInstance;

beforeEach(async () => {
  reader = new FakeReader();
  status = new FakeStatus();
  storeOk = true;
  app = await buildApp({
    reader,
    status,
    storeReady: async () => {
      if (storeOk instanceof Error) throw storeOk;
      return storeOk;
    },
    now: () => NOW,
  });
});

afterEach(async () => {
  await app.close();
});

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown>, headers: res.headers };
}

function syntaxPosition(q: string): number {
  try {
    parseQuery(q);
  } catch (err) {
    if (err instanceof QuerySyntaxError) return err.position;
  }
  throw new Error(`expected ${q} not to parse`);
}

describe('GET /api/v1/search', () => {
  it('asks the store for the newest 100 of everything by default', async () => {
    reader.result = { events: [EVENT_A, EVENT_B], nextCursor: null };
    const res = await get('/api/v1/search');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ events: [EVENT_A, EVENT_B], next_cursor: null, cut_by: null });
    expect(reader.requests).toEqual([{ query: { type: 'all' }, limit: 100, order: 'desc' }]);
  });

  it('returns the ECS documents unchanged, nested fields included', async () => {
    reader.result = { events: [EVENT_A], nextCursor: null };
    const res = await app.inject({ method: 'GET', url: '/api/v1/search?q=' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ events: [EVENT_A], next_cursor: null, cut_by: null });
  });

  it('passes the parsed query, limit, order and cursor, and returns next_cursor', async () => {
    reader.result = { events: [EVENT_B], nextCursor: 'opaque-2' };
    const res = await get('/api/v1/search?q=service%3Aweb&limit=5&order=asc&cursor=opaque-1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ events: [EVENT_B], next_cursor: 'opaque-2', cut_by: 'limit' });
    expect(reader.requests).toEqual([
      { query: parseQuery('service:web'), limit: 5, order: 'asc', cursor: 'opaque-1' },
    ]);
  });

  it('takes from/to as spans before now', async () => {
    await get('/api/v1/search?from=15m&to=5m');
    expect(reader.requests[0]).toMatchObject({
      from: '2024-05-01T11:45:00.000000000Z',
      to: '2024-05-01T11:55:00.000000000Z',
    });
  });

  it('takes from/to as RFC 3339 and hands the store the canonical form', async () => {
    await get('/api/v1/search?from=2024-05-01T10:00:00Z&to=2024-05-01T11:00:00.5Z');
    expect(reader.requests[0]).toMatchObject({
      from: '2024-05-01T10:00:00.000000000Z',
      to: '2024-05-01T11:00:00.500000000Z',
    });
  });

  it('treats empty from, to and cursor as not given', async () => {
    const res = await get('/api/v1/search?q=&from=&to=&cursor=');
    expect(res.status).toBe(200);
    expect(reader.requests).toEqual([{ query: { type: 'all' }, limit: 100, order: 'desc' }]);
  });

  it('accepts limit 10000', async () => {
    expect((await get('/api/v1/search?limit=10000')).status).toBe(200);
    expect(reader.requests[0]?.limit).toBe(10000);
  });

  it.each([
    ['limit=10001', 'limit', /must be <= 10000/],
    ['limit=0', 'limit', /must be >= 1/],
    ['limit=ten', 'limit', /must be integer/],
    ['limit=1.5', 'limit', /must be integer/],
    ['order=sideways', 'order', /asc, desc/],
  ])('rejects %s with 400 naming the parameter', async (qs, parameter, detail) => {
    const res = await get(`/api/v1/search?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_parameter', parameter });
    expect(res.body.message).toMatch(new RegExp(`^${parameter}: `));
    expect(res.body.message).toMatch(detail);
    expect(reader.requests).toEqual([]);
  });

  it.each(['from', 'to'])('rejects a %s that is not a time with 400 naming it', async (parameter) => {
    const res = await get(`/api/v1/search?${parameter}=yesterday-ish`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_parameter', parameter });
    expect(res.body.message).toMatch(new RegExp(`^${parameter}: `));
    expect(reader.requests).toEqual([]);
  });

  it('rejects from after to', async () => {
    const res = await get('/api/v1/search?from=5m&to=15m');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_parameter',
      parameter: 'from',
      message: 'from: 2024-05-01T11:55:00.000000000Z is after to (2024-05-01T11:45:00.000000000Z)',
    });
  });

  it('answers a query that does not parse with 400 bad_query and the position', async () => {
    const q = 'service:web (level>=warning';
    const res = await get(`/api/v1/search?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_query',
      message: expect.any(String),
      position: syntaxPosition(q),
    });
    expect(res.body.position).toBe(q.length);
    expect(reader.requests).toEqual([]);
  });

  it('answers an unknown field with 400 unknown_field naming it', async () => {
    reader.failWith = new UnknownFieldError('nosuch.field');
    const res = await get('/api/v1/search?q=nosuch.field%3Ax');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'unknown_field',
      field: 'nosuch.field',
      message: expect.stringMatching(/^unknown field 'nosuch.field'; known: /),
    });
  });

  it('answers a cursor the store rejects with 400 naming cursor', async () => {
    reader.failWith = new InvalidCursorError('not a cursor');
    const res = await get('/api/v1/search?cursor=garbage');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_parameter',
      parameter: 'cursor',
      message: 'invalid cursor: not a cursor; use the next_cursor of a previous answer',
    });
  });

  it('answers a store that cannot be read with 503 and its coded error', async () => {
    reader.failWith = new LogwharfError('LOGWHARF_ERR_STORE', 'database is locked');
    const res = await app.inject({ method: 'GET', url: '/api/v1/search' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'unavailable',
      code: 'LOGWHARF_ERR_STORE',
      message: 'database is locked',
      request_id: res.headers['request-id'],
    });
  });

  it('answers an unexpected error with 500 and no details, but the request id of the log line that has them', async () => {
    reader.failWith = new TypeError('secret internals at /srv/x.ts:12');
    const res = await app.inject({ method: 'GET', url: '/api/v1/search' });
    expect(res.statusCode).toBe(500);
    const id = res.headers['request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json()).toEqual({
      error: 'internal_error',
      message: 'internal error; see the logwharf log',
      request_id: id,
    });
    expect(res.body).not.toMatch(/secret|stack|x\.ts/);
  });

  it('passes max_bytes to the store, which holds it to its budget', async () => {
    await get('/api/v1/search?max_bytes=65536');
    await get(`/api/v1/search?max_bytes=${10 * MAX_ANSWER_BYTES}`);
    expect(reader.requests.map((r) => r.maxBytes)).toEqual([65536, 10 * MAX_ANSWER_BYTES]);
  });

  it.each([
    ['max_bytes=0', /must be >= 1/],
    ['max_bytes=lots', /must be integer/],
    ['max_bytes=1.5', /must be integer/],
  ])('rejects %s with 400 naming max_bytes', async (qs, detail) => {
    const res = await get(`/api/v1/search?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_parameter', parameter: 'max_bytes' });
    expect(res.body.message).toMatch(detail);
    expect(reader.requests).toEqual([]);
  });

  it('says an answer was cut by bytes in cut_by', async () => {
    reader.result = { events: [EVENT_A], nextCursor: 'c2', cutBy: 'max_bytes' };
    expect((await get('/api/v1/search')).body).toEqual({
      events: [EVENT_A],
      next_cursor: 'c2',
      cut_by: 'max_bytes',
    });
  });
});

describe('GET /api/v1/search on the embedded store: answers bounded in bytes', () => {
  let dir: string | undefined;
  let store: EmbeddedStore;
  let real: FastifyInstance;
  const events = bigEvents({
    prefix: 'api',
    count: 20,
    days: ['2024-04-29', '2024-04-30'],
    sizes: [MiB, 400 * 1024, 3000, MiB - 100_000],
    perTimestamp: 5,
  });

  beforeAll(async () => {
    dir = await tempDir('lw-api-bytes-');
    store = await openEmbeddedStore({ dataDir: dir });
    expect(await store.writer.write(events)).toEqual({ status: 'delivered' });
    real = await buildApp({
      reader: store.reader,
      status: new FakeStatus(),
      storeReady: async () => true,
      now: () => NOW,
    });
  });

  afterAll(async () => {
    await real?.close();
    await store?.close();
    if (dir) await removeTempDir(dir);
  });

  /** Every answer to `query`, following next_cursor; each with its body's length in bytes. */
  async function answers(query: string) {
    const out: {
      body: { events: EcsDocument[]; next_cursor: string | null; cut_by: unknown };
      bytes: number;
    }[] = [];
    let cursor: string | null = null;
    do {
      const res = await real.inject({
        method: 'GET',
        url: `/api/v1/search?${query}${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(res.statusCode, res.body).toBe(200);
      out.push({ body: res.json(), bytes: Buffer.byteLength(res.body) });
      cursor = out.at(-1)!.body.next_cursor;
    } while (cursor && out.length < 100);
    return out;
  }

  for (const [name, query, budget] of [
    ['max_bytes=2500000', 'order=asc&max_bytes=2500000', 2_500_000],
    ['the default budget', 'order=desc', MAX_ANSWER_BYTES],
  ] as const) {
    it(`${name}: each answer is within it as sent, and the cursors give every event once, in order`, async () => {
      const all = await answers(`${query}&limit=1000`);
      const ids = all.flatMap((a) => a.body.events.map(idOf));
      const inOrder = events.map((e) => e.id); // one class, written in time order
      expect(ids).toEqual(query.includes('asc') ? inOrder : inOrder.reverse());
      for (const [i, a] of all.entries()) {
        const eventBytes = answerEventBytes(a.body);
        // The budget counts exactly what is sent: the body is the events and a small envelope.
        const envelope = Buffer.byteLength(
          JSON.stringify({ events: [], next_cursor: a.body.next_cursor, cut_by: a.body.cut_by }),
        );
        expect(a.bytes).toBe(envelope + eventBytes - 1);
        if (a.body.events.length > 1) expect(eventBytes).toBeLessThanOrEqual(budget);
        const next = all[i + 1];
        if (next) {
          expect(a.body.cut_by).toBe('max_bytes');
          expect(eventBytes + answerBytes(next.body.events[0]!)).toBeGreaterThan(budget);
        } else {
          expect(a.body).toMatchObject({ next_cursor: null, cut_by: null });
        }
      }
      expect(all.length).toBeGreaterThan(1);
    });
  }

  it('sends one event larger than max_bytes on its own, and moves on', async () => {
    const all = await answers('order=asc&limit=3&max_bytes=1000');
    expect(all.map((a) => a.body.events.length)).toEqual(events.map(() => 1));
    expect(all.flatMap((a) => a.body.events.map(idOf))).toEqual(events.map((e) => e.id));
  });
});

describe('GET /api/v1/histogram', () => {
  it('asks for the last 24 hours of everything by log.level, top 10, in 30m buckets by default', async () => {
    const res = await get('/api/v1/histogram');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ interval: '30m', interval_ms: 1_800_000, by: 'log.level', buckets: [] });
    expect(reader.histogramRequests).toEqual([
      {
        query: { type: 'all' },
        from: '2024-04-30T12:00:00.000000000Z',
        to: '2024-05-01T12:00:00.000000000Z',
        intervalMs: 1_800_000,
        by: 'log.level',
        limit: 10,
      },
    ]);
  });

  it('passes q, from, to, interval, by and limit, and answers with the store’s buckets', async () => {
    reader.histogramResult = {
      intervalMs: 300_000,
      by: 'service.name',
      buckets: [
        { start: '2024-05-01T10:55:00.000000000Z', total: 0, counts: {} },
        { start: '2024-05-01T11:00:00.000000000Z', total: 12, counts: { web: 9, other: 2, '(none)': 1 } },
      ],
    };
    const res = await get(
      '/api/v1/histogram?q=level%3E%3Dwarning&from=2024-05-01T10:58:00Z&to=2024-05-01T11:03:00.5Z' +
        '&interval=5m&by=service&limit=3',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      interval: '5m',
      interval_ms: 300_000,
      by: 'service.name',
      buckets: reader.histogramResult.buckets,
    });
    expect(reader.histogramRequests).toEqual([
      {
        query: parseQuery('level>=warning'),
        from: '2024-05-01T10:58:00.000000000Z',
        to: '2024-05-01T11:03:00.500000000Z',
        intervalMs: 300_000,
        by: 'service',
        limit: 3,
      },
    ]);
  });

  it.each([
    ['from=1h', '1m', 60_000],
    ['from=15m', '30s', 30_000],
    ['from=7d', '3h', 10_800_000],
    ['from=2024-05-01T11:59:59.5Z', '1s', 1000],
  ])('picks a round interval with at most 60 buckets (%s: %s)', async (qs, interval, ms) => {
    const res = await get(`/api/v1/histogram?${qs}&interval=auto`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ interval, interval_ms: ms });
  });

  it('defaults from to a day before a given to, and to to now after a given from', async () => {
    await get('/api/v1/histogram?to=2024-05-01T00:00:00.000000001Z');
    await get('/api/v1/histogram?from=2h');
    expect(reader.histogramRequests.map((r) => [r.from, r.to])).toEqual([
      ['2024-04-30T00:00:00.000000001Z', '2024-05-01T00:00:00.000000001Z'],
      ['2024-05-01T10:00:00.000000000Z', '2024-05-01T12:00:00.000000000Z'],
    ]);
  });

  it('treats empty from, to, interval and by as not given', async () => {
    expect((await get('/api/v1/histogram?q=&from=&to=&interval=&by=')).status).toBe(200);
    expect(reader.histogramRequests[0]).toMatchObject({ intervalMs: 1_800_000, by: 'log.level' });
  });

  it('refuses more than 1000 buckets, saying to widen the interval', async () => {
    const res = await get('/api/v1/histogram?from=7d&interval=1m');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_parameter',
      parameter: 'interval',
      message:
        'interval: 1m makes 10080 buckets from 2024-04-24T12:00:00.000000000Z to 2024-05-01T12:00:00.000000000Z, ' +
        'more than 1000; widen the interval (30m or more, or auto) or narrow from/to',
    });
    expect(reader.histogramRequests).toEqual([]);
  });

  it.each([
    ['interval=soon', 'interval', /^interval: invalid duration 'soon'.*, or auto$/],
    ['interval=0m', 'interval', /must be longer than 0/],
    ['limit=51', 'limit', /must be <= 50/],
    ['limit=0', 'limit', /must be >= 1/],
    ['from=yesterday-ish', 'from', /invalid time/],
    ['to=later', 'to', /invalid time/],
    ['from=5m&to=15m', 'from', /is after to/],
  ])('rejects %s with 400 naming the parameter', async (qs, parameter, detail) => {
    const res = await get(`/api/v1/histogram?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_parameter', parameter });
    expect(res.body.message).toMatch(detail);
    expect(reader.histogramRequests).toEqual([]);
  });

  it('answers a query that does not parse with 400 bad_query and the position', async () => {
    const res = await get(`/api/v1/histogram?q=${encodeURIComponent('level>=loud')}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_query', position: syntaxPosition('level>=loud') });
  });

  it('answers an unknown by field with 400 unknown_field naming it', async () => {
    reader.failWith = new UnknownFieldError('nosuch.field');
    const res = await get('/api/v1/histogram?by=nosuch.field');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'unknown_field', field: 'nosuch.field' });
  });
});

describe('GET /api/v1/sources', () => {
  it('lists the sources with snake_case keys', async () => {
    status.list = [
      {
        kind: 'docker',
        id: 'c1',
        name: 'demo-web-1',
        state: 'attached',
        linesRead: 42,
        lastLineTime: '2024-05-01T11:59:59.123456789Z',
        committedTime: '2024-05-01T11:59:58.000000000Z',
        lagSeconds: 1.5,
        reconnects: 2,
        dropped: { undecodable: 0 },
        compose: { project: 'demo', service: 'web', number: 1 },
      },
      {
        kind: 'syslog',
        id: '10.0.0.5:514',
        name: 'db1',
        state: 'detached',
        linesRead: 0,
        lastLineTime: null,
        committedTime: null,
        lagSeconds: null,
        reconnects: 0,
        dropped: { peer_closed_mid_frame: 3 },
      },
    ];
    const res = await get('/api/v1/sources');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sources: [
        {
          kind: 'docker',
          id: 'c1',
          name: 'demo-web-1',
          state: 'attached',
          lines_read: 42,
          last_line_time: '2024-05-01T11:59:59.123456789Z',
          committed_time: '2024-05-01T11:59:58.000000000Z',
          lag_seconds: 1.5,
          reconnects: 2,
          dropped: { undecodable: 0 },
          compose: { project: 'demo', service: 'web', number: 1 },
        },
        {
          kind: 'syslog',
          id: '10.0.0.5:514',
          name: 'db1',
          state: 'detached',
          lines_read: 0,
          last_line_time: null,
          committed_time: null,
          lag_seconds: null,
          reconnects: 0,
          dropped: { peer_closed_mid_frame: 3 },
        },
      ],
    });
  });

  it('answers an empty list when nothing is attached', async () => {
    expect(await get('/api/v1/sources')).toMatchObject({ status: 200, body: { sources: [] } });
  });
});

describe('health', () => {
  it('/healthz is ok even when nothing else is', async () => {
    storeOk = false;
    status.isReady = false;
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('/readyz is ready when the store and Docker are', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it.each([
    [false, true, ['store: not ready']],
    [true, false, ['docker: engine unreachable']],
    [new Error('disk gone'), false, ['store: not ready', 'docker: engine unreachable']],
  ])(
    '/readyz is 503 when store=%s docker=%s, naming what fails and nothing more',
    async (store, docker, failing) => {
      storeOk = store;
      status.isReady = docker;
      const res = await get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'not_ready', failing });
    },
  );

  it('/readyz is 503 while a part fails (a disk buffer that cannot append), and 200 once it works again', async () => {
    const health = new Health();
    const probed = await buildApp({
      reader,
      status,
      storeReady: async () => true,
      failing: () => health.failing().map(describeFailure),
    });
    try {
      health.fail(
        'store buffer',
        'append',
        Object.assign(new Error('/data/buffer/store: full'), { code: 'ENOSPC' }),
      );
      const res = await probed.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'not_ready', failing: ['store buffer: ENOSPC on append'] });
      expect(res.body).not.toContain('/data');
      health.ok('store buffer', 'append');
      expect((await probed.inject('/readyz')).statusCode).toBe(200);
    } finally {
      await probed.close();
    }
  });
});

describe('other routes', () => {
  it('GET / is a small HTML page linking to the API', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('logwharf is running');
    expect(res.body).toContain('href="api/v1/search');
    expect(res.body).toContain('href="api/v1/sources"');
  });

  it('an unknown route is a JSON 404', async () => {
    const res = await get('/api/v1/nope?x=1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: 'no route GET /api/v1/nope' });
  });

  it('the tail is not served yet', async () => {
    expect((await get('/api/v1/tail')).status).toBe(404);
  });
});

describe('logger', () => {
  it.each([
    ['fastify logger options', { level: 'silent' }],
    ['a pino logger', pino({ level: 'silent' })],
  ])('accepts %s', async (_what, logger) => {
    const logged = await buildApp({ reader, status, storeReady: async () => true, logger });
    try {
      expect((await logged.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await logged.close();
    }
  });
});
