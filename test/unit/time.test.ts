import { describe, expect, it } from 'vitest';
import { DurationError, parseDuration } from '../../src/core/duration.js';
import { canonicalFromMillis, toCanonicalTimestamp } from '../../src/core/timestamp.js';
import { parseTimeBound, TimeBoundError } from '../../src/query/time.js';

describe('toCanonicalTimestamp', () => {
  it('returns an already-canonical Docker timestamp unchanged (the very same string)', () => {
    const docker = '2024-05-01T12:00:00.123456789Z';
    expect(toCanonicalTimestamp(docker)).toBe(docker);
  });

  it.each([
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000000000Z'],
    ['2024-05-01T12:00:00.1Z', '2024-05-01T12:00:00.100000000Z'],
    ['2024-05-01T12:00:00.123Z', '2024-05-01T12:00:00.123000000Z'],
    ['2024-05-01T12:00:00.123456Z', '2024-05-01T12:00:00.123456000Z'],
    ['2024-05-01T12:00:00.000000001Z', '2024-05-01T12:00:00.000000001Z'],
  ])('pads the fraction of %s to nine digits', (input, expected) => {
    expect(toCanonicalTimestamp(input)).toBe(expected);
  });

  it.each([
    ['2024-05-01T14:00:00.123456789+02:00', '2024-05-01T12:00:00.123456789Z'],
    ['2024-05-01T07:30:00-04:30', '2024-05-01T12:00:00.000000000Z'],
    ['2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00.000000000Z'],
    ['2024-05-01T12:00:00-00:00', '2024-05-01T12:00:00.000000000Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000000000Z'],
    ['2023-12-31T23:30:00-01:00', '2024-01-01T00:30:00.000000000Z'],
    ['2024-03-01T00:00:00+00:01', '2024-02-29T23:59:00.000000000Z'],
  ])('converts %s to UTC, keeping every fraction digit', (input, expected) => {
    expect(toCanonicalTimestamp(input)).toBe(expected);
  });

  it('accepts lowercase t and z, and a space between date and time (RFC 3339 section 5.6)', () => {
    expect(toCanonicalTimestamp('2024-05-01t12:00:00.5z')).toBe('2024-05-01T12:00:00.500000000Z');
    expect(toCanonicalTimestamp('2024-05-01 12:00:00Z')).toBe('2024-05-01T12:00:00.000000000Z');
  });

  it('accepts leap days and the ends of the representable range', () => {
    expect(toCanonicalTimestamp('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000000000Z');
    expect(toCanonicalTimestamp('0000-01-01T00:00:00Z')).toBe('0000-01-01T00:00:00.000000000Z');
    expect(toCanonicalTimestamp('9999-12-31T23:59:59.999999999Z')).toBe('9999-12-31T23:59:59.999999999Z');
    expect(toCanonicalTimestamp('1969-12-31T23:59:59.999999999Z')).toBe('1969-12-31T23:59:59.999999999Z');
  });

  it.each([
    ['', 'empty'],
    ['2024-05-01', 'a date without a time'],
    ['2024-05-01T12:00:00', 'no offset'],
    ['2024-05-01T12:00Z', 'no seconds'],
    ['2024-05-01T12:00:00.Z', 'a dot with no fraction digits'],
    ['2024-05-01T12:00:00.1234567891Z', 'ten fraction digits (precision would be lost)'],
    ['2024-05-01T12:00:00,5Z', 'a comma as decimal mark'],
    ['2024-05-01T12:00:00+0200', 'an offset without a colon'],
    ['2024-05-01T12:00:00+02', 'an offset without minutes'],
    ['2024-05-01T12:00:00+24:00', 'an offset hour of 24'],
    ['2024-05-01T12:00:00Z ', 'trailing text'],
    ['2024-05-01X12:00:00Z', 'a wrong separator'],
    ['2024-13-01T12:00:00Z', 'month 13'],
    ['2024-00-01T12:00:00Z', 'month 0'],
    ['2024-04-31T12:00:00Z', 'April 31'],
    ['2023-02-29T12:00:00Z', 'February 29 in a common year'],
    ['1900-02-29T12:00:00Z', 'February 29 in a century year'],
    ['2024-05-01T24:00:00Z', 'hour 24'],
    ['2024-05-01T12:60:00Z', 'minute 60'],
    ['2024-12-31T23:59:60Z', 'a leap second'],
    ['2024-05-01T12:00:00.12345678xZ', 'a letter in the fraction'],
    ['2024-05-01T12:00:00.123456789Y', 'a canonical-length string with a wrong zone letter'],
    ['0000-01-01T00:00:00+00:01', 'a UTC time before year 0000'],
    ['9999-12-31T23:59:59-00:01', 'a UTC time after year 9999'],
    ['+2024-05-01T12:00:00Z', 'a signed year'],
    ['１２３４-05-01T12:00:00Z', 'non-ASCII digits'],
  ])('rejects %j (%s)', (input) => {
    expect(toCanonicalTimestamp(input)).toBeNull();
  });

  it('orders canonical timestamps as strings the same as in time', () => {
    const stamps = [
      '2024-05-01T12:00:00.5+00:00',
      '2024-05-01T13:59:59.999999999+02:00',
      '2024-05-01T12:00:00.4Z',
    ];
    const canonical = stamps.map((s) => toCanonicalTimestamp(s) ?? '');
    expect([...canonical].sort()).toEqual([canonical[1], canonical[2], canonical[0]]);
  });
});

describe('canonicalFromMillis', () => {
  it('formats epoch milliseconds with nine fraction digits', () => {
    expect(canonicalFromMillis(0)).toBe('1970-01-01T00:00:00.000000000Z');
    expect(canonicalFromMillis(Date.UTC(2024, 4, 1, 12, 0, 0, 123))).toBe('2024-05-01T12:00:00.123000000Z');
  });

  it('adds nanoseconds beyond the millisecond', () => {
    expect(canonicalFromMillis(Date.UTC(2024, 4, 1, 12, 0, 0, 123), 456_789)).toBe(
      '2024-05-01T12:00:00.123456789Z',
    );
  });

  it('carries extra nanoseconds of a millisecond or more into the milliseconds', () => {
    expect(canonicalFromMillis(0, 1_500_000)).toBe('1970-01-01T00:00:00.001500000Z');
    expect(canonicalFromMillis(0, -1)).toBe('1969-12-31T23:59:59.999999999Z');
  });

  it('keeps the sub-millisecond part of a fractional millisecond time', () => {
    expect(canonicalFromMillis(1.5)).toBe('1970-01-01T00:00:00.001500000Z');
  });

  it('formats times before 1970 and around leap days', () => {
    expect(canonicalFromMillis(-1)).toBe('1969-12-31T23:59:59.999000000Z');
    expect(canonicalFromMillis(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe(
      '2024-02-29T23:59:59.999000000Z',
    );
    expect(canonicalFromMillis(Date.UTC(2000, 0, 1))).toBe('2000-01-01T00:00:00.000000000Z');
  });

  it('agrees with Date#toISOString to the millisecond across the years 0000..9999', () => {
    // Built from strings: Date.UTC would map the year 0 to 1900.
    const start = new Date('0000-01-01T00:00:00Z').getTime();
    const end = new Date('9999-12-31T23:59:59.999Z').getTime();
    const steps = 2000;
    for (let i = 0; i <= steps; i++) {
      const ms = Math.floor(start + ((end - start) * i) / steps) + (i % 1000);
      if (ms > end) continue;
      const iso = new Date(ms).toISOString();
      expect(canonicalFromMillis(ms)).toBe(`${iso.slice(0, 23)}000000Z`);
    }
  });

  it('refuses times it cannot spell', () => {
    expect(() => canonicalFromMillis(Number.NaN)).toThrow(RangeError);
    expect(() => canonicalFromMillis(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => canonicalFromMillis(new Date('0000-01-01T00:00:00Z').getTime() - 1)).toThrow(RangeError);
    expect(() => canonicalFromMillis(new Date('9999-12-31T23:59:59.999Z').getTime() + 1)).toThrow(RangeError);
    expect(() => canonicalFromMillis(0, 0.5)).toThrow(RangeError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['14d', 1_209_600_000],
    ['1w', 604_800_000],
    ['0s', 0],
    ['007m', 420_000],
    ['1h30m', 5_400_000],
    ['2d12h', 216_000_000],
    ['1m30s500ms', 90_500],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['30m1h', 5_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '15',
    'm',
    '15M',
    '1y',
    '-1h',
    '+1h',
    '1h 30m',
    '1h30',
    'h30m',
    '1.h',
    '.5h',
    ' 15m',
    '15 m',
    '1mo',
    '99999999999999999999d',
  ])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
  });

  it('says what a duration looks like', () => {
    expect(() => parseDuration('1y')).toThrow(
      "invalid duration '1y': expected a number and a unit (ms, s, m, h, d or w), or several in a row (e.g. 500ms, 15m, 14d, 1h30m)",
    );
  });
});

describe('parseTimeBound', () => {
  const now = new Date('2024-05-01T12:00:00.250Z');

  it("reads 'now' as the given now", () => {
    expect(parseTimeBound('now', now)).toBe('2024-05-01T12:00:00.250000000Z');
  });

  it.each([
    ['500ms', '2024-05-01T11:59:59.750000000Z'],
    ['30s', '2024-05-01T11:59:30.250000000Z'],
    ['15m', '2024-05-01T11:45:00.250000000Z'],
    ['2h', '2024-05-01T10:00:00.250000000Z'],
    ['7d', '2024-04-24T12:00:00.250000000Z'],
    ['1w', '2024-04-24T12:00:00.250000000Z'],
    ['0s', '2024-05-01T12:00:00.250000000Z'],
    ['1h30m', '2024-05-01T10:30:00.250000000Z'],
  ])('reads the span %s as that long before now', (span, expected) => {
    expect(parseTimeBound(span, now)).toBe(expected);
  });

  it('reads RFC 3339 with any offset, keeping nanoseconds', () => {
    expect(parseTimeBound('2024-05-01T14:00:00.123456789+02:00', now)).toBe('2024-05-01T12:00:00.123456789Z');
    expect(parseTimeBound('2024-05-01T12:00:00Z', now)).toBe('2024-05-01T12:00:00.000000000Z');
  });

  it('ignores whitespace around the value (as pasted into a URL or a shell)', () => {
    expect(parseTimeBound(' 15m ', now)).toBe('2024-05-01T11:45:00.250000000Z');
    expect(parseTimeBound('\t2024-05-01T12:00:00Z\n', now)).toBe('2024-05-01T12:00:00.000000000Z');
  });

  it.each([
    '',
    'yesterday',
    'NOW',
    'now-15m',
    '15',
    '1y',
    '-15m',
    '2024-05-01',
    '2024-05-01T12:00:00',
    '1714564800',
  ])('rejects %j with a TimeBoundError', (value) => {
    expect(() => parseTimeBound(value, now)).toThrow(TimeBoundError);
  });

  it('rejects a span that reaches before year 0000', () => {
    expect(() => parseTimeBound('999999999w', now)).toThrow(TimeBoundError);
  });

  it('says which forms are accepted', () => {
    expect(() => parseTimeBound('yesterday', now)).toThrow(
      "invalid time 'yesterday': expected an RFC 3339 timestamp (2024-05-01T12:00:00Z, " +
        "2024-05-01T14:00:00.123+02:00), a span back from now (500ms, 30s, 15m, 2h, 7d, 1w, 1h30m) or 'now'",
    );
  });
});
