import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import split2 from 'split2';
import { ApiClient } from './api-client.js';
import { waitFor } from './poll.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'logwharf.js');

/** The syslog listeners' bound addresses, as `logwharf run` logs them ("127.0.0.1:40123"). */
export interface SyslogBound {
  udp?: string;
  tcp?: string;
  tls?: string;
}

export interface LogwharfProcessOptions {
  /**
   * A command line that runs logwharf for us, the logwharf command appended to it (e.g.
   * `unshare --pid --fork ...`). Signals (kill(), signal()) go to the first process of it.
   */
  wrap?: readonly string[];
}

/**
 * `logwharf run` as a real child process, as a user starts it: the built CLI entry, a config
 * file, its own log on stdout (JSON lines, kept for failure messages).
 *
 * The same object can be started again after it exited (`restart()`, or `kill()` then
 * `start()`): same config, same data_dir, the log of every run kept in `output`.
 */
export class LogwharfProcess {
  readonly output: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  /** Runs started so far (1 after the first start()). */
  starts = 0;
  /** The HTTP API, once started. */
  api = new ApiClient('');
  /** The syslog listeners of the current run, once started (empty when syslog is off). */
  syslog: SyslogBound = {};

  constructor(
    readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly opts: LogwharfProcessOptions = {},
  ) {}

  static writeConfig(dir: string, yaml: string): string {
    const file = join(dir, 'logwharf.yaml');
    writeFileSync(file, yaml);
    return file;
  }

  /** The pid of the running process, or undefined. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('logwharf: start() while it runs; kill() it first, or restart()');
    this.starts++;
    this.output.push(`--- logwharf run #${this.starts} ---`);
    const [command, ...args] = [
      ...(this.opts.wrap ?? []),
      process.execPath,
      BIN,
      'run',
      '--config',
      this.configFile,
    ];
    const child = spawn(command!, args, {
      env: { ...process.env, LOGWHARF_LOG_LEVEL: 'debug', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.syslog = {};
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    // A test process that ends without kill() (a crash, a forgotten afterAll) must not leave
    // a logwharf running: nothing else would ever stop it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    let address = '';
    // Whole lines: a pipe's chunks may cut a line (and a UTF-8 character) anywhere.
    const collect = (line: string) => {
      if (!line) return;
      this.output.push(line);
      if (this.output.length > 5000) this.output.shift();
      if (!address && line.includes('HTTP API listening')) {
        try {
          address = JSON.parse(line).address ?? '';
        } catch {
          // not a JSON log line
        }
      }
      if (line.includes('syslog receiver listening')) {
        try {
          const { udp, tcp, tls } = JSON.parse(line) as SyslogBound;
          this.syslog = { ...(udp && { udp }), ...(tcp && { tcp }), ...(tls && { tls }) };
        } catch {
          // not a JSON log line
        }
      }
    };
    const lines = [child.stdout!, child.stderr!].map((s) => s.pipe(split2()).on('data', collect));
    const allRead = Promise.all(lines.map((l) => once(l, 'end').catch(() => {})));
    // A start-up that fails (a bad config, a data_dir in use) fails the wait at once.
    const died = new AbortController();
    // 'close', then every line read: its last words (the error) are in the output by then.
    child.once('close', (code) => {
      void allRead.then(() => died.abort(new Error(`logwharf exited with ${code}:\n${this.tail()}`)));
    });
    await waitFor(() => address, { timeoutMs: 30_000, what: 'logwharf to listen', signal: died.signal });
    this.api = new ApiClient(address);
    // /readyz is open to probes: no token, whatever http.auth says.
    await waitFor(async () => (await fetch(`${address}/readyz`).catch(() => null))?.ok, {
      timeoutMs: 30_000,
      what: 'logwharf /readyz',
    });
  }

  /**
   * Sends a signal and waits for the process to exit; returns its exit code (null when a
   * signal ended it, as SIGKILL always does). A process that is not running is fine.
   */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (!this.child || !this.running) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return (await this.exited) ?? null;
  }

  /** Kills the running process with `signal` (default SIGKILL: a crash), then starts it again. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    await this.start();
  }

  /** Sends a signal without waiting (SIGHUP, or a SIGTERM whose stop the test watches). */
  signal(signal: NodeJS.Signals): void {
    if (!this.child || !this.running) throw new Error(`logwharf: ${signal} to a process that is not running`);
    this.child.kill(signal);
  }

  /** Waits for the process to exit (fails after `timeoutMs`); its exit code, null when a signal ended it. */
  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    if (!this.exited) throw new Error('logwharf: waitForExit() before start()');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`logwharf did not exit within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([this.exited, timeout])) ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}
