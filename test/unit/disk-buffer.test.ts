import fs from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskBuffer, type DiskBufferOptions } from '../../src/buffer/disk-buffer.js';
import { LogwharfError } from '../../src/core/errors.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import { fileHandlePrototype } from '../helpers/file-handles.js';
import { tempDir } from '../helpers/tmp.js';

const silent = pino({ level: 'silent' });
const opened: DiskBuffer[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const b of opened.splice(0)) await b.close();
});

async function open(dir: string, over: Partial<DiskBufferOptions> = {}): Promise<DiskBuffer> {
  const b = await DiskBuffer.open({ dir, maxBytes: 64 * 1024 * 1024, fsync: 'never', log: silent, ...over });
  opened.push(b);
  return b;
}

const WEB: ContainerInfo = {
  id: 'c'.repeat(64),
  name: 'shop-web-1',
  imageName: 'nginx:1.27',
  labels: { 'com.docker.compose.project': 'shop' },
  composeProject: 'shop',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

/** `n` docker events with ids e<first>..e<first+n-1>; `pad` lengthens each message. */
function events(n: number, first = 0, pad = 0): LogEvent[] {
  const out: LogEvent[] = [];
  for (let i = first; i < first + n; i++) {
    out.push({
      timestamp: `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`,
      id: `e${i}`,
      dataset: 'docker',
      ingested: '2024-05-01T12:00:01.000000000Z',
      message: `GET /items/${i} 200 ${'x'.repeat(pad)}`,
      severity: 6,
      facility: 3,
      stream: 'stdout',
      container: WEB,
      host: 'box',
      service: 'web',
      fields: { status: 200, i },
      sourceKey: WEB.id,
      seq: i,
    });
  }
  return out;
}

const ids = (evs: readonly LogEvent[]) => evs.map((e) => e.id);

/** Peeks and acks until the buffer is empty; returns the batches' event ids. */
async function drain(b: DiskBuffer): Promise<string[][]> {
  const out: string[][] = [];
  while (b.batches > 0) {
    const got = await b.peek();
    out.push(ids(got!.events));
    await b.ack();
  }
  return out;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** FileHandle is not exported: its prototype, taken from a handle, to spy on. */
/**
 * Whether `p` is still unsettled once the event loop went round a few times. A negative can only
 * be observed by waiting a little; 20 ms is plenty for a local file system to answer.
 */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setTimeout(r, 20));
  return !settled;
}

describe('DiskBuffer', () => {
  it('hands out batches in append order, one record per append, and counts what is unacknowledged', async () => {
    const b = await open(await tempDir('lw-dbuf-'));
    expect([b.batches, b.events, b.bytes, b.oldestAppendedAt()]).toEqual([0, 0, 0, null]);
    vi.spyOn(Date, 'now').mockReturnValueOnce(1000).mockReturnValueOnce(2000).mockReturnValueOnce(3000);
    await b.append(events(3, 0));
    await b.append(events(1, 3));
    await b.append(events(2, 4));
    expect([b.batches, b.events]).toEqual([3, 6]);
    expect(b.oldestAppendedAt()).toBe(1000);

    const first = await b.peek();
    expect(ids(first!.events)).toEqual(['e0', 'e1', 'e2']);
    expect(first!.appendedAt).toBe(1000);
    const total = b.bytes;
    await b.ack();
    expect([b.batches, b.events, b.bytes]).toEqual([2, 3, total - first!.bytes]);
    expect(b.oldestAppendedAt()).toBe(2000);
    expect(await drain(b)).toEqual([['e3'], ['e4', 'e5']]);
    expect([b.batches, b.events, b.bytes, b.oldestAppendedAt()]).toEqual([0, 0, 0, null]);
  });

  it('serves a reader that keeps up the very objects appended, and a lagging one equal copies from disk', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { hotRecords: 2 });
    const appended = [events(2, 0), events(2, 2), events(2, 4)];
    for (const evs of appended) await b.append(evs);
    expect(b.hotRecordsHeld).toBe(2);
    const fromDisk = await b.peek();
    expect(fromDisk!.events).toEqual(appended[0]);
    expect(fromDisk!.events[0]).not.toBe(appended[0]![0]);
    expect(fromDisk!.events[0]!.container).toBe(fromDisk!.events[1]!.container); // shared, as the sources do
    await b.ack();
    const hot = await b.peek();
    expect(hot!.events[0]).toBe(appended[1]![0]);
    await b.ack();
    await b.append(events(1, 6));
    expect((await b.peek())!.events[1]).toBe(appended[2]![1]);
  });

  it('with hotRecords 0 keeps no live objects and reads everything from disk', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { hotRecords: 0 });
    const evs = events(3);
    await b.append(evs);
    expect(b.hotRecordsHeld).toBe(0);
    const got = await b.peek();
    expect(got!.events).toEqual(evs);
    expect(got!.events[0]).not.toBe(evs[0]);
  });

  it('returns the same batch to peek() until ack(), and refuses an ack() without a peek()', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { hotRecords: 0 });
    await b.append(events(1, 0));
    await b.append(events(1, 1));
    await expect(b.ack()).rejects.toThrow(/no batch is peeked/);
    const [one, two] = await Promise.all([b.peek(), b.peek()]);
    expect(two).toBe(one);
    expect(await b.peek()).toBe(one);
    await b.ack();
    expect(ids((await b.peek())!.events)).toEqual(['e1']);
  });

  it('keeps order across many segments and deletes each segment once all its records are acknowledged', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir, { segmentBytes: 4096, hotRecords: 1 });
    for (let i = 0; i < 120; i++) await b.append(events((i % 5) + 1, i * 10, (i * 37) % 300));
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(10);
    expect(files[0]).toBe('00000000000000000001.seg');
    for (const f of files) expect((await fs.stat(path.join(dir, f))).size).toBeLessThanOrEqual(4096);

    const got: string[][] = [];
    while (b.batches > 0) {
      const batch = await b.peek();
      got.push(ids(batch!.events));
      await b.ack();
      // Every segment before the reader's is gone the moment the reader leaves it.
      const left = await segmentFiles(dir);
      expect(files.slice(files.length - left.length)).toEqual(left);
    }
    expect(got).toEqual(Array.from({ length: 120 }, (_, i) => ids(events((i % 5) + 1, i * 10))));
    expect(await segmentFiles(dir)).toEqual([files.at(-1)]); // the writer's own stays
  });

  it('puts a record larger than segmentBytes alone into a segment', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir, { segmentBytes: 1024 });
    await b.append(events(1, 0));
    await b.append(events(20, 1, 200));
    await b.append(events(1, 21));
    expect(await segmentFiles(dir)).toHaveLength(3);
    expect((await drain(b)).map((x) => x.length)).toEqual([1, 20, 1]);
  });

  it('resumes after close() and open() at the acknowledged position, with the counts recomputed', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir, { segmentBytes: 2048 });
    const times = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000];
    const now = vi.spyOn(Date, 'now');
    for (const t of times) now.mockReturnValueOnce(t);
    for (let i = 0; i < 10; i++) await b.append(events(i + 1, i * 100, 50));
    let bytesLeft = b.bytes;
    for (let i = 0; i < 4; i++) {
      const got = await b.peek();
      bytesLeft -= got!.bytes;
      await b.ack();
    }
    await b.peek(); // peeked but not acknowledged: read again after the restart
    await b.close();

    const again = await open(dir, { segmentBytes: 2048 });
    expect(again.batches).toBe(6);
    expect(again.events).toBe(5 + 6 + 7 + 8 + 9 + 10);
    expect(again.bytes).toBe(bytesLeft);
    expect(again.oldestAppendedAt()).toBe(5000);
    await again.append(events(1, 9999));
    expect(await drain(again)).toEqual([
      ...Array.from({ length: 6 }, (_, k) => ids(events(k + 5, (k + 4) * 100))),
      ['e9999'],
    ]);
  });

  it('is full at maxBytes unacknowledged bytes; waitForRoom() resolves once an ack makes room', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { maxBytes: 3000 });
    expect(b.full()).toBe(false);
    await b.waitForRoom(); // room now: resolves at once
    let appended = 0;
    while (!b.full()) {
      await b.append(events(2, appended * 2, 100));
      appended++;
    }
    expect(appended).toBeGreaterThan(1);
    expect(b.bytes).toBeGreaterThanOrEqual(3000);
    const room = b.waitForRoom();
    expect(await stillPending(room)).toBe(true);
    await b.peek();
    await b.ack();
    await room;
    expect(b.full()).toBe(false);
  });

  it('takes a record bigger than maxBytes into an empty buffer, then is full until it is acknowledged', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { maxBytes: 1000, segmentBytes: 512 });
    await b.append(events(50, 0, 100));
    expect(b.bytes).toBeGreaterThan(1000);
    expect(b.full()).toBe(true);
    expect((await b.peek())!.events).toHaveLength(50);
    await b.ack();
    expect(b.full()).toBe(false);
    await b.waitForRoom();
  });

  it('makes peek() wait for an append', async () => {
    const b = await open(await tempDir('lw-dbuf-'));
    const waiting = b.peek();
    expect(await stillPending(waiting)).toBe(true);
    const evs = events(2);
    await b.append(evs);
    expect((await waiting)!.events[0]).toBe(evs[0]);
  });

  it('close() wakes a waiting peek() (null) and waitForRoom(), is idempotent, and keeps the data for the next open', async () => {
    const dir = await tempDir('lw-dbuf-');
    const empty = await open(dir);
    const waiting = empty.peek();
    await empty.close();
    expect(await waiting).toBeNull();
    await empty.close();

    const b = await open(dir, { maxBytes: 10 });
    await b.append(events(3));
    const room = b.waitForRoom();
    expect(await stillPending(room)).toBe(true);
    expect(b.closed).toBe(false);
    await Promise.all([b.close(), b.close()]);
    expect(b.closed).toBe(true);
    await room;
    expect(await b.peek()).toBeNull();
    await b.ack(); // nothing to do once closed
    await expect(b.append(events(1))).rejects.toThrow(/closed/);
    const again = await open(dir);
    expect(again.batches).toBe(1);
  });

  it('queues concurrent appends in call order', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { segmentBytes: 2048, hotRecords: 3 });
    await Promise.all(Array.from({ length: 60 }, (_, i) => b.append(events(2, i * 2, i))));
    expect((await drain(b)).flat()).toEqual(ids(events(120)));
  });

  it('lets a writer and a reader run at the same time, bounded by maxBytes', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir, { maxBytes: 8 * 1024, segmentBytes: 4096, hotRecords: 2 });
    let maxSeen = 0;
    const writer = (async () => {
      for (let i = 0; i < 300; i++) {
        await b.waitForRoom();
        await b.append(events(3, i * 3, 40));
        maxSeen = Math.max(maxSeen, b.bytes);
      }
    })();
    const got: string[] = [];
    while (got.length < 900) {
      const batch = await b.peek();
      got.push(...ids(batch!.events));
      await b.ack();
    }
    await writer;
    expect(got).toEqual(ids(events(900)));
    expect(maxSeen).toBeLessThan(8 * 1024 + 1024); // one record may overshoot
    expect([b.batches, b.bytes, b.events]).toEqual([0, 0, 0]);
    expect((await segmentFiles(dir)).length).toBeLessThanOrEqual(1);
  });

  it('holds at most hotRecords batches in memory, however much is buffered (50 MB here)', async () => {
    const b = await open(await tempDir('lw-dbuf-'), { maxBytes: 1024 * 1024 * 1024 });
    const big = events(1000, 0, 1000); // ~1.1 MB per record
    while (b.bytes < 50 * 1024 * 1024) {
      await b.append(big);
      expect(b.hotRecordsHeld).toBeLessThanOrEqual(8);
    }
    expect(b.hotRecordsHeld).toBe(8);
    const records = b.batches;
    let read = 0;
    while (b.batches > 0) {
      const got = await b.peek();
      expect(got!.events).toHaveLength(1000);
      read++;
      await b.ack();
    }
    expect(read).toBe(records);
    expect(b.hotRecordsHeld).toBe(0);
  });

  it('a failed append (ENOSPC) is not visible, leaves no hot copy and no bytes behind, and may be retried', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir);
    await b.append(events(1, 0));
    const proto = await fileHandlePrototype(dir);
    const realWrite = proto.write as (...args: unknown[]) => Promise<unknown>;
    vi.spyOn(proto, 'write').mockImplementationOnce(async function (this: fs.FileHandle, ...args: unknown[]) {
      const [buf, offset, length, position] = args as [Buffer, number, number, number];
      await realWrite.call(this, buf, offset, Math.floor(length / 2), position); // half reached the disk
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const lost = events(5, 100);
    await expect(b.append(lost)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect([b.batches, b.hotRecordsHeld]).toEqual([1, 1]);

    expect(ids((await b.peek())!.events)).toEqual(['e0']);
    await b.ack();
    const next = b.peek();
    expect(await stillPending(next)).toBe(true); // the failed batch is nowhere
    const retried = events(5, 100);
    await b.append(retried);
    expect((await next)!.events[0]).toBe(retried[0]);
    await b.close();

    const lines: string[] = [];
    const again = await open(dir, { log: pino({ level: 'warn' }, { write: (s: string) => lines.push(s) }) });
    expect(lines).toEqual([]); // the half record was cut at once: no torn tail to find
    expect(again.batches).toBe(1);
  });

  it('keeps the batch peeked when the ledger cannot be written, so ack() may be retried', async () => {
    const dir = await tempDir('lw-dbuf-');
    const b = await open(dir);
    await b.append(events(1, 0));
    await b.append(events(1, 1));
    const proto = await fileHandlePrototype(dir);
    const first = await b.peek();
    vi.spyOn(proto, 'write').mockRejectedValueOnce(
      Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }),
    );
    await expect(b.ack()).rejects.toMatchObject({ code: 'EIO' });
    expect(b.batches).toBe(2);
    expect(await b.peek()).toBe(first);
    await b.ack();
    expect(ids((await b.peek())!.events)).toEqual(['e1']);
  });

  it('does not hand out a batch again while its ack() is under way', async () => {
    const b = await open(await tempDir('lw-dbuf-'));
    await b.append(events(1, 0));
    await b.append(events(1, 1));
    await b.peek();
    const acking = b.ack();
    const next = b.peek();
    await acking;
    expect(ids((await next)!.events)).toEqual(['e1']);
  });

  it('writes through under fsync "always" only', async () => {
    for (const fsync of ['always', 'never'] as const) {
      const dir = await tempDir('lw-dbuf-');
      const b = await open(dir, { fsync, segmentBytes: 1024 });
      const proto = await fileHandlePrototype(dir);
      const syncs = vi.spyOn(proto, 'datasync');
      for (let i = 0; i < 5; i++) await b.append(events(3, i * 3, 100));
      const afterAppends = syncs.mock.calls.length;
      expect(await drain(b)).toHaveLength(5);
      const afterAcks = syncs.mock.calls.length - afterAppends;
      await b.close();
      const again = await open(dir, { fsync });
      expect(again.batches).toBe(0);
      if (fsync === 'always') {
        expect(afterAppends).toBeGreaterThanOrEqual(5);
        expect(afterAcks).toBeGreaterThanOrEqual(5);
      } else {
        expect(afterAppends + afterAcks).toBe(0);
      }
      syncs.mockRestore();
    }
  });

  it('keeps two buffers in two directories apart, and refuses a second buffer on one directory', async () => {
    const root = await tempDir('lw-dbuf-');
    const a = await open(path.join(root, 'a'));
    const b = await open(path.join(root, 'b'));
    await a.append(events(1, 0));
    await b.append(events(2, 10));
    expect(ids((await a.peek())!.events)).toEqual(['e0']);
    expect(ids((await b.peek())!.events)).toEqual(['e10', 'e11']);
    await expect(open(path.join(root, 'a', '.'))).rejects.toBeInstanceOf(LogwharfError);
    await a.close();
    const a2 = await open(path.join(root, 'a'));
    expect(a2.batches).toBe(1);
  });

  it('refuses options that make no sense', async () => {
    const dir = await tempDir('lw-dbuf-');
    await expect(open(dir, { maxBytes: 0 })).rejects.toThrow(/maxBytes/);
    await expect(open(dir, { fsync: 'sometimes' as 'never' })).rejects.toThrow(/fsync/);
    await expect(open(dir, { segmentBytes: 8 })).rejects.toThrow(/segmentBytes/);
    await expect(open(dir, { hotRecords: -1 })).rejects.toThrow(/hotRecords/);
  });
});
