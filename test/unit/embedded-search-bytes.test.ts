import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/core/answer.js';
import type { LogEvent } from '../../src/core/event.js';
import type { SearchRequest } from '../../src/core/store.js';
import { type EmbeddedStore, openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import {
  answerEventBytes,
  BUDGET_DAYS,
  BUDGET_SIZES,
  bigEventClass,
  bigEvents,
  idOf,
  itPagesWithinBudgets,
  MiB,
} from '../helpers/search-bytes.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The byte budget of a search answer on the embedded store, against real day files: events up
 * to 1 MiB, four to a timestamp, over three days and two retention classes (two files a day).
 * Following the cursors yields every event once, in order, whatever cut the pages; an answer
 * stays within its budget and stops reading rows where it is full.
 */

const EVENTS = bigEvents({
  prefix: 'emb',
  count: 36,
  days: BUDGET_DAYS,
  sizes: BUDGET_SIZES,
  perTimestamp: 4,
});

/** The store's order: time, then retention class, then insertion (rowid). */
const ASC = EVENTS.map((e, i) => ({ e, i }))
  .sort(
    (a, b) =>
      (a.e.timestamp < b.e.timestamp ? -1 : a.e.timestamp > b.e.timestamp ? 1 : 0) ||
      (bigEventClass(a.e) < bigEventClass(b.e) ? -1 : bigEventClass(a.e) > bigEventClass(b.e) ? 1 : 0) ||
      a.i - b.i,
  )
  .map(({ e }) => e.id);

let dir: string | undefined;
let store: EmbeddedStore;

beforeAll(async () => {
  dir = await tempDir('lw-bytes-');
  store = await openEmbeddedStore({ dataDir: dir, retentionClass: bigEventClass });
  expect(await store.writer.write(EVENTS)).toEqual({ status: 'delivered' });
});

afterAll(async () => {
  await store?.close();
  if (dir) await removeTempDir(dir);
});

const req = (over: Partial<SearchRequest> = {}): SearchRequest => ({
  query: { type: 'all' },
  limit: 100,
  order: 'asc',
  // The three days of EVENTS (a test below adds a fourth).
  to: '2024-05-04T00:00:00Z',
  ...over,
});

describe('embedded store: answers bounded in bytes', () => {
  itPagesWithinBudgets(
    () => store.reader,
    { to: '2024-05-04T00:00:00Z' },
    () => ASC,
  );

  it('the default budget is 8 MiB: an answer of 1 MiB events holds 7 of them', async () => {
    const big = bigEvents({
      prefix: 'eight',
      count: 12,
      days: ['2024-06-01'],
      sizes: [MiB],
      perTimestamp: 1,
    });
    expect(await store.writer.write(big)).toEqual({ status: 'delivered' });
    const r = await store.reader.search(req({ from: '2024-06-01T00:00:00Z', to: '2024-06-02T00:00:00Z' }));
    expect(r.events.map(idOf)).toEqual(big.slice(0, 7).map((e: LogEvent) => e.id));
    expect(answerEventBytes(r)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(r.cutBy).toBe('max_bytes');
    const rest = await store.reader.search(
      req({ from: '2024-06-01T00:00:00Z', to: '2024-06-02T00:00:00Z', cursor: r.nextCursor! }),
    );
    expect(rest.events.map(idOf)).toEqual(big.slice(7).map((e: LogEvent) => e.id));
    expect(rest.nextCursor).toBeNull();
  });

  it('stops reading rows where the answer is full: what it sends, and the next row of each file', async () => {
    const read = countRowsRead();
    try {
      const r = await store.reader.search(req({ maxBytes: 3 * MiB }));
      expect(r.cutBy).toBe('max_bytes');
      // Fewer than the first day holds, so an unbounded read would show.
      expect(r.events.length).toBeLessThan(EVENTS.length / BUDGET_DAYS.length);
      // Day one has two files (retention classes): one row each is read ahead to merge them.
      expect(read.rows).toBeLessThanOrEqual(r.events.length + 2);
    } finally {
      read.restore();
    }
  });
});

/**
 * Counts the rows better-sqlite3 hands to JavaScript from `iterate()` and `all()`, on every
 * connection, until restored.
 */
function countRowsRead(): { rows: number; restore: () => void } {
  const db = new Database(':memory:');
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as {
    iterate: (...a: unknown[]) => IterableIterator<unknown>;
    all: (...a: unknown[]) => unknown[];
  };
  db.close();
  const { iterate, all } = proto;
  const counter = {
    rows: 0,
    restore: () => {
      proto.iterate = iterate;
      proto.all = all;
    },
  };
  proto.iterate = function* (this: unknown, ...args: unknown[]) {
    for (const row of iterate.apply(this, args)) {
      counter.rows++;
      yield row;
    }
  };
  proto.all = function (this: unknown, ...args: unknown[]) {
    const rows = all.apply(this, args);
    counter.rows += rows.length;
    return rows;
  };
  return counter;
}
