import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAfter, POSITIONS_FILE, PositionStore } from '../../src/checkpoint/positions.js';
import { LogwharfError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/tmp.js';

const T1 = '2024-05-01T12:00:00.000000001Z';
const T2 = '2024-05-01T12:00:00.000000002Z';
const T3 = '2024-05-02T00:00:00.000000000Z';

afterEach(() => {
  vi.restoreAllMocks();
});

async function read(dir: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(path.join(dir, POSITIONS_FILE), 'utf8'));
}

describe('PositionStore', () => {
  it('starts empty without a file, and writes nothing until something changed', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    expect(p.get('a')).toBeUndefined();
    expect(p.keys()).toEqual([]);
    expect(p.recoveredFrom).toBeNull();
    await p.flush();
    expect(fsSync.existsSync(path.join(dir, POSITIONS_FILE))).toBe(false);
  });

  it('saves a versioned file and loads it back', async () => {
    const dir = await tempDir('lw-pos-');
    const now = () => new Date('2024-05-01T12:00:05.123Z');
    const p = await PositionStore.open(dir, { now });
    p.advance('c1', { timestamp: T1, seq: 0 });
    p.advance('c2', { timestamp: T2, seq: 3 });
    await p.flush();
    expect(await read(dir)).toEqual({
      version: 1,
      positions: {
        c1: { timestamp: T1, seq: 0, updated: '2024-05-01T12:00:05.123000000Z' },
        c2: { timestamp: T2, seq: 3, updated: '2024-05-01T12:00:05.123000000Z' },
      },
    });
    const again = await PositionStore.open(dir);
    expect(again.get('c1')).toEqual({ timestamp: T1, seq: 0 });
    expect(again.get('c2')).toEqual({ timestamp: T2, seq: 3 });
    expect(again.keys().sort()).toEqual(['c1', 'c2']);
  });

  it('only moves forward: by timestamp, then by seq', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    p.advance('c', { timestamp: T2, seq: 1 });
    p.advance('c', { timestamp: T1, seq: 9 }); // older timestamp: ignored
    expect(p.get('c')).toEqual({ timestamp: T2, seq: 1 });
    p.advance('c', { timestamp: T2, seq: 0 }); // same timestamp, lower seq: ignored
    p.advance('c', { timestamp: T2, seq: 1 }); // equal: ignored
    expect(p.get('c')).toEqual({ timestamp: T2, seq: 1 });
    p.advance('c', { timestamp: T2, seq: 2 });
    expect(p.get('c')).toEqual({ timestamp: T2, seq: 2 });
    p.advance('c', { timestamp: T3, seq: 0 });
    expect(p.get('c')).toEqual({ timestamp: T3, seq: 0 });
    expect(isAfter({ timestamp: T2, seq: 0 }, { timestamp: T1, seq: 5 })).toBe(true);
  });

  it('refuses a position that is not canonical', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    expect(() => p.advance('c', { timestamp: '2024-05-01T12:00:00Z', seq: 0 })).toThrow(RangeError);
    expect(() => p.advance('c', { timestamp: T1, seq: -1 })).toThrow(RangeError);
  });

  it('replaces the file atomically: a new inode via rename, no temp file left', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    p.advance('c', { timestamp: T1, seq: 0 });
    await p.flush();
    const before = fsSync.statSync(path.join(dir, POSITIONS_FILE)).ino;
    const renames = vi.spyOn(fs, 'rename');
    p.advance('c', { timestamp: T2, seq: 0 });
    await p.flush();
    expect(renames).toHaveBeenCalledTimes(1);
    expect(renames.mock.calls[0]![1]).toBe(path.join(dir, POSITIONS_FILE));
    expect(fsSync.statSync(path.join(dir, POSITIONS_FILE)).ino).not.toBe(before);
    expect(fsSync.readdirSync(dir)).toEqual([POSITIONS_FILE]);
  });

  it('ignores and removes a temp file left by a crash mid-write', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    p.advance('c', { timestamp: T1, seq: 0 });
    await p.flush();
    fsSync.writeFileSync(path.join(dir, `${POSITIONS_FILE}.tmp-4242`), '{"version":1,"positions":{"c":');
    const again = await PositionStore.open(dir);
    expect(again.get('c')).toEqual({ timestamp: T1, seq: 0 });
    expect(fsSync.readdirSync(dir)).toEqual([POSITIONS_FILE]);
  });

  it('coalesces concurrent flushes into the one in flight plus one more', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    const renames = vi.spyOn(fs, 'rename');
    p.advance('c', { timestamp: T1, seq: 0 });
    const first = p.flush();
    p.advance('c', { timestamp: T1, seq: 1 });
    const rest = [p.flush(), p.flush(), p.flush()];
    p.advance('c', { timestamp: T2, seq: 0 }); // still covered by the queued write
    rest.push(p.flush());
    await Promise.all([first, ...rest]);
    expect(renames).toHaveBeenCalledTimes(2);
    expect(await read(dir)).toMatchObject({ positions: { c: { timestamp: T2, seq: 0 } } });
  });

  it('reports a failed write and writes again on the next flush', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    p.advance('c', { timestamp: T1, seq: 0 });
    // A non-empty directory where the file should go makes the rename fail (even for root).
    fsSync.mkdirSync(path.join(dir, POSITIONS_FILE, 'x'), { recursive: true });
    await expect(p.flush()).rejects.toThrow();
    fsSync.rmSync(path.join(dir, POSITIONS_FILE), { recursive: true });
    await p.flush();
    expect(await read(dir)).toMatchObject({ positions: { c: { timestamp: T1, seq: 0 } } });
  });

  it('forgets a removed source', async () => {
    const dir = await tempDir('lw-pos-');
    const p = await PositionStore.open(dir);
    p.advance('a', { timestamp: T1, seq: 0 });
    p.advance('b', { timestamp: T1, seq: 0 });
    await p.flush();
    p.remove('a');
    await p.flush();
    const again = await PositionStore.open(dir);
    expect(again.keys()).toEqual(['b']);
  });

  it.each([
    ['not JSON', '{"version":1,"positions":{'],
    ['an array', '[]'],
    ['no version', '{"positions":{}}'],
    ['a bad entry', '{"version":1,"positions":{"c":{"timestamp":"yesterday","seq":0}}}'],
    ['a negative seq', `{"version":1,"positions":{"c":{"timestamp":"${T1}","seq":-1}}}`],
    ['empty', ''],
  ])('moves a corrupt file (%s) aside, warns, and starts empty', async (_what, text) => {
    const dir = await tempDir('lw-pos-');
    fsSync.writeFileSync(path.join(dir, POSITIONS_FILE), text);
    const warn = vi.fn();
    const p = await PositionStore.open(dir, {
      log: { warn },
      now: () => new Date('2024-05-01T12:00:00.000Z'),
    });
    expect(p.keys()).toEqual([]);
    const aside = path.join(dir, `${POSITIONS_FILE}.corrupt-2024-05-01T12-00-00-000Z`);
    expect(p.recoveredFrom).toBe(aside);
    expect(fsSync.readFileSync(aside, 'utf8')).toBe(text);
    expect(fsSync.existsSync(path.join(dir, POSITIONS_FILE))).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/corrupt.*re-read/);
    // It works normally from there on.
    p.advance('c', { timestamp: T1, seq: 0 });
    await p.flush();
    expect((await PositionStore.open(dir)).get('c')).toEqual({ timestamp: T1, seq: 0 });
  });

  it('refuses to start on a file from a newer logwharf', async () => {
    const dir = await tempDir('lw-pos-');
    fsSync.writeFileSync(path.join(dir, POSITIONS_FILE), '{"version":2,"positions":{}}');
    const err = await PositionStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogwharfError);
    expect((err as Error).message).toMatch(/version 2.*newer logwharf/);
    expect(fsSync.existsSync(path.join(dir, POSITIONS_FILE))).toBe(true);
  });
});
