import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/sources/docker/recent-ids.js';

describe('the ids a follower remembers from its resume margin', () => {
  it('remembers ids until their timestamps fall before the cut-off', () => {
    const r = new RecentIds();
    r.add('a', '2024-01-01T00:00:01.000000000Z');
    r.add('b', '2024-01-01T00:00:02.000000000Z');
    r.add('c', '2024-01-01T00:00:03.000000000Z');
    r.forgetBefore('2024-01-01T00:00:02.000000000Z', 100);
    expect([r.has('a'), r.has('b'), r.has('c')]).toEqual([false, true, true]);
    expect(r.size).toBe(2);
  });

  it('forgets in read order, so a slightly older line read later is kept with its neighbours', () => {
    const r = new RecentIds();
    r.add('late', '2024-01-01T00:00:05.000000000Z');
    r.add('reordered', '2024-01-01T00:00:01.000000000Z');
    r.forgetBefore('2024-01-01T00:00:02.000000000Z', 100);
    expect(r.has('late')).toBe(true);
    expect(r.has('reordered')).toBe(true);
  });

  it('keeps at most max ids, dropping the oldest, and stays consistent across compaction', () => {
    const r = new RecentIds();
    for (let i = 0; i < 20_000; i++) r.add(`id${i}`, '2024-01-01T00:00:00.000000000Z');
    r.forgetBefore('2000-01-01T00:00:00.000000000Z', 5000);
    expect(r.size).toBe(5000);
    expect(r.has('id14999')).toBe(false);
    expect(r.has('id15000')).toBe(true);
    r.add('next', '2024-01-01T00:00:00.000000000Z');
    r.forgetBefore('2024-01-01T00:00:00.000000001Z', 5000);
    expect(r.size).toBe(0);
  });
});
