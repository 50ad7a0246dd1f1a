/**
 * The Elasticsearch store's write path: N events in pipeline-sized batches through
 * ElasticsearchWriter into a real cluster (ELASTICSEARCH_URL, else http://127.0.0.1:9200; start
 * one with `npm run services`). Prints events/s and this process's CPU seconds per million
 * events (encoding, bulk requests, response handling; Elasticsearch's own CPU is not counted:
 * on a one-machine bench it shares the same two cores).
 *
 *   npm run bench:es -- [events] [batch]       (default 200000 events, batches of 4096)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ContainerInfo, LogEvent } from '../src/core/event.js';
import { openElasticsearchStore } from '../src/sinks/elasticsearch/writer.js';

const count = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 4096);
const url = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const prefix = `lwbench-${process.pid}`;

const container: ContainerInfo = {
  id: 'c'.repeat(64),
  name: 'bench_web_1',
  imageName: 'nginx:1.25',
  labels: { 'com.docker.compose.project': 'bench', 'com.docker.compose.service': 'web' },
  composeProject: 'bench',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

function event(i: number): LogEvent {
  const ns = String(i % 1_000_000_000).padStart(9, '0');
  return {
    timestamp: `2026-11-27T03:00:00.${ns}Z`,
    id: `bench-${i}`,
    dataset: 'docker',
    ingested: '2026-11-27T03:00:01.000000000Z',
    message: `GET /api/items/${i % 5000} 200 ${i % 900}ms user-${i % 1000}`,
    severity: 6,
    facility: 3,
    stream: 'stdout',
    container,
    host: 'docker-1',
    service: 'web',
    fields: { status: '200', ms: i % 900 },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'lw-bench-es-'));
const store = await openElasticsearchStore({
  config: {
    nodes: [url],
    auth: null,
    ca: null,
    index_prefix: prefix,
    bulk_max_bytes: 5 * 1024 * 1024,
    max_concurrency: 2,
    request_timeout: '60s',
  },
  dataDir: dir,
  log: pino({ level: 'warn' }),
  template: { replicas: 0 },
});

const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let at = 0; at < count; at += batchSize) {
  const batch: LogEvent[] = [];
  for (let i = at; i < Math.min(count, at + batchSize); i++) batch.push(event(i));
  for (;;) {
    const outcome = await store.writer.write(batch);
    if (outcome.status === 'delivered') break;
    console.error(`retrying: ${outcome.status === 'retryable' ? outcome.reason : ''}`);
  }
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    events: count,
    batch: batchSize,
    seconds: Number(seconds.toFixed(2)),
    events_per_second: Math.round(count / seconds),
    cpu_seconds_per_million: Number((((cpu.user + cpu.system) / 1e6) * (1e6 / count)).toFixed(2)),
  }),
);
await store.client.indices.delete({ index: `${prefix}-*` }).catch(async () => {
  const found = await store.client.indices.get({ index: `${prefix}-*` });
  await store.client.indices.delete({ index: Object.keys(found) });
});
await store.client.indices.deleteIndexTemplate({ name: prefix }).catch(() => {});
await store.close();
await rm(dir, { recursive: true, force: true });
