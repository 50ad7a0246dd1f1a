import fs from 'node:fs';

/**
 * Makes a directory's entries durable (a file created, renamed or removed in it): after a
 * power loss the name is there or gone as the caller last left it.
 *
 * One behaviour for every caller: a filesystem that does not do fsync on a directory (some
 * network and FUSE filesystems answer EINVAL, ENOTSUP or EISDIR, or refuse to open one for
 * reading) is skipped, since nothing more can be done there and a rename is still atomic;
 * any other error (EIO, ENOSPC, a directory that is gone) is thrown, since the caller was
 * about to promise durability it does not have.
 *
 * Async for the pipeline's files; sync for the embedded store, whose SQLite calls are sync.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  } finally {
    await fh?.close();
  }
}

/** fsyncDir for synchronous code, with the same behaviour. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Errors by which a filesystem says it does not sync directories (not that a sync failed). */
const UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EACCES', 'EBADF']);

function isUnsupported(err: unknown): boolean {
  return UNSUPPORTED.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}
