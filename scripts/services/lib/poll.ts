/**
 * Poll a condition until it holds. This is the one polling loop of the test infrastructure:
 * `npm run services` waits for dockerd with it, and tests use it (through
 * test/helpers/poll.ts) instead of sleeping.
 */
import { inspect } from 'node:util';

export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

export interface WaitForOptions {
  /** Give up after this long, counted from the call. */
  timeoutMs: number;
  /** Pause between two attempts; default 100 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout error: "the container to run", "dockerd to answer". */
  what: string;
  /** Aborting rejects at once with the signal's reason (e.g. the awaited process exited). */
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it returns (or resolves to) a truthy value, and resolves with that value.
 * A throwing attempt counts as "not yet". On timeout the error names `what` and the last
 * value or error seen, so a failing test says what it was waiting for and what it got.
 * An attempt that hangs does not hold the timeout up.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions): Promise<Truthy<T>> {
  const { timeoutMs, intervalMs = 100, what, signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    const attempt = await settleWithin(fn, Math.max(remaining, 1), signal);
    if (attempt.kind === 'value') {
      if (attempt.value) return attempt.value as Truthy<T>;
      last = { value: attempt.value };
    } else if (attempt.kind === 'error') {
      last = { error: attempt.error };
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(timeoutMessage(what, timeoutMs, last));
    await pause(Math.min(intervalMs, left), signal);
  }
}

type Attempt<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'hung' };

function settleWithin<T>(fn: () => T | Promise<T>, ms: number, signal?: AbortSignal): Promise<Attempt<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'hung' }), ms);
    const onAbort = () => resolve({ kind: 'hung' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (a: Attempt<T>) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(a);
    };
    try {
      Promise.resolve(fn()).then(
        (value) => done({ kind: 'value', value }),
        (error: unknown) => done({ kind: 'error', error }),
      );
    } catch (error) {
      done({ kind: 'error', error });
    }
  });
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function timeoutMessage(
  what: string,
  timeoutMs: number,
  last: { value: unknown } | { error: unknown } | undefined,
): string {
  const head = `timed out after ${timeoutMs} ms waiting for ${what}`;
  if (last === undefined) return `${head}; no attempt finished in time`;
  if ('error' in last) {
    const e = last.error;
    return `${head}; last error: ${e instanceof Error ? e.message : show(e)}`;
  }
  return `${head}; last value: ${show(last.value)}`;
}

function show(v: unknown): string {
  return inspect(v, {
    depth: 3,
    breakLength: Number.POSITIVE_INFINITY,
    maxStringLength: 500,
    maxArrayLength: 20,
  });
}
