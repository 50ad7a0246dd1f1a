import { describe, expect, it } from 'vitest';
import { dockerEventId, sinceParam } from '../../src/sources/docker/since.js';

describe('resuming from a position', () => {
  it('keeps the nanoseconds and steps back the resume margin', () => {
    // 2024-05-01T12:00:00Z is 1714564800
    expect(sinceParam('2024-05-01T12:00:00.123456789Z', 1)).toBe('1714564799.123456789');
    expect(sinceParam('2024-05-01T12:00:00.000000001Z', 0)).toBe('1714564800.000000001');
  });

  it('never asks for a negative time', () => {
    expect(sinceParam('1970-01-01T00:00:00.500000000Z', 1)).toBe('0.500000000');
  });
});

describe('event ids of container lines', () => {
  it('are made of the short container id, the timestamp and the index within it', () => {
    const id = dockerEventId('0123456789abcdef0123', '2024-05-01T12:00:00.123456789Z', 2);
    expect(id).toBe('0123456789ab-20240501120000123456789-2');
  });

  it('differ for lines that share a timestamp and repeat for a replayed line', () => {
    const ts = '2024-05-01T12:00:00.123456789Z';
    expect(dockerEventId('c', ts, 0)).not.toBe(dockerEventId('c', ts, 1));
    expect(dockerEventId('c', ts, 1)).toBe(dockerEventId('c', ts, 1));
  });
});
