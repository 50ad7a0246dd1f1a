/**
 * The Docker engine, Docker Compose and a static busybox (the test image is built from it).
 *
 * Order: an engine that already answers (DOCKER_HOST, or the default socket) is used as it is.
 * Otherwise, as root on Debian/Ubuntu, the missing packages are installed and dockerd is started
 * detached, so it outlives this script. Anywhere else the error says what to provide. Deciding
 * (`planDocker`) is pure; acting on the plan is the thin shell around it.
 */
import { aptInstall } from './lib/apt.js';
import { findComposeCli } from './lib/compose-cli.js';
import { runningFromPidFile, spawnDetached, tailFile } from './lib/daemon.js';
import {
  type EngineAddress,
  engineAddress,
  engineUnreachableHead,
  engineUnreachableMessage,
  type PingResult,
  pingEngine,
  waitForEngine,
} from './lib/engine.js';
import {
  BUSYBOX_PATH,
  busyboxLinkage,
  type ElfLinkage,
  findExecutable,
  isRoot,
  osDescription,
} from './lib/host.js';
import type { Service, ServiceContext } from './service.js';

export const DOCKERD_LOG = '/var/log/logwharf-dockerd.log';
const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/usr/local/bin'];

export interface DockerFacts {
  address: EngineAddress;
  engine: PingResult;
  /** A dockerd executable is installed. */
  dockerd: boolean;
  /** `docker compose` or `docker-compose` is installed. */
  compose: boolean;
  busybox: ElfLinkage | 'missing';
  root: boolean;
  debianLike: boolean;
  /** e.g. "Debian GNU/Linux 12 (bookworm)", for messages. */
  os: string;
}

export interface DockerPlan {
  /** Debian packages to install, in one apt-get call. */
  install: string[];
  startDaemon: boolean;
  /** Non-empty: nothing is done, and every problem is reported at once. */
  problems: string[];
}

/** Pure: what to install and start, or why that cannot happen here. */
export function planDocker(f: DockerFacts): DockerPlan {
  const install: string[] = [];
  const problems: string[] = [];
  let startDaemon = false;
  const canInstall = f.root && f.debianLike;
  const whyNot = !f.root ? 'not running as root' : `${f.os} is not Debian or Ubuntu`;

  if (!f.engine.ok) {
    const head = engineUnreachableHead(f.address, f.engine.reason);
    if (f.address.fromEnv) {
      problems.push(engineUnreachableMessage(f.address, f.engine.reason));
    } else if (f.engine.reason === 'EACCES') {
      problems.push(
        `${head} — an engine may be running, but this user may not use its socket: ` +
          'add the user to the docker group (and log in again), run as root, or set DOCKER_HOST.',
      );
    } else if (f.dockerd && f.root) {
      startDaemon = true;
    } else if (f.dockerd) {
      problems.push(
        `${head} — dockerd is installed, but only root can start it: start Docker as root ` +
          '(`sudo npm run services`, `sudo dockerd`, `sudo service docker start`), or set DOCKER_HOST to an engine that answers.',
      );
    } else if (canInstall) {
      install.push('docker.io');
      startDaemon = true;
    } else {
      problems.push(
        `${head} — install Docker and start it, or set DOCKER_HOST to an engine that answers ` +
          `(it cannot be installed here: ${whyNot}).`,
      );
    }
  }
  if (!f.compose) {
    if (canInstall) install.push('docker-compose');
    else
      problems.push(
        'docker-compose: neither `docker compose` nor `docker-compose` is installed — install Docker Compose ' +
          `(Debian/Ubuntu: apt-get install docker-compose; it cannot be installed here: ${whyNot})`,
      );
  }
  if (f.busybox !== 'static') {
    if (canInstall) install.push('busybox-static');
    else {
      const state = f.busybox === 'missing' ? 'is missing' : 'is not a static executable';
      problems.push(
        `busybox-static: ${BUSYBOX_PATH} ${state}, and the test image is built from a static busybox — ` +
          `install it (Debian/Ubuntu: apt-get install busybox-static; it cannot be installed here: ${whyNot})`,
      );
    }
  }
  return problems.length > 0
    ? { install: [], startDaemon: false, problems }
    : { install, startDaemon, problems };
}

export async function dockerFacts(address: EngineAddress = engineAddress()): Promise<DockerFacts> {
  const [engine, dockerd, compose, busybox, os] = await Promise.all([
    pingEngine(address),
    findExecutable('dockerd', SBIN_DIRS),
    findComposeCli(),
    busyboxLinkage(),
    osDescription(),
  ]);
  return {
    address,
    engine,
    dockerd: dockerd !== undefined,
    compose: compose !== undefined,
    busybox,
    root: isRoot(),
    debianLike: os.debianLike,
    os: os.name,
  };
}

export interface StartDockerdOptions {
  address: EngineAddress;
  dockerd?: string;
  /** Extra dockerd arguments (none for the system engine; a test may start one on another socket). */
  args?: string[];
  logPath?: string;
  pidFile?: string;
  timeoutMs?: number;
  log: (line: string) => void;
}

/** Starts dockerd detached (unless one is already coming up) and waits until `_ping` answers. */
export async function startDockerd(opts: StartDockerdOptions): Promise<void> {
  const {
    address,
    args = [],
    logPath = DOCKERD_LOG,
    pidFile = '/var/run/docker.pid',
    timeoutMs = 60_000,
  } = opts;
  const dockerd = opts.dockerd ?? (await findExecutable('dockerd', SBIN_DIRS));
  if (!dockerd)
    throw new Error('docker: dockerd is not installed (Debian/Ubuntu: apt-get install docker.io)');
  let died: AbortSignal | undefined;
  const running = await runningFromPidFile(pidFile, 'dockerd');
  if (running) {
    opts.log(`docker: dockerd (pid ${running}) is running but does not answer yet; waiting for it`);
  } else {
    const child = spawnDetached(dockerd, args, logPath);
    died = child.died;
    opts.log(`docker: started ${dockerd} (pid ${child.pid}); its log is ${logPath}`);
  }
  try {
    await waitForEngine(address, {
      timeoutMs,
      intervalMs: 250,
      what: `dockerd to answer at ${address.dockerHost}`,
      ...(died && { signal: died }),
    });
  } catch (err) {
    const tail = await tailFile(logPath);
    throw new Error(
      `docker: ${err instanceof Error ? err.message : err}\n--- last lines of ${logPath} ---\n${tail}`,
    );
  }
}

async function ensureDocker(ctx: ServiceContext): Promise<Record<string, string>> {
  const facts = await dockerFacts();
  const plan = planDocker(facts);
  if (plan.problems.length > 0) throw new Error(plan.problems.join('\n'));
  if (plan.install.length > 0) {
    await aptInstall(plan.install, (line) => ctx.log(`docker: ${line}`));
    const after = await dockerFacts(facts.address);
    if (!after.compose)
      throw new Error('docker-compose: still not found after apt-get install docker-compose');
    if (after.busybox !== 'static')
      throw new Error(`busybox-static: ${BUSYBOX_PATH} is ${after.busybox} after install`);
  }
  if (plan.startDaemon) await startDockerd({ address: facts.address, log: ctx.log });
  return { DOCKER_HOST: facts.address.dockerHost };
}

export const dockerService: Service = { name: 'docker', ensure: ensureDocker };
