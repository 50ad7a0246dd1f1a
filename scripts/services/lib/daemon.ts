/** Starting a daemon that outlives the script which started it. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface Detached {
  pid: number | undefined;
  /** Aborted (with a reason naming the exit code or spawn error) if the daemon dies. */
  died: AbortSignal;
}

/**
 * Spawns `cmd` in its own session (so a Ctrl-C or the end of the script's process group does not
 * reach it), with stdout and stderr appended to `logPath`, and lets the script exit without it.
 */
export function spawnDetached(cmd: string, args: string[], logPath: string): Detached {
  const fd = openSync(logPath, 'a');
  const died = new AbortController();
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', (err) => died.abort(new Error(`${cmd} could not be started: ${err.message}`)));
    child.once('exit', (code, signal) =>
      died.abort(new Error(`${cmd} exited (${signal ?? `code ${code}`}) before it answered`)),
    );
    child.unref();
    return { pid: child.pid, died: died.signal };
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }
}

/** The pid in `pidFile`, if that process is alive and its command name is `comm`. */
export async function runningFromPidFile(pidFile: string, comm: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // Checking the name guards against a stale pid file whose pid now belongs to another process.
  const name = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return name.trim() === comm ? pid : undefined;
}

/** The last `lines` lines of a log file, for an error message. */
export async function tailFile(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch((err: Error) => `(cannot read ${path}: ${err.message})`);
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail || '(empty)';
}
