import type fs from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskBuffer } from '../../src/buffer/disk-buffer.js';
import type { LogEvent, Position } from '../../src/core/event.js';
import { Health } from '../../src/core/health.js';
import type { StoreWriter, WriteOutcome } from '../../src/core/store.js';
import { DiskChannel } from '../../src/pipeline/disk-channel.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { fileHandlePrototype } from '../helpers/file-handles.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * A disk buffer whose disk fails (ENOSPC on append, EIO on the ledger, EIO on reads): the disk
 * channel's two loops retry each operation with backoff, report it as failing (what /readyz
 * and /metrics show) and go on once the disk works again; every event reaches the sink exactly
 * once, and the buffer's ledger ends where it should. Before, the first such error rejected a
 * promise nobody awaited, which ends a Node process.
 *
 * The faults are injected into Node's FileHandle (the disk buffer's only way to the disk), which
 * reaches every operation and order deterministically (an ack whose ledger write fails, a read
 * that fails). The real-filesystem versions are the fault scenarios
 * test/faults/disk-full.test.ts (ENOSPC), test/faults/disk-refuses-writes.test.ts (EPERM) and
 * test/faults/disk-eio.test.ts (EIO, from a FUSE filesystem of our own: test/tools/eiofs).
 */

const log = pino({ level: 'silent' });
/** A ledger slot is written with one 36-byte write (buffer/ledger.ts); no record is that small. */
const LEDGER_WRITE_BYTES = 36;

function event(i: number): LogEvent {
  const ts = `2026-11-27T10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`;
  return {
    timestamp: ts,
    id: `e${i}`,
    dataset: 'docker',
    ingested: ts,
    message: `line ${i}`,
    severity: 6,
    facility: 3,
    host: 'h',
    sourceKey: 'c1',
    seq: 0,
  };
}

class RecordingSink implements StoreWriter {
  readonly ids: string[] = [];
  up = true;
  async write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (!this.up) return { status: 'retryable', reason: 'down', code: 'connection' };
    this.ids.push(...batch.map((e) => e.id));
    return { status: 'delivered' };
  }
  async ready(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: injected, /secret/path`), { code });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(opts: { sinkUp?: boolean } = {}) {
  const dir = await tempDir('lw-disk-faults-');
  const health = new Health();
  const sink = new RecordingSink();
  sink.up = opts.sinkUp ?? true;
  const channel = await DiskChannel.open({
    sink: { name: 'store', kind: 'test', writer: sink, reportWrites: true },
    dir,
    maxBytes: 1 << 20,
    fsync: 'always',
    whenFull: 'block',
    health,
    log,
  });
  const acked: Position[] = [];
  const pipeline = new Pipeline({
    transform: () => {},
    sinks: [channel],
    acknowledge: (last) => acked.push(...last.values()),
    batchSize: 5,
    batchMaxBytes: 1 << 20,
    flushIntervalMs: 1,
    maxInFlight: 50,
    maxInFlightBytes: 1 << 30,
    health,
    log,
  });
  pipeline.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await channel.close();
    await pipeline.close();
  };
  cleanups.push(async () => {
    await close();
    await removeTempDir(dir);
  });
  return { dir, health, sink, channel, pipeline, acked, proto: await fileHandlePrototype(dir), close };
}

const failing = (h: Health) => h.failing().map((f) => `${f.component}: ${f.code} on ${f.op}`);
const errorsOf = (h: Health, op: string) =>
  h
    .errors()
    .filter((e) => e.op === op)
    .map((e) => `${e.component} ${e.code}`);

describe('a disk channel whose disk fails', () => {
  it('retries appends that fail with ENOSPC, shows it as failing, and stores every event once when space is back', async () => {
    const s = await setUp();
    const realWrite = s.proto.write;
    let full = true;
    vi.spyOn(s.proto, 'write').mockImplementation(async function (this: fs.FileHandle, ...args: unknown[]) {
      if (full && args[2] !== LEDGER_WRITE_BYTES) throw errno('ENOSPC');
      return (realWrite as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as typeof realWrite);
    for (let i = 0; i < 20; i++) s.pipeline.push([event(i)]);
    await waitFor(() => failing(s.health).includes('store buffer: ENOSPC on append'), {
      timeoutMs: 10_000,
      what: 'the buffer shown as failing',
    });
    await waitFor(() => s.health.errors().some((e) => e.count >= 2), { timeoutMs: 10_000, what: 'a retry' });
    expect(s.acked).toEqual([]); // nothing taken, so no position moved
    expect(s.sink.ids).toEqual([]);
    full = false;
    await waitFor(() => s.sink.ids.length === 20, { timeoutMs: 20_000, what: 'all 20 stored' });
    expect(s.sink.ids).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
    expect(failing(s.health)).toEqual([]);
    expect(errorsOf(s.health, 'append')).toEqual(['store buffer ENOSPC']);
    expect(s.channel.status().buffer.events).toBe(0);
  });

  it('retries an ack whose ledger write fails (EIO) without delivering the batch again, and the ledger ends right', async () => {
    const s = await setUp();
    const realWrite = s.proto.write;
    let failures = 3;
    vi.spyOn(s.proto, 'write').mockImplementation(async function (this: fs.FileHandle, ...args: unknown[]) {
      if (args[2] === LEDGER_WRITE_BYTES && failures-- > 0) throw errno('EIO');
      return (realWrite as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as typeof realWrite);
    for (let i = 0; i < 20; i++) s.pipeline.push([event(i)]);
    await waitFor(() => s.sink.ids.length === 20 && s.channel.status().buffer.events === 0, {
      timeoutMs: 20_000,
      what: 'all 20 delivered and acknowledged',
    });
    expect(s.sink.ids).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
    expect(errorsOf(s.health, 'ack')).toEqual(['store buffer EIO']);
    expect(s.health.errors().find((e) => e.op === 'ack')!.count).toBe(3);
    expect(failing(s.health)).toEqual([]);
    // What the ledger says on disk: everything acknowledged, nothing to send again.
    await s.close();
    const reopened = await DiskBuffer.open({ dir: s.dir, maxBytes: 1 << 20, fsync: 'always', log });
    expect(reopened.batches).toBe(0);
    await reopened.close();
  });

  it('retries reads that fail (EIO) while it sends a backlog from disk', async () => {
    const s = await setUp({ sinkUp: false });
    // A backlog bigger than the hot copies, so the drain loop reads the segment files.
    for (let i = 0; i < 40; i++) s.pipeline.push([event(i)]);
    await waitFor(() => s.channel.status().buffer.events === 40, { timeoutMs: 10_000, what: '40 buffered' });
    const realRead = s.proto.read;
    let failures = 3;
    vi.spyOn(s.proto, 'read').mockImplementation(async function (this: fs.FileHandle, ...args: unknown[]) {
      if (failures-- > 0) throw errno('EIO');
      return (realRead as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as typeof realRead);
    s.sink.up = true;
    await waitFor(() => s.sink.ids.length === 40, { timeoutMs: 20_000, what: 'the backlog delivered' });
    expect(s.sink.ids).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`));
    expect(errorsOf(s.health, 'read')).toEqual(['store buffer EIO']);
    expect(failing(s.health)).toEqual([]);
  });

  it('shows the sink itself as failing while its writes fail, by the code it answered', async () => {
    const s = await setUp({ sinkUp: false });
    s.pipeline.push([event(1)]);
    await waitFor(() => failing(s.health).includes('store: connection on write'), {
      timeoutMs: 10_000,
      what: 'the store shown as failing',
    });
    s.sink.up = true;
    await waitFor(() => failing(s.health).length === 0, {
      timeoutMs: 10_000,
      what: 'the store working again',
    });
    expect(s.sink.ids).toEqual(['e1']);
  });
});

describe('a disk channel given an event it cannot encode', () => {
  it("drops that event's parsed fields, flags it, counts it, and stores every line (before: the batch was retried forever)", async () => {
    const s = await setUp();
    const bad = event(1);
    // Nothing JSON can write: a parser bug, or a value a new parser lets through.
    bad.fields = { n: 10n as unknown as number, other: 'goes too: the whole fields object is dropped' };
    const events = [event(0), bad, event(2)];
    s.pipeline.push(events);
    await waitFor(() => s.sink.ids.length === 3, { timeoutMs: 10_000, what: 'all 3 stored' });
    expect(s.sink.ids).toEqual(['e0', 'e1', 'e2']);
    expect(bad.fields).toBeUndefined();
    expect(bad.message).toBe('line 1');
    expect(bad.flags).toEqual(['fields_dropped']);
    expect(events[0]!.flags).toBeUndefined();
    expect(errorsOf(s.health, 'encode')).toEqual(['store buffer UNENCODABLE']);
    expect(failing(s.health)).toEqual([]);
  });
});
