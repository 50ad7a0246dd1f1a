/**
 * Restarting the real Docker engine, for the fault suite: stop dockerd (SIGTERM), wait for it
 * to exit, start it again detached with the same command line, environment and log file,
 * optionally with `--live-restore`, and wait until it answers.
 *
 * Only a dockerd this process may manage is touched: found through its pid file, run as root,
 * on the default socket, and not under systemd (whose unit would fight us, or restart it with
 * its own arguments). `findRestartableDockerd()` says why not otherwise, and what to do.
 *
 * Other test runs on the same engine see it go away for a few seconds (and, with live-restore
 * off, their containers stopped): restarts are kept as short as they can be.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { DOCKERD_LOG } from '../../scripts/services/docker.js';
import { engineAddress, pingEngine, waitForEngine } from '../../scripts/services/lib/engine.js';
import { isRoot } from '../../scripts/services/lib/host.js';
import { dockerClient } from './docker.js';
import { waitFor } from './poll.js';

export const DEFAULT_PID_FILE = '/var/run/docker.pid';
const DAEMON_JSON = '/etc/docker/daemon.json';

/** What is needed to start the same dockerd again. */
export interface DockerdProcess {
  pid: number;
  /** argv[0] is the executable. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Where its stdout and stderr go (appended). */
  logPath: string;
  pidFile: string;
}

export type Restartable = { ok: true; dockerd: DockerdProcess } | { ok: false; reason: string };

/** How to give the fault suite a dockerd it can restart; part of every refusal. */
export const RESTARTABLE_REMEDY =
  'the dockerd restart scenarios need a dockerd they may stop and start: run them as root with dockerd ' +
  'started by `npm run services` (detached, pid file /var/run/docker.pid, no DOCKER_HOST), as CI does. ' +
  'With a systemd-managed Docker: `sudo systemctl stop docker.socket docker.service && sudo npm run services`, ' +
  'then run the fault suite as root.';

/** Pure: the arguments with `--live-restore` on or off (any spelling of it removed first). */
export function withLiveRestore(args: readonly string[], on: boolean): string[] {
  const rest = args.filter((a) => a !== '--live-restore' && !a.startsWith('--live-restore='));
  return on ? [...rest, '--live-restore'] : rest;
}

/** Pure: the pid file a dockerd command line names (`-p`, `--pidfile`), else the default. */
export function pidFileOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-p' || a === '--pidfile') && args[i + 1]) return args[i + 1]!;
    if (a.startsWith('--pidfile=')) return a.slice('--pidfile='.length);
  }
  return DEFAULT_PID_FILE;
}

/** Pure: whether /proc/<pid>/cgroup puts the process in a systemd unit (docker.service, ...). */
export function systemdUnitOf(cgroup: string): string | undefined {
  return /\/([A-Za-z0-9@._-]+\.service)(\/|$)/m.exec(cgroup)?.[1];
}

async function procText(pid: number, file: string): Promise<string> {
  return readFile(`/proc/${pid}/${file}`, 'utf8');
}

/** Reads how the running dockerd was started. */
export async function describeDockerd(pid: number): Promise<DockerdProcess> {
  const argv = (await procText(pid, 'cmdline')).split('\0').filter((a, i, all) => a || i < all.length - 1);
  const env: Record<string, string> = {};
  for (const kv of (await procText(pid, 'environ')).split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '/');
  const out = await readlink(`/proc/${pid}/fd/1`).catch(() => '');
  // Its log file if it writes to one; a terminal, pipe or /dev/null is no place to append to.
  const logPath =
    out.startsWith('/') && !out.startsWith('/dev/') ? out.replace(/ \(deleted\)$/, '') : DOCKERD_LOG;
  return { pid, argv, env, cwd, logPath, pidFile: pidFileOf(argv.slice(1)) };
}

/** The pid in the pid file, if that process is alive and is a dockerd. */
async function dockerdFromPidFile(pidFile: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const comm = await procText(pid, 'comm').catch(() => '');
  return comm.trim() === 'dockerd' && (await alive(pid)) ? pid : undefined;
}

/** The dockerd this test may restart, or why there is none. */
export async function findRestartableDockerd(): Promise<Restartable> {
  const address = engineAddress();
  if (address.fromEnv)
    return { ok: false, reason: `DOCKER_HOST is ${address.dockerHost}, not the local default socket` };
  if (!isRoot())
    return { ok: false, reason: 'not running as root (stopping and starting dockerd needs root)' };
  const pid = await dockerdFromPidFile(DEFAULT_PID_FILE);
  if (pid === undefined) return { ok: false, reason: `no running dockerd in ${DEFAULT_PID_FILE}` };
  const unit = systemdUnitOf(await procText(pid, 'cgroup').catch(() => ''));
  if (unit) return { ok: false, reason: `dockerd (pid ${pid}) is managed by systemd (${unit})` };
  const dockerd = await describeDockerd(pid);
  const configFile = configFileOf(dockerd.argv.slice(1));
  const config = await readFile(configFile, 'utf8').catch(() => '');
  if (/"live-restore"\s*:/.test(config))
    return { ok: false, reason: `${configFile} sets live-restore, which the test turns on and off itself` };
  return { ok: true, dockerd };
}

function configFileOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config-file' && args[i + 1]) return args[i + 1]!;
    if (a.startsWith('--config-file=')) return a.slice('--config-file='.length);
  }
  return DAEMON_JSON;
}

/** Alive and not a zombie (a dockerd this process started is its child until reaped). */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await procText(pid, 'stat').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
}

/** SIGTERM, then waits until it has exited (it stops containers first when live-restore is off). */
export async function stopDockerd(d: DockerdProcess, timeoutMs = 120_000): Promise<void> {
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw err;
  }
  await waitFor(async () => !(await alive(d.pid)), {
    timeoutMs,
    intervalMs: 100,
    what: `dockerd (pid ${d.pid}) to exit after SIGTERM`,
  });
}

/**
 * Starts dockerd detached (own session, so the test's end does not reach it) with `d`'s
 * executable, environment, working directory and log file, and `args`; waits until the engine
 * answers `_ping`. Not `spawnDetached` of scripts/services: it would give dockerd the test
 * process's environment instead of the one it was started with.
 */
export async function startDockerd(
  d: DockerdProcess,
  args: string[],
  timeoutMs = 90_000,
): Promise<DockerdProcess> {
  const fd = openSync(d.logPath, 'a');
  const died = new AbortController();
  let pid: number | undefined;
  try {
    const child = spawn(d.argv[0]!, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: d.env,
      cwd: d.cwd,
    });
    child.once('error', (err) => died.abort(new Error(`${d.argv[0]} could not be started: ${err.message}`)));
    child.once('exit', (code, signal) =>
      died.abort(
        new Error(`dockerd exited (${signal ?? `code ${code}`}) before it answered; see ${d.logPath}`),
      ),
    );
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new Error(`${d.argv[0]} could not be started`);
  const address = engineAddress();
  await waitForEngine(address, {
    timeoutMs,
    intervalMs: 100,
    what: `dockerd (pid ${pid}) to answer at ${address.dockerHost}`,
    signal: died.signal,
  });
  return { ...d, pid, argv: [d.argv[0]!, ...args] };
}

/** Stops the dockerd `d` and starts it again, with live-restore as asked; returns the new one and the downtime. */
export async function restartDockerd(
  d: DockerdProcess,
  opts: { liveRestore: boolean },
): Promise<{ dockerd: DockerdProcess; downMs: number }> {
  const stoppingAt = Date.now();
  await stopDockerd(d);
  const dockerd = await startDockerd(d, withLiveRestore(d.argv.slice(1), opts.liveRestore));
  return { dockerd, downMs: Date.now() - stoppingAt };
}

/**
 * Makes sure dockerd runs as `original` did (same arguments: live-restore back off): restarts
 * whatever dockerd runs with other arguments, starts one if none runs. For afterAll.
 */
export async function restoreDockerd(original: DockerdProcess): Promise<void> {
  const pid = await dockerdFromPidFile(original.pidFile);
  if (pid !== undefined) {
    const now = await describeDockerd(pid);
    if (now.argv.join('\0') === original.argv.join('\0') && (await pingEngine(engineAddress())).ok) return;
    await stopDockerd(now);
  }
  await startDockerd(original, original.argv.slice(1));
}

/** Whether the running engine has live-restore on (`docker info`). */
export async function liveRestoreEnabled(): Promise<boolean> {
  const info = (await dockerClient().info()) as { LiveRestoreEnabled?: boolean };
  return info.LiveRestoreEnabled === true;
}
