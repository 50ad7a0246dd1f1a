import fs from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PositionSaver } from '../../src/checkpoint/position-saver.js';
import { POSITIONS_FILE, PositionStore } from '../../src/checkpoint/positions.js';
import { Health } from '../../src/core/health.js';
import { fileHandlePrototype } from '../helpers/file-handles.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Positions that cannot be saved (a full disk): the failure is counted and shown, the save is
 * tried again by itself (the sources may be paused, so no next batch would bring a retry), no
 * temp file is left holding the space, and once the disk has room the newest positions land.
 */

const T1 = '2024-05-01T12:00:00.000000001Z';
const T2 = '2024-05-01T12:00:00.000000002Z';
const dirs: string[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

describe('PositionSaver', () => {
  it('retries a save that fails with ENOSPC until it works, showing it as failing meanwhile', async () => {
    const dir = await tempDir('lw-pos-saver-');
    dirs.push(dir);
    const positions = await PositionStore.open(dir);
    const health = new Health();
    const saver = new PositionSaver(positions, health, pino({ level: 'silent' }));
    const proto = await fileHandlePrototype(dir);
    const realWriteFile = proto.writeFile;
    let full = true;
    vi.spyOn(proto, 'writeFile').mockImplementation(async function (this: fs.FileHandle, ...args: unknown[]) {
      if (full) {
        await (realWriteFile as (...a: unknown[]) => Promise<void>).call(this, '{"half":'); // part reached the disk
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return (realWriteFile as (...a: unknown[]) => Promise<void>).apply(this, args);
    } as typeof realWriteFile);

    positions.advance('c1', { timestamp: T1, seq: 0 });
    saver.save();
    await waitFor(() => health.errors()[0]?.count === 2, {
      timeoutMs: 10_000,
      what: 'a retry without a new batch',
    });
    expect(health.failing()).toMatchObject([{ component: 'positions', op: 'save', code: 'ENOSPC' }]);
    // No half-written temp file holds on to the space.
    expect((await fs.readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    positions.advance('c1', { timestamp: T2, seq: 0 });

    full = false;
    await waitFor(() => health.failing().length === 0, { timeoutMs: 10_000, what: 'saved again' });
    const saved = JSON.parse(await fs.readFile(path.join(dir, POSITIONS_FILE), 'utf8'));
    expect(saved.positions.c1).toMatchObject({ timestamp: T2, seq: 0 });
    expect(await fs.readdir(dir)).toEqual([POSITIONS_FILE]);
    await saver.close();
  });

  it('stops retrying at close, which makes the last save and says if it failed', async () => {
    const dir = await tempDir('lw-pos-saver-');
    dirs.push(dir);
    const positions = await PositionStore.open(dir);
    const saver = new PositionSaver(positions, new Health(), pino({ level: 'silent' }));
    const proto = await fileHandlePrototype(dir);
    vi.spyOn(proto, 'sync').mockRejectedValue(
      Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }),
    );
    positions.advance('c1', { timestamp: T1, seq: 0 });
    saver.save();
    await expect(saver.close()).rejects.toMatchObject({ code: 'EIO' });
    vi.restoreAllMocks();
    expect((await fs.readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
