/**
 * Insert throughput of the embedded store (src/sinks/embedded), and a few searches on the result.
 *
 *   npx tsx bench/embedded-insert.bench.ts [--count 1000000] [--batch 4096] [--naive 20000]
 *                                          [--durability full|normal] [--no-access] [--keep]
 *
 * Events are realistic for a compose app: 20 containers (10 services x 2 replicas) sharing
 * ~1 KB of compose labels each, 100-200 byte messages (access logs, app logs, JSON lines with
 * fields, errors), words from a vocabulary plus numbers, hex ids and paths, timestamps spread
 * over one day. Access lines carry their ECS facts (`LogEvent.access`) as the transforms make
 * them; `--no-access` leaves them out, to compare with runs before those columns existed.
 * Generation is outside the measured time: only `write()` is timed.
 *
 * Prints rows/s (wall), CPU seconds per million rows (process.cpuUsage, user + system), and
 * database bytes per row after close; then the same for the naive baseline (one row per
 * write, i.e. one transaction per row) on `--naive` rows, and the ratio.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/api/app.js';
import type { AccessLog, ContainerInfo, LogEvent } from '../src/core/event.js';
import type { StoreReader } from '../src/core/store.js';
import type { QueryNode } from '../src/query/ast.js';
import type { Durability } from '../src/sinks/embedded/files.js';
import { openEmbeddedStore } from '../src/sinks/embedded/writer.js';
import { prng } from './lib/prng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const COUNT = Number(arg('count', '1000000'));
const BATCH = Number(arg('batch', '4096'));
const NAIVE = Number(arg('naive', '20000'));
const DURABILITY = arg('durability', 'full') as Durability;
const KEEP = process.argv.includes('--keep');
const ACCESS = !process.argv.includes('--no-access');

const rnd = prng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const hex = (n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)];
  return s;
};

/** ~2000 pronounceable words, Zipf-ish in use (low indexes much more often). */
const VOCAB: string[] = (() => {
  const on = ['b', 'c', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'st', 'tr', 'ch'];
  const nu = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou'];
  const words = new Set<string>();
  while (words.size < 2000) {
    const syl = 1 + Math.floor(rnd() * 3);
    let w = '';
    for (let i = 0; i < syl; i++) w += pick(on) + pick(nu);
    words.add(w + (rnd() < 0.3 ? pick(['s', 'er', 'ing', 'ed']) : ''));
  }
  return [...words];
})();
const word = (): string => VOCAB[Math.floor(VOCAB.length * rnd() ** 3)]!;
const words = (n: number): string => Array.from({ length: n }, word).join(' ');

const SERVICES = ['web', 'api', 'worker', 'db', 'cache', 'auth', 'payments', 'search', 'mailer', 'scheduler'];
const CONTAINERS: ContainerInfo[] = SERVICES.flatMap((service) =>
  [1, 2].map((n) => {
    const id = hex(64);
    const labels: Record<string, string> = {
      'com.docker.compose.config-hash': hex(64),
      'com.docker.compose.container-number': String(n),
      'com.docker.compose.depends_on': 'db:service_healthy:false,cache:service_started:false',
      'com.docker.compose.image': `sha256:${hex(64)}`,
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.project.config_files':
        '/home/deploy/shop/docker-compose.yml,/home/deploy/shop/docker-compose.prod.yml',
      'com.docker.compose.project.working_dir': '/home/deploy/shop',
      'com.docker.compose.replace': hex(64),
      'com.docker.compose.service': service,
      'com.docker.compose.version': '2.27.0',
      'org.opencontainers.image.source': `https://git.example.com/shop/${service}`,
      'org.opencontainers.image.revision': hex(40),
      'org.opencontainers.image.created': '2024-04-28T09:12:44Z',
      'traefik.http.routers.shop.rule': 'Host(`shop.example.com`) && PathPrefix(`/api`)',
    };
    return {
      id,
      name: `shop-${service}-${n}`,
      imageName: `registry.example.com/shop/${service}:1.42.${n}`,
      labels,
      composeProject: 'shop',
      composeService: service,
      composeNumber: n,
      tty: false,
    };
  }),
);

const PATHS = [
  '/api/v1/orders',
  '/api/v1/users',
  '/api/v1/cart',
  '/health',
  '/static/app.js',
  '/api/v1/search',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 500, 502, 503];
const LEVELS: [string, number][] = [
  ['INFO', 6],
  ['INFO', 6],
  ['INFO', 6],
  ['DEBUG', 7],
  ['WARN', 4],
  ['ERROR', 3],
];

function message(c: ContainerInfo): {
  text: string;
  severity: number;
  fields?: Record<string, unknown>;
  access?: AccessLog;
} {
  const r = rnd();
  if (c.composeService === 'web' || r < 0.3) {
    const status = pick(STATUSES);
    const client = `172.18.0.${1 + Math.floor(rnd() * 30)}`;
    const method = pick(METHODS);
    const url = `${pick(PATHS)}/${Math.floor(rnd() * 100000)}`;
    const bytes = Math.floor(rnd() * 50000);
    const agent = `Mozilla/5.0 (X11; Linux x86_64) ${word()}/${Math.floor(rnd() * 100)}`;
    const text = `${client} - - "${method} ${url} HTTP/1.1" ${status} ${bytes} "-" "${agent}" rt=${(rnd() / 3).toFixed(3)}`;
    const access: AccessLog = { client, method, url, version: '1.1', status, bytes, agent };
    return { text, severity: status >= 500 ? 3 : 6, ...(ACCESS ? { access } : {}) };
  }
  if (r < 0.55) {
    const [lvl, severity] = pick(LEVELS);
    const text = `${lvl} [${pick(['main', 'worker-1', 'worker-2', 'http-nio-8080-exec-3'])}] com.example.${word()}.${word()} - ${words(6 + Math.floor(rnd() * 10))} id=${hex(12)} took ${Math.floor(rnd() * 900)}ms`;
    return { text, severity };
  }
  if (r < 0.8) {
    const [lvl, severity] = pick(LEVELS);
    const fields = {
      level: lvl.toLowerCase(),
      msg: words(5 + Math.floor(rnd() * 8)),
      request_id: hex(16),
      user_id: Math.floor(rnd() * 50000),
      duration_ms: Math.floor(rnd() * 2000),
      status: pick(STATUSES),
    };
    return { text: `${fields.msg} request_id=${fields.request_id} user=${fields.user_id}`, severity, fields };
  }
  if (r < 0.9) {
    const text = `ERROR ${pick(['connection refused', 'timeout after 30s', 'deadlock detected', 'broken pipe'])} while ${words(4)} to ${pick(SERVICES)}:${5000 + Math.floor(rnd() * 1000)} (attempt ${1 + Math.floor(rnd() * 5)}/5) ${words(5)}`;
    return { text, severity: 3 };
  }
  return { text: `${words(10 + Math.floor(rnd() * 12))} ${Math.floor(rnd() * 1e6)}`, severity: 6 };
}

const START_MS = Date.parse('2024-05-01T00:00:00Z');
/** ~80 ms apart on average: a million events fill ~22 hours of one UTC day. */
let clockNs = 0n;
const seqs = new Map<string, { ts: string; seq: number }>();
/** The id of one event a third of the way in, for the `event.id` search. */
let made = 0;
let probeId = '';

function makeEvent(): LogEvent {
  clockNs += BigInt(1 + Math.floor(rnd() * 160_000_000));
  const ms = START_MS + Number(clockNs / 1_000_000n);
  const ns = String(clockNs % 1_000_000_000n).padStart(9, '0');
  const timestamp = `${new Date(ms).toISOString().slice(0, 19)}.${ns}Z`;
  const c = pick(CONTAINERS);
  const last = seqs.get(c.id);
  const seq = last && last.ts === timestamp ? last.seq + 1 : 0;
  seqs.set(c.id, { ts: timestamp, seq });
  const m = message(c);
  const compact = timestamp.replace(/[-:TZ.]/g, '');
  const stream = m.severity <= 3 && rnd() < 0.8 ? 'stderr' : 'stdout';
  const e: LogEvent = {
    timestamp,
    id: `${c.id.slice(0, 12)}-${compact}-${seq}`,
    dataset: 'docker',
    ingested: new Date(ms + 5).toISOString().replace('Z', '000000Z'),
    message: m.text,
    severity: m.severity,
    facility: 3,
    stream,
    container: c,
    host: 'docker-prod-1',
    service: c.composeService!,
  };
  if (m.fields) e.fields = m.fields;
  if (m.access) e.access = m.access;
  if (made++ === Math.floor(COUNT / 3)) probeId = e.id;
  return e;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) n += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return n;
}

interface Measured {
  rows: number;
  wallS: number;
  cpuS: number;
  bytes: number;
}

async function run(label: string, count: number, batch: number, dataDir: string): Promise<Measured> {
  const store = await openEmbeddedStore({ dataDir, durability: DURABILITY });
  let wall = 0;
  let cpu = 0;
  for (let done = 0; done < count; done += batch) {
    const events = Array.from({ length: Math.min(batch, count - done) }, makeEvent);
    const t0 = performance.now();
    const c0 = cpuSeconds();
    const outcome = await store.writer.write(events);
    cpu += cpuSeconds() - c0;
    wall += (performance.now() - t0) / 1000;
    if (outcome.status !== 'delivered') throw new Error(`${label}: ${JSON.stringify(outcome)}`);
  }
  const rows = store.countAll();
  await store.close();
  const m = { rows, wallS: wall, cpuS: cpu, bytes: dirBytes(dataDir) };
  console.log(
    `${label}: ${rows} rows, batch ${batch}, durability ${DURABILITY}: ` +
      `${Math.round(rows / wall).toLocaleString('en')} rows/s, ` +
      `${((cpu / rows) * 1e6).toFixed(2)} CPU-s per million rows, ` +
      `${(m.bytes / rows).toFixed(0)} bytes/row on disk`,
  );
  return m;
}

async function searches(dataDir: string): Promise<void> {
  const store = await openEmbeddedStore({ dataDir });
  const text = (value: string, phrase = false, prefix = false): QueryNode => ({
    type: 'text',
    value,
    phrase,
    prefix,
  });
  const field = (f: string, value: string, op: 'eq' | 'prefix' = 'eq'): QueryNode => ({
    type: 'field',
    field: f,
    op,
    value,
  });
  const cases: [string, QueryNode][] = [
    ['everything', { type: 'all' }],
    ['service:web', field('service.name', 'web')],
    ['container:shop-mailer-2', field('container.name', 'shop-mailer-2')],
    ['compose.project:shop', field('compose.project', 'shop')],
    ['level<=err', { type: 'severity', op: 'lte', code: 3 }],
    ['refused (word)', text('refused')],
    ['"deadlock detected" (phrase)', text('deadlock detected', true)],
    [`${VOCAB[1500]} (rare word)`, text(VOCAB[1500]!)],
    ['conn* (prefix)', text('conn', false, true)],
    ['fields.status:5*', field('fields.status', '5', 'prefix')],
    ['status>=500', { type: 'field', field: 'http.response.status_code', op: 'gte', value: '500' }],
    ['fields.duration_ms>=1990', { type: 'field', field: 'fields.duration_ms', op: 'gte', value: '1990' }],
    ['event.id (one event)', field('event.id', probeId)],
    [
      'service:api level<=err timeout',
      {
        type: 'and',
        children: [field('service.name', 'api'), { type: 'severity', op: 'lte', code: 3 }, text('timeout')],
      },
    ],
  ];
  for (const [name, query] of cases) {
    // Median of 5 runs each: first page, then the page after it.
    const first: number[] = [];
    const next: number[] = [];
    let hits = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await store.reader.search({ query, limit: 100, order: 'desc' });
      const t1 = performance.now();
      if (r.nextCursor) await store.reader.search({ query, limit: 100, order: 'desc', cursor: r.nextCursor });
      first.push(t1 - t0);
      next.push(performance.now() - t1);
      hits = r.events.length;
    }
    console.log(
      `  search ${name.padEnd(36)} ${String(hits).padStart(3)} hits: ` +
        `${median(first).toFixed(1)} ms, next page ${median(next).toFixed(1)} ms`,
    );
  }
  // Large answers, where reading the rows and building the events (not finding them) is the
  // cost: 4000 of these events fit the 8 MiB answer budget, 10,000 do not.
  for (const [name, query] of [cases[0]!, cases[4]!]) {
    for (const limit of [4000, 10_000]) {
      const times: number[] = [];
      let hits = 0;
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        const r = await store.reader.search({ query, limit, order: 'desc' });
        times.push(performance.now() - t0);
        hits = r.events.length;
      }
      const ms = median(times);
      console.log(
        `  search ${`${name}, limit ${limit}`.padEnd(36)} ${hits} hits: ${ms.toFixed(1)} ms, ` +
          `${((ms * 1000) / hits).toFixed(1)} us per event`,
      );
    }
  }
  await apiAnswers(store.reader);
  await store.close();
}

/**
 * The whole `GET /api/v1/search` (inject: route, store, body), 4000 events: the events' JSON made
 * once to measure the answer and sent as it is, against the same answer serialised again by
 * fastify (the reader's eventsJson hidden), interleaved so both see the same machine.
 */
function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function apiAnswers(reader: StoreReader): Promise<void> {
  const status = { sources: () => [], ready: () => true, deadLetters: () => ({ count: 0, dir: '' }) };
  const app = async (r: StoreReader) => buildApp({ reader: r, status, storeReady: async () => true });
  const reusing = await app(reader);
  const again = await app({
    ...reader,
    search: async (req) => ({ ...(await reader.search(req)), eventsJson: undefined }),
  });
  const times = { reusing: [] as number[], again: [] as number[] };
  let bytes = 0;
  for (let i = 0; i < 9; i++) {
    for (const [name, a] of [
      ['reusing', reusing],
      ['again', again],
    ] as const) {
      const t0 = performance.now();
      const res = await a.inject({ method: 'GET', url: '/api/v1/search?limit=4000' });
      times[name].push(performance.now() - t0);
      bytes = res.body.length;
    }
  }
  console.log(
    `  GET /api/v1/search limit 4000 (${(bytes / 1048576).toFixed(1)} MiB): ` +
      `${median(times.reusing).toFixed(1)} ms sending the measured JSON, ` +
      `${median(times.again).toFixed(1)} ms serialising again`,
  );
  await reusing.close();
  await again.close();
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'logwharf-bench-'));
  try {
    console.log(
      `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, data in ${root}`,
    );
    const batched = await run('batched', COUNT, BATCH, path.join(root, 'batched'));
    await searches(path.join(root, 'batched'));
    const naive = await run('naive (1 row per transaction)', NAIVE, 1, path.join(root, 'naive'));
    const per = (m: Measured) => m.cpuS / m.rows;
    console.log(
      `batched uses ${(per(naive) / per(batched)).toFixed(1)}x less CPU per row than naive, ` +
        `and is ${(batched.rows / batched.wallS / (naive.rows / naive.wallS)).toFixed(1)}x faster (wall)`,
    );
  } finally {
    if (KEEP) console.log(`kept ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
