/** Running commands for the service scripts: captured (to inspect) or streamed (to watch). */
import { spawn } from 'node:child_process';

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with no stdin and captures its output. Rejects only if it cannot be started. */
export function capture(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
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
