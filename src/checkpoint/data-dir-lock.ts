import fs from 'node:fs/promises';
import path from 'node:path';
import { LogwharfError } from '../core/errors.js';

/**
 * One `logwharf run` per data_dir. Two would both append to the disk buffers, overwrite each
 * other's positions.json and write the same day files: lines doubled or skipped, buffers
 * corrupted. `<data_dir>/logwharf.pid` holds the owner's pid, created exclusively.
 *
 * A file left by a process that is gone (SIGKILL, a crash, a power loss) must not stop the
 * next start, so a file is taken over when its pid is not alive, is our own (a container
 * restarted: logwharf is often pid 1 again), or is a live process that is not a logwharf
 * (a reused pid; told by /proc/<pid>/cmdline where there is one). The check and the takeover
 * are not atomic: two logwharf starting in the same instant over a stale file could both
 * proceed; that race needs an operator to start two at once on one directory.
 */
export const LOCK_FILE = 'logwharf.pid';

export interface DataDirLock {
  /** Removes the file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return ownLock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LogwharfError('LOGWHARF_ERR_STORE', `${file}: cannot create: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    const owner = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && (await isLogwharf(owner))) {
      throw new LogwharfError(
        'LOGWHARF_ERR_STORE',
        `${dataDir} is in use by another logwharf (pid ${owner}, see ${file}): stop it, or give this one its own data_dir`,
      );
    }
    // Left by a process that is gone: take it over.
    await fs.rm(file, { force: true });
  }
  throw new LogwharfError(
    'LOGWHARF_ERR_STORE',
    `${file}: could not take the lock (another start at the same time?)`,
  );
}

function ownLock(file: string): DataDirLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const owner = await fs.readFile(file, 'utf8').catch(() => '');
      if (Number.parseInt(owner, 10) === process.pid) await fs.rm(file, { force: true });
    },
  };
}

/** Whether `pid` is a live process that looks like logwharf (any live process where /proc is missing). */
async function isLogwharf(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but another user's; ESRCH: gone.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return cmdline.includes('logwharf');
}
