/**
 * Starting one Elasticsearch node from the cached distribution and waiting until it is healthy.
 * `npm run services` starts the shared node with it; test/helpers/es-node.ts starts (and
 * restarts) dedicated nodes with it.
 *
 * The launcher runs with `-d`: it starts the server JVM, waits until the node has started, writes
 * the server's pid to the pid file and exits (0, or non-zero with the reason on its stderr). The
 * server then runs on its own, in the session `spawn({ detached })` gave it, so neither the end
 * of the script nor a Ctrl-C in its terminal reaches it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { esLauncher } from './es-distribution.js';
import { describeProbe, isHealthy, probeElasticsearch } from './es-health.js';
import { waitFor } from './poll.js';
import { asUser } from './service-user.js';

export interface EsNodeLayout {
  /** The unpacked distribution (ES_HOME). */
  home: string;
  /** ES_PATH_CONF; the distribution's own config directory when undefined. */
  confDir?: string;
  dataDir: string;
  logsDir: string;
  pidFile: string;
  /** ES_TMPDIR; a fresh /tmp/elasticsearch-* per start when undefined. */
  tmpDir?: string;
  httpPort: number;
  /** The node-to-node port; 9300 (or the next free one up to 9399) when undefined. */
  transportPort?: number;
  /** Security on, HTTPS only; plain HTTP without users when undefined. */
  security?: EsSecurity;
}

/**
 * A secured node: users, API keys and tokens, and HTTPS. Transport TLS stays off, which ES
 * allows only for single-node discovery (what every node here uses).
 */
export interface EsSecurity {
  /** PEM files, relative to the config directory: ES reads no TLS file outside it. */
  certificate: string;
  key: string;
  certificateAuthorities: string;
  /** Who the health wait asks as (a file-realm user the caller created), and the CA (PEM text) it trusts. */
  probe: { username: string; password: string; ca: string };
}

export interface LaunchOptions extends EsNodeLayout {
  javaHome: string;
  /** Run as this user (the caller is root); as the caller when undefined. */
  user?: string;
  heapMb?: number;
  timeoutMs?: number;
  log: (line: string) => void;
}

/** ES's own log, named after the cluster (the default `elasticsearch`). */
export function serverLog(logsDir: string): string {
  return join(logsDir, 'elasticsearch.log');
}

/** The launcher's stdout and stderr, of the latest start: start-up errors (bad Java, a taken port) land here. */
export function launcherLog(logsDir: string): string {
  return join(logsDir, 'launcher.out');
}

export function esUrlFor(httpPort: number, https = false): string {
  return `${https ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
}

/**
 * Pure: what of an Elasticsearch log explains a failure, for an error message. The Java stack
 * frames go (a failure's last 30 lines are often nothing else); its ERROR entries with their
 * causes are kept even when they are older than the last `tailLines` lines, which follow them.
 */
export function logExcerpt(text: string, tailLines = 15): string {
  const lines = text
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s+(at |\.\.\. \d+ more|Suppressed: )/.test(line))
    .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line));
  // The tail starts at the beginning of a log entry, not amid an exception's lines.
  let tailStart = Math.max(0, lines.length - tailLines);
  while (tailStart > 0 && !lines[tailStart]!.startsWith('[')) tailStart--;
  const older: string[] = [];
  lines.forEach((line, i) => {
    if (i >= tailStart || !/^\[[^\]]+\]\[(ERROR|FATAL)/.test(line)) return;
    older.push(line);
    // The exception and its "Caused by:" lines, up to the next log entry.
    for (let j = i + 1; j < tailStart && !lines[j]!.startsWith('['); j++) older.push(lines[j]!);
  });
  const tail = lines.slice(tailStart);
  const excerpt = older.length > 0 ? [...older.slice(-12), '[…]', ...tail] : tail;
  return excerpt.join('\n') || '(empty)';
}

/** `logExcerpt` of a file from byte `from` on (what one start wrote), or why it cannot be read. */
export async function readLogExcerpt(path: string, tailLines?: number, from = 0): Promise<string> {
  const bytes = await readFile(path).catch((err: Error) => `(cannot read ${path}: ${err.message})`);
  if (typeof bytes === 'string') return bytes;
  // A log rotated since is shorter than the offset: then all of it is new.
  return logExcerpt(bytes.subarray(from <= bytes.length ? from : 0).toString('utf8'), tailLines);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Pure: the launcher's command line for a node, its environment set through `env`. */
export function esCommand(o: Omit<LaunchOptions, 'log' | 'timeoutMs'>): { cmd: string; args: string[] } {
  const heap = o.heapMb ?? 512;
  const env: Record<string, string> = {
    ES_JAVA_HOME: o.javaHome,
    ES_JAVA_OPTS: `-Xms${heap}m -Xmx${heap}m`,
    ...(o.confDir && { ES_PATH_CONF: o.confDir }),
    ...(o.tmpDir && { ES_TMPDIR: o.tmpDir }),
  };
  const settings: Record<string, string | number> = {
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': o.httpPort,
    ...(o.transportPort !== undefined && { 'transport.port': o.transportPort }),
    'path.data': o.dataDir,
    'path.logs': o.logsDir,
    ...(o.security
      ? {
          'xpack.security.enabled': 'true',
          'xpack.security.http.ssl.enabled': 'true',
          'xpack.security.http.ssl.certificate': o.security.certificate,
          'xpack.security.http.ssl.key': o.security.key,
          'xpack.security.http.ssl.certificate_authorities': o.security.certificateAuthorities,
          'xpack.security.transport.ssl.enabled': 'false',
          'xpack.security.authc.api_key.enabled': 'true',
          // The token service refuses to start without HTTPS, which is on, and needs more than
          // the basic licence ("non-compliant for [security tokens]"): a 30-day trial has it.
          'xpack.security.authc.token.enabled': 'true',
          'xpack.license.self_generated.type': 'trial',
        }
      : {
          // Plain HTTP without users: a test node on loopback, never a production one.
          'xpack.security.enabled': 'false',
        }),
    // A developer's disk more than 90 % full would otherwise leave new indices unassigned (red).
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    // Tests remove their own indices by prefix (`lwtest-1a2b3c4d-*`), which ES 8 refuses by default.
    'action.destructive_requires_name': 'false',
  };
  const args = ['-d', '-p', o.pidFile, ...Object.entries(settings).flatMap(([k, v]) => ['-E', `${k}=${v}`])];
  return asUser(o.user, esLauncher(o.home), args, env);
}

/** The pid in a node's pid file, if the file holds one. */
export async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Whether `pid` runs. A zombie counts as gone: the server outlives the launcher that started
 * it, and in a container nobody may reap it once it exits.
 */
export async function processAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  // "pid (comm) S ...": the state follows the last ')', since comm may contain one.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Starts a node and resolves with its server pid once it reports yellow or green. On failure
 * (launcher error, server exit, timeout) it rejects with the tails of the launcher's and the
 * server's logs; a server still running then is left to the caller.
 */
export async function launchElasticsearch(o: LaunchOptions): Promise<number> {
  const { timeoutMs = 120_000 } = o;
  const url = esUrlFor(o.httpPort, o.security !== undefined);
  const { cmd, args } = esCommand(o);
  // A secured node answers health only to a user, and only over https with our CA.
  const probeUrl = new URL(url);
  if (o.security) {
    probeUrl.username = encodeURIComponent(o.security.probe.username);
    probeUrl.password = encodeURIComponent(o.security.probe.password);
  }
  const probeOpts = o.security ? { ca: o.security.probe.ca } : {};
  const outPath = launcherLog(o.logsDir);
  const failed = new AbortController();
  // ES appends to its log across starts: an error message shows only what this start wrote.
  const serverLogStart = fileSize(serverLog(o.logsDir));
  const fd = openSync(outPath, 'w');
  let launcherDone = false;
  try {
    // JAVA_HOME and the like only make the launcher print warnings: it uses ES_JAVA_HOME.
    const { JAVA_HOME: _h, JAVA_TOOL_OPTIONS: _t, _JAVA_OPTIONS: _o, JAVA_OPTS: _j, ...env } = process.env;
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.once('error', (err) => failed.abort(new Error(`${cmd} could not be started: ${err.message}`)));
    child.once('exit', (code, signal) => {
      launcherDone = true;
      if (code !== 0) {
        failed.abort(
          new Error(
            `the Elasticsearch launcher exited (${signal ?? `code ${code}`}) before the node started`,
          ),
        );
      }
    });
    child.unref();
    o.log(`elasticsearch: starting a node on ${url} (pid file ${o.pidFile}; logs in ${o.logsDir})`);
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  try {
    await waitFor(
      async () => {
        const probe = await probeElasticsearch(probeUrl.href, 2000, probeOpts);
        if (isHealthy(probe)) return true;
        if (launcherDone) {
          const pid = await readPid(o.pidFile);
          if (pid === undefined || !(await processAlive(pid))) {
            failed.abort(new Error('the Elasticsearch server exited after it had started'));
          }
        }
        throw new Error(describeProbe(probe));
      },
      {
        timeoutMs,
        intervalMs: 250,
        what: `Elasticsearch at ${url} to report yellow or green`,
        signal: failed.signal,
      },
    );
  } catch (err) {
    const [launcher, server] = await Promise.all([
      readLogExcerpt(outPath, 5),
      readLogExcerpt(serverLog(o.logsDir), 10, serverLogStart),
    ]);
    throw new Error(
      `elasticsearch: ${err instanceof Error ? err.message : err}\n` +
        `--- from ${outPath} ---\n${launcher}\n--- from ${serverLog(o.logsDir)} ---\n${server}`,
    );
  }
  const pid = await readPid(o.pidFile);
  if (pid === undefined)
    throw new Error(`elasticsearch: the node answers at ${url} but wrote no pid to ${o.pidFile}`);
  return pid;
}
