import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../src/checkpoint/data-dir-lock.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/** One `logwharf run` per data_dir; a file left by a process that is gone never blocks a start. */

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  if (dir) await removeTempDir(dir);
  dir = undefined;
});

/** A live process whose command line says logwharf, as `node bin/logwharf.js run` does. */
function fakeLogwharf(): Promise<number> {
  child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'logwharf'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child!.once('spawn', () => resolve(child!.pid!));
    child!.once('error', reject);
  });
}

describe('data_dir lock', () => {
  it('writes our pid, and release removes it', async () => {
    dir = await tempDir('lw-lock-');
    const lock = await lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    await lock.release();
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a data_dir another live logwharf holds, naming its pid and what to do', async () => {
    dir = await tempDir('lw-lock-');
    const pid = await fakeLogwharf();
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_STORE',
      message: expect.stringMatching(new RegExp(`another logwharf \\(pid ${pid}.*own data_dir`)),
    });
  });

  it('takes over a file left by a process that is gone, by itself, or by a reused pid', async () => {
    dir = await tempDir('lw-lock-');
    const file = join(dir, LOCK_FILE);
    // A pid far above pid_max's default: no such process.
    for (const stale of ['4194000', String(process.pid), 'garbage', '']) {
      writeFileSync(file, stale);
      const lock = await lockDataDir(dir);
      expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
      await lock.release();
    }
    // A live process that is not a logwharf (pid 1 of this machine or container).
    writeFileSync(file, '1\n');
    if (!readFileSync('/proc/1/cmdline', 'utf8').includes('logwharf')) {
      const lock = await lockDataDir(dir);
      await lock.release();
    }
  });

  it('does not remove a file another process has taken since', async () => {
    dir = await tempDir('lw-lock-');
    const lock = await lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), '4194001\n');
    await lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('4194001\n');
  });
});
