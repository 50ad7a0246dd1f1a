import { expect, it } from 'vitest';
import { answerBytes, MAX_ANSWER_BYTES } from '../../src/core/answer.js';
import type { EcsDocument } from '../../src/core/ecs.js';
import type { LogEvent } from '../../src/core/event.js';
import type { SearchRequest, SearchResult, StoreReader } from '../../src/core/store.js';
import { web1 } from './query-events.js';

/**
 * For the tests of the byte budget of search answers (core/answer.ts), on every store.
 *
 * Events: messages of
 * mixed sizes up to about 1 MiB (the default max_line_bytes), `perTimestamp` of them sharing
 * each timestamp, spread over `days` (one day file or index each), and every third an `err`,
 * which the embedded tests put in a retention class of its own.
 */
export interface BigEventsOptions {
  /** Ids are `<prefix>-<n>`, n from 0. */
  prefix: string;
  count: number;
  /** UTC days, YYYY-MM-DD; the events fill them in turn, `count / days.length` each. */
  days: readonly string[];
  /** Message sizes in bytes, used in turn. */
  sizes: readonly number[];
  perTimestamp: number;
}

export const MiB = 1024 * 1024;

/** The days and message sizes the stores' paging tests use: up to 1 MiB, over three days. */
export const BUDGET_DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];
export const BUDGET_SIZES = [MiB - 4096, 300 * 1024, 2048, 700 * 1024, 100, MiB - 4096];

export function bigEvents(o: BigEventsOptions): LogEvent[] {
  const perDay = Math.ceil(o.count / o.days.length);
  return Array.from({ length: o.count }, (_, i) => {
    const day = o.days[Math.floor(i / perDay)]!;
    const second = Math.floor((i % perDay) / o.perTimestamp);
    const hms = `12:${String(Math.floor(second / 60)).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}`;
    const head = `big ${i} `;
    return {
      // Ids in another order than time and insertion, so Elasticsearch's tie-break (event.id) matters.
      id: `${o.prefix}-${String((i * 7919) % 100_003).padStart(6, '0')}-${i}`,
      timestamp: `${day}T${hms}.000000000Z`,
      dataset: 'docker',
      ingested: `${day}T13:00:00.000000000Z`,
      message: head + 'x'.repeat(Math.max(0, o.sizes[i % o.sizes.length]! - head.length)),
      severity: i % 3 === 0 ? 3 : 6,
      facility: 3,
      stream: i % 3 === 0 ? 'stderr' : 'stdout',
      container: web1,
      host: 'docker-1',
      service: 'web',
    };
  });
}

/** The embedded store's retention classes for these events. */
export const bigEventClass = (e: LogEvent): string => (e.severity <= 3 ? 'audit' : 'default');

/** `event.id` of a returned document. */
export const idOf = (d: EcsDocument): string => (d.event as { id: string }).id;

/** The bytes of an answer's events, as the budget counts them. */
export const answerEventBytes = (r: { events: EcsDocument[] }): number =>
  r.events.reduce((n, d) => n + answerBytes(d), 0);

/** Every answer of a search, following cursors (at most 200). */
export async function allAnswers(reader: StoreReader, base: SearchRequest): Promise<SearchResult[]> {
  const out: SearchResult[] = [];
  let cursor: string | undefined;
  do {
    const r = await reader.search({ ...base, ...(cursor ? { cursor } : {}) });
    out.push(r);
    cursor = r.nextCursor ?? undefined;
  } while (cursor && out.length < 200);
  return out;
}

/**
 * The answers keep to their limit and byte budget, say why each one ended, and each one cut by
 * bytes was cut as late as it could be (the next event would not have fitted).
 */
export function expectWellCut(all: SearchResult[], limit: number, maxBytes: number): void {
  all.forEach((r, i) => {
    const next = all[i + 1];
    expect(r.events.length).toBeGreaterThan(0);
    if (r.events.length > 1) expect(answerEventBytes(r)).toBeLessThanOrEqual(maxBytes);
    expect(r.events.length).toBeLessThanOrEqual(limit);
    if (!next) {
      expect(r.nextCursor).toBeNull();
      expect(r.cutBy).toBeUndefined();
    } else if (r.cutBy === 'max_bytes') {
      expect(answerEventBytes(r) + answerBytes(next.events[0]!)).toBeGreaterThan(maxBytes);
    } else {
      expect(r.cutBy).toBe('limit');
      expect(r.events.length).toBe(limit);
    }
  });
}

/**
 * The paging cases every store must pass over the events of BUDGET_DAYS (`base` bounds the
 * search to them): both orders, budgets from one byte to the default, and limit and budget
 * together. `asc` is the store's own order of the events' ids.
 */
export function itPagesWithinBudgets(
  reader: () => StoreReader,
  base: Partial<SearchRequest>,
  asc: () => readonly string[],
): void {
  const req = (over: Partial<SearchRequest>): SearchRequest => ({
    query: { type: 'all' },
    limit: 100,
    order: 'asc',
    ...base,
    ...over,
  });
  const budgets: [string, number | undefined][] = [
    ['1 byte (one event per answer)', 1],
    ['256 KiB', 256 * 1024],
    ['3 MiB', 3 * MiB],
    ['the default', undefined],
  ];
  for (const order of ['asc', 'desc'] as const) {
    for (const [name, maxBytes] of budgets) {
      it(`${order}, ${name}: every event once, in order, each answer within its budget`, async () => {
        const all = await allAnswers(
          reader(),
          req({ order, ...(maxBytes !== undefined ? { maxBytes } : {}) }),
        );
        expect(all.flatMap((r) => r.events.map(idOf))).toEqual(
          order === 'asc' ? asc() : [...asc()].reverse(),
        );
        expectWellCut(all, 100, maxBytes ?? MAX_ANSWER_BYTES);
        // Not vacuous: the events (about 15 MiB) never fit one answer.
        expect(all.length).toBeGreaterThan(1);
        expect(all[0]!.cutBy).toBe('max_bytes');
        if (maxBytes === 1) expect(all.every((r) => r.events.length === 1)).toBe(true);
      });
    }
  }

  it('limit and budget together: whichever comes first ends the answer', async () => {
    const all = await allAnswers(reader(), req({ limit: 5, maxBytes: 2 * MiB, order: 'desc' }));
    expect(all.flatMap((r) => r.events.map(idOf))).toEqual([...asc()].reverse());
    expectWellCut(all, 5, 2 * MiB);
    expect(new Set(all.map((r) => r.cutBy))).toEqual(new Set(['limit', 'max_bytes', undefined]));
  });
}
