import fs from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskBuffer, type DiskBufferOptions } from '../../src/buffer/disk-buffer.js';
import { LogwharfError } from '../../src/core/errors.js';
import type { LogEvent } from '../../src/core/event.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Crashes and damage, simulated by editing the files between a close() and an open(): what
 * survives, what is said about it, and that nothing throws or loops.
 */

const opened: DiskBuffer[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

interface Line {
  level: number;
  msg: string;
  file?: string;
  bytes?: number;
  [k: string]: unknown;
}

function capture() {
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return {
    log,
    warnings: () => lines.filter((l) => l.level === 40),
    errors: () => lines.filter((l) => l.level === 50),
  };
}

async function open(dir: string, over: Partial<DiskBufferOptions> = {}): Promise<DiskBuffer> {
  const b = await DiskBuffer.open({
    dir,
    maxBytes: 1024 * 1024,
    fsync: 'never',
    segmentBytes: 2048,
    hotRecords: 0,
    log: pino({ level: 'silent' }),
    ...over,
  });
  opened.push(b);
  return b;
}

function events(n: number, first: number): LogEvent[] {
  return Array.from({ length: n }, (_, k) => ({
    timestamp: '2024-05-01T12:00:00.000000000Z',
    id: `e${first + k}`,
    dataset: 'docker' as const,
    ingested: '2024-05-01T12:00:00.000000000Z',
    message: `line ${first + k} ${'x'.repeat(60)}`,
    severity: 6,
    facility: 3,
    host: 'box',
  }));
}

/** The ids of batch i as filled() appends it. */
const batchIds = (i: number) => [`e${2 * i}`, `e${2 * i + 1}`];
const batchesIds = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => batchIds(from + k));

/** A closed buffer holding `count` batches of two events (about 5 records per 2 KiB segment). */
async function filled(dir: string, count: number): Promise<void> {
  const b = await open(dir);
  for (let i = 0; i < count; i++) await b.append(events(2, 2 * i));
  await b.close();
}

async function drain(b: DiskBuffer): Promise<string[][]> {
  const out: string[][] = [];
  while (b.batches > 0) {
    const got = await b.peek();
    out.push(got!.events.map((e) => e.id));
    await b.ack();
  }
  return out;
}

async function segments(dir: string): Promise<string[]> {
  return (await fs.readdir(dir))
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Offsets of the records in a segment file (24-byte header, then [u32 length][u32 crc][payload]). */
async function recordOffsets(file: string): Promise<number[]> {
  const bytes = await fs.readFile(file);
  const out: number[] = [];
  for (let at = 24; at + 8 <= bytes.length; at += 8 + bytes.readUInt32LE(at)) out.push(at);
  return out;
}

async function flipByte(file: string, at: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  await fh.write(b, 0, 1, at);
  await fh.close();
}

describe('DiskBuffer recovery', () => {
  it('truncates a record torn at the end of the last segment, with a warning naming file and bytes', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 12);
    const last = (await segments(dir)).at(-1)!;
    const { size } = await fs.stat(last);
    const tornAt = (await recordOffsets(last)).at(-1)!;
    await fs.truncate(last, size - 10);

    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(b.batches).toBe(11);
    expect(b.corruptRecords).toBe(0);
    expect(c.warnings()).toMatchObject([{ file: last, at: tornAt, bytes: size - 10 - tornAt }]);
    expect(c.warnings()[0]!.msg).toMatch(/torn/);
    expect((await fs.stat(last)).size).toBe(tornAt);
    await b.append(events(1, 1000));
    expect(await drain(b)).toEqual([...batchesIds(0, 11), ['e1000']]);
  });

  it('truncates a tail torn inside a record header, or a last record whose CRC fails', async () => {
    for (const damage of ['header', 'crc'] as const) {
      const dir = await tempDir('lw-dbuf-rec-');
      await filled(dir, 7);
      const last = (await segments(dir)).at(-1)!;
      const lastRecord = (await recordOffsets(last)).at(-1)!;
      if (damage === 'header') await fs.truncate(last, lastRecord + 3);
      else await flipByte(last, (await fs.stat(last)).size - 1);
      const c = capture();
      const b = await open(dir, { log: c.log });
      expect(c.warnings()).toHaveLength(1);
      expect(c.errors()).toEqual([]);
      expect((await fs.stat(last)).size).toBe(lastRecord);
      expect(await drain(b)).toEqual(batchesIds(0, 6));
      await b.close();
    }
  });

  it('truncates zeros where the next record should start in the last segment (a file extended, its data lost)', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 3);
    const last = (await segments(dir)).at(-1)!;
    const { size } = await fs.stat(last);
    await fs.appendFile(last, Buffer.alloc(4096));
    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(c.warnings()).toMatchObject([{ file: last, bytes: 4096 }]);
    expect((await fs.stat(last)).size).toBe(size);
    expect(b.batches).toBe(3);
  });

  it('skips the rest of a segment after a damaged record in its middle, and keeps the other segments', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 15);
    const [first, second] = await segments(dir);
    const perSegment = (await recordOffsets(first!)).length;
    const offsets = await recordOffsets(second!);
    await flipByte(second!, offsets[1]! + 30); // in the payload of the second record

    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(b.corruptRecords).toBe(1);
    expect(c.errors()).toMatchObject([{ file: second, at: offsets[1] }]);
    expect(c.warnings()).toEqual([]);
    const lost = offsets.length - 1;
    expect(b.batches).toBe(15 - lost);
    expect(await drain(b)).toEqual([
      ...batchesIds(0, perSegment + 1),
      ...batchesIds(perSegment + offsets.length, 15),
    ]);
    expect(await segments(dir)).toHaveLength(0); // given-up segments go once the reader passed them
  });

  it('skips the rest of the last segment too when good records follow the damage (not a torn tail)', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 3);
    const [only] = await segments(dir);
    const offsets = await recordOffsets(only!);
    const fh = await fs.open(only!, 'r+');
    await fh.write(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4, offsets[1]); // a nonsense length
    await fh.close();
    const { size } = await fs.stat(only!);

    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(b.corruptRecords).toBe(1);
    expect(b.corruptBytes).toBe(size - offsets[1]!);
    expect(c.errors()).toHaveLength(1);
    expect((await fs.stat(only!)).size).toBe(size); // kept as it is, never appended to again
    await b.append(events(1, 500));
    expect(await drain(b)).toEqual([batchIds(0), ['e500']]);
  });

  it('gives up a segment whose header is not one, and removes a last segment torn while it was created', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 12);
    const files = await segments(dir);
    await flipByte(files[0]!, 0);
    const perSegment = (await recordOffsets(files[0]!)).length;
    const next = path.join(dir, `${String(files.length + 1).padStart(20, '0')}.seg`);
    await fs.writeFile(next, Buffer.from('LWSG\x01\x00'));

    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(c.errors()).toMatchObject([{ file: files[0], problem: expect.stringMatching(/magic/) }]);
    expect(c.warnings()).toMatchObject([{ file: next }]);
    await expect(fs.stat(next)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await drain(b)).toEqual(batchesIds(perSegment, 12));
  });

  it('removes a last segment that holds only zeros (created, then a power loss under "never")', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 2);
    const zeros = path.join(dir, `${String(2).padStart(20, '0')}.seg`);
    await fs.writeFile(zeros, Buffer.alloc(4096));
    const c = capture();
    const b = await open(dir, { log: c.log });
    expect(c.warnings()).toMatchObject([{ file: zeros }]);
    expect(c.errors()).toEqual([]);
    await expect(fs.stat(zeros)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await drain(b)).toEqual(batchesIds(0, 2));
  });

  it('replays from the oldest segment when the ledger is missing', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    const b = await open(dir);
    for (let i = 0; i < 3; i++) await b.append(events(2, 2 * i));
    await drain(b);
    await b.close();
    expect(await segments(dir)).toHaveLength(1); // all acknowledged, but it was the writer's: kept
    await fs.rm(path.join(dir, 'ledger'));

    const c = capture();
    const again = await open(dir, { log: c.log });
    expect(c.warnings()).toMatchObject([{ msg: expect.stringMatching(/no ledger/) }]);
    expect(await drain(again)).toEqual(batchesIds(0, 3));
  });

  it('removes at open a segment the ledger is at the end of', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    const b = await open(dir);
    await b.append(events(2, 0));
    await drain(b);
    await b.close();
    expect(await segments(dir)).toHaveLength(1);
    const again = await open(dir);
    expect(await segments(dir)).toHaveLength(0);
    expect(again.batches).toBe(0);
  });

  it('moves a corrupt ledger aside and replays from the oldest segment', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 4);
    const b = await open(dir);
    await b.peek();
    await b.ack();
    await b.close();
    await fs.writeFile(path.join(dir, 'ledger'), 'not a ledger at all');

    const c = capture();
    const again = await open(dir, { log: c.log });
    expect(c.warnings()).toMatchObject([{ msg: expect.stringMatching(/ledger is corrupt/) }]);
    expect((await fs.readdir(dir)).filter((n) => n.startsWith('ledger.corrupt-'))).toHaveLength(1);
    expect(await drain(again)).toEqual(batchesIds(0, 4));
  });

  it('falls back to the previous position when the newest ledger slot is torn', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 4);
    const b = await open(dir);
    for (let i = 0; i < 3; i++) {
      await b.peek();
      await b.ack();
    }
    await b.close();
    await flipByte(path.join(dir, 'ledger'), 512 + 20); // three acks: generation 3 lives in slot 1

    const c = capture();
    const again = await open(dir, { log: c.log });
    expect(c.warnings()).toEqual([]);
    expect(await drain(again)).toEqual(batchesIds(2, 4)); // one batch replayed
  });

  it('refuses a ledger written by a newer version instead of guessing', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 1);
    const fh = await fs.open(path.join(dir, 'ledger'), 'r+');
    const slot = Buffer.alloc(36);
    await fh.read(slot, 0, 36, 0);
    slot.writeUInt16LE(2, 4);
    const { crc32 } = await import('node:zlib');
    slot.writeUInt32LE(crc32(slot.subarray(0, 32)), 32);
    await fh.write(slot, 0, 36, 0);
    await fh.close();
    await expect(open(dir)).rejects.toBeInstanceOf(LogwharfError);
    await expect(open(dir)).rejects.toThrow(/newer logwharf/);
  });

  it('removes leftover temp files, and acknowledged segments a crash left behind', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 12);
    const first = (await segments(dir))[0]!;
    const copy = await fs.readFile(first);
    const perSegment = (await recordOffsets(first)).length;
    const b = await open(dir);
    for (let i = 0; i < perSegment; i++) {
      await b.peek();
      await b.ack();
    }
    await b.close();
    await expect(fs.stat(first)).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.writeFile(first, copy); // as if the unlink never reached the disk
    await fs.writeFile(path.join(dir, 'ledger.tmp'), 'half a ledger');

    const again = await open(dir);
    expect(await fs.readdir(dir)).not.toContain('ledger.tmp');
    await expect(fs.stat(first)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await drain(again)).toEqual(batchesIds(perSegment, 12));
  });

  it('takes a segment as acknowledged when the ledger points past its end (a power loss under "never")', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    await filled(dir, 3);
    const b = await open(dir);
    await b.peek();
    await b.ack();
    await b.peek();
    await b.ack();
    await b.close();
    const [only] = await segments(dir);
    await fs.truncate(only!, (await recordOffsets(only!))[1]!); // the acknowledged records are gone

    const c = capture();
    const again = await open(dir, { log: c.log });
    expect(c.warnings()).toMatchObject([{ msg: expect.stringMatching(/past the end/) }]);
    expect(again.batches).toBe(0);
    await again.append(events(1, 77));
    expect(await drain(again)).toEqual([['e77']]);
  });

  it('skips the rest of a segment when a record is found damaged while reading, and goes on', async () => {
    const dir = await tempDir('lw-dbuf-rec-');
    const c = capture();
    const b = await open(dir, { log: c.log });
    for (let i = 0; i < 15; i++) await b.append(events(2, 2 * i));
    const [first] = await segments(dir);
    const offsets = await recordOffsets(first!);
    await flipByte(first!, offsets[2]! + 40);

    const got = await drain(b);
    expect(got).toEqual([...batchesIds(0, 2), ...batchesIds(offsets.length, 15)]);
    expect(b.corruptRecords).toBe(1);
    expect(c.errors()).toMatchObject([{ file: first, at: offsets[2] }]);
    expect([b.batches, b.events, b.bytes]).toEqual([0, 0, 0]);
    await b.append(events(1, 999)); // the writer goes on in a fresh segment
    expect(await drain(b)).toEqual([['e999']]);
  });

  it('never throws or loops on random damage: every batch it hands out is whole and in order', async () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 25; round++) {
      const dir = await tempDir('lw-dbuf-rec-');
      await filled(dir, 20);
      const files = await segments(dir);
      for (let k = 0; k < 3; k++) {
        const file = files[random(files.length)]!;
        const { size } = await fs.stat(file);
        if (random(4) === 0) await fs.truncate(file, random(size));
        else if (size > 0) await flipByte(file, random(size));
      }
      const b = await open(dir);
      const expected = b.batches;
      const got = await drain(b);
      expect(got).toHaveLength(expected);
      const firsts = got.map((ids) => Number(ids[0]!.slice(1)));
      for (let i = 0; i < got.length; i++) {
        expect(got[i]).toEqual(batchIds(firsts[i]! / 2));
        if (i > 0) expect(firsts[i]!).toBeGreaterThan(firsts[i - 1]!);
      }
      await b.close();
    }
  });
});
