import { describe, expect, it } from 'vitest';
import { dockerEventId, marginBefore, sinceParam } from '../../src/sources/docker/since.js';

describe('resuming from a position', () => {
  it('keeps the nanoseconds and steps back the resume margin', () => {
    // 2024-05-01T12:00:00Z is 1714564800
    expect(sinceParam('2024-05-01T12:00:00.123456789Z', 0)).toBe('1714564800.123456789');
    expect(sinceParam('2024-05-01T12:00:00.123456789Z', 100)).toBe('1714564800.023456789');
    expect(sinceParam('2024-05-01T12:00:00.123456789Z', 250)).toBe('1714564799.873456789');
    expect(sinceParam('2024-05-01T12:00:00.000000001Z', 1000)).toBe('1714564799.000000001');
  });

  it('never asks for a negative time', () => {
    expect(sinceParam('1970-01-01T00:00:00.100000000Z', 250)).toBe('0.000000000');
  });

  it('gives the start of the margin as a canonical timestamp', () => {
    expect(marginBefore('2024-05-01T12:00:00.123456789Z', 250)).toBe('2024-05-01T11:59:59.873456789Z');
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
