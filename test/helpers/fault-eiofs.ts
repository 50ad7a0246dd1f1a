/**
 * A real filesystem that answers EIO on command, for test/faults/disk-eio.test.ts: eiofs
 * (test/tools/eiofs/main.go), our own passthrough FUSE filesystem over a backing directory.
 * `fail()` makes every write, fsync, flush, read, create and namespace change on it answer EIO
 * (lookups, getattr and statfs keep working); `heal()` ends it. The processes above meet the
 * kernel's own EIO through the ordinary syscalls, on files they hold open too.
 *
 * Why FUSE and not a failing block device: see fault-disk.ts.
 *
 * The daemon is built with `go build` into the cache directory (LOGWHARF_CACHE_DIR, default
 * ~/.cache/logwharf/eiofs/), once per version of its sources. It needs Go, /dev/fuse and root
 * (it mounts with mount(2) itself, no fusermount). `eiofsUnavailable()` says what is missing.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import split2 from 'split2';
import { cacheDir } from '../../scripts/services/lib/es-distribution.js';
import { findExecutable } from '../../scripts/services/lib/host.js';
import { waitFor } from './poll.js';

const run = promisify(execFile);
const SOURCES = join(import.meta.dirname, '..', 'tools', 'eiofs');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go'];
/** Where Go's own installer puts it, when it is not on PATH. */
const GO_DIRS = ['/usr/local/go/bin'];
/**
 * Mount points live here, outside the tests' temp root: a mount whose daemon was killed answers
 * ENOTCONN, and the global setup's removal of old temp directories would fail on it.
 */
const MOUNT_ROOT = join(tmpdir(), 'logwharf-eiofs');

/** What this machine lacks to run eiofs (null: nothing), as a user would provide it. */
export async function eiofsUnavailable(): Promise<string | null> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (eiofs mounts a FUSE filesystem with mount(2))');
  if (!existsSync('/dev/fuse')) {
    missing.push(
      '/dev/fuse (the kernel FUSE module; in a container: --device /dev/fuse --cap-add SYS_ADMIN)',
    );
  }
  if (!(await findExecutable('go', GO_DIRS))) missing.push('Go on PATH (go build compiles test/tools/eiofs)');
  if (!(await findExecutable('umount'))) missing.push('the command umount (util-linux)');
  return missing.length > 0 ? missing.join(', ') : null;
}

/**
 * The eiofs binary for the current sources: built into the cache on the first call after they
 * changed (Go fetches go-fuse through its module proxy the first time), reused after.
 */
export async function buildEiofs(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of SOURCE_FILES) hash.update(`${name}\0`).update(await readFile(join(SOURCES, name)));
  const binary = join(cacheDir(), 'eiofs', `eiofs-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  const go = await findExecutable('go', GO_DIRS);
  if (!go) throw new Error('eiofs: no Go found on PATH or in /usr/local/go/bin');
  await mkdir(join(cacheDir(), 'eiofs'), { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  try {
    // Static (no cgo), from the committed go.sum: the same binary wherever it is built.
    await run(go, ['build', '-trimpath', '-o', partial, '.'], {
      cwd: SOURCES,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' },
      maxBuffer: 16 << 20,
    });
    await rename(partial, binary);
  } catch (err) {
    await rm(partial, { force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`eiofs: go build in ${SOURCES} failed: ${e.stderr?.trim() || e.message}`);
  }
  return binary;
}

/** EIOs the filesystem answered while failing, by operation (`write`, `fsync`, `create`, ...). */
export type EioCounts = Record<string, number>;

/** A mounted eiofs. */
export class EioFs {
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;
  private mounted = true;

  private constructor(
    private readonly child: ChildProcess,
    /** The mount point: what processes under test use. */
    readonly dir: string,
    /** The backing directory: the same files, never failing (the test's own view). */
    readonly backing: string,
  ) {
    child.stdout!.pipe(split2()).on('data', (l: string) => this.lines.push(l));
    child.stderr!.pipe(split2()).on('data', (l: string) => this.lines.push(l));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Mounts `backing` (created if missing) at a fresh mount point and resolves once it serves. */
  static async mount(binary: string, backing: string): Promise<EioFs> {
    await removeStaleMounts();
    await mkdir(backing, { recursive: true });
    await mkdir(MOUNT_ROOT, { recursive: true });
    const dir = await mkdtemp(join(MOUNT_ROOT, 'mnt-'));
    const child = spawn(binary, [backing, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const fs = new EioFs(child, dir, backing);
    // The daemon unmounts on SIGTERM; a test process that ends without unmount() must send it.
    const stop = () => child.kill('SIGTERM');
    process.once('exit', stop);
    child.once('exit', () => process.removeListener('exit', stop));
    await fs.awaitLine(/^eiofs: mounted$/, 'eiofs to mount');
    return fs;
  }

  /** From now on, EIO (resolves once the daemon says it fails). */
  async fail(): Promise<void> {
    const from = this.lines.length;
    this.child.kill('SIGUSR1');
    await this.awaitLine(/^eiofs: failing$/, 'eiofs to fail', from);
  }

  /** Works again; returns the EIOs answered since fail(). */
  async heal(): Promise<EioCounts> {
    if (!this.running) return {};
    const from = this.lines.length;
    this.child.kill('SIGUSR2');
    const line = await this.awaitLine(/^eiofs: healthy /, 'eiofs to heal', from);
    return JSON.parse(line.slice('eiofs: healthy '.length)) as EioCounts;
  }

  /**
   * Unmounts (the daemon detaches the mount if files are still open on it), and detaches it
   * here if the daemon is gone: a mount without its daemon answers ENOTCONN to everything.
   * Then removes the mount point. Idempotent.
   */
  async unmount(): Promise<void> {
    if (!this.mounted) return;
    this.mounted = false;
    if (this.running) {
      this.child.kill('SIGTERM');
      await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (this.running) this.child.kill('SIGKILL');
    }
    if ((await mountsOfEiofs()).includes(this.dir)) await run('umount', ['-l', this.dir]);
    await rmdir(this.dir);
  }

  /** The daemon's output so far (for failure messages). */
  output(): string {
    return this.lines.join('\n');
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private awaitLine(re: RegExp, what: string, from = 0): Promise<string> {
    const died = new AbortController();
    void this.exited.then(() => died.abort(new Error(`eiofs exited:\n${this.output()}`)));
    return waitFor(() => this.lines.slice(from).find((l) => re.test(l)), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what,
      signal: died.signal,
    });
  }
}

/** Mount points of eiofs filesystems, from /proc/self/mounts (octal escapes undone). */
async function mountsOfEiofs(): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'fuse.eiofs')
    .map((f) => f[1]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
}

/** Detaches and removes what a killed run left: eiofs mounts whose daemon is gone (ENOTCONN). */
async function removeStaleMounts(): Promise<void> {
  for (const dir of await mountsOfEiofs()) {
    if (!dir.startsWith(`${MOUNT_ROOT}/`)) continue;
    const gone = await stat(dir).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOTCONN',
    );
    if (gone) {
      await run('umount', ['-l', dir]);
      await rmdir(dir).catch(() => undefined);
    }
  }
}
