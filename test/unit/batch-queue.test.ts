import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../src/buffer/batch-queue.js';
import type { LogEvent } from '../../src/core/event.js';
import { EVENT_OVERHEAD_BYTES, eventBytes } from '../../src/pipeline/event-bytes.js';

/** Items are their own weight. */
function queue(...chunks: number[][]): BatchQueue<number> {
  const q = new BatchQueue<number>((n) => n);
  for (const c of chunks) q.push(c);
  return q;
}

describe('BatchQueue', () => {
  it.each([
    // chunks, max, maxBytes, taken, left (size, bytes)
    [[[1, 2, 3]], 10, Infinity, [1, 2, 3], [0, 0]],
    [[[1, 2, 3]], 2, Infinity, [1, 2], [1, 3]],
    [
      [
        [1, 2],
        [3, 4],
      ],
      3,
      Infinity,
      [1, 2, 3],
      [1, 4],
    ],
    [[[1, 2, 3]], 10, 3, [1, 2], [1, 3]],
    [[[1, 2, 3]], 10, 2, [1], [2, 5]],
    [[[5, 1]], 10, 3, [5], [1, 1]], // heavier than maxBytes alone: taken alone
    [[[1], [5, 1]], 10, 3, [1], [2, 6]], // ...but not added to a batch that has items
    [
      [
        [2, 2],
        [2, 2],
      ],
      10,
      6,
      [2, 2, 2],
      [1, 2],
    ],
    [
      [
        [1, 1],
        [1, 1],
      ],
      10,
      4,
      [1, 1, 1, 1],
      [0, 0],
    ],
    [
      [
        [1, 1],
        [1, 1],
      ],
      4,
      2,
      [1, 1],
      [2, 2],
    ],
    [[], 10, 10, [], [0, 0]],
  ])('%j take(%d, %d) = %j, leaving %j', (chunks, max, maxBytes, taken, [size, bytes]) => {
    const q = queue(...chunks);
    expect(q.take(max, maxBytes)).toEqual(taken);
    expect([q.size, q.bytes]).toEqual([size, bytes]);
  });

  it('keeps order and counts across many pushes and takes of every size', () => {
    const q = new BatchQueue<number>(() => 3);
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 200; round++) {
      q.push(Array.from({ length: round % 7 }, () => next++));
      out.push(...q.take((round % 5) + 1, 3 * ((round % 4) + 1)));
      expect(q.bytes).toBe(3 * q.size);
    }
    while (q.size > 0) out.push(...q.take(4, 12));
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.bytes).toBe(0);
  });
});

describe('eventBytes', () => {
  const base: LogEvent = {
    timestamp: '2026-11-27T10:00:00.000000000Z',
    id: 'x',
    dataset: 'docker',
    ingested: '2026-11-27T10:00:00.000000000Z',
    message: 'hello',
    severity: 6,
    facility: 3,
    host: 'h',
  };

  it.each([
    ['a message', {}, 2 * 5],
    ['a message and the raw line it came from', { original: '{"msg":"hello"}' }, 2 * (5 + 15)],
    [
      'fields parsed out of the raw line count the line once more',
      { original: '{"msg":"hello"}', fields: { a: 1 } },
      2 * (5 + 15 + 15),
    ],
    [
      'fields parsed out of the message (logfmt)',
      { message: 'a=1 b=2', fields: { a: 1, b: 2 } },
      2 * (7 + 7),
    ],
    [
      'syslog structured data',
      { original: '<13>1 - - - - - [x a="1"] hello', syslog: { structuredData: { x: { a: '1' } } } },
      2 * (5 + 31 + 31),
    ],
    ['two bytes per UTF-16 unit, whatever the characters', { message: 'ünïcødé 😀' }, 2 * 10],
  ])('counts %s', (_what, over, text) => {
    expect(eventBytes({ ...base, ...over } as LogEvent)).toBe(EVENT_OVERHEAD_BYTES + text);
  });
});
