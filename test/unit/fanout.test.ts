import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import type { StoreWriter, WriteOutcome } from '../../src/core/store.js';
import { FanoutWriter } from '../../src/sinks/fanout.js';

/** One outcome per batch for the pipeline, and retries only where a sink still lacks the batch. */

function sink(outcomes: WriteOutcome[]): StoreWriter & { calls: number } {
  const w = {
    calls: 0,
    async write(): Promise<WriteOutcome> {
      const o = outcomes[Math.min(w.calls, outcomes.length - 1)]!;
      w.calls++;
      if (o.status === 'retryable' && o.reason === 'throw') throw new Error('socket closed');
      return o;
    },
    ready: async () => true,
    close: async () => {},
  };
  return w;
}

const ok: WriteOutcome = { status: 'delivered' };
const later = (reason = 'down'): WriteOutcome => ({ status: 'retryable', reason });
const batch = (): LogEvent[] => [];

describe('FanoutWriter', () => {
  it('is delivered once every sink has the batch', async () => {
    const [a, b] = [sink([ok]), sink([ok])];
    expect(
      await new FanoutWriter([
        { name: 'a', writer: a },
        { name: 'b', writer: b },
      ]).write(batch()),
    ).toEqual(ok);
  });

  it('retries a batch only on the sinks that have not taken it', async () => {
    const store = sink([ok]);
    const forward = sink([later('connection refused'), later('throw'), ok]);
    const fanout = new FanoutWriter([
      { name: 'store', writer: store },
      { name: 'syslog x:1', writer: forward },
    ]);
    const b = batch();
    expect(await fanout.write(b)).toEqual({ status: 'retryable', reason: 'syslog x:1: connection refused' });
    expect(await fanout.write(b)).toEqual({ status: 'retryable', reason: 'syslog x:1: socket closed' });
    expect(await fanout.write(b)).toEqual(ok);
    expect(store.calls).toBe(1);
    expect(forward.calls).toBe(3);
    // A new batch goes to both again.
    await fanout.write(batch());
    expect(store.calls).toBe(2);
  });

  it('reports a rejection once the other sinks have the batch, and does not ask the rejecting sink again', async () => {
    const store = sink([{ status: 'rejected', reason: 'bad timestamp' }]);
    const forward = sink([later(), ok]);
    const fanout = new FanoutWriter([
      { name: 'store', writer: store },
      { name: 'fwd', writer: forward },
    ]);
    const b = batch();
    expect((await fanout.write(b)).status).toBe('retryable');
    expect(await fanout.write(b)).toEqual({ status: 'rejected', reason: 'store: bad timestamp' });
    expect(store.calls).toBe(1);
  });
});
