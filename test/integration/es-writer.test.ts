import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ElasticsearchConfig } from '../../src/config/schema.js';
import { toEcs } from '../../src/core/ecs.js';
import { type ContainerInfo, type LogEvent, MAX_FIELDS_DEPTH } from '../../src/core/event.js';
import { encodeBatch } from '../../src/sinks/elasticsearch/encode.js';
import { TEMPLATE_VERSION } from '../../src/sinks/elasticsearch/template.js';
import {
  type ElasticsearchStore,
  type ElasticsearchStoreOptions,
  openElasticsearchStore,
} from '../../src/sinks/elasticsearch/writer.js';
import { esClient, esTestConfig, esUrl, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The Elasticsearch write path against a real cluster: daily indices and their mapping,
 * replays (409), events the cluster refuses for good (dead letters), retries of a partly
 * stored batch, request splitting, and a node that is down, then up.
 */

const es = esClient();
const prefixes: string[] = [];
const stores: ElasticsearchStore[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const s of servers.splice(0)) await closeServer(s);
});

afterAll(async () => {
  for (const p of prefixes) await dropIndices(p);
});

/**
 * Removes a test's indices and template. By name: a stock 8.x cluster refuses wildcard
 * deletes (action.destructive_requires_name), which `deleteIndices` of the helpers relies on.
 */
async function dropIndices(prefix: string): Promise<void> {
  const found = await es.indices.get({
    index: `${prefix}-*`,
    allow_no_indices: true,
    ignore_unavailable: true,
    expand_wildcards: 'all',
  });
  const names = Object.keys(found);
  if (names.length > 0) await es.indices.delete({ index: names });
  await es.indices.deleteIndexTemplate({ name: prefix }).catch(() => {});
}

function newPrefix(): string {
  const p = uniqueIndexPrefix();
  prefixes.push(p);
  return p;
}

function config(prefix: string, over: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig {
  return esTestConfig(prefix, over);
}

interface Opened extends ElasticsearchStore {
  warnings: string[];
}

async function open(
  cfg: ElasticsearchConfig,
  over: Partial<ElasticsearchStoreOptions> = {},
): Promise<Opened> {
  const warnings: string[] = [];
  const log = { info() {}, warn: (_obj: object, msg: string) => void warnings.push(msg) };
  // One node in the test cluster: no replicas, so the indices are green.
  const s = await openElasticsearchStore({
    config: cfg,
    dataDir: await tempDir(),
    log,
    template: { replicas: 0 },
    ...over,
  });
  stores.push(s);
  return Object.assign(s, { warnings });
}

const web: ContainerInfo = {
  id: 'c0ffee'.padEnd(64, '1'),
  name: 'shop-web-1',
  imageName: 'nginx:1.27',
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', tier: 'front' },
  composeProject: 'shop',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

/** `n` events, one per millisecond from `start` (canonical, whole seconds), varied in shape. */
function events(n: number, start: string, idPrefix = 'e', message = (i: number) => `line ${i}`): LogEvent[] {
  const base = Date.parse(start);
  return Array.from({ length: n }, (_, i) => {
    const e: LogEvent = {
      timestamp: `${new Date(base + i).toISOString().slice(0, 23)}${String(i % 1_000_000).padStart(6, '0')}Z`,
      id: `${idPrefix}-${i}`,
      dataset: 'docker',
      ingested: '2026-01-03T00:00:00.000000000Z',
      message: message(i),
      severity: i % 8,
      facility: 3,
      stream: i % 2 ? 'stderr' : 'stdout',
      container: web,
      service: 'web',
      host: 'docker-1',
    };
    // The same key with another type in the next event: flattened takes both.
    if (i % 3 === 0) e.fields = { status: i % 2 ? 200 : 'ok', user: { name: `u${i % 7}` } };
    if (i % 5 === 0) e.original = `{"msg":"line ${i}"}`;
    if (i % 11 === 0) {
      e.syslog = { appname: 'web', structuredData: { 'origin@32473': { ip: '10.0.0.1' } } };
    }
    return e;
  });
}

async function count(index: string): Promise<number> {
  await es.indices.refresh({ index });
  return (await es.count({ index })).count;
}

async function indicesOf(prefix: string): Promise<string[]> {
  const rows = await es.cat.indices({ index: `${prefix}-*`, h: 'index', format: 'json' });
  return rows.map((r) => r.index ?? '').sort();
}

function deadLetterLines(
  s: ElasticsearchStore,
): { reason: string; sink: string; event: Record<string, unknown> }[] {
  const out: { reason: string; sink: string; event: Record<string, unknown> }[] = [];
  for (const name of fs.readdirSync(s.deadLetters.dir).sort()) {
    const text = fs.readFileSync(path.join(s.deadLetters.dir, name), 'utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

/** `fields` nested `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) v = { x: v };
  return v;
}

/** Deeper than the template's depth_limit for `fields` (no parser makes these: MAX_FIELDS_DEPTH). */
function tooDeep(): Record<string, unknown> {
  return nested(MAX_FIELDS_DEPTH + 10);
}

describe('Elasticsearch writer', () => {
  it('stores 10 000 events over two days in daily indices, as toEcs documents; a replay answers 409', async () => {
    const prefix = newPrefix();
    const s = await open(config(prefix));
    const batch = [...events(6000, '2026-01-01T23:59:50Z'), ...events(4000, '2026-01-02T00:00:30Z', 'f')];
    // 6000 ms from 23:59:50 stay on Jan 1; the 4000 start on Jan 2.
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    expect(s.writer.counters).toMatchObject({ indexed: 10_000, duplicates: 0, deadLettered: 0 });
    expect(s.writer.counters.bulkRequests).toBeGreaterThanOrEqual(2); // ~7 MB in 5 MiB requests

    const day1 = `${prefix}-default-2026.01.01`;
    const day2 = `${prefix}-default-2026.01.02`;
    expect(await indicesOf(prefix)).toEqual([day1, day2]);
    expect(await count(day1)).toBe(6000);
    expect(await count(day2)).toBe(4000);

    // _source is the document the embedded store returns: search results agree.
    for (const i of [0, 33, 55, 5999]) {
      const got = await es.get({ index: day1, id: `e-${i}` });
      expect(got._source).toEqual(toEcs(batch[i]!));
    }
    const mapping = (await es.indices.getMapping({ index: day1 }))[day1]!.mappings;
    expect(mapping.dynamic).toBe('false');
    expect(mapping.properties?.['@timestamp']).toEqual({ type: 'date_nanos' });
    expect(mapping.properties?.fields).toMatchObject({ type: 'flattened' });
    const template = (await es.indices.getIndexTemplate({ name: prefix })).index_templates[0]!;
    expect(template.index_template._meta).toEqual({
      managed_by: 'logwharf',
      template_version: TEMPLATE_VERSION,
    });
    // A dotted label key is one flattened key, searchable as such.
    const byLabel = await es.count({
      index: day1,
      query: { term: { 'container.labels.com.docker.compose.service': 'web' } },
    });
    expect(byLabel.count).toBe(6000);

    // The same batch again, as after a crash before the positions were saved.
    expect(await s.writer.write([...batch])).toEqual({ status: 'delivered' });
    expect(s.writer.counters).toMatchObject({ indexed: 10_000, duplicates: 10_000, deadLettered: 0 });
    expect(await count(day1)).toBe(6000);
    expect(await count(day2)).toBe(4000);
  });

  it("adds this version's fields to indices an older template made, so today's index searches them at once", async () => {
    const prefix = newPrefix();
    const today = `${prefix}-default-2026.03.01`;
    // As the template of version 1 mapped it: no http.*, url.*, source.*, log.source, ecs.
    await es.indices.create({
      index: today,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date_nanos' },
          message: { type: 'text' },
          log: { properties: { level: { type: 'keyword' }, flags: { type: 'keyword' } } },
        },
      },
    });
    const s = await open(config(prefix));
    const mapping = (await es.indices.getMapping({ index: today }))[today]!.mappings.properties!;
    expect(mapping.http).toMatchObject({
      properties: { response: { properties: { status_code: { type: 'long' } } } },
    });
    expect(mapping.log).toMatchObject({
      properties: { level: { type: 'keyword' }, source: { properties: { address: { type: 'keyword' } } } },
    });
    expect(mapping.ecs).toEqual({ properties: { version: { type: 'keyword', ignore_above: 8191 } } });
    const [e] = events(1, '2026-03-01T10:00:00Z');
    e!.access = { client: '10.0.0.1', method: 'GET', url: '/x', status: 503, bytes: 5_000_000_000 };
    expect(await s.writer.write([e!])).toEqual({ status: 'delivered' });
    await es.indices.refresh({ index: today });
    const hits = await es.count({
      index: today,
      query: { range: { 'http.response.status_code': { gte: 500 } } },
    });
    expect(hits.count).toBe(1);
    const big = await es.count({
      index: today,
      query: { range: { 'http.response.body.bytes': { gt: 2 ** 32 } } },
    });
    expect(big.count).toBe(1);
  });

  it('starts even when the existing indices cannot take the fields, and says so', async () => {
    const prefix = newPrefix();
    // Someone else's index under the prefix, with `http` a keyword: no mapping can add http.* to it.
    await es.indices.create({
      index: `${prefix}-default-2026.03.02`,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { http: { type: 'keyword' } } },
    });
    const s = await open(config(prefix));
    expect(s.warnings).toContain(
      "could not add this version's fields to the existing indices; they are searchable from tomorrow's index on",
    );
    const [e] = events(1, '2026-03-03T10:00:00Z');
    expect(await s.writer.write([e!])).toEqual({ status: 'delivered' });
  });

  it("dead-letters an event the cluster refuses for good, with the cluster's reason, and delivers the rest", async () => {
    const prefix = newPrefix();
    const s = await open(config(prefix));
    const batch = events(50, '2026-02-01T10:00:00Z');
    batch[10]!.fields = tooDeep();
    // date_nanos holds 1970..2262: an older timestamp is refused per document.
    batch[20]!.timestamp = '1969-12-31T23:59:59.500000000Z';

    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    expect(s.writer.counters).toMatchObject({ indexed: 48, deadLettered: 2 });
    expect(s.deadLetters.count()).toBe(2);
    expect(s.warnings).toContain('elasticsearch refused events for good; kept them in the dead-letter store');

    const lines = deadLetterLines(s);
    expect(lines.map((l) => (l.event.event as { id: string }).id).sort()).toEqual(['e-10', 'e-20']);
    const byId = new Map(lines.map((l) => [(l.event.event as { id: string }).id, l]));
    expect(byId.get('e-10')).toMatchObject({
      sink: 'elasticsearch',
      reason: expect.stringMatching(/^HTTP 400 document_parsing_exception: .*maximum depth limit of \[65\]/),
      event: toEcs(batch[10]!),
    });
    expect(byId.get('e-20')?.reason).toMatch(/date_nanos.*before the epoch in 1970/);
    expect(await count(`${prefix}-default-2026.02.01`)).toBe(48);
  });

  it('indexes fields nested as deep as the body parser takes them (flattened refuses past 20 by default)', async () => {
    const prefix = newPrefix();
    const s = await open(config(prefix));
    const batch = events(3, '2026-02-02T10:00:00Z');
    batch[1]!.fields = nested(MAX_FIELDS_DEPTH);
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    expect(s.writer.counters).toMatchObject({ indexed: 3, deadLettered: 0 });
    expect(await count(`${prefix}-default-2026.02.02`)).toBe(3);
  });

  it('retries only what is pending, and never dead-letters an event twice', async () => {
    const prefix = newPrefix();
    const s = await open(config(prefix));
    const closedDay = `${prefix}-default-2026.03.01`;
    expect(await s.writer.write(events(1, '2026-03-01T00:00:00Z', 'seed'))).toEqual({ status: 'delivered' });
    await es.indices.close({ index: closedDay });

    const batch = [...events(5, '2026-03-01T12:00:00Z', 'a'), ...events(6, '2026-03-02T12:00:00Z', 'b')];
    batch[10]!.fields = tooDeep();
    const first = await s.writer.write(batch);
    expect(first).toEqual({
      status: 'retryable',
      reason: expect.stringMatching(
        /^elasticsearch: 5 of 11 events not stored yet: HTTP 400 index_closed_exception/,
      ),
      code: 'index_closed_exception',
    });
    expect(s.writer.counters).toMatchObject({ indexed: 1 + 5, deadLettered: 1 });
    expect(s.writer.counters.retries).toEqual({ index_closed_exception: 1 });
    expect(s.deadLetters.count()).toBe(1);

    await es.indices.open({ index: closedDay, wait_for_active_shards: 1 });
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    // Only the five pending events went again: nothing answered 409, nothing was dead-lettered twice.
    expect(s.writer.counters).toMatchObject({ indexed: 1 + 5 + 5, duplicates: 0, deadLettered: 1 });
    expect(s.deadLetters.count()).toBe(1);
    expect(await count(closedDay)).toBe(6);
    expect(await count(`${prefix}-default-2026.03.02`)).toBe(5);
  });

  it('splits a batch into requests of at most bulk_max_bytes, at most max_concurrency in flight', async () => {
    const prefix = newPrefix();
    const cfg = config(prefix, { bulk_max_bytes: 65_536, max_concurrency: 3 });
    const s = await open(cfg);
    const batch = events(2000, '2026-04-01T08:00:00Z', 'e', (i) => `${i} ${'payload '.repeat(120)}`);
    const { encoded } = encodeBatch(batch, { prefix, classOf: () => 'default' });
    const total = encoded.reduce((sum, e) => sum + e.bytes, 0);

    let inFlight = 0;
    let maxInFlight = 0;
    let largest = 0;
    s.client.diagnostic.on('request', (_err, result) => {
      if (result?.meta.request.params.path !== '/_bulk') return;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      largest = Math.max(largest, Buffer.byteLength(String(result.meta.request.params.body ?? '')));
    });
    s.client.diagnostic.on('response', (_err, result) => {
      if (result?.meta.request.params.path === '/_bulk') inFlight--;
    });

    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    expect(s.writer.counters.bulkRequests).toBeGreaterThanOrEqual(Math.ceil(total / 65_536));
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(65_536);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(await count(`${prefix}-default-2026.04.01`)).toBe(2000);
  });

  it('starts while the node refuses connections, answers retryable with the reason, and delivers once it is up', async () => {
    const prefix = newPrefix();
    const port = await freePort();
    const s = await open(config(prefix, { nodes: [`http://127.0.0.1:${port}`] }));
    expect(s.warnings).toContain(
      'elasticsearch does not answer; the index template is put before the first write',
    );
    expect(await s.writer.ready()).toBe(false);

    const batch = events(100, '2026-05-01T00:00:00Z');
    const down = await s.writer.write(batch);
    expect(down).toEqual({
      status: 'retryable',
      reason: expect.stringMatching(/cannot put index template .*cannot connect .*ECONNREFUSED/),
      code: 'template',
    });
    expect(s.writer.counters.retries).toEqual({ template: 1 });
    expect(await es.indices.existsIndexTemplate({ name: prefix })).toBe(false);

    servers.push(await proxy(port, new URL(esUrl())));
    expect(await s.writer.ready()).toBe(true);
    expect(await s.writer.write(batch)).toEqual({ status: 'delivered' });
    // The template went first, so the day's index has the logwharf mapping.
    expect(await es.indices.existsIndexTemplate({ name: prefix })).toBe(true);
    const index = `${prefix}-default-2026.05.01`;
    const mapping = (await es.indices.getMapping({ index }))[index]!.mappings;
    expect(mapping.properties?.['@timestamp']).toEqual({ type: 'date_nanos' });
    expect(await count(index)).toBe(100);
  });

  it('answers retryable when the node accepts but never answers (request_timeout)', async () => {
    const prefix = newPrefix();
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => void held.add(socket));
    Object.assign(silent, { sockets: held });
    await listen(silent, 0);
    servers.push(silent);
    const port = (silent.address() as net.AddressInfo).port;
    const s = await open(config(prefix, { nodes: [`http://127.0.0.1:${port}`], request_timeout: '500ms' }));
    const outcome = await s.writer.write(events(3, '2026-06-01T00:00:00Z'));
    expect(outcome).toEqual({
      status: 'retryable',
      reason: expect.stringMatching(/request timed out/),
      // The template is put before the first bulk request: that is where the time ran out.
      code: 'template',
    });
  });
});

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Destroys open connections too: a test's sockets must not keep the next test waiting. */
async function closeServer(server: net.Server): Promise<void> {
  for (const s of (server as net.Server & { sockets?: Set<net.Socket> }).sockets ?? []) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (until `proxy` does). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await listen(s, 0);
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A TCP proxy on `port` to the real cluster: the node "comes up". */
async function proxy(port: number, target: URL): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 80), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  Object.assign(server, { sockets });
  await listen(server, port);
  return server;
}
