import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  keyOfSortValues,
} from '../../src/sinks/elasticsearch/cursor.js';

describe('Elasticsearch search cursors', () => {
  it('round-trip the sort key of the last event', () => {
    const key = { ts: '2024-05-01T12:00:01.123456789Z', id: 'dk1a2b-7' };
    const c = encodeCursor(key);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/); // URL-safe, no padding
    expect(decodeCursor(c)).toEqual(key);
  });

  it.each([
    ['garbage', 'not base64 json'],
    ['empty', ''],
    [
      'an embedded-store cursor',
      Buffer.from(JSON.stringify([1, '2024-05-01T12:00:01.000000000Z', 'default', 7])).toString('base64url'),
    ],
    [
      'another format',
      Buffer.from(JSON.stringify(['es2', '2024-05-01T12:00:01.000000000Z', 'a'])).toString('base64url'),
    ],
    [
      'a short timestamp',
      Buffer.from(JSON.stringify(['es1', '2024-05-01T12:00:01Z', 'a'])).toString('base64url'),
    ],
    [
      'an invalid date',
      Buffer.from(JSON.stringify(['es1', '2024-02-30T12:00:01.000000000Z', 'a'])).toString('base64url'),
    ],
    [
      'an empty id',
      Buffer.from(JSON.stringify(['es1', '2024-05-01T12:00:01.000000000Z', ''])).toString('base64url'),
    ],
    [
      'a numeric id',
      Buffer.from(JSON.stringify(['es1', '2024-05-01T12:00:01.000000000Z', 5])).toString('base64url'),
    ],
    [
      'an over-long id',
      Buffer.from(JSON.stringify(['es1', '2024-05-01T12:00:01.000000000Z', 'x'.repeat(513)])).toString(
        'base64url',
      ),
    ],
    ['an object', Buffer.from('{"ts":"x"}').toString('base64url')],
    [
      'a time date_nanos cannot hold',
      Buffer.from(JSON.stringify(['es1', '1969-12-31T23:59:59.999999999Z', 'a'])).toString('base64url'),
    ],
  ])('%s is an InvalidCursorError (400 at the API, by its name)', (_, cursor) => {
    let err: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidCursorError);
    expect((err as Error).name).toBe('InvalidCursorError');
    expect((err as InvalidCursorError).code).toBe('LOGWHARF_ERR_QUERY');
    expect((err as Error).message).toMatch(/invalid cursor.*next_cursor/);
  });

  it('keys are canonical whatever precision Elasticsearch prints the sort date with', () => {
    expect(keyOfSortValues(['2024-05-01T12:00:02.000Z', 'b'])).toEqual({
      ts: '2024-05-01T12:00:02.000000000Z',
      id: 'b',
    });
    expect(keyOfSortValues(['2024-05-01T12:00:01.123456789Z', 'a'])).toEqual({
      ts: '2024-05-01T12:00:01.123456789Z',
      id: 'a',
    });
    expect(() => keyOfSortValues([1714564802000, 'b'])).toThrow(/sort values/);
    expect(() => keyOfSortValues(undefined)).toThrow(/sort values/);
  });
});
