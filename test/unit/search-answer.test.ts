import { describe, expect, it } from 'vitest';
import { Answer, answerBytes, MAX_ANSWER_BYTES } from '../../src/core/answer.js';
import type { EcsDocument } from '../../src/core/ecs.js';
import { searchBounds } from '../../src/core/store.js';
import {
  ASSUMED_EVENT_BYTES,
  chunkSize,
  MAX_RESULT_WINDOW,
  responseCap,
  smallerChunk,
} from '../../src/sinks/elasticsearch/chunks.js';

/** The byte budget of one search answer, and how the Elasticsearch reader sizes its requests. */

const doc = (message: string): EcsDocument => ({ '@timestamp': '2024-05-01T00:00:00.000000000Z', message });
/** A document whose answerBytes is exactly `n` (n >= 62). */
function docOf(n: number): EcsDocument {
  const d = doc('');
  d.message = 'x'.repeat(n - answerBytes(d));
  expect(answerBytes(d)).toBe(n);
  return d;
}

/** Offers docs of the given sizes (keys 0, 1, ...) until one is refused; the answer and its result. */
function fill(limit: number, maxBytes: number, sizes: number[]) {
  const a = new Answer<number>(limit, maxBytes);
  let built = 0;
  sizes.forEach((n, i) => {
    a.offer(i, () => {
      built++;
      return docOf(n);
    });
  });
  return { answer: a, built, result: a.result((k) => `after-${k}`) };
}

describe('answerBytes', () => {
  it.each([
    ['ascii', 'hello'],
    ['escapes', 'tab\tquote" backslash\\ newline\n nul\u0000'],
    ['multi-byte UTF-8', 'Café 日本語 🔥'],
    ['a lone surrogate', 'a\ud800b'],
  ])('is the UTF-8 length of the JSON, and a comma: %s', (_name, message) => {
    const d = { ...doc(message), fields: { n: 1.5, list: [true, null, 'é'] } };
    expect(answerBytes(d)).toBe(Buffer.from(JSON.stringify(d), 'utf8').length + 1);
  });

  it('makes an array of documents the sum of theirs, plus the brackets', () => {
    const docs = [doc('a'), doc('Café'), doc('"quoted"')];
    const sum = docs.reduce((n, d) => n + answerBytes(d), 0);
    // n documents, n - 1 commas, 2 brackets: the sum counts n commas.
    expect(Buffer.byteLength(JSON.stringify(docs))).toBe(sum + 1);
  });
});

describe('Answer', () => {
  it('takes events until the next one would pass the byte budget, and points after the last taken', () => {
    const { answer, result } = fill(100, 1000, [400, 400, 201, 100]);
    expect(answer.events).toHaveLength(2);
    expect(answer.bytes).toBe(800);
    expect(result).toMatchObject({ nextCursor: 'after-1', cutBy: 'max_bytes' });
  });

  it('takes an event that fills the budget exactly', () => {
    const { result } = fill(100, 1000, [400, 600]);
    expect(result).toMatchObject({ nextCursor: null });
    expect(result.events).toHaveLength(2);
    expect(result.cutBy).toBeUndefined();
  });

  it('always takes the first event, even one larger than the budget, and only that one', () => {
    const { result } = fill(100, 1000, [5000, 100]);
    expect(result.events).toHaveLength(1);
    expect(result).toMatchObject({ nextCursor: 'after-0', cutBy: 'max_bytes' });
    expect(fill(100, 1000, [5000]).result).toEqual({
      events: [docOf(5000)],
      eventsJson: [JSON.stringify(docOf(5000))],
      nextCursor: null,
    });
  });

  it('stops at limit without building the document of the event that does not fit', () => {
    const { answer, built, result } = fill(2, 1_000_000, [100, 100, 100, 100]);
    expect(answer.events).toHaveLength(2);
    expect(built).toBe(2);
    expect(result).toMatchObject({ nextCursor: 'after-1', cutBy: 'limit' });
  });

  it('has no cursor when the matches ran out first, and refuses everything once full', () => {
    expect(fill(3, 1000, [100, 100]).result).toEqual({
      events: [docOf(100), docOf(100)],
      eventsJson: [JSON.stringify(docOf(100)), JSON.stringify(docOf(100))],
      nextCursor: null,
    });
    expect(fill(3, 1000, []).result).toEqual({ events: [], eventsJson: [], nextCursor: null });
    const a = new Answer<number>(1, 1000);
    expect(a.offer(0, () => docOf(100))).toBe(true);
    expect(a.full).toBe(false);
    expect(a.offer(1, () => docOf(100))).toBe(false);
    expect(a.full).toBe(true);
    expect(a.offer(2, () => docOf(100))).toBe(false);
    expect(a.result(String)).toMatchObject({ nextCursor: '0', cutBy: 'limit' });
  });
});

describe('searchBounds: the byte budget of a request', () => {
  const req = { query: { type: 'all' } as const, limit: 10, order: 'desc' as const };

  it('is the server budget by default, and can only be lowered', () => {
    expect(MAX_ANSWER_BYTES).toBe(8 * 1024 * 1024);
    expect(searchBounds(req).maxBytes).toBe(MAX_ANSWER_BYTES);
    expect(searchBounds({ ...req, maxBytes: 1 }).maxBytes).toBe(1);
    expect(searchBounds({ ...req, maxBytes: 65536 }).maxBytes).toBe(65536);
    expect(searchBounds({ ...req, maxBytes: 10 * MAX_ANSWER_BYTES }).maxBytes).toBe(MAX_ANSWER_BYTES);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxBytes %s', (maxBytes) => {
    expect(() => searchBounds({ ...req, maxBytes })).toThrow(RangeError);
  });
});

describe('Elasticsearch request sizes', () => {
  const MiB = 1024 * 1024;

  it('asks first for limit + 1 when events of the assumed size would fit', () => {
    expect(chunkSize(100, 8 * MiB, 0, 0)).toBe(101);
    expect(chunkSize(1, 8 * MiB, 0, 0)).toBe(2);
  });

  it('asks first for what fits at the assumed size, and never above the result window', () => {
    expect(chunkSize(10_000, 8 * MiB, 0, 0)).toBe((8 * MiB) / ASSUMED_EVENT_BYTES + 1);
    expect(chunkSize(10_000, 10 * ASSUMED_EVENT_BYTES, 0, 0)).toBe(11);
    expect(chunkSize(10_000, 1, 0, 0)).toBe(2);
    expect(chunkSize(10_000, 1000 * MiB, 0, 0)).toBe(MAX_RESULT_WINDOW);
  });

  it('then sizes by the average of the events taken, for what is left', () => {
    // 10 events of 100 KiB taken (1000 KiB): 7192 KiB left is 72 more at that size, and one.
    expect(chunkSize(10_000, 8 * MiB, 10, 1000 * 1024)).toBe(73);
    // Small events: what is left of limit, and one to learn whether more exist.
    expect(chunkSize(10_000, 8 * MiB, 2049, 2049 * 500)).toBe(10_000 - 2049 + 1);
    expect(chunkSize(100, 8 * MiB, 100, 100 * 500)).toBe(1);
  });

  it('asks for one when the budget is spent or passed (the first event was larger than it)', () => {
    expect(chunkSize(100, MiB, 1, 3 * MiB)).toBe(1);
    expect(chunkSize(100, MiB, 4, MiB)).toBe(1);
  });

  it('caps a response at twice the budget plus the hits’ metadata, and retries with a quarter', () => {
    expect(responseCap(8 * MiB, 101)).toBe(16 * MiB + 101 * 1024);
    expect([101, 25, 6, 1].map(smallerChunk)).toEqual([25, 6, 1, 1]);
  });
});
