import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { orAbort, resolvesWithin, sleep } from '../../src/core/wait.js';

/** Waits a stop can cut short, leaving nothing behind on a long-lived signal. */

describe('orAbort', () => {
  it('gives the value, and leaves no listener on the signal however often it is used', async () => {
    const signal = new AbortController().signal;
    for (let i = 0; i < 1000; i++) expect(await orAbort(Promise.resolve(i), signal)).toBe(i);
    await expect(orAbort(Promise.reject(new Error('x')), signal)).rejects.toThrow('x');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('answers null once the signal aborts, and at once when it already has', async () => {
    const c = new AbortController();
    const waiting = orAbort(new Promise(() => {}), c.signal);
    c.abort();
    expect(await waiting).toBeNull();
    expect(await orAbort(new Promise(() => {}), c.signal)).toBeNull();
  });
});

describe('sleep', () => {
  it('ends early on abort, and removes its listener when it ends by itself', async () => {
    const c = new AbortController();
    await sleep(1, c.signal);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
    const long = sleep(60_000, c.signal);
    c.abort();
    await long;
  });
});

describe('resolvesWithin', () => {
  it('says whether the promise resolved in time, and passes a rejection on', async () => {
    expect(await resolvesWithin(Promise.resolve(), 1000)).toBe(true);
    expect(await resolvesWithin(new Promise(() => {}), 5)).toBe(false);
    await expect(resolvesWithin(Promise.reject(new Error('y')), 1000)).rejects.toThrow('y');
  });
});
