/**
 * Throughput of the disk buffer (src/buffer/disk-buffer.ts): append + peek + ack.
 *
 *   npx tsx bench/disk-buffer.bench.ts [--batches 400] [--batches-always 100] [--batch 1000]
 *                                      [--runs 3] [--dir /tmp/x]
 *
 * Events are realistic docker events: 20 containers with compose labels, ~200-byte messages
 * (access and app log lines), a few parsed fields, checkpoint fields. Batches of `--batch` events,
 * built before timing. Four scenarios per fsync policy ('never' on `--batches`, 'always' on
 * `--batches-always`):
 *
 * - hot:     append one batch, peek it, ack it: a reader that keeps up, served the hot copies.
 *            One step after the other, so every I/O wait is on the clock.
 * - hot, concurrent: a writer loop (waitForRoom, append) and a reader loop (peek, ack) at the
 *            same time, as the pipeline and a sink run them: encoding overlaps the I/O waits.
 * - backlog: append all batches, then peek + ack them all: the reader reads and parses the disk
 *            (all but the last 8, which are hot). Reported as the append phase, the drain phase,
 *            and both together.
 *
 * Prints events/s and MiB/s of records on disk, the best of `--runs` runs (the machine's other
 * load makes single runs noisy). The buffer directory is a temp dir unless
 * `--dir` says where (put it on the disk you care about: fsync costs depend on it).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { DiskBuffer, type FsyncPolicy } from '../src/buffer/disk-buffer.js';
import type { ContainerInfo, LogEvent } from '../src/core/event.js';
import { prng } from './lib/prng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const BATCH = Number(arg('batch', '1000'));
const BATCHES: Record<FsyncPolicy, number> = {
  never: Number(arg('batches', '400')),
  always: Number(arg('batches-always', '100')),
};
const BASE_DIR = arg('dir', '');
const RUNS = Number(arg('runs', '3'));

const rand = prng(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

const SERVICES = ['web', 'api', 'worker', 'db', 'cache', 'auth', 'search', 'mail', 'cron', 'proxy'];
const containers: ContainerInfo[] = SERVICES.flatMap((service) =>
  [1, 2].map((n) => ({
    id: hex(64),
    name: `shop-${service}-${n}`,
    imageName: `registry.example.com/shop/${service}:1.${n}.0`,
    labels: {
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': service,
      'com.docker.compose.container-number': String(n),
      'com.docker.compose.config-hash': hex(64),
      'com.docker.compose.project.working_dir': '/srv/shop',
      'com.docker.compose.version': '2.29.1',
    },
    composeProject: 'shop',
    composeService: service,
    composeNumber: n,
    tty: false,
  })),
);
const PATHS = ['/api/v1/items', '/api/v1/orders', '/login', '/static/app.js', '/healthz', '/api/v1/search'];
const WORDS = [
  'request',
  'handled',
  'cache',
  'miss',
  'user',
  'session',
  'refreshed',
  'order',
  'queued',
  'done',
];

function message(i: number): { message: string; fields?: Record<string, unknown> } {
  if (i % 3 === 0) {
    const status = pick([200, 200, 200, 201, 304, 404, 500]);
    return {
      message:
        `172.18.0.${i % 250} - - [01/May/2024:12:00:00 +0000] "GET ${pick(PATHS)}/${i} HTTP/1.1" ${status} ` +
        `${Math.floor(rand() * 50_000)} "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0"`,
      fields: { status, method: 'GET', bytes: Math.floor(rand() * 50_000) },
    };
  }
  const words = Array.from({ length: 18 }, () => pick(WORDS)).join(' ');
  return {
    message: `level=info msg="${words}" trace_id=${hex(32)} took=${Math.floor(rand() * 900)}ms`,
    fields: { level: 'info', trace_id: hex(32), took: `${Math.floor(rand() * 900)}ms` },
  };
}

function batch(b: number): LogEvent[] {
  const out: LogEvent[] = [];
  for (let k = 0; k < BATCH; k++) {
    const i = b * BATCH + k;
    const c = containers[i % containers.length]!;
    const ts = `2024-05-01T12:${String(Math.floor(i / 60_000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1_000_000_000).padStart(9, '0')}Z`;
    out.push({
      timestamp: ts,
      id: hex(20),
      dataset: 'docker',
      ingested: ts,
      ...message(i),
      severity: 6,
      facility: 3,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      container: c,
      host: 'docker-host-1',
      service: c.composeService,
      sourceKey: c.id,
      seq: 0,
    });
  }
  return out;
}

interface Result {
  scenario: string;
  events: number;
  seconds: number;
  bytes: number;
}

async function withBuffer<T>(fsync: FsyncPolicy, run: (b: DiskBuffer) => Promise<T>): Promise<T> {
  const root = BASE_DIR || os.tmpdir();
  await fs.mkdir(root, { recursive: true });
  const dir = await fs.mkdtemp(path.join(root, 'lw-dbuf-bench-'));
  const b = await DiskBuffer.open({
    dir,
    maxBytes: 16 * 1024 * 1024 * 1024,
    fsync,
    log: pino({ level: 'warn' }),
  });
  try {
    return await run(b);
  } finally {
    await b.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function hot(fsync: FsyncPolicy, batches: LogEvent[][]): Promise<Result> {
  return withBuffer(fsync, async (b) => {
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (const evs of batches) {
      await b.append(evs);
      const got = await b.peek();
      if (got!.events[0] !== evs[0]) throw new Error('a caught-up reader was not served the hot copy');
      bytes += got!.bytes;
      await b.ack();
    }
    return {
      scenario: `${fsync} hot (append+peek+ack)`,
      events: batches.length * BATCH,
      seconds: seconds(t0),
      bytes,
    };
  });
}

async function concurrent(fsync: FsyncPolicy, batches: LogEvent[][]): Promise<Result> {
  return withBuffer(fsync, async (b) => {
    let bytes = 0;
    let hotHits = 0;
    const t0 = process.hrtime.bigint();
    const writer = (async () => {
      for (const evs of batches) {
        await b.waitForRoom();
        await b.append(evs);
      }
    })();
    for (const evs of batches) {
      const got = await b.peek();
      if (got!.events[0] === evs[0]) hotHits++;
      bytes += got!.bytes;
      await b.ack();
    }
    await writer;
    const s = seconds(t0);
    if (hotHits !== batches.length)
      console.log(`  (${batches.length - hotHits} batches were read from disk)`);
    return { scenario: `${fsync} hot, concurrent`, events: batches.length * BATCH, seconds: s, bytes };
  });
}

async function backlog(fsync: FsyncPolicy, batches: LogEvent[][]): Promise<Result[]> {
  return withBuffer(fsync, async (b) => {
    const t0 = process.hrtime.bigint();
    for (const evs of batches) await b.append(evs);
    const appendS = seconds(t0);
    const bytes = b.bytes;
    const t1 = process.hrtime.bigint();
    let events = 0;
    while (b.batches > 0) {
      events += (await b.peek())!.events.length;
      await b.ack();
    }
    const drainS = seconds(t1);
    if (events !== batches.length * BATCH) throw new Error(`drained ${events} events`);
    return [
      { scenario: `${fsync} backlog: append`, events, seconds: appendS, bytes },
      { scenario: `${fsync} backlog: peek+ack from disk`, events, seconds: drainS, bytes },
      { scenario: `${fsync} backlog: both`, events, seconds: appendS + drainS, bytes },
    ];
  });
}

function print(r: Result): void {
  const evs = Math.round(r.events / r.seconds).toLocaleString('en-US');
  const mib = (r.bytes / 1024 / 1024 / r.seconds).toFixed(0);
  console.log(
    `${r.scenario.padEnd(36)} ${r.events.toLocaleString('en-US').padStart(9)} events in ${(r.seconds * 1000).toFixed(0).padStart(6)} ms: ${evs.padStart(11)} events/s, ${mib.padStart(4)} MiB/s`,
  );
}

const maxBatches = Math.max(BATCHES.never, BATCHES.always);
const pool: LogEvent[][] = [];
for (let b = 0; b < Math.min(maxBatches, 50); b++) pool.push(batch(b));
const batchesFor = (n: number) => Array.from({ length: n }, (_, i) => pool[i % pool.length]!);
const sample = pool[0]!;
const perEvent =
  (await withBuffer('never', async (b) => {
    await b.append(sample);
    return b.bytes;
  })) / BATCH;
console.log(
  `disk-buffer: batches of ${BATCH} docker events, ~${Math.round(perEvent)} bytes per event on disk, ` +
    `messages ~${Math.round(sample.reduce((n, e) => n + e.message.length, 0) / sample.length)} chars (node ${process.version})`,
);
async function best(run: () => Promise<Result[]>): Promise<void> {
  let top: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    const rs = await run();
    top = rs.map((r, k) => (top[k] === undefined || r.seconds < top[k]!.seconds ? r : top[k]!));
  }
  for (const r of top) print(r);
}

for (const fsync of ['never', 'always'] as const) {
  const batches = batchesFor(BATCHES[fsync]);
  await hot(fsync, batchesFor(Math.min(10, batches.length))); // warm-up
  await best(async () => [await hot(fsync, batches)]);
  await best(async () => [await concurrent(fsync, batches)]);
  await best(() => backlog(fsync, batches));
}
