/**
 * Real filesystems that fail, for the disk fault scenarios (test/faults/disk-*.test.ts):
 *
 * - `Tmpfs`: a small tmpfs to fill up (ENOSPC), then grow (`mount -o remount,size=`).
 * - `setImmutable`: ext4 refusing every write under a directory (EPERM), then allowing them.
 *
 * EIO is in fault-eiofs.ts: eiofs, our own FUSE filesystem that answers EIO on command. Not from
 * a failing block device: device-mapper (`dmsetup`, the `error` or `flakey` target), the usual
 * way, is missing from this project's sandbox kernel, and shrinking a loop device under a
 * mounted ext4 (LOOP_SET_STATUS64 size limit), which does give real EIO, hit a BUG in ext4's
 * block allocator (kernel 6.18, fs/ext4/mballoc.c:4953, ext4_mb_use_inode_pa) with logwharf's
 * disk buffer on it: the process was killed and a writeback worker left stuck for good. A test
 * must not crash the kernel it shares; a FUSE daemon that fails is a failure the kernel is
 * built to survive.
 *
 * All of it needs root and util-linux (mount) or e2fsprogs (chattr). `unavailable()` says
 * what is missing; under CI=true a scenario fails on it, naming it, elsewhere it is skipped
 * with a warning.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** What this machine lacks to run the scenario (null: nothing), as a user would provide it. */
export async function unavailable(tools: readonly string[]): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'root (mount and chattr need it)';
  const missing: string[] = [];
  for (const tool of tools) {
    if (
      !(await run('sh', ['-c', `command -v ${tool}`]).then(
        () => true,
        () => false,
      ))
    )
      missing.push(tool);
  }
  return missing.length > 0 ? `the commands ${missing.join(', ')} (util-linux, e2fsprogs)` : null;
}

/** Fails the scenario under CI=true, naming what is missing; elsewhere returns true to skip it (with a warning). */
export function skipOrFail(scenario: string, missing: string | null): boolean {
  if (missing === null) return false;
  const message = `fault scenario ${scenario} needs ${missing}`;
  if (process.env.CI === 'true') throw new Error(`${message}: provide it on the CI machine`);
  console.warn(`[faults] SKIPPED ${scenario}: ${message}`);
  return true;
}

export class Tmpfs {
  private mounted = false;
  private constructor(readonly dir: string) {}

  static async mount(dir: string, sizeMiB: number): Promise<Tmpfs> {
    await mkdir(dir, { recursive: true });
    const fs = new Tmpfs(dir);
    await sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'logwharf-fault', dir]);
    fs.mounted = true;
    return fs;
  }

  async resize(sizeMiB: number): Promise<void> {
    await sh('mount', ['-o', `remount,size=${sizeMiB}m`, this.dir]);
  }

  /** Unmounts (lazily if still busy). Idempotent. */
  async unmount(): Promise<void> {
    if (!this.mounted) return;
    await sh('umount', [this.dir]).catch(() => sh('umount', ['-l', this.dir]));
    this.mounted = false;
  }
}

/**
 * Makes every file and directory under `dir` immutable (`chattr -R +i`), or writable again:
 * on ext4 the kernel then refuses every write, through open files too, with EPERM (creating,
 * writing, truncating, renaming, removing). Only the root may do it.
 */
export async function setImmutable(dir: string, immutable: boolean): Promise<void> {
  await sh('chattr', ['-R', immutable ? '+i' : '-i', dir]);
}

/** The type of the filesystem holding `path`, as stat(1) names it: `ext2/ext3` (ext4 too), `xfs`, `tmpfs`. */
export async function filesystemType(path: string): Promise<string> {
  return (await sh('stat', ['-f', '-c', '%T', path])).trim();
}
