/**
 * Another process holding an exclusive SQLite write lock on a database file, the way a second
 * writer (a backup tool, a stray `sqlite3` shell, a second logwharf) would: `node -e` with
 * better-sqlite3 and `BEGIN EXCLUSIVE`. In WAL mode readers go on; every writer waits out its
 * busy_timeout and then gets SQLITE_BUSY, until the lock is released.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './poll.js';

const ROOT = join(import.meta.dirname, '..', '..');

// CommonJS (`node -e`), run from the repository so `better-sqlite3` resolves from its node_modules.
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { fileMustExist: true });
db.pragma('busy_timeout = 60000');
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => {
  db.exec('ROLLBACK');
  db.close();
  process.stdout.write('released\\n');
  process.exit(0);
});
`;

export interface SqliteLock {
  /** When the lock was taken (ms since the epoch). */
  readonly lockedAt: number;
  /** Rolls back, closes and waits for the holder to exit. Idempotent. */
  release(): Promise<void>;
}

/** Takes the lock in a child process and resolves once it holds it. */
export async function holdExclusiveLock(file: string): Promise<SqliteLock> {
  const child = spawn(process.execPath, ['-e', HOLDER, file], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = new AbortController();
  child.once('exit', (code) => died.abort(new Error(`the lock holder exited (${code}):\n${out}`)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await waitFor(() => out.includes('locked\n'), {
      timeoutMs: 70_000,
      intervalMs: 50,
      what: `an exclusive lock on ${file}`,
      signal: died.signal,
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const lockedAt = Date.now();
  let releasing: Promise<void> | undefined;
  return {
    lockedAt,
    release() {
      releasing ??= (async () => {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        process.removeListener('exit', killOnExit);
      })();
      return releasing;
    },
  };
}
