import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { type QueryArgs, queryCommand } from '../../src/cli/query.js';
import type { EcsDocument } from '../../src/core/ecs.js';
import { LogwharfError } from '../../src/core/errors.js';
import { UnknownFieldError } from '../../src/query/fields.js';
import { parseQuery } from '../../src/query/parser.js';
import { FakeReader } from '../helpers/fake-reader.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');

function ev(name: string, ts: string, message: string): EcsDocument {
  return { '@timestamp': ts, message, container: { id: `id-${name}`, name }, event: { id: `${name}-${ts}` } };
}

// What the store returns for `order: desc`: newest first.
const NEWEST_FIRST = [
  ev('demo-web-1', '2024-05-01T11:59:03.000000000Z', 'third'),
  ev('demo-worker-1', '2024-05-01T11:59:02.000000000Z', 'second'),
  ev('demo-web-1', '2024-05-01T11:59:01.000000000Z', 'first'),
];

interface Run {
  code: number;
  out: string;
  err: string;
  opened: number;
}

let reader: FakeReader;

beforeEach(() => {
  reader = new FakeReader();
});

async function run(
  args: Partial<QueryArgs>,
  opts: { isTTY?: boolean; env?: Record<string, string> } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  let opened = 0;
  const code = await queryCommand(
    { query: '', ...args },
    {
      openReader: async () => {
        opened++;
        return reader;
      },
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      isTTY: opts.isTTY ?? false,
      now: () => NOW,
      env: opts.env ?? {},
    },
  );
  return { code, out, err, opened };
}

describe('logwharf query (local store)', () => {
  it('prints the newest events oldest first, like docker compose logs --timestamps', async () => {
    reader.result = { events: NEWEST_FIRST, nextCursor: null };
    const r = await run({ query: 'service:web' });
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      [
        'demo-web-1     | 2024-05-01T11:59:01.000000000Z first',
        'demo-worker-1  | 2024-05-01T11:59:02.000000000Z second',
        'demo-web-1     | 2024-05-01T11:59:03.000000000Z third',
        '',
      ].join('\n'),
    );
    expect(reader.requests).toEqual([{ query: parseQuery('service:web'), limit: 100, order: 'desc' }]);
    expect(reader.closed).toBe(1);
  });

  it('--since 1h searches from an hour ago', async () => {
    await run({ query: 'x', since: '1h' });
    expect(reader.requests[0]).toMatchObject({ from: '2024-05-01T11:00:00.000000000Z' });
    expect(reader.requests[0]?.to).toBeUndefined();
  });

  it('--from and --to take RFC 3339 or spans, --limit the count', async () => {
    await run({ query: 'x', from: '2024-05-01T10:00:00+02:00', to: '30m', limit: 7 });
    expect(reader.requests[0]).toMatchObject({
      from: '2024-05-01T08:00:00.000000000Z',
      to: '2024-05-01T11:30:00.000000000Z',
      limit: 7,
      order: 'desc',
    });
  });

  it('--order asc fetches the oldest events and prints them as they come', async () => {
    reader.result = { events: NEWEST_FIRST.slice().reverse(), nextCursor: null };
    const r = await run({ query: '', order: 'asc', limit: 3 });
    expect(reader.requests[0]).toMatchObject({ order: 'asc', limit: 3 });
    expect(
      r.out
        .split('\n')
        .slice(0, 3)
        .map((l) => l.split(' ').pop()),
    ).toEqual(['first', 'second', 'third']);
  });

  it('--json prints NDJSON, oldest first', async () => {
    reader.result = { events: NEWEST_FIRST, nextCursor: null };
    const r = await run({ query: '', json: true });
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(NEWEST_FIRST.slice().reverse());
  });

  it('follows cursors until it has --limit events, asking each time for the rest', async () => {
    // An answer cut at the store's byte budget holds fewer events than asked for.
    reader.results = [
      { events: NEWEST_FIRST.slice(0, 1), nextCursor: 'c1', cutBy: 'max_bytes' },
      { events: NEWEST_FIRST.slice(1, 2), nextCursor: 'c2', cutBy: 'max_bytes' },
      { events: NEWEST_FIRST.slice(2), nextCursor: 'c3', cutBy: 'limit' },
    ];
    const r = await run({ query: 'service:web', limit: 3, json: true });
    expect(r.code).toBe(0);
    expect(
      r.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(NEWEST_FIRST.slice().reverse());
    const q = parseQuery('service:web');
    expect(reader.requests).toEqual([
      { query: q, limit: 3, order: 'desc' },
      { query: q, limit: 2, order: 'desc', cursor: 'c1' },
      { query: q, limit: 1, order: 'desc', cursor: 'c2' },
    ]);
    expect(reader.closed).toBe(1);
  });

  it('stops following when the store has nothing more, or answers nothing', async () => {
    reader.results = [
      { events: NEWEST_FIRST.slice(0, 2), nextCursor: 'c1', cutBy: 'max_bytes' },
      { events: NEWEST_FIRST.slice(2), nextCursor: null },
    ];
    expect((await run({ query: '', limit: 50 })).out.trimEnd().split('\n')).toHaveLength(3);
    expect(reader.requests.map((q) => q.cursor)).toEqual([undefined, 'c1']);
    reader.requests = [];
    reader.results = [{ events: [], nextCursor: 'c9', cutBy: 'max_bytes' }];
    expect(await run({ query: '' })).toMatchObject({ code: 0, out: '' });
    expect(reader.requests).toHaveLength(1);
  });

  it('prints nothing and exits 0 when nothing matches', async () => {
    const r = await run({ query: 'nothing-matches-this' });
    expect(r).toMatchObject({ code: 0, out: '', err: '' });
  });

  it('colours names on a terminal, not when NO_COLOR is set or output is piped', async () => {
    reader.result = { events: NEWEST_FIRST, nextCursor: null };
    expect((await run({ query: '' }, { isTTY: true })).out).toContain('\u001b[');
    expect((await run({ query: '' }, { isTTY: true, env: { NO_COLOR: '1' } })).out).not.toContain('\u001b[');
    expect((await run({ query: '' }, { isTTY: false })).out).not.toContain('\u001b[');
  });

  it('shows a query that does not parse with a caret and exits 2, without opening the store', async () => {
    const r = await run({ query: 'service:web (level>=warning' });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`query: service:web (level>=warning\n${' '.repeat(34)}^ expected ')'\n`);
    expect(r.opened).toBe(0);
  });

  it.each([
    [{ since: '1h', from: '2h' }, /--since and --from/],
    [{ limit: 0 }, /--limit: expected a whole number from 1 to 10000, got 0/],
    [{ limit: 10_001 }, /--limit/],
    [{ limit: 2.5 }, /--limit/],
    [{ to: 'tomorrow' }, /^logwharf query: --to: invalid time 'tomorrow'/],
    [{ since: 'an hour' }, /^logwharf query: --since: invalid time/],
    [{ from: '10m', to: '20m' }, /is after --to/],
  ])('rejects %o with exit 2', async (args, message) => {
    const r = await run({ query: 'x', ...args });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.opened).toBe(0);
  });

  it('reports an unknown field with exit 2 and still closes the store', async () => {
    reader.failWith = new UnknownFieldError('nosuch');
    const r = await run({ query: 'nosuch:x' });
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^logwharf query: unknown field 'nosuch'; known: .*\n$/);
    expect(reader.closed).toBe(1);
  });

  it('reports a store failure with exit 1', async () => {
    reader.failWith = new LogwharfError(
      'LOGWHARF_ERR_STORE',
      'data/store.db: database disk image is malformed',
    );
    const r = await run({ query: '' });
    expect(r).toMatchObject({
      code: 1,
      err: 'logwharf query: data/store.db: database disk image is malformed\n',
    });
  });

  it('throws errors it cannot explain, for main to report', async () => {
    reader.failWith = new TypeError('bug');
    await expect(run({ query: '' })).rejects.toThrow('bug');
  });
});

describe('logwharf query --server', () => {
  let app: FastifyInstance;
  let base: string;
  const served = new FakeReader();

  beforeAll(async () => {
    app = await buildApp({
      reader: served,
      status: { sources: () => [], ready: () => true },
      storeReady: async () => true,
      now: () => NOW,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('asks the server and prints what a local search prints', async () => {
    served.result = { events: NEWEST_FIRST, nextCursor: 'c2' };
    reader.result = { events: NEWEST_FIRST, nextCursor: 'c2' };
    const local = await run({ query: 'service:web', since: '1h', limit: 3 });
    const remote = await run({ query: 'service:web', since: '1h', limit: 3, server: base });
    expect(remote).toEqual({ ...local, opened: 0 });
    expect(served.requests.at(-1)).toEqual({
      query: parseQuery('service:web'),
      from: '2024-05-01T11:00:00.000000000Z',
      limit: 3,
      order: 'desc',
    });
  });

  it('follows next_cursor until it has --limit events', async () => {
    served.requests = [];
    served.results = [
      { events: NEWEST_FIRST.slice(0, 2), nextCursor: 'c1', cutBy: 'max_bytes' },
      { events: NEWEST_FIRST.slice(2), nextCursor: 'c2', cutBy: 'max_bytes' },
    ];
    reader.result = { events: NEWEST_FIRST, nextCursor: null };
    const local = await run({ query: 'service:web', limit: 3 });
    const remote = await run({ query: 'service:web', limit: 3, server: base });
    expect(remote).toEqual({ ...local, opened: 0 });
    expect(served.requests).toEqual([
      { query: parseQuery('service:web'), limit: 3, order: 'desc' },
      { query: parseQuery('service:web'), limit: 1, order: 'desc', cursor: 'c1' },
    ]);
  });

  it('shows the server’s 400 for a bad query with the same caret', async () => {
    const q = 'service:web (level>=warning';
    const local = await run({ query: q });
    const remote = await run({ query: q, server: `${base}/` });
    expect(remote.code).toBe(2);
    expect(remote.err).toBe(local.err);
    expect(remote.err).toBe(`query: ${q}\n${' '.repeat(34)}^ expected ')'\n`);
  });

  it('shows other 400 answers by their message', async () => {
    served.failWith = new UnknownFieldError('nosuch');
    try {
      const r = await run({ query: 'nosuch:x', server: base });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^logwharf query: unknown field 'nosuch'; known: .*\n$/);
    } finally {
      served.failWith = undefined;
    }
  });

  it('exits 1 when no server answers', async () => {
    const gone = await buildApp({
      reader: served,
      status: { sources: () => [], ready: () => true },
      storeReady: async () => true,
    });
    await gone.listen({ host: '127.0.0.1', port: 0 });
    const port = (gone.server.address() as AddressInfo).port;
    await gone.close();
    const r = await run({ query: '', server: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^logwharf query: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is logwharf running there\?\n$/,
    );
  });

  it('rejects a --server that is not an http URL with exit 2', async () => {
    expect(await run({ query: '', server: 'not a url' })).toMatchObject({
      code: 2,
      err: /--server: not a URL/,
    });
    expect(await run({ query: '', server: 'ftp://x' })).toMatchObject({ code: 2 });
  });
});
