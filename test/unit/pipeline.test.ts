import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEvent, Position } from '../../src/core/event.js';
import { Health } from '../../src/core/health.js';
import type { StoreWriter, WriteOutcome } from '../../src/core/store.js';
import { DiskChannel } from '../../src/pipeline/disk-channel.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { MemoryChannel, type SinkChannel } from '../../src/pipeline/sink-channel.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The pipeline's delivery promise, with sinks whose answers the test decides: positions move
 * only once every sink's channel has taken a batch; a memory channel takes it when the sink has
 * it, a disk channel when its buffer has it; retries, rejections, a full buffer and a restart.
 */

const log = pino({ level: 'silent' });

function event(i: number, key = 'c1'): LogEvent {
  const ts = `2026-11-27T10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`;
  return {
    timestamp: ts,
    id: `${key}-${i}`,
    dataset: 'docker',
    ingested: ts,
    message: `line ${i} ${'x'.repeat(100)}`,
    severity: 6,
    facility: 3,
    host: 'h',
    sourceKey: key,
    seq: 0,
  };
}

/** A sink that answers what `answer` says and records what it was given. */
class ScriptedSink implements StoreWriter {
  readonly batches: string[][] = [];
  answer: () => WriteOutcome | Promise<WriteOutcome> = () => ({ status: 'delivered' });
  async write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    const outcome = await this.answer();
    if (outcome.status === 'delivered') this.batches.push(batch.map((e) => e.id));
    return outcome;
  }
  ids(): string[] {
    return this.batches.flat();
  }
  async ready(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}

const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c();
});

function pipelineOf(
  sinks: SinkChannel[],
  acked: Position[],
  opts: { maxInFlight?: number; maxInFlightBytes?: number; batchMaxBytes?: number } = {},
) {
  const p = new Pipeline({
    transform: () => {},
    sinks,
    acknowledge: (last) => {
      for (const pos of last.values()) acked.push(pos);
    },
    batchSize: 10,
    batchMaxBytes: opts.batchMaxBytes ?? 1 << 30,
    flushIntervalMs: 1,
    maxInFlight: opts.maxInFlight ?? 1000,
    maxInFlightBytes: opts.maxInFlightBytes ?? 1 << 30,
    log,
  });
  p.start();
  toClose.push(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await p.close();
  });
  return p;
}

function memory(sink: ScriptedSink, name = 'store', deadLetter?: ChannelDeadLetter): MemoryChannel {
  return new MemoryChannel(
    { name, kind: 'test', writer: sink, ...(deadLetter ? { deadLetter } : {}) },
    new Health(),
    log,
  );
}
type ChannelDeadLetter = (events: readonly LogEvent[], reason: string) => Promise<void>;

async function disk(
  sink: ScriptedSink,
  dir: string,
  opts: { maxBytes?: number; whenFull?: 'block' | 'drop_newest' } = {},
): Promise<DiskChannel> {
  return DiskChannel.open({
    sink: { name: 'store', kind: 'test', writer: sink },
    dir,
    maxBytes: opts.maxBytes ?? 1 << 20,
    fsync: 'never',
    whenFull: opts.whenFull ?? 'block',
    health: new Health(),
    log,
  });
}

describe('memory channels', () => {
  it('acknowledges a batch only once every sink has it, and retries only the sink that failed', async () => {
    const store = new ScriptedSink();
    const forward = new ScriptedSink();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    forward.answer = async () => {
      await gate;
      return { status: 'delivered' };
    };
    let storeFailures = 2;
    store.answer = () =>
      storeFailures-- > 0 ? { status: 'retryable', reason: 'down' } : { status: 'delivered' };
    const acked: Position[] = [];
    const storeChannel = memory(store);
    const p = pipelineOf([storeChannel, memory(forward, 'forward')], acked);
    p.push([event(1), event(2)]);
    await waitFor(() => store.ids().length === 2, { timeoutMs: 10_000, what: 'the store has the batch' });
    expect(acked).toEqual([]);
    release();
    await waitFor(() => acked.length === 1, { timeoutMs: 10_000, what: 'acknowledged' });
    expect(acked[0]!.timestamp).toBe(event(2).timestamp);
    expect(forward.batches).toHaveLength(1);
    expect(storeChannel.status()).toMatchObject({ eventsWritten: 2, writeRetries: 2 });
  });

  it('keeps a rejected batch in the dead-letter store, then acknowledges it', async () => {
    const store = new ScriptedSink();
    store.answer = () => ({ status: 'rejected', reason: 'mapping' });
    const kept: string[] = [];
    let deadLetterFailures = 1;
    const channel = memory(store, 'store', async (events, reason) => {
      if (deadLetterFailures-- > 0) throw new Error('ENOSPC');
      kept.push(...events.map((e) => `${e.id}: ${reason}`));
    });
    const acked: Position[] = [];
    const p = pipelineOf([channel], acked);
    p.push([event(1)]);
    await waitFor(() => acked.length === 1, { timeoutMs: 10_000, what: 'acknowledged' });
    expect(kept).toEqual(['c1-1: mapping']);
    expect(channel.status()).toMatchObject({ eventsRejected: 1, writeRetries: 1, eventsWritten: 0 });
  });

  it('does not acknowledge what a closing channel never took', async () => {
    const store = new ScriptedSink();
    store.answer = () => ({ status: 'retryable', reason: 'down' });
    const acked: Position[] = [];
    const channel = memory(store);
    const p = pipelineOf([channel], acked);
    p.push([event(1)]);
    await waitFor(() => channel.status().writeRetries > 0, { timeoutMs: 10_000, what: 'a retry' });
    const closed = p.close();
    await channel.close();
    await closed;
    expect(acked).toEqual([]);
  });
});

describe('disk channels', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('acknowledges once the buffer has a batch, and delivers it after the sink comes back', async () => {
    dir = await tempDir('lw-disk-channel-');
    const store = new ScriptedSink();
    let up = false;
    store.answer = () => (up ? { status: 'delivered' } : { status: 'retryable', reason: 'down' });
    const channel = await disk(store, dir);
    const acked: Position[] = [];
    const p = pipelineOf([channel], acked);
    for (let i = 0; i < 50; i++) p.push([event(i)]);
    await waitFor(() => acked.length >= 5 && channel.status().buffer.events === 50, {
      timeoutMs: 10_000,
      what: 'all 50 events buffered and acknowledged while the sink is down',
    });
    expect(store.ids()).toEqual([]);
    expect(channel.status().buffer.bytes).toBeGreaterThan(0);
    up = true;
    await waitFor(() => store.ids().length === 50, { timeoutMs: 20_000, what: 'all 50 delivered' });
    expect(store.ids()).toEqual(Array.from({ length: 50 }, (_, i) => `c1-${i}`));
    await waitFor(() => channel.status().buffer.events === 0, { timeoutMs: 10_000, what: 'buffer empty' });
  });

  it('blocks the pipeline when full (block), so the sources pause; nothing is lost', async () => {
    dir = await tempDir('lw-disk-channel-');
    const store = new ScriptedSink();
    let up = false;
    store.answer = () => (up ? { status: 'delivered' } : { status: 'retryable', reason: 'down' });
    const channel = await disk(store, dir, { maxBytes: 65536 });
    const acked: Position[] = [];
    const p = pipelineOf([channel], acked, { maxInFlight: 100 });
    // A source that reads whenever the pipeline has room, as the Docker followers do.
    let pushed = 0;
    let paused = false;
    const read = () => {
      paused = false;
      while (p.push([event(pushed++)])) {}
      paused = true;
    };
    const stopReading = p.onDrain(read);
    read();
    await waitFor(() => channel.status().buffer.bytes >= 65536 && paused, {
      timeoutMs: 10_000,
      what: 'the buffer full and the source paused',
    });
    // Paused for good: the pipeline holds what it has, the buffer overshoots by one record at most.
    const whenFull = pushed;
    await waitFor(() => p.counters.eventsWritten + p.queued + 10 >= pushed, {
      timeoutMs: 10_000,
      what: 'the pipeline settled',
    });
    expect(pushed).toBe(whenFull);
    expect(channel.status().buffer.bytes).toBeLessThan(65536 + 10 * 1024);
    stopReading();
    up = true;
    await waitFor(() => store.ids().length === pushed, { timeoutMs: 30_000, what: 'every event delivered' });
    expect(new Set(store.ids()).size).toBe(pushed);
  });

  it('drops and counts new batches when full under drop_newest', async () => {
    dir = await tempDir('lw-disk-channel-');
    const store = new ScriptedSink();
    store.answer = () => ({ status: 'retryable', reason: 'down' });
    const channel = await disk(store, dir, { maxBytes: 65536, whenFull: 'drop_newest' });
    const acked: Position[] = [];
    const p = pipelineOf([channel], acked);
    for (let i = 0; i < 2000; i++) p.push([event(i)]);
    await waitFor(() => p.counters.eventsWritten === 2000, {
      timeoutMs: 10_000,
      what: 'every batch taken or dropped',
    });
    const s = channel.status();
    expect(s.dropped.buffer_full).toBeGreaterThan(0);
    expect(s.dropped.buffer_full! + s.buffer.events).toBe(2000);
  });

  it('keeps its backlog across a restart and sends it then', async () => {
    dir = await tempDir('lw-disk-channel-');
    const down = new ScriptedSink();
    down.answer = () => ({ status: 'retryable', reason: 'down' });
    const first = await disk(down, dir);
    const acked: Position[] = [];
    const p = pipelineOf([first], acked);
    for (let i = 0; i < 30; i++) p.push([event(i)]);
    await waitFor(() => first.status().buffer.events === 30, { timeoutMs: 10_000, what: '30 buffered' });
    await p.close();
    await first.close();

    const up = new ScriptedSink();
    const second = await disk(up, dir);
    toClose.push(() => second.close());
    await waitFor(() => up.ids().length === 30, {
      timeoutMs: 10_000,
      what: 'the backlog sent after the restart',
    });
    expect(up.ids()).toEqual(Array.from({ length: 30 }, (_, i) => `c1-${i}`));
  });
});

describe('byte bounds', () => {
  /** `n` events whose messages are `chars` long. */
  function big(n: number, chars: number, from = 0): LogEvent[] {
    return Array.from({ length: n }, (_, i) => ({
      ...event(from + i),
      message: `${from + i} ${'y'.repeat(chars)}`,
    }));
  }

  it('huge lines pause the sources by bytes while few events are queued, and they resume after', async () => {
    const store = new ScriptedSink();
    let up = false;
    store.answer = () => (up ? { status: 'delivered' } : { status: 'retryable', reason: 'down' });
    const acked: Position[] = [];
    const p = pipelineOf([memory(store)], acked, { maxInFlight: 1000, maxInFlightBytes: 4 << 20 });
    let pushed = 0;
    let accepted = true;
    // A source that reads 512 KiB lines for as long as the pipeline has room.
    while (accepted && pushed < 1000) accepted = p.push(big(1, 512 * 1024, pushed++));
    expect(accepted).toBe(false);
    expect(p.paused).toBe('bytes');
    expect(p.counters.pauses).toEqual({ events: 0, bytes: 1 });
    // 4 MiB of 1 MiB-counted events (two bytes a character): a handful, not max_in_flight's 1000.
    expect(pushed).toBeLessThanOrEqual(5);
    expect(p.queuedBytes + 2 * 1024 * 1024).toBeGreaterThanOrEqual(4 << 20);
    const resumed = new Promise<void>((resolve) => p.onDrain(resolve));
    up = true;
    await resumed;
    expect(p.paused).toBeNull();
    await waitFor(() => store.ids().length === pushed, { timeoutMs: 10_000, what: 'all delivered' });
  });

  it('pauses by events when the events are small', () => {
    const p = pipelineOf([memory(new ScriptedSink())], [], { maxInFlight: 5, maxInFlightBytes: 1 << 30 });
    expect(p.push([event(1), event(2), event(3), event(4)])).toBe(true);
    expect(p.push([event(5)])).toBe(false);
    expect(p.paused).toBe('events');
  });

  it('cuts a batch at batch_max_bytes, in order, a line larger than the bound alone', async () => {
    const store = new ScriptedSink();
    const acked: Position[] = [];
    const p = pipelineOf([memory(store)], acked, { batchMaxBytes: 1 << 20 });
    // 200 K characters count 400 KiB: two fit in 1 MiB, three do not; 600 K characters alone.
    p.push([...big(5, 200 * 1024), ...big(1, 600 * 1024, 5), ...big(2, 10, 6)]);
    await waitFor(() => store.ids().length === 8, { timeoutMs: 10_000, what: 'all stored' });
    expect(store.batches).toEqual([['c1-0', 'c1-1'], ['c1-2', 'c1-3'], ['c1-4'], ['c1-5'], ['c1-6', 'c1-7']]);
    expect(acked).toHaveLength(5);
  });
});
