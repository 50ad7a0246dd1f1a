import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HOLDER_FILE,
  inUseMessage,
  LOCK_FILE,
  lockDataDir,
  readHolder,
} from '../../src/checkpoint/data-dir-lock.js';
import { waitFor } from '../helpers/poll.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * One `logwharf run` per data_dir, by a lock the kernel holds: refused at once while another
 * process (or this one) holds it, free again as soon as the holder is gone, SIGKILL included.
 * Two processes in separate PID namespaces: test/integration/data-dir-lock.test.ts.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const MODULE = join(ROOT, 'src', 'checkpoint', 'data-dir-lock.ts');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Another process that takes the lock with this module and keeps it until killed. */
async function holdInChild(dir: string): Promise<ChildProcess> {
  const code = `const { lockDataDir } = await import(${JSON.stringify(MODULE)});
await lockDataDir(${JSON.stringify(dir)});
process.stdout.write('locked\\n');
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c;
  });
  await waitFor(() => out.includes('locked') || child.exitCode !== null, {
    timeoutMs: 20_000,
    what: 'the child to take the lock',
  });
  if (!out.includes('locked')) throw new Error(`the child did not take the lock:\n${out}`);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('data_dir lock', () => {
  it('records the holder while held; release removes the record and frees the lock', async () => {
    const dir = await tempDir('lw-lock-');
    const before = Date.now();
    const lock = await lockDataDir(join(dir, 'data'));
    const holder = await readHolder(join(dir, 'data'));
    expect(holder).toMatchObject({ host: hostname(), pid: process.pid });
    expect(Date.parse(holder!.since)).toBeGreaterThanOrEqual(before - 1000);
    expect(existsSync(join(dir, 'data', LOCK_FILE))).toBe(true);

    await lock.release();
    await lock.release();
    expect(existsSync(join(dir, 'data', HOLDER_FILE))).toBe(false);
    const again = await lockDataDir(join(dir, 'data'));
    await again.release();
  });

  it('refuses a second lock in the same process, naming the holder and what to do', async () => {
    const dir = await tempDir('lw-lock-');
    const lock = await lockDataDir(dir);
    try {
      await expect(lockDataDir(dir)).rejects.toMatchObject({
        code: 'LOGWHARF_ERR_STORE',
        message: inUseMessage(dir, await readHolder(dir)),
      });
      // The refused attempt closed its own connection only: the first still holds the lock.
      await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'LOGWHARF_ERR_STORE' });
    } finally {
      await lock.release();
    }
  });

  it('refuses while another process holds it, and takes it once that one is killed with SIGKILL', async () => {
    const dir = await tempDir('lw-lock-');
    const child = await holdInChild(dir);
    const err = await lockDataDir(dir).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.message).toBe(
      `${dir} is in use by another logwharf run (pid ${child.pid} on host ${hostname()}, since ${(await readHolder(dir))!.since}): ` +
        "two on one data_dir would corrupt each other's buffers and positions. Stop that one, or give this one its own data_dir. " +
        `The lock (${join(dir, LOCK_FILE)}) is held by the kernel and ends with that process`,
    );
    expect(err?.code).toBe('LOGWHARF_ERR_STORE');

    child.kill('SIGKILL');
    await exited(child);
    // The holder file it left is information only: it does not stop the next start.
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(true);
    const lock = await lockDataDir(dir);
    expect(await readHolder(dir)).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('a pid file or holder record alone never blocks a start', async () => {
    const dir = await tempDir('lw-lock-');
    // What the earlier pid-file lock left behind, and a record naming a live process (ourselves).
    writeFileSync(join(dir, 'logwharf.pid'), '1\n');
    writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ host: hostname(), pid: process.pid, since: 'x' }));
    const lock = await lockDataDir(dir);
    await lock.release();
  });

  it('says the holder is not recorded when there is no readable record', async () => {
    expect(inUseMessage('/d', null)).toContain(`(its host and pid are not recorded in ${HOLDER_FILE})`);
    const dir = await tempDir('lw-lock-');
    writeFileSync(join(dir, HOLDER_FILE), '{"host":"a","pid":');
    expect(await readHolder(dir)).toBeNull();
    writeFileSync(join(dir, HOLDER_FILE), '{"host":"a","pid":"1","since":"t"}');
    expect(await readHolder(dir)).toBeNull();
  });

  it('reports a lock file that is not a SQLite database, with what to do', async () => {
    const dir = await tempDir('lw-lock-');
    writeFileSync(
      join(dir, LOCK_FILE),
      'this is not a database, but long enough to have a header'.repeat(10),
    );
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_STORE',
      message: expect.stringMatching(
        /logwharf\.lock: cannot take the data_dir lock \(SQLITE_NOTADB.*remove it while no logwharf runs/,
      ),
    });
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toContain('not a database');
  });

  it('reports a data_dir it cannot create the lock file in', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: a lock path that is a directory stands in for an unusable file.
      const dir = await tempDir('lw-lock-');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, LOCK_FILE));
      await expect(lockDataDir(dir)).rejects.toMatchObject({
        code: 'LOGWHARF_ERR_STORE',
        message: expect.stringContaining(`${join(dir, LOCK_FILE)}: cannot`),
      });
      return;
    }
    const dir = await tempDir('lw-lock-');
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o500);
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_STORE',
      message: expect.stringContaining('check that data_dir is writable by logwharf'),
    });
    chmodSync(dir, 0o700);
  });
});
