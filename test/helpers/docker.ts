/**
 * The real Docker engine for tests: a client, a check that it answers, and a tiny local image.
 *
 * No registry is reachable here (no `docker pull`), so the test image is made from the host's
 * static busybox with `docker import`: /bin/busybox, a symlink per applet, /tmp and /etc/passwd.
 */
import { spawn } from 'node:child_process';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import {
  type EngineAddress,
  engineAddress,
  engineUnreachableMessage,
  pingEngine,
  unixSocketPath,
} from '../../scripts/services/lib/engine.js';
import { capture } from '../../scripts/services/lib/exec.js';
import { BUSYBOX_PATH, busyboxLinkage } from '../../scripts/services/lib/host.js';
import { waitFor } from './poll.js';

/**
 * Bump the tag whenever the recipe below changes: an existing image is reused as it is.
 *
 * Mind that `sh` (or `sleep`) as PID 1 ignores SIGTERM, so a plain `docker stop` waits out its
 * whole timeout: stop with a short timeout (`-t 1`, `{ t: 1 }`), kill, or run with `init: true`
 * (`HostConfig.Init`) for a real signal-forwarding PID 1. (`docker import` does not accept STOPSIGNAL.)
 */
export const TEST_IMAGE = 'logwharf-test/busybox:1';

/** Applets the tests rely on; the image links every applet busybox has, these must be among them. */
const REQUIRED_APPLETS = [
  'sh',
  'echo',
  'printf',
  'seq',
  'sleep',
  'cat',
  'yes',
  'head',
  'dd',
  'tr',
  'date',
  'true',
  'false',
  'env',
  'kill',
];

let client: Docker | undefined;

/** A dockerode client for DOCKER_HOST, or the default socket; one per test process. */
export function dockerClient(): Docker {
  client ??= clientFor(engineAddress());
  return client;
}

/**
 * A dockerode client for an address. For tcp:// and ssh:// engines dockerode reads DOCKER_HOST,
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
 */
export function clientFor(address: EngineAddress): Docker {
  const socketPath = unixSocketPath(address);
  return new Docker(socketPath ? { socketPath } : {});
}

/** Resolves if the engine answers `/_ping`; otherwise fails saying how to provide one. Never skips. */
export async function ensureEngine(): Promise<void> {
  const address = engineAddress();
  const ping = await pingEngine(address);
  if (!ping.ok) throw new Error(engineUnreachableMessage(address, ping.reason));
}

const building = new Map<string, Promise<string>>();

/**
 * The tag of the local busybox test image, built on first use. Safe to call from several test
 * processes at once: a lock file makes one of them build while the others wait for the image.
 */
export function ensureTestImage(): Promise<string> {
  return ensureBusyboxImage(TEST_IMAGE);
}

/** `ensureTestImage` under another tag (a test of the build itself uses a throwaway tag). */
export function ensureBusyboxImage(image: string): Promise<string> {
  let p = building.get(image);
  if (!p) {
    p = buildOnce(image).catch((err: unknown) => {
      building.delete(image);
      throw err;
    });
    building.set(image, p);
  }
  return p;
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** A lock older than this belongs to a process that died while building. */
const STALE_LOCK_MS = 120_000;

async function buildOnce(image: string): Promise<string> {
  const docker = dockerClient();
  const lock = join(tmpdir(), `${image.replace(/[^a-zA-Z0-9.-]+/g, '_')}.lock`);
  const outcome = await waitFor(
    async () => {
      if (await imageExists(docker, image)) return 'exists';
      if (await tryLock(lock)) return 'locked';
      await breakStaleLock(lock);
      return undefined;
    },
    { timeoutMs: 180_000, intervalMs: 200, what: `${image} to be built (lock ${lock})` },
  );
  if (outcome === 'exists') return image;
  try {
    // Another process may have finished between our check and taking the lock.
    if (!(await imageExists(docker, image))) await importBusyboxImage(docker, image);
  } finally {
    await unlink(lock).catch(() => {});
  }
  return image;
}

async function tryLock(lock: string): Promise<boolean> {
  try {
    const handle = await open(lock, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function breakStaleLock(lock: string): Promise<void> {
  const info = await stat(lock).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await unlink(lock).catch(() => {});
}

async function importBusyboxImage(docker: Docker, image: string): Promise<void> {
  const linkage = await busyboxLinkage();
  if (linkage !== 'static') {
    throw new Error(
      `busybox-static: ${BUSYBOX_PATH} is ${linkage === 'missing' ? 'missing' : 'not a static executable'}, ` +
        'and the test image is built from it — run `npm run services` (as root on Debian/Ubuntu it installs ' +
        'busybox-static), or apt-get install busybox-static',
    );
  }
  // Not tempDir(): this runs in the vitest global setup too, outside any test.
  const root = await mkdtemp(join(tmpdir(), 'lwtest-rootfs-'));
  try {
    await writeRootfs(root);
    const [repo, tag = 'latest'] = image.split(':') as [string, string?];
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErr = '';
    tar.stderr.setEncoding('utf8').on('data', (s: string) => {
      tarErr += s;
    });
    const tarDone = new Promise<void>((resolve, reject) => {
      tar.once('error', reject);
      tar.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`tar failed (${code}): ${tarErr}`)),
      );
    });
    const imported = docker.importImage(tar.stdout, {
      repo,
      tag,
      changes: [
        'CMD ["/bin/sh"]',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'LABEL org.logwharf.test-image="1"',
      ],
    });
    try {
      await Promise.all([tarDone, imported.then((progress) => followProgress(docker, progress, image))]);
    } catch (err) {
      tar.kill(); // or it waits forever for someone to read the rest of the archive
      throw err;
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function writeRootfs(root: string): Promise<void> {
  const list = await capture(BUSYBOX_PATH, ['--list']);
  const applets = list.stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  const missing = REQUIRED_APPLETS.filter((a) => !applets.includes(a));
  if (missing.length > 0) throw new Error(`${BUSYBOX_PATH} lacks the applets ${missing.join(', ')}`);
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'usr'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(BUSYBOX_PATH, join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  await Promise.all(applets.map((a) => symlink('busybox', join(root, 'bin', a))));
  // /usr/bin/env and friends, for scripts with a `#!/usr/bin/env sh` line.
  await symlink('../bin', join(root, 'usr', 'bin'));
  await writeFile(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

function followProgress(docker: Docker, progress: NodeJS.ReadableStream, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(progress, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed) reject(new Error(`docker import of ${image} failed: ${failed}`));
      else resolve();
    });
  });
}

/** Pure: splits a multiplexed (non-TTY) log body into its stdout and stderr text. */
export function demuxLogs(body: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= body.length) {
    const stream = body[at];
    const size = body.readUInt32BE(at + 4);
    const payload = body.subarray(at + 8, at + 8 + size);
    if (stream === 2) err.push(payload);
    else out.push(payload);
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Removes a container (and its anonymous volumes) whatever its state; a missing one is fine. */
export async function removeContainer(id: string): Promise<void> {
  try {
    await dockerClient().getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== 404 && code !== 409) throw err;
  }
}
