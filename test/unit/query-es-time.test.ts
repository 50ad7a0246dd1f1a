import { describe, expect, it } from 'vitest';
import { canonicalFromMillis } from '../../src/core/timestamp.js';
import {
  DATE_NANOS_MAX,
  DATE_NANOS_MIN,
  type DateRange,
  timestampCeiling,
  timestampComparison,
  timeWindow,
} from '../../src/query/es-time.js';

/**
 * Timestamp comparisons for date_nanos: the embedded store compares canonical timestamps as
 * text, so `@timestamp>=2024-05-01` is "from that day on"; here the same text comparison has to
 * become a range of instants.
 */

describe('timestampCeiling: the smallest canonical timestamp >= s as text', () => {
  it.each<[string, string | null]>([
    ['', '0000-01-01T00:00:00.000000000Z'],
    ['2024', '2024-01-01T00:00:00.000000000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000000000Z'],
    ['2024-05-01T12:00:0', '2024-05-01T12:00:00.000000000Z'],
    ['2024-1', '2024-10-01T00:00:00.000000000Z'],
    ['2024-0', '2024-01-01T00:00:00.000000000Z'],
    ['2024-13', '2025-01-01T00:00:00.000000000Z'],
    ['2024-02-30', '2024-03-01T00:00:00.000000000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000000000Z'],
    ['2023-02-29', '2023-03-01T00:00:00.000000000Z'],
    ['2024-04-31', '2024-05-01T00:00:00.000000000Z'],
    ['2024-12-32', '2025-01-01T00:00:00.000000000Z'],
    ['2024-05-01T24', '2024-05-02T00:00:00.000000000Z'],
    ['2024-05-01T23:60', '2024-05-02T00:00:00.000000000Z'],
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:01.000000000Z'], // 'Z' sorts after '.'
    ['2024-05-01T12:00:00.5Z', '2024-05-01T12:00:00.600000000Z'],
    ['2024-05-01 12:00', '2024-05-01T00:00:00.000000000Z'], // ' ' sorts before 'T'
    ['2024-05-01t12', '2024-05-02T00:00:00.000000000Z'], // 't' sorts after 'T'
    ['2024-05-01T12:00:01.000000000Z', '2024-05-01T12:00:01.000000000Z'],
    ['2024-05-01T12:00:01.000000000Z\0', '2024-05-01T12:00:01.000000001Z'],
    ['2024-05-01T12:00:01.999999999Z\0', '2024-05-01T12:00:02.000000000Z'],
    ['2024-12-31T23:59:59.999999999Z\0', '2025-01-01T00:00:00.000000000Z'],
    ['1', '1000-01-01T00:00:00.000000000Z'],
    ['9999-12-31T23:59:59.999999999Z', '9999-12-31T23:59:59.999999999Z'],
    ['9999-12-31T23:59:59.999999999Z\0', null],
    ['a', null],
    ['~', null],
    ['-', '0000-01-01T00:00:00.000000000Z'],
    ['\uffff', null],
  ])('%j -> %s', (s, expected) => {
    expect(timestampCeiling(s)).toBe(expected);
  });

  it('agrees with text comparison on random timestamps and strings near them', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = '0123456789-T:.Z tz\0a~';
    const wrong: string[] = [];
    for (let n = 0; n < 3000; n++) {
      const t = canonicalFromMillis(Math.floor(random() * 4e12), Math.floor(random() * 1e6));
      // s: t cut, with one character changed, and maybe more characters after.
      const other = canonicalFromMillis(Math.floor(random() * 4e12));
      let s = random() < 0.3 ? other : t;
      s = s.slice(0, Math.floor(random() * 31));
      if (random() < 0.7 && s.length > 0) {
        const at = Math.floor(random() * s.length);
        s = s.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + s.slice(at + 1);
      }
      if (random() < 0.2) s += alphabet[Math.floor(random() * alphabet.length)];
      const ceil = timestampCeiling(s);
      if (ceil !== null && (ceil < s || timestampCeiling(ceil) !== ceil)) wrong.push(`ceil(${s}) = ${ceil}`);
      const viaCeil = ceil !== null && t >= ceil;
      if (viaCeil !== t >= s) wrong.push(`${t} >= ${JSON.stringify(s)}: ceil ${ceil}`);
    }
    expect(wrong).toEqual([]);
  });
});

/** Whether a canonical timestamp t falls in a DateRange. */
function inRange(t: string, r: DateRange): boolean {
  if (r.kind === 'all') return true;
  if (r.kind === 'none') return false;
  return (
    (r.gte === undefined || t >= r.gte) &&
    (r.lt === undefined || t < r.lt) &&
    (r.lte === undefined || t <= r.lte)
  );
}

describe('timestampComparison: every operator means what it means on text', () => {
  const TS = [
    '2024-05-01T00:00:00.000000000Z',
    '2024-05-01T12:00:00.000000000Z',
    '2024-05-01T12:00:00.000000001Z',
    '2024-05-01T12:00:09.999999999Z',
    '2024-05-01T12:00:10.000000000Z',
    '2024-05-01T23:59:59.999999999Z',
    '2024-05-02T00:00:00.000000000Z',
    '2024-04-30T23:59:59.999999999Z',
    '2024-12-31T23:59:59.999999999Z',
    '2025-01-01T00:00:00.000000000Z',
    '1970-01-01T00:00:00.000000000Z',
    '2262-04-11T23:47:16.854775807Z',
  ];
  const VALUES = [
    '',
    '2024',
    '2024-05',
    '2024-05-01',
    '2024-05-01T12',
    '2024-05-01T12:00:0',
    '2024-05-01T12:00:00.000000000Z',
    '2024-05-01T12:00:00Z',
    '2024-13',
    '2024-05-01 12',
    'x',
    '1970',
    '2262-04-11T23:47:16.854775807Z',
  ];
  const OPS = ['eq', 'prefix', 'lt', 'lte', 'gt', 'gte'] as const;

  function byText(t: string, op: (typeof OPS)[number], v: string): boolean {
    switch (op) {
      case 'eq':
        return t === v;
      case 'prefix':
        return t.startsWith(v);
      case 'lt':
        return t < v;
      case 'lte':
        return t <= v;
      case 'gt':
        return t > v;
      case 'gte':
        return t >= v;
    }
  }

  it('for every operator, value and stored timestamp', () => {
    const wrong: string[] = [];
    for (const op of OPS) {
      for (const v of VALUES) {
        const r = timestampComparison(op, v);
        for (const t of TS) {
          if (inRange(t, r) !== byText(t, op, v))
            wrong.push(`${t} ${op} ${JSON.stringify(v)}: ${JSON.stringify(r)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('never sends a bound date_nanos cannot hold', () => {
    for (const op of OPS) {
      for (const v of [...VALUES, '0000', '1969-12-31T23:59:59.999999999Z', '2263', '9999']) {
        const r = timestampComparison(op, v);
        if (r.kind !== 'range') continue;
        for (const b of [r.gte, r.lt, r.lte]) {
          if (b === undefined) continue;
          expect(b >= DATE_NANOS_MIN && b <= DATE_NANOS_MAX, `${op} ${v}: ${b}`).toBe(true);
        }
      }
    }
  });
});

describe('timeWindow: the search window from..to', () => {
  it('is a range, open where a bound is missing or outside date_nanos', () => {
    const a = '2024-05-01T00:00:00.000000000Z';
    const b = '2024-05-02T00:00:00.000000000Z';
    expect(timeWindow(a, b)).toEqual({ kind: 'range', gte: a, lt: b });
    expect(timeWindow(a, undefined)).toEqual({ kind: 'range', gte: a });
    expect(timeWindow(undefined, b)).toEqual({ kind: 'range', lt: b });
    expect(timeWindow(undefined, undefined)).toEqual({ kind: 'all' });
    expect(timeWindow('0001-01-01T00:00:00.000000000Z', '9999-01-01T00:00:00.000000000Z')).toEqual({
      kind: 'all',
    });
  });

  it('is nothing when empty or entirely outside date_nanos', () => {
    const a = '2024-05-01T00:00:00.000000000Z';
    expect(timeWindow(a, a)).toEqual({ kind: 'none' });
    expect(timeWindow('2024-05-02T00:00:00.000000000Z', a)).toEqual({ kind: 'none' });
    expect(timeWindow(undefined, '1969-01-01T00:00:00.000000000Z')).toEqual({ kind: 'none' });
    expect(timeWindow('2300-01-01T00:00:00.000000000Z', undefined)).toEqual({ kind: 'none' });
  });
});
