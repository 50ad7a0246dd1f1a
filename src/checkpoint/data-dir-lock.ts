import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LogwharfError } from '../core/errors.js';

/**
 * One `logwharf run` per data_dir. Two would both append to the disk buffers, overwrite each
 * other's positions.json and write the same day files: lines doubled or skipped, buffers
 * corrupted.
 *
 * The lock is one the kernel holds: `<data_dir>/logwharf.lock` is a SQLite database on which
 * this process keeps a write transaction open (`BEGIN IMMEDIATE`, SQLite's RESERVED lock: a
 * POSIX fcntl() lock on the file) for as long as it runs. The kernel drops it when the process
 * ends, however it ends (SIGKILL, a crash, OOM), and it is seen by every process on the same
 * kernel, whatever its pid namespace: two containers sharing one volume, both pid 1, conflict as
 * they should (a pid file could not tell them apart). Another start gets SQLITE_BUSY at once
 * (busy timeout 0) and refuses. Readers (`logwharf query`) never touch this file.
 *
 * Why SQLite and not a pid file, flock(2) or a native addon: Node has no flock/fcntl; a pid file
 * needs a liveness check that pid namespaces defeat; an addon needs a compiler in the image.
 * better-sqlite3 is already a dependency and SQLite's unix VFS does the fcntl locking, including
 * between two connections of one process (it tracks locks per inode), so a second lock taken in
 * the same process is refused too.
 *
 * Two rules follow from fcntl locks belonging to a process, not to a file descriptor:
 * - Nothing else in this process may open `logwharf.lock` (no fs.readFile, no copy by an
 *   in-process backup): closing any descriptor of the file drops the process's lock on it.
 * - The lock is per host kernel. Two machines sharing data_dir over a network filesystem are
 *   only kept apart if that filesystem implements fcntl locks across clients (NFSv4 does;
 *   many FUSE filesystems do not).
 *
 * `<data_dir>/logwharf.holder` records who holds the lock (host name, pid, since when), written
 * after the lock is taken, for the refusal message and for operators. It is information only,
 * never the lock: a holder killed with SIGKILL leaves it behind, and the next start overwrites it.
 */
export const LOCK_FILE = 'logwharf.lock';
export const HOLDER_FILE = 'logwharf.holder';

export interface DataDirLock {
  /** Removes the holder file and releases the lock. Idempotent. */
  release(): Promise<void>;
}

/** Who holds a data_dir, as recorded in HOLDER_FILE. */
export interface Holder {
  host: string;
  pid: number;
  /** When it took the lock (RFC 3339). */
  since: string;
}

/**
 * Takes the data_dir lock, or throws LOGWHARF_ERR_STORE at once: naming the holder when another
 * logwharf has it, or what went wrong when the lock file cannot be used.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new LogwharfError(
      'LOGWHARF_ERR_STORE',
      `${file}: cannot open the data_dir lock (${errorText(err)}): check that data_dir is writable by logwharf`,
      { cause: err },
    );
  }
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      const holder = await readHolder(dataDir);
      throw new LogwharfError('LOGWHARF_ERR_STORE', inUseMessage(dataDir, holder), { cause: err });
    }
    throw new LogwharfError(
      'LOGWHARF_ERR_STORE',
      `${file}: cannot take the data_dir lock (${errorText(err)}): data_dir must be writable by logwharf and ` +
        `on a filesystem with POSIX (fcntl) locks; if the file is damaged, remove it while no logwharf runs on ${dataDir}`,
      { cause: err },
    );
  }
  const holderFile = path.join(dataDir, HOLDER_FILE);
  const holder: Holder = { host: os.hostname(), pid: process.pid, since: new Date().toISOString() };
  // Information only: a data_dir where this small file cannot be written fails soon enough at
  // the store, with its own message; the lock itself is already held.
  await writeAtomically(holderFile, `${JSON.stringify(holder)}\n`).catch(() => {});
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // Removed while the lock is still ours, so it is never another holder's record.
      await fs.rm(holderFile, { force: true }).catch(() => {});
      db.close();
    },
  };
}

/** The refusal: which data_dir, who holds it (as recorded), and what to do. */
export function inUseMessage(dataDir: string, holder: Holder | null): string {
  const who = holder
    ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}`
    : `its host and pid are not recorded in ${HOLDER_FILE}`;
  return (
    `${dataDir} is in use by another logwharf run (${who}): two on one data_dir would corrupt ` +
    `each other's buffers and positions. Stop that one, or give this one its own data_dir. ` +
    `The lock (${path.join(dataDir, LOCK_FILE)}) is held by the kernel and ends with that process`
  );
}

/** The recorded holder, or null when there is no record or it does not parse. */
export async function readHolder(dataDir: string): Promise<Holder | null> {
  try {
    const h = JSON.parse(await fs.readFile(path.join(dataDir, HOLDER_FILE), 'utf8')) as Partial<Holder>;
    if (typeof h.host === 'string' && Number.isSafeInteger(h.pid) && typeof h.since === 'string') {
      return { host: h.host, pid: h.pid as number, since: h.since };
    }
  } catch {
    // No record (never written, or removed at release) or a torn one: information only.
  }
  return null;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function errorText(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
