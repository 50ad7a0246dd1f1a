import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECS_VERSION, toEcs } from '../../src/core/ecs.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import type { HistogramRequest, StoreReader } from '../../src/core/store.js';
import type { QueryNode } from '../../src/query/ast.js';
import { parseQuery } from '../../src/query/parser.js';
import { openElasticsearchReader } from '../../src/sinks/elasticsearch/reader.js';
import { DEFAULT_CLASS, ensureTemplate, indexName } from '../../src/sinks/elasticsearch/template.js';
import { deleteIndices, esClient, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { db1, ECS_FIELD_QUERIES, queryEvents, web1, worker } from '../helpers/query-events.js';

/**
 * The Elasticsearch reader against a real cluster, with the real index template: what each
 * query construct finds, paging in both orders (also while events arrive), cursors, and
 * histograms. Where Elasticsearch cannot give the embedded store's answer, the test says so
 * ("differs:") and pins down what it gives instead; the list is in docs/elasticsearch.md.
 */

const DAY1 = '2024-05-01';
const DAY2 = '2024-05-02';
const FROM = `${DAY1}T00:00:00.000000000Z`;
const TO = `${DAY2}T23:59:59.999999999Z`;
const ts = (day: string, n: number) => `${day}T12:00:0${n}.000000000Z`;

const gen: ContainerInfo = {
  id: `dddd5555${'0'.repeat(56)}`,
  name: 'load-gen-1',
  imageName: 'gen:1',
  labels: { 'com.docker.compose.project': 'load' },
  composeProject: 'load',
  composeService: 'gen',
  composeNumber: 12,
  tty: false,
};

const base = {
  dataset: 'docker' as const,
  ingested: `${DAY2}T23:00:00.000000000Z`,
  facility: 3,
  host: 'docker-1',
};

/** Hand-made events, one per corner of the query language (e1..e5 as in query-sql.test.ts). */
const SPECIAL: LogEvent[] = [
  ...queryEvents((n) => ts(DAY1, n), `${DAY2}T23:00:00.000000000Z`),
  {
    ...base,
    id: 'e6',
    timestamp: ts(DAY1, 6),
    message: 'upstream connection_refused foo_bar at example.com 10.0.0.1',
    severity: 6,
    stream: 'stdout',
    container: web1,
    service: 'web',
    fields: { duration_ms: '999' },
  },
  {
    ...base,
    id: 'e7',
    timestamp: ts(DAY2, 1),
    message: '日本語のログ 🔥 hot',
    severity: 6,
    stream: 'stdout',
    container: worker,
  },
  {
    ...base,
    id: 'e8',
    timestamp: ts(DAY2, 2),
    message: 'Connection timed out',
    severity: 3,
    stream: 'stderr',
    container: db1,
    service: 'db',
    fields: { status: 502, arr: [1, 2] },
    flags: ['truncated', 'multiline'],
  },
];

/**
 * 42 plain events over both days for paging and histograms: messages "tick N", several sharing
 * a timestamp (their order then falls to the id), ids not in time order.
 */
function generated(): LogEvent[] {
  const out: LogEvent[] = [];
  for (let i = 0; i < 42; i++) {
    const day = i % 3 === 0 ? DAY2 : DAY1;
    const hour = String(2 + ((i * 5) % 20)).padStart(2, '0');
    const nanos = String(i % 4 === 0 ? 0 : i * 1_000_123).padStart(9, '0');
    out.push({
      ...base,
      id: `g${String((i * 17) % 42).padStart(2, '0')}`,
      timestamp: `${day}T${hour}:30:00.${nanos}Z`,
      message: `tick ${i}`,
      severity: [6, 6, 3, 4, 7][i % 5]!,
      stream: i % 2 === 0 ? 'stdout' : 'stderr',
      container: gen,
      service: 'gen',
      fields: { seq: i, ...(i % 6 === 0 ? {} : { status: i % 4 === 0 ? '502' : '200' }) },
    });
  }
  return out;
}

const EVENTS = [...SPECIAL, ...generated()];

let client: Client;
let prefix: string;
let reader: StoreReader;

async function index(c: Client, p: string, events: readonly LogEvent[]): Promise<void> {
  const operations = events.flatMap((e) => [
    { create: { _index: indexName(p, DEFAULT_CLASS, e.timestamp), _id: e.id } },
    toEcs(e),
  ]);
  const r = await c.bulk({ operations, refresh: true });
  expect(r.errors, JSON.stringify(r.items.find((i) => i.create?.error))).toBe(false);
}

beforeAll(async () => {
  client = esClient();
  prefix = uniqueIndexPrefix();
  await ensureTemplate(client, prefix, { replicas: 0 });
  await index(client, prefix, EVENTS);
  reader = openElasticsearchReader({ client, indexPrefix: prefix });
});

afterAll(async () => {
  await reader?.close();
  if (prefix) await deleteIndices(prefix);
  await client?.close();
});

const byKey = (a: LogEvent, b: LogEvent) =>
  a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Ids of every event a query finds, in ascending order. */
async function all(q: string | QueryNode, r: StoreReader = reader): Promise<string[]> {
  const query = typeof q === 'string' ? parseQuery(q) : q;
  const res = await r.search({ query, from: FROM, to: TO, limit: 1000, order: 'asc' });
  expect(res.nextCursor).toBeNull();
  return res.events.map((e) => (e.event as { id: string }).id);
}

/** Ids of the hand-made events a query finds, sorted. */
async function special(q: string | QueryNode): Promise<string[]> {
  return (await all(q)).filter((id) => id.startsWith('e')).sort();
}

const word = (value: string): QueryNode => ({ type: 'text', value, phrase: false, prefix: false });
const field = (f: string, value: string): QueryNode => ({ type: 'field', field: f, op: 'eq', value });

async function rejection(q: string): Promise<Error> {
  try {
    await reader.search({ query: parseQuery(q), limit: 10, order: 'desc' });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected ${q} to fail`);
}

describe('message text', () => {
  it.each([
    ['connection', ['e1', 'e2', 'e8']],
    ['CONNECTION', ['e1', 'e2', 'e8']],
    ['Café', ['e3']],
    ['CRÈME', ['e3']],
    ['api/v1', ['e1']],
    ['v1/api', []],
    ['"connection refused"', ['e2']],
    ['"refused connection"', []],
    ['conn*', ['e1', 'e2', 'e6', 'e8']],
    ['retr*', ['e2']],
    ['etrying*', []],
    ['api/v*', ['e1']],
    ['"admin\\" OR 1=1"', ['e4']],
    ['🔥', ['e7']],
    ['10.0.0.1', ['e4', 'e6']],
    ['-connection', ['e3', 'e4', 'e5', 'e6', 'e7']],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('words the parser cannot spell are plain text too', async () => {
    expect(await special(word('NEAR(a'))).toEqual(['e5']); // the phrase "near a"
    expect(await special(word('col:val'))).toEqual(['e5']);
    expect(await special(word('a" OR 1=1'))).toEqual([]);
  });

  it.each([
    ['cafe', [], 'diacritics are not folded (embedded: e3)'],
    ['refused', ['e2'], '"connection_refused" is one token (embedded: e2, e6)'],
    ['com', [], '"example.com" is one token (embedded: e6)'],
    ['日本', ['e7'], 'each Han character is a token (embedded: only 日本*)'],
  ])('differs: %s — %s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('differs: a word without letters or digits finds nothing (embedded: a substring search, e2)', async () => {
    expect(await special(word(':-)'))).toEqual([]);
  });
});

describe('keyword fields', () => {
  it.each([
    ['service.name:web', ['e1', 'e2', 'e6']],
    ['service.name:Web', []],
    ['service:web', ['e1', 'e2', 'e6']],
    ['stream:stderr', ['e2', 'e8']],
    ['host.name:router', ['e4']],
    ['event.dataset:syslog', ['e4']],
    ['event.id:e3', ['e3']],
    ['app:sshd', ['e4']],
    ['log.syslog.procid:123', ['e4']],
    ['log.syslog.msgid:AUTH', ['e4']],
    ['container:demo-web-1', ['e1', 'e6']],
    ['image:"postgres:16"', ['e3', 'e8']],
    ['project:demo', ['e1', 'e2', 'e3', 'e6', 'e8']],
    ['compose.service:web', ['e1', 'e2', 'e6']],
    [`container.id:${web1.id}`, ['e1', 'e6']],
    ['container.id:aaaa', ['e1', 'e2', 'e6']],
    ['log.flags:multiline', ['e3', 'e8']],
    ['log.flags:truncated', ['e8']],
    [`@timestamp:${ts(DAY1, 3)}`, ['e3']],
  ])('%s is exact', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it.each([
    ['service:w*', ['e1', 'e2', 'e6']],
    ['container:demo-*', ['e1', 'e2', 'e3', 'e6', 'e8']],
    ['image:nginx:*', ['e1', 'e2', 'e6']],
    ['service:*', ['e1', 'e2', 'e3', 'e4', 'e6', 'e8']],
  ])('%s is a prefix', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('keywords compare in byte order', async () => {
    expect(await special('service.name>sshd')).toEqual(['e1', 'e2', 'e6']);
    expect(await special('service.name<=db')).toEqual(['e3', 'e8']);
  });
});

describe('integer fields', () => {
  it.each([
    ['compose.container_number:2', ['e2']],
    ['compose.container_number<2', ['e1', 'e3', 'e6', 'e8']],
    ['compose.container_number:1*', ['e1', 'e3', 'e6', 'e8']],
    ['log.syslog.facility.code:4', ['e4']],
    ['log.syslog.facility.name:auth', ['e4']],
    ['log.syslog.facility.name:au*', ['e4']],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('the integer prefix also finds two-digit numbers', async () => {
    expect((await all('compose.container_number:1*')).filter((id) => id.startsWith('g'))).toHaveLength(42);
  });
});

describe('timestamps', () => {
  it.each([
    [`@timestamp>=${ts(DAY1, 4)}`, ['e4', 'e5', 'e6', 'e7', 'e8']],
    [`@timestamp<${ts(DAY1, 2)}`, ['e1']],
    ['@timestamp>=2024-05-02', ['e7', 'e8']],
    ['@timestamp<2024-05-02', ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']],
    [`@timestamp:${DAY1}T12:00:0*`, ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']],
    [`@timestamp:${DAY2}*`, ['e7', 'e8']],
    ['@timestamp>=1900', ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']],
    ['@timestamp:2024-13*', []],
    ['event.ingested:2024-05-02T23*', ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });
});

describe('severity', () => {
  it.each([
    ['level>=warning', ['e2', 'e3', 'e8']],
    ['level:err', ['e2', 'e8']],
    ['level:error', ['e2', 'e8']],
    ['level>info', ['e2', 'e3', 'e4', 'e8']],
    ['level<info', ['e5']],
    ['level<=notice', ['e1', 'e4', 'e5', 'e6', 'e7']],
    ['log.syslog.severity.name:notice', ['e4']],
    ['log.syslog.severity.code<=4', ['e2', 'e3', 'e8']],
    ['log.syslog.severity.name:de*', ['e5']],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });
});

describe('container labels and structured data (flattened)', () => {
  it.each([
    ['container.labels.com.docker.compose.project:demo', ['e1', 'e2', 'e3', 'e6', 'e8']],
    ['container.labels.com.docker.compose.service:web', ['e1', 'e2', 'e6']],
    ['container.labels.traefik.http.routers.web.rule:"Host(`a.example`)"', ['e1', 'e2', 'e6']],
    ['container.labels.com.docker.compose.project:oth*', ['e5', 'e7']],
    ['container.labels.no.such.label:x', []],
    ['log.syslog.structured_data.origin.ip:10.0.0.1', ['e4']],
    ['log.syslog.structured_data.origin.ip:10.*', ['e4']],
    ['log.syslog.structured_data.origin.ip:10.0.0.2', []],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('keys the parser cannot spell', async () => {
    expect(await special(field('container.labels.quote"key', 'q'))).toEqual(['e1', 'e2', 'e6']);
    expect(await special(field('log.syslog.structured_data.meta@32473.sequenceId', '7'))).toEqual(['e4']);
    expect(await special(field('log.syslog.structured_data.a.b@1.c.d', 'x'))).toEqual(['e4']);
  });
});

describe('fields.*', () => {
  it.each([
    ['fields.status:503', ['e2']],
    ['fields.status:500', ['e3']],
    ['fields.status>=500', ['e2', 'e3', 'e8']],
    ['fields.status<300', ['e1']],
    ['fields.status:5*', ['e2', 'e3', 'e8']],
    ['fields.count:7', ['e5']],
    ['fields.count:7.0', ['e5']],
    ['fields.count:07', ['e5']],
    ['fields.user:alice', ['e1']],
    ['fields.user:Alice', []],
    ['fields.user:al*', ['e1']],
    ['fields.user>a', ['e1']],
    ['fields.ok:false', ['e2']],
    ['fields.ok:0', []],
    ['fields.http.method:GET', ['e1']],
    ['fields.http.method:POST', ['e2']],
    ['fields.nested.deep.key:v', ['e5']],
    ['fields.missing:x', []],
    ['fields.missing:*', []],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it.each([
    ['fields.duration_ms>1000', ['e2', 'e6'], 'compares text: "999" > "1000" (embedded: e2)'],
    ['fields.arr:1', ['e8'], 'matches an element of an array (embedded: none)'],
  ])('differs: %s — %s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });
});

describe('ECS fields of an access line and a syslog sender (the same answers as the embedded store)', () => {
  it.each(ECS_FIELD_QUERIES)('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });

  it('negations also match the events without the field', async () => {
    expect(await special('-status>=500')).toEqual(['e1', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']);
    expect(await special('-sender_timestamp:*')).toEqual(['e1', 'e2', 'e3', 'e5', 'e6', 'e7', 'e8']);
  });

  it('ecs.version is on every document', async () => {
    expect(await all(`ecs.version:${ECS_VERSION}`)).toHaveLength(EVENTS.length);
    expect(await all('ecs.version:1.0.0')).toEqual([]);
  });

  it('maps the ECS types: status and bytes long, the rest keywords, sender_timestamp a keyword', async () => {
    const index = indexName(prefix, DEFAULT_CLASS, ts(DAY1, 1));
    const got = await client.indices.getFieldMapping({
      index,
      fields: [
        'http.*',
        'url.original',
        'source.address',
        'user.name',
        'user_agent.original',
        'log.source.address',
        'sender_timestamp',
        'ecs.version',
      ],
    });
    const types = Object.fromEntries(
      Object.entries(got[index]!.mappings).map(([f, m]) => [
        f,
        (Object.values(m.mapping)[0] as { type: string }).type,
      ]),
    );
    expect(types).toEqual({
      'http.request.method': 'keyword',
      'http.request.referrer': 'keyword',
      'http.response.status_code': 'long',
      'http.response.body.bytes': 'long',
      'http.version': 'keyword',
      'url.original': 'keyword',
      'source.address': 'keyword',
      'user.name': 'keyword',
      'user_agent.original': 'keyword',
      'log.source.address': 'keyword',
      sender_timestamp: 'keyword',
      'ecs.version': 'keyword',
    });
  });
});

describe('message as a field', () => {
  it('message:x is a phrase, not a case-sensitive substring', async () => {
    expect(await special('message:checkpoint')).toEqual(['e3']);
    // differs: the embedded store greps case-sensitively and finds nothing here
    expect(await special('message:Refused')).toEqual(['e2']);
    expect(await special('message:GET*')).toEqual(['e1']);
  });
});

describe('boolean structure', () => {
  it.each([
    ['', ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']],
    ['-service:web', ['e3', 'e4', 'e5', 'e7', 'e8']],
    ['-container:demo-web-1', ['e2', 'e3', 'e4', 'e5', 'e7', 'e8']],
    ['-fields.status>=500', ['e1', 'e4', 'e5', 'e6', 'e7']],
    ['NOT NOT stream:stderr', ['e2', 'e8']],
    ['connection refused', ['e2']],
    ['connection OR café', ['e1', 'e2', 'e3', 'e8']],
    ['service:web -refused', ['e1', 'e6']],
    ['connection (stream:stderr OR fields.user:alice)', ['e1', 'e2', 'e8']],
    ['service:web level>=warning "connection refused" -healthcheck', ['e2']],
    ['(container:demo-web-1 OR container:demo-web-2) AND fields.status:5*', ['e2']],
    ['project:demo -service:web', ['e3', 'e8']],
  ])('%s', async (q, expected) => {
    expect(await special(q)).toEqual(expected);
  });
});

describe('errors', () => {
  it('an unknown field is the UnknownFieldError of the SQL translator', async () => {
    const err = await rejection('stream:stdout -nope:x');
    expect(err.name).toBe('UnknownFieldError');
    expect((err as Error & { field: string }).field).toBe('nope');
  });

  it('event.original is known but not indexed: a query error', async () => {
    const err = await rejection('event.original:sshd');
    expect(err.name).toBe('UnsearchableFieldError');
    expect((err as Error & { code: string }).code).toBe('LOGWHARF_ERR_QUERY');
  });

  it('a bad from/to is a query error', async () => {
    await expect(
      reader.search({ query: parseQuery(''), from: 'yesterday', limit: 1, order: 'desc' }),
    ).rejects.toMatchObject({ code: 'LOGWHARF_ERR_QUERY', message: /from: 'yesterday'/ });
  });

  it('an unreachable cluster is a store error (503), naming what failed', async () => {
    const { Client } = await import('@elastic/elasticsearch');
    const dead = new Client({ node: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 2000 });
    const r = openElasticsearchReader({ client: dead, indexPrefix: prefix });
    await expect(r.search({ query: parseQuery(''), limit: 1, order: 'desc' })).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_STORE',
      message: /elasticsearch search failed/,
    });
    await dead.close();
  });
});

describe('search bounds and paging', () => {
  const sorted = [...EVENTS].sort(byKey);

  it('from is inclusive, to exclusive', async () => {
    const r = await reader.search({
      query: parseQuery('service:web OR service:db'),
      from: ts(DAY1, 2),
      to: ts(DAY1, 6),
      limit: 100,
      order: 'asc',
    });
    expect(r.events.map((e) => (e.event as { id: string }).id)).toEqual(['e2', 'e3']);
  });

  it('returns the documents as stored, which are toEcs(event)', async () => {
    const r = await reader.search({ query: parseQuery('event.id:e4'), limit: 1, order: 'desc' });
    expect(r.events).toEqual([toEcs(SPECIAL[3]!)]);
  });

  it('no index at all is an empty answer, not an error', async () => {
    const none = openElasticsearchReader({ client, indexPrefix: `${prefix}-nothing-here` });
    expect(await none.search({ query: parseQuery(''), limit: 5, order: 'desc' })).toEqual({
      events: [],
      eventsJson: [],
      nextCursor: null,
    });
  });

  for (const order of ['asc', 'desc'] as const) {
    it(`pages of 7, ${order}: every event once, in (@timestamp, event.id) order`, async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const r = await reader.search({
          query: parseQuery(''),
          from: FROM,
          to: TO,
          limit: 7,
          order,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...r.events.map((e) => (e.event as { id: string }).id));
        sizes.push(r.events.length);
        cursor = r.nextCursor ?? undefined;
      } while (cursor && sizes.length < 20);
      const expected = (order === 'asc' ? sorted : [...sorted].reverse()).map((e) => e.id);
      expect(seen).toEqual(expected);
      // 50 = 7 * 7 + 1: the last page holds one event and says there is nothing more.
      expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    });
  }

  it('nextCursor is null exactly when nothing more matches', async () => {
    const q = parseQuery('service:web');
    const exact = await reader.search({ query: q, limit: 3, order: 'desc' });
    expect(exact.events).toHaveLength(3);
    expect(exact.nextCursor).toBeNull();
    const short = await reader.search({ query: q, limit: 2, order: 'desc' });
    expect(short.nextCursor).not.toBeNull();
    const rest = await reader.search({ query: q, limit: 2, order: 'desc', cursor: short.nextCursor! });
    expect(rest.events.map((e) => (e.event as { id: string }).id)).toEqual(['e1']);
    expect(rest.nextCursor).toBeNull();
  });

  it('an invalid cursor is an InvalidCursorError', async () => {
    for (const cursor of ['garbage', Buffer.from('[1,"x","default",3]').toString('base64url')]) {
      await expect(
        reader.search({ query: parseQuery(''), limit: 7, order: 'desc', cursor }),
      ).rejects.toMatchObject({
        name: 'InvalidCursorError',
      });
    }
  });

  for (const order of ['asc', 'desc'] as const) {
    it(`pages stay stable while events arrive, ${order}: none repeated, none skipped, in order`, async () => {
      // Own indices: the events added here must not change what the other tests see.
      const p2 = uniqueIndexPrefix();
      await ensureTemplate(client, p2, { replicas: 0 });
      try {
        await index(client, p2, EVENTS);
        const r2 = openElasticsearchReader({ client, indexPrefix: p2 });
        const seen: { id: string; ts: string }[] = [];
        const mustAppear: string[] = [];
        const mustNotAppear: string[] = [];
        let cursor: string | undefined;
        for (let round = 0; round < 30; round++) {
          const r = await r2.search({
            query: parseQuery(''),
            from: FROM,
            to: TO,
            limit: 7,
            order,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(
            ...r.events.map((e) => ({ id: (e.event as { id: string }).id, ts: e['@timestamp'] as string })),
          );
          cursor = r.nextCursor ?? undefined;
          const lastTs = seen.at(-1)?.ts;
          if (!cursor || !lastTs) break;
          // Two new events between pages: one behind the page just read (it must not show up
          // later), one ahead of it (it must). Each round's "ahead" lies beyond the previous one.
          const n = String(round).padStart(9, '0');
          const behind = order === 'asc' ? `${DAY1}T00:00:00.${n}Z` : `${DAY2}T23:59:59.${n}Z`;
          const ahead =
            order === 'asc'
              ? `${DAY2}T23:59:58.${n}Z`
              : `${DAY1}T00:00:01.${String(999_999_999 - round).padStart(9, '0')}Z`;
          expect(
            order === 'asc' ? behind < lastTs && ahead > lastTs : behind > lastTs && ahead < lastTs,
          ).toBe(true);
          const fresh = [
            { ...SPECIAL[0]!, id: `n${round}-behind`, timestamp: behind },
            { ...SPECIAL[0]!, id: `n${round}-ahead`, timestamp: ahead },
          ];
          mustNotAppear.push(fresh[0]!.id);
          mustAppear.push(fresh[1]!.id);
          await index(client, p2, fresh);
        }
        expect(cursor, 'paging ended').toBeUndefined();
        const ids = seen.map((x) => x.id);
        expect(new Set(ids).size, 'no event twice').toBe(ids.length);
        const keys = seen.map((x) => `${x.ts} ${x.id}`);
        const inOrder = [...keys].sort();
        expect(keys).toEqual(order === 'asc' ? inOrder : inOrder.reverse());
        expect(ids).toEqual(expect.arrayContaining([...EVENTS.map((e) => e.id), ...mustAppear]));
        for (const id of mustNotAppear) expect(ids).not.toContain(id);
        expect(mustAppear.length).toBeGreaterThan(5);
      } finally {
        await deleteIndices(p2);
      }
    });
  }
});

describe('histogram', () => {
  /** The value of `by` as the histogram keys it (a string), or undefined when absent. */
  function byValue(e: LogEvent, by: string): string | undefined {
    const doc = toEcs(e) as Record<string, unknown>;
    let v: unknown = doc;
    const path = by === 'fields.status' ? ['fields', 'status'] : by.split('.');
    for (const k of path) v = (v as Record<string, unknown> | undefined)?.[k];
    return v === undefined ? undefined : String(v);
  }

  /** The same histogram computed from the events: what the store must answer. */
  function expected(req: HistogramRequest, events: readonly LogEvent[], by: string) {
    const inRange = events.filter((e) => e.timestamp >= req.from && e.timestamp < req.to);
    const totals = new Map<string, number>();
    for (const e of inRange) {
      const v = byValue(e, by);
      if (v !== undefined) totals.set(v, (totals.get(v) ?? 0) + 1);
    }
    const top = [...totals]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, req.limit)
      .map(([v]) => v);
    const ms = (t: string) => Date.parse(`${t.slice(0, 23)}Z`);
    const start = (t: string) => Math.floor(ms(t) / req.intervalMs) * req.intervalMs;
    const first = start(req.from);
    // The last bucket holds the last instant before `to`.
    const lastInstant = req.to.slice(23, 29) === '000000' ? ms(req.to) - 1 : ms(req.to);
    const last = Math.floor(lastInstant / req.intervalMs) * req.intervalMs;
    const buckets = [];
    for (let s = first; s <= last; s += req.intervalMs) {
      const mine = inRange.filter((e) => start(e.timestamp) === s);
      const counts: Record<string, number> = {};
      for (const e of mine) {
        const v = byValue(e, by);
        const key = v === undefined ? '(none)' : top.includes(v) ? v : 'other';
        counts[key] = (counts[key] ?? 0) + 1;
      }
      buckets.push({ start: new Date(s).toISOString().replace('Z', '000000Z'), total: mine.length, counts });
    }
    return { intervalMs: req.intervalMs, by, buckets };
  }

  it.each<[string, string, number]>([
    ['level', 'log.level', 2],
    ['service', 'service.name', 2],
    ['fields.status', 'fields.status', 2],
    ['compose.container_number', 'compose.container_number', 1],
    ['stream', 'stream', 5],
    ['status', 'http.response.status_code', 1],
    ['method', 'http.request.method', 2],
  ])('by %s: buckets, totals, top values, other and (none)', async (by, path, limit) => {
    const req: HistogramRequest = {
      query: parseQuery(''),
      from: `${DAY1}T00:00:00.000000000Z`,
      to: '2024-05-03T00:00:00.000000000Z',
      intervalMs: 6 * 3_600_000,
      by,
      limit,
    };
    const got = await reader.histogram(req);
    expect(got).toEqual(expected(req, EVENTS, path));
    expect(got.buckets).toHaveLength(8);
    expect(got.buckets.reduce((n, b) => n + b.total, 0)).toBe(EVENTS.length);
  });

  it('other and (none) really occur (the comparison above is not vacuous)', async () => {
    const got = await reader.histogram({
      query: parseQuery(''),
      from: FROM,
      to: TO,
      intervalMs: 86_400_000,
      by: 'fields.status',
      limit: 1,
    });
    const keys = new Set(got.buckets.flatMap((b) => Object.keys(b.counts)));
    expect(keys).toEqual(new Set(['200', 'other', '(none)']));
  });

  it('counts only what the query matches, and starts buckets off the hour when asked', async () => {
    const req: HistogramRequest = {
      query: parseQuery('service:web OR service:db'),
      from: `${DAY1}T12:00:01.500000000Z`,
      to: `${DAY2}T12:00:02.000000001Z`,
      intervalMs: 90 * 60_000,
      by: 'level',
      limit: 10,
    };
    const got = await reader.histogram(req);
    expect(got).toEqual(
      expected(
        req,
        EVENTS.filter((e) => e.service === 'web' || e.service === 'db'),
        'log.level',
      ),
    );
    expect(got.buckets[0]!.start).toBe(`${DAY1}T12:00:00.000000000Z`);
    expect(got.buckets.reduce((n, b) => n + b.total, 0)).toBe(4); // e2, e3, e6, and e8 just before `to`
  });

  it('a range with no events has every bucket, all empty; no index is the same', async () => {
    const req: HistogramRequest = {
      query: parseQuery(''),
      from: '2030-01-01T00:00:00.000000000Z',
      to: '2030-01-01T03:00:00.000000000Z',
      intervalMs: 3_600_000,
      by: 'level',
      limit: 3,
    };
    const empty = {
      intervalMs: 3_600_000,
      by: 'log.level',
      buckets: ['00', '01', '02'].map((h) => ({
        start: `2030-01-01T${h}:00:00.000000000Z`,
        total: 0,
        counts: {},
      })),
    };
    expect(await reader.histogram(req)).toEqual(empty);
    const none = openElasticsearchReader({ client, indexPrefix: `${prefix}-nothing-here` });
    expect(await none.histogram(req)).toEqual(empty);
  });

  it('an unknown or unsplittable field is refused', async () => {
    const req = { query: parseQuery(''), from: FROM, to: TO, intervalMs: 3_600_000, limit: 3 };
    await expect(reader.histogram({ ...req, by: 'nope' })).rejects.toMatchObject({
      name: 'UnknownFieldError',
    });
    await expect(reader.histogram({ ...req, by: 'message' })).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_QUERY',
    });
    await expect(reader.histogram({ ...req, by: 'log.flags' })).rejects.toMatchObject({
      message: /several flags/,
    });
    await expect(reader.histogram({ ...req, by: 'level', limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
