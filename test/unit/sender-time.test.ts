import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import { addMillis } from '../../src/core/timestamp.js';
import {
  CLOCK_SKEW_FLAG,
  judgeSenderTime,
  newSenderTimeCounters,
  type SenderTimeWindow,
  senderTimeStep,
  windowBounds,
} from '../../src/transforms/sender-time.js';

/** The sender-clock window: a sender's own time is believed within [receive - 7d, receive + 1d]. */

const DAY = 86_400_000;
const DEFAULT: SenderTimeWindow = { maxAgeMs: 7 * DAY, maxAheadMs: DAY };

const judge = (claimed: string, received: string, w: SenderTimeWindow = DEFAULT) =>
  judgeSenderTime(claimed, windowBounds(received, w));

describe('addMillis', () => {
  it.each([
    ['2024-05-01T12:00:00.123456789Z', 1, '2024-05-01T12:00:00.124456789Z'],
    ['2024-05-01T12:00:00.999456789Z', 1, '2024-05-01T12:00:01.000456789Z'],
    ['2024-05-01T12:00:00.000000001Z', -1, '2024-05-01T11:59:59.999000001Z'],
    ['2024-03-07T00:00:00.000000000Z', -7 * DAY, '2024-02-29T00:00:00.000000000Z'], // a leap day
    ['2023-03-07T00:00:00.000000000Z', -7 * DAY, '2023-02-28T00:00:00.000000000Z'],
    ['2024-12-31T23:59:59.999999999Z', DAY, '2025-01-01T23:59:59.999999999Z'],
    ['1970-01-01T00:00:00.000000000Z', -1, '1969-12-31T23:59:59.999000000Z'],
    ['0000-01-08T00:00:00.000000000Z', -7 * DAY, '0000-01-01T00:00:00.000000000Z'],
    ['9999-12-30T23:59:59.999999999Z', DAY, '9999-12-31T23:59:59.999999999Z'],
    ['2024-05-01T12:00:00.5Z', 0, null], // not canonical
    ['0000-01-01T00:00:00.000000000Z', -1, null], // before year 0000
    ['9999-12-31T23:59:59.999000000Z', 1, null], // after year 9999
  ])('%s %s ms -> %s', (ts, delta, expected) => {
    expect(addMillis(ts, delta)).toBe(expected);
  });

  it('refuses a delta that is not a whole number of milliseconds', () => {
    expect(addMillis('2024-05-01T12:00:00.000000000Z', 0.5)).toBeNull();
    expect(addMillis('2024-05-01T12:00:00.000000000Z', Number.NaN)).toBeNull();
  });
});

describe('judgeSenderTime', () => {
  const received = '2026-11-27T02:00:00.000000500Z';

  it('believes a time inside the window, both edges included, to the nanosecond', () => {
    expect(judge(received, received)).toBe('kept');
    expect(judge('2026-11-20T02:00:00.000000500Z', received)).toBe('kept'); // exactly 7 days before
    expect(judge('2026-11-28T02:00:00.000000500Z', received)).toBe('kept'); // exactly 1 day after
    expect(judge('2026-11-20T02:00:00.000000499Z', received)).toBe('past'); // 1 ns older
    expect(judge('2026-11-28T02:00:00.000000501Z', received)).toBe('future'); // 1 ns later
    expect(judge('2026-11-26T12:34:56.000000000Z', received)).toBe('kept');
  });

  it('replaces years far off, up to the ends of what a timestamp can spell', () => {
    expect(judge('0000-01-01T00:00:00.000000000Z', received)).toBe('past');
    expect(judge('1970-01-01T00:00:00.000000000Z', received)).toBe('past');
    expect(judge('1999-12-31T23:59:59.000000000Z', received)).toBe('past');
    expect(judge('2027-01-01T00:00:00.000000000Z', received)).toBe('future');
    expect(judge('9999-12-31T23:59:59.999999999Z', received)).toBe('future');
  });

  it('counts a window across a leap day in real days', () => {
    // 2024-03-06 minus 7 days is 2024-02-28: the 29th is inside, the 28th before noon is not.
    const march = '2024-03-06T12:00:00.000000000Z';
    expect(judge('2024-02-29T00:00:00.000000000Z', march)).toBe('kept');
    expect(judge('2024-02-28T12:00:00.000000000Z', march)).toBe('kept');
    expect(judge('2024-02-28T11:59:59.999999999Z', march)).toBe('past');
    // In 2023 the same date minus 7 days is 2023-02-27.
    expect(judge('2023-02-27T12:00:00.000000000Z', '2023-03-06T12:00:00.000000000Z')).toBe('kept');
    // A claim of Feb 29 received on Feb 29: inside.
    expect(judge('2024-02-29T23:00:00.000000000Z', '2024-02-29T22:00:00.000000000Z')).toBe('kept');
  });

  it('has no edge where the window runs past year 0000 or 9999', () => {
    expect(windowBounds('0000-01-02T00:00:00.000000000Z', DEFAULT).lower).toBeUndefined();
    expect(judge('0000-01-01T00:00:00.000000000Z', '0000-01-02T00:00:00.000000000Z')).toBe('kept');
    expect(windowBounds('9999-12-31T12:00:00.000000000Z', DEFAULT).upper).toBeUndefined();
    expect(judge('9999-12-31T23:59:59.999999999Z', '9999-12-31T12:00:00.000000000Z')).toBe('kept');
    expect(judge('0000-01-01T00:00:00.000000000Z', '9999-12-31T12:00:00.000000000Z')).toBe('past');
    expect(judge('9999-12-31T23:59:59.999999999Z', '0000-01-02T00:00:00.000000000Z')).toBe('future');
  });

  it('takes other windows, a zero one included', () => {
    const zero = { maxAgeMs: 0, maxAheadMs: 0 };
    const r = '2026-11-27T02:00:00.000000000Z';
    expect(judge(r, r, zero)).toBe('kept');
    expect(judge('2026-11-27T01:59:59.999999999Z', r, zero)).toBe('past');
    expect(judge('2026-11-27T02:00:00.000000001Z', r, zero)).toBe('future');
    const hour = { maxAgeMs: 90 * 60_000, maxAheadMs: 60_000 }; // 1h30m back, 1m ahead
    expect(judge('2026-11-27T00:30:00.000000000Z', r, hour)).toBe('kept');
    expect(judge('2026-11-27T00:29:59.999999999Z', r, hour)).toBe('past');
    expect(judge('2026-11-27T02:01:00.000000000Z', r, hour)).toBe('kept');
    expect(judge('2026-11-27T02:01:00.000000001Z', r, hour)).toBe('future');
  });
});

describe('senderTimeStep', () => {
  const received = '2026-11-27T02:00:00.000000000Z';

  function syslogEvent(timestamp: string, over: Partial<LogEvent> = {}): LogEvent {
    return {
      timestamp,
      id: 's1',
      dataset: 'syslog',
      ingested: received,
      message: 'hello',
      severity: 6,
      facility: 1,
      host: 'router',
      ...over,
    };
  }

  it('stores an event claimed outside the window under its receive time, keeping and flagging the claim', () => {
    const counters = newSenderTimeCounters();
    const step = senderTimeStep(DEFAULT, counters);
    const past = syslogEvent('1999-12-31T23:59:59.000000000Z');
    expect(step(past)).toBe('past');
    expect(past).toMatchObject({
      timestamp: received,
      ingested: received,
      senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      flags: [CLOCK_SKEW_FLAG],
    });
    const future = syslogEvent('2999-01-01T00:00:00.000000000Z', { flags: ['truncated'] });
    expect(step(future)).toBe('future');
    expect(future.timestamp).toBe(received);
    expect(future.senderTimestamp).toBe('2999-01-01T00:00:00.000000000Z');
    expect(future.flags).toEqual(['truncated', CLOCK_SKEW_FLAG]);
    expect(counters).toEqual({ syslog: { past: 1, future: 1 } });
  });

  it('leaves an event inside the window as it is', () => {
    const counters = newSenderTimeCounters();
    const e = syslogEvent('2026-11-26T02:00:00.000000000Z');
    const before = structuredClone(e);
    expect(senderTimeStep(DEFAULT, counters)(e)).toBe('kept');
    expect(e).toStrictEqual(before);
    expect(counters).toEqual({ syslog: { past: 0, future: 0 } });
  });

  it("never touches Docker's timestamps: a backlog read at start-up is legitimately old", () => {
    const counters = newSenderTimeCounters();
    const e: LogEvent = { ...syslogEvent('2020-01-01T00:00:00.000000000Z'), dataset: 'docker' };
    expect(senderTimeStep(DEFAULT, counters)(e)).toBe('kept');
    expect(e.timestamp).toBe('2020-01-01T00:00:00.000000000Z');
    expect(e.senderTimestamp).toBeUndefined();
    expect(counters).toEqual({ syslog: { past: 0, future: 0 } });
  });

  it('judges each event against its own receive time', () => {
    const step = senderTimeStep(DEFAULT, newSenderTimeCounters());
    const a = syslogEvent('2026-11-20T00:00:00.000000000Z', { ingested: '2026-11-26T00:00:00.000000000Z' });
    const b = syslogEvent('2026-11-20T00:00:00.000000000Z', { ingested: '2026-11-28T00:00:00.000000000Z' });
    expect(step(a)).toBe('kept');
    expect(step(b)).toBe('past');
    expect(step(syslogEvent('2026-11-20T00:00:00.000000000Z', { ingested: a.ingested }))).toBe('kept');
  });
});
