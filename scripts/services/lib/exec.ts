/** Running commands for the service scripts: captured (to inspect) or streamed (to watch). */
import { spawn } from 'node:child_process';

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CaptureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command (SIGKILL) after this long; `timedOut` says so. */
  timeoutMs?: number;
}

export interface CapturedRun extends Captured {
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** Runs a command with no stdin and captures its output. Rejects only if it cannot be started. */
export function capture(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Captured> {
  return captureRun(cmd, args, { env });
}

/** `capture` with a working directory and a time limit, and how the command ended. */
export function captureRun(cmd: string, args: string[], opts: CaptureOptions = {}): Promise<CapturedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, signal, timedOut });
    });
  });
}

/**
 * Runs a command with no stdin, its output going to our stderr (stdout is kept for the
 * KEY=value lines that `npm run services` prints), and resolves with its exit code.
 */
export function stream(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', process.stderr, process.stderr],
      env: env ?? process.env,
    });
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}
