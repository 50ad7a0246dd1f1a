import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEcs } from '../../src/core/ecs.js';
import type { LogEvent } from '../../src/core/event.js';
import type { SearchRequest } from '../../src/core/store.js';
import { responseCap } from '../../src/sinks/elasticsearch/chunks.js';
import { openElasticsearchReader } from '../../src/sinks/elasticsearch/reader.js';
import { DEFAULT_CLASS, ensureTemplate, indexName } from '../../src/sinks/elasticsearch/template.js';
import { deleteIndices, esClient, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import {
  answerEventBytes,
  BUDGET_DAYS,
  BUDGET_SIZES,
  bigEvents,
  idOf,
  itPagesWithinBudgets,
} from '../helpers/search-bytes.js';

/**
 * The byte budget of a search answer on a real Elasticsearch node: events up to 1 MiB, four to
 * a timestamp (event.id breaks the ties), over three daily indices. Following the cursors yields
 * every event once, in order, whatever cut the pages; an answer stays within its budget; and
 * what the client accepts of one response is bounded (chunks.ts).
 */

const EVENTS = bigEvents({
  prefix: 'es',
  count: 30,
  days: BUDGET_DAYS,
  sizes: BUDGET_SIZES,
  perTimestamp: 4,
});
/** Elasticsearch's order: @timestamp, then event.id. */
const ASC = [...EVENTS]
  .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id < b.id ? -1 : 1))
  .map((e) => e.id);

let client: Client;
let prefix: string;

beforeAll(async () => {
  client = esClient();
  prefix = uniqueIndexPrefix();
  await ensureTemplate(client, prefix, { replicas: 0 });
  // A few events per request: bulk bodies stay far below http.max_content_length.
  for (let i = 0; i < EVENTS.length; i += 6) {
    const operations = EVENTS.slice(i, i + 6).flatMap((e: LogEvent) => [
      { create: { _index: indexName(prefix, DEFAULT_CLASS, e.timestamp), _id: e.id } },
      toEcs(e),
    ]);
    const r = await client.bulk({ operations, refresh: true });
    expect(r.errors, JSON.stringify(r.items.find((x) => x.create?.error))).toBe(false);
  }
});

afterAll(async () => {
  if (prefix) await deleteIndices(prefix);
  await client?.close();
});

const req = (over: Partial<SearchRequest> = {}): SearchRequest => ({
  query: { type: 'all' },
  limit: 100,
  order: 'asc',
  ...over,
});

interface Seen {
  /** Hits asked for. */
  size: number;
  /** Response bytes, from Content-Length; undefined when not sent. */
  bytes: number | undefined;
  /** Hits returned, or the error's name. */
  outcome: number | string;
}

/** Every search request the client makes until `stop()`, with its size and response. */
function watch(c: Client): { seen: Seen[]; stop: () => void } {
  const seen: Seen[] = [];
  const listener = (err: Error | null, result: unknown) => {
    const r = result as {
      headers?: Record<string, string>;
      body?: { hits?: { hits?: unknown[] } };
      meta?: { request?: { params?: { path?: string; body?: unknown } } };
    } | null;
    const params = r?.meta?.request?.params;
    if (!params?.path?.endsWith('/_search')) return;
    const body = typeof params.body === 'string' ? JSON.parse(params.body) : params.body;
    const length = r?.headers?.['content-length'];
    seen.push({
      size: (body as { size: number }).size,
      bytes: length === undefined ? undefined : Number(length),
      outcome: err ? err.name : (r?.body?.hits?.hits?.length ?? -1),
    });
  };
  c.diagnostic.on('response', listener);
  return { seen, stop: () => c.diagnostic.off('response', listener) };
}

describe('Elasticsearch: answers bounded in bytes', () => {
  itPagesWithinBudgets(
    () => openElasticsearchReader({ client, indexPrefix: prefix }),
    {},
    () => ASC,
  );

  it('accepts no response above the cap: a larger one is asked again for fewer hits', async () => {
    const maxBytes = 256 * 1024;
    const c = esClient();
    const w = watch(c);
    try {
      const reader = openElasticsearchReader({ client: c, indexPrefix: prefix });
      const r = await reader.search(req({ maxBytes }));
      expect(r.events.map(idOf)).toEqual(ASC.slice(0, r.events.length));
      expect(answerEventBytes(r) <= maxBytes || r.events.length === 1).toBe(true);
      // The first request assumed small events and was refused for its size, then retried smaller.
      expect(w.seen[0]).toMatchObject({ outcome: 'RequestAbortedError' });
      expect(w.seen.at(-1)?.outcome).toEqual(expect.any(Number));
      for (const s of w.seen) {
        if (typeof s.outcome === 'number' && s.size > 1) {
          expect(s.bytes).toBeLessThanOrEqual(responseCap(maxBytes, s.size));
        }
      }
      const sizes = w.seen.map((s) => s.size);
      expect(sizes[1]).toBeLessThan(sizes[0]!);
    } finally {
      w.stop();
      await c.close();
    }
  });

  it('small events: one request fills the answer up to limit, and a probe finds whether more exist', async () => {
    const p = uniqueIndexPrefix();
    await ensureTemplate(client, p, { replicas: 0 });
    const c = esClient();
    const w = watch(c);
    try {
      const small = bigEvents({ prefix: 'sm', count: 40, days: BUDGET_DAYS, sizes: [200], perTimestamp: 10 });
      const operations = small.flatMap((e: LogEvent) => [
        { create: { _index: indexName(p, DEFAULT_CLASS, e.timestamp), _id: e.id } },
        toEcs(e),
      ]);
      expect((await c.bulk({ operations, refresh: true })).errors).toBe(false);
      const reader = openElasticsearchReader({ client: c, indexPrefix: p });
      const exact = await reader.search(req({ limit: 40 }));
      expect(exact).toMatchObject({ nextCursor: null });
      expect(exact.events).toHaveLength(40);
      expect(w.seen.map((s) => s.size)).toEqual([41]);
      const cut = await reader.search(req({ limit: 39 }));
      expect(cut).toMatchObject({ cutBy: 'limit' });
      expect(cut.events).toHaveLength(39);
    } finally {
      w.stop();
      await c.close();
      await deleteIndices(p);
    }
  });
});
