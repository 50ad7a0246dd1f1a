import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from './api-client.js';
import { waitFor } from './poll.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'logwharf.js');

/**
 * `logwharf run` as a real child process, as a user starts it: the built CLI entry, a config
 * file, its own log on stdout (JSON lines, kept for failure messages).
 */
export class LogwharfProcess {
  readonly output: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  /** The HTTP API, once started. */
  api = new ApiClient('');

  constructor(
    readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  static writeConfig(dir: string, yaml: string): string {
    const file = join(dir, 'logwharf.yaml');
    writeFileSync(file, yaml);
    return file;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'run', '--config', this.configFile], {
      env: { ...process.env, LOGWHARF_LOG_LEVEL: 'debug', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let address = '';
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.output.push(line);
        if (this.output.length > 5000) this.output.shift();
        if (!address && line.includes('HTTP API listening')) {
          try {
            address = JSON.parse(line).address ?? '';
          } catch {
            // not a JSON log line
          }
        }
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`logwharf exited with ${child.exitCode}:\n${this.tail()}`);
        return address;
      },
      { timeoutMs: 30_000, what: 'logwharf to listen' },
    );
    this.api = new ApiClient(address);
    await waitFor(async () => (await fetch(`${address}/readyz`).catch(() => null))?.ok, {
      timeoutMs: 30_000,
      what: 'logwharf /readyz',
    });
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return (await this.exited) ?? null;
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}
