import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import type { StoreReader } from '../../src/core/store.js';
import { parseQuery } from '../../src/query/parser.js';
import { openElasticsearchReader } from '../../src/sinks/elasticsearch/reader.js';
import { openElasticsearchStore } from '../../src/sinks/elasticsearch/writer.js';
import { openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { deleteIndices, esClient, esTestConfig, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * One behaviour, two stores: the same events are written to the embedded store and to a real
 * Elasticsearch, and the same queries must return the same events in the same order, page by
 * page, in both directions; histograms must count the same. A difference that cannot be
 * helped is listed in KNOWN_DIFFERENCES (and in docs/elasticsearch.md) with its reason, never hidden.
 */

const web: ContainerInfo = {
  id: 'a'.repeat(64),
  name: 'shop_web_1',
  imageName: 'nginx:1.25',
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', tier: 'front' },
  composeProject: 'shop',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};
const worker: ContainerInfo = {
  ...web,
  id: 'b'.repeat(64),
  name: 'shop_worker_2',
  imageName: 'shop/worker:3',
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'worker', tier: 'back' },
  composeService: 'worker',
  composeNumber: 2,
};

const MESSAGES = [
  'GET /cart 200 12ms',
  'connection refused to db:5432, retrying',
  'Connection Refused by upstream',
  'payment accepted for order 42',
  'healthcheck ok',
  'user alice logged in',
  'disk usage at 91%',
  'request timed out after 30s',
  'cache miss for key cart:17',
  'shutting down worker pool',
];
const LEVELS = [6, 3, 4, 6, 7, 5, 2, 3, 6, 4];

/** 120 events over two UTC days, several sharing a timestamp (order then falls to the id). */
function events(): LogEvent[] {
  const out: LogEvent[] = [];
  for (let i = 0; i < 120; i++) {
    const day = i < 70 ? '2026-11-25' : '2026-11-26';
    const second = String(Math.floor(i / 3) % 60).padStart(2, '0');
    const timestamp = `${day}T10:${String(Math.floor(i / 180)).padStart(2, '0')}:${second}.${String((i % 3 === 2 ? 0 : i % 3) * 1000 + 7).padStart(9, '0')}Z`;
    const syslog = i % 7 === 0;
    const c = i % 2 === 0 ? web : worker;
    const e: LogEvent = {
      timestamp,
      id: `evt-${String(i).padStart(4, '0')}`,
      dataset: syslog ? 'syslog' : 'docker',
      ingested: '2026-11-27T00:00:00.000000000Z',
      message: MESSAGES[i % MESSAGES.length]!,
      severity: LEVELS[i % LEVELS.length]!,
      facility: syslog ? 16 : 3,
      host: syslog ? 'edge-router' : 'docker-1',
    };
    if (syslog) {
      e.service = 'sshd';
      e.syslog = {
        hostname: 'edge-router',
        appname: 'sshd',
        procid: String(100 + i),
        msgid: i % 2 ? 'AUTH' : 'KEX',
      };
      e.senderAddress = `192.0.2.${i % 3}`;
      if (i % 3 === 0) e.senderTimestamp = '1999-12-31T23:59:59.000000000Z';
    } else {
      e.container = c;
      e.stream = i % 3 === 0 ? 'stderr' : 'stdout';
      e.service = c.composeService!;
      e.fields = { status: String(i % 4 === 0 ? 502 : 200), user: i % 5 === 0 ? 'alice' : 'bob', ms: i };
      if (c === web) {
        const k = i / 2;
        e.access = {
          client: `198.51.100.${k % 5}`,
          method: i % 3 === 0 ? 'POST' : 'GET',
          url: `/cart/${k % 4}?page=${i}`,
          version: '1.1',
          status: [200, 502, 404, 304][k % 4]!,
          bytes: i % 8 === 0 ? 5_000_000_000 + i : i * 100,
          ...(i % 6 === 0 ? { agent: 'curl/8.5.0' } : {}),
        };
      }
    }
    if (i % 11 === 0) e.flags = ['multiline'];
    out.push(e);
  }
  return out;
}

const QUERIES = [
  '',
  'refused',
  '"connection refused"',
  'conn*',
  'cart -healthcheck',
  'service:web',
  'service:w*',
  'project:shop level>=warning',
  'level:err',
  'level<=err',
  'level>info',
  'container:shop_worker_2 OR app:sshd',
  'NOT stream:stdout',
  'image:nginx*',
  'host:edge-router',
  'fields.status:502',
  'fields.status:5*',
  'fields.user:alice AND service:web',
  'container.labels.tier:front',
  'log.syslog.msgid:AUTH',
  'log.flags:multiline',
  'event.dataset:syslog',
  '(service:web OR service:worker) AND "timed out"',
  'compose.container_number:2',
  'status>=500',
  'status:5*',
  'status < 400 service:web',
  'method:POST',
  'url.original:/cart/1*',
  'http.response.body.bytes>3000000000',
  'user_agent.original:curl*',
  'source.address:198.51.100.3',
  'log.source.address:192.0.2.1',
  'sender_timestamp:*',
  '-log.source.address:192.0.2.0',
];

/** Known, explained differences: query -> reason. Empty means the stores agree on every query. */
const KNOWN_DIFFERENCES: Record<string, string> = {};

let dir: string;
let prefix: string;
let embedded: StoreReader;
let elastic: StoreReader;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await tempDir('lw-behaviour-');
  prefix = uniqueIndexPrefix();
  const batch = events();
  const emb = await openEmbeddedStore({ dataDir: dir });
  closers.push(() => emb.close());
  expect(await emb.writer.write(batch)).toEqual({ status: 'delivered' });
  embedded = emb.reader;

  const es = await openElasticsearchStore({
    config: esTestConfig(prefix),
    dataDir: dir,
    log: pino({ level: 'silent' }),
    template: { replicas: 0 },
  });
  closers.push(() => es.close());
  expect(await es.writer.write(batch)).toEqual({ status: 'delivered' });
  await esClient().indices.refresh({ index: `${prefix}-*` });
  elastic = openElasticsearchReader({ client: es.client, indexPrefix: prefix });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  if (prefix) await deleteIndices(prefix);
  if (dir) await removeTempDir(dir);
});

/** Every page of a query, `limit` at a time, as event ids. */
async function pages(
  reader: StoreReader,
  q: string,
  order: 'asc' | 'desc',
  limit: number,
): Promise<string[][]> {
  const out: string[][] = [];
  let cursor: string | undefined;
  do {
    const r = await reader.search({
      query: parseQuery(q),
      from: '2026-11-25T00:00:00.000000000Z',
      to: '2026-11-27T00:00:00.000000000Z',
      limit,
      order,
      ...(cursor ? { cursor } : {}),
    });
    out.push(r.events.map((e) => (e.event as { id: string }).id));
    cursor = r.nextCursor ?? undefined;
  } while (cursor && out.length < 100);
  return out;
}

describe('the same query, the same events, in the same order, on both stores', () => {
  for (const q of QUERIES) {
    const known = KNOWN_DIFFERENCES[q];
    it(`${q || '(everything)'}${known ? ` — differs: ${known}` : ''}`, async () => {
      for (const order of ['desc', 'asc'] as const) {
        const [a, b] = await Promise.all([pages(embedded, q, order, 7), pages(elastic, q, order, 7)]);
        if (known) {
          expect(a.flat()).not.toEqual(b.flat());
          continue;
        }
        expect(b.flat(), `${order}: ids`).toEqual(a.flat());
        expect(
          b.map((p) => p.length),
          `${order}: page sizes`,
        ).toEqual(a.map((p) => p.length));
      }
    });
  }

  it('finds something for almost every query (the comparison is not vacuous)', async () => {
    let empty = 0;
    for (const q of QUERIES) if ((await pages(embedded, q, 'desc', 500)).flat().length === 0) empty++;
    expect(empty).toBe(0);
  });

  it('returns the same documents', async () => {
    const q = parseQuery('service:web OR app:sshd');
    const req = {
      query: q,
      from: '2026-11-25T00:00:00.000000000Z',
      to: '2026-11-27T00:00:00.000000000Z',
      limit: 200,
      order: 'asc' as const,
    };
    const [a, b] = await Promise.all([embedded.search(req), elastic.search(req)]);
    expect(b.events).toEqual(a.events);
  });
});

describe('histograms count the same on both stores', () => {
  for (const by of [
    'log.level',
    'service',
    'fields.status',
    'log.syslog.msgid',
    'status',
    'method',
    'log.source.address',
    'ecs.version',
  ]) {
    it(`by ${by}`, async () => {
      const req = {
        query: parseQuery(''),
        from: '2026-11-25T09:00:00.000000000Z',
        to: '2026-11-26T12:00:00.000000000Z',
        intervalMs: 3_600_000,
        by,
        limit: 3,
      };
      const [a, b] = await Promise.all([embedded.histogram(req), elastic.histogram(req)]);
      expect(b).toEqual(a);
      expect(a.buckets.reduce((n, x) => n + x.total, 0)).toBe(120);
    });
  }
});
