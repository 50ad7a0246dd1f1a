import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  catchUnhandledRejections,
  EXIT_FORCED,
  EXIT_STOP_TIMEOUT,
  EXIT_STOPPED,
  supervise,
} from '../../src/cli/run.js';
import { Health } from '../../src/core/health.js';
import type { ReloadResult } from '../../src/reload.js';

/**
 * The daemon's signal contract (src/cli/run.ts), with an EventEmitter for `process` and a fake
 * service whose stop and start finish when the test says. Fake timers for shutdown_timeout.
 */

const OK: ReloadResult = { ok: true, problems: [], applied: [], restartNeeded: [], failed: [] };

function harness(opts: { stopHangs?: boolean; stopFails?: boolean } = {}) {
  const signals = new EventEmitter();
  const log: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg: string) => log.push({ level, msg });
  let finishStop!: () => void;
  let finishStart!: () => void;
  const service = {
    stops: 0,
    reloads: 0,
    stop: vi.fn(() => {
      service.stops++;
      if (opts.stopFails) return Promise.reject(new Error('EIO: positions not saved'));
      return new Promise<void>((resolve) => {
        finishStop = resolve;
        if (!opts.stopHangs) resolve();
      });
    }),
    reload: vi.fn(async () => {
      service.reloads++;
      return OK;
    }),
  };
  let started = false;
  const startGate = new Promise<void>((resolve) => {
    finishStart = resolve;
  });
  const code = supervise({
    start: async () => {
      await startGate;
      started = true;
      return service;
    },
    shutdownTimeoutMs: 5000,
    signals,
    log: { info: at('info'), warn: at('warn'), error: at('error') },
  });
  return {
    signals,
    log,
    service,
    code,
    finishStart,
    finishStop: () => finishStop(),
    started: () => started,
  };
}

/** Lets promise callbacks run (no timers involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('supervise: SIGTERM and SIGINT', () => {
  it('stops cleanly on SIGTERM and exits 0', async () => {
    const h = harness();
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    expect(await h.code).toBe(EXIT_STOPPED);
    expect(h.service.stops).toBe(1);
    expect(h.log.map((l) => l.msg)).toEqual(['stopping', 'stopped']);
  });

  it('stops cleanly on SIGINT too', async () => {
    const h = harness();
    h.finishStart();
    await settle();
    h.signals.emit('SIGINT');
    expect(await h.code).toBe(EXIT_STOPPED);
  });

  it('exits with EXIT_STOP_TIMEOUT when the stop outlasts shutdown_timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = harness({ stopHangs: true });
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    await settle();
    await vi.advanceTimersByTimeAsync(4999);
    let done = false;
    void h.code.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await h.code).toBe(EXIT_STOP_TIMEOUT);
    expect(h.log.at(-1)).toMatchObject({ level: 'error', msg: expect.stringContaining('stop timed out') });
  });

  it('exits with code 1 when a part of the stop failed, and says so', async () => {
    const h = harness({ stopFails: true });
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    expect(await h.code).toBe(EXIT_STOP_TIMEOUT);
    expect(h.log.find((l) => l.level === 'error')?.msg).toContain('the stop did not complete');
  });

  it('exits at once on a second SIGTERM or SIGINT during the stop, and says so', async () => {
    const h = harness({ stopHangs: true });
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    await settle();
    h.signals.emit('SIGINT');
    expect(await h.code).toBe(EXIT_FORCED.SIGINT);
    expect(h.log.at(-1)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining('SIGINT again while stopping: exiting at once'),
    });
    expect(EXIT_FORCED).toEqual({ SIGTERM: 143, SIGINT: 130 });
  });

  it('a SIGTERM during start-up stops once started; a second one exits without waiting for it', async () => {
    const h = harness();
    h.signals.emit('SIGTERM');
    await settle();
    expect(h.service.stops).toBe(0);
    h.finishStart();
    expect(await h.code).toBe(EXIT_STOPPED);
    expect(h.service.stops).toBe(1);

    const h2 = harness();
    h2.signals.emit('SIGTERM');
    h2.signals.emit('SIGTERM');
    expect(await h2.code).toBe(EXIT_FORCED.SIGTERM);
    expect(h2.started()).toBe(false);
  });

  it('removes its handlers when done', async () => {
    const h = harness();
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    await h.code;
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) expect(h.signals.listenerCount(s)).toBe(0);
  });
});

describe('supervise: SIGHUP', () => {
  it('reloads on each SIGHUP', async () => {
    const h = harness();
    h.finishStart();
    await settle();
    h.signals.emit('SIGHUP');
    h.signals.emit('SIGHUP');
    expect(h.service.reloads).toBe(2);
    h.signals.emit('SIGTERM');
    await h.code;
  });

  it('reloads once started when SIGHUP came during start-up', async () => {
    const h = harness();
    h.signals.emit('SIGHUP');
    h.signals.emit('SIGHUP');
    await settle();
    expect(h.service.reloads).toBe(0);
    h.finishStart();
    await settle();
    expect(h.service.reloads).toBe(1);
    h.signals.emit('SIGTERM');
    await h.code;
  });

  it('ignores SIGHUP while stopping', async () => {
    const h = harness({ stopHangs: true });
    h.finishStart();
    await settle();
    h.signals.emit('SIGTERM');
    await settle();
    h.signals.emit('SIGHUP');
    expect(h.service.reloads).toBe(0);
    expect(h.log.at(-1)).toMatchObject({ level: 'warn', msg: 'SIGHUP while stopping: ignored' });
    h.finishStop();
    expect(await h.code).toBe(EXIT_STOPPED);
  });
});

describe('the unhandled-rejection safety net', () => {
  it('logs a rejection nobody handled at fatal level and makes logwharf not ready, until removed', () => {
    const target = new EventEmitter();
    const health = new Health();
    const fatal: string[] = [];
    const remove = catchUnhandledRejections(target as unknown as NodeJS.Process, health, {
      fatal: (_obj, msg) => fatal.push(msg),
    });
    target.emit('unhandledRejection', new Error('a loop forgot its catch'), Promise.resolve());
    expect(fatal).toEqual(['BUG: a promise rejection nobody handled; logwharf goes on, but restart it soon']);
    expect(health.failing()).toMatchObject([
      { component: 'process', op: 'unhandled_rejection', code: 'BUG' },
    ]);
    remove();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });
});
