import fs from 'node:fs/promises';

/**
 * Makes a directory's entries durable (a file created, renamed or removed in it). Some
 * filesystems refuse fsync on a directory; then nothing more can be done, and a rename is
 * still atomic there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // refused: see above
  } finally {
    await fh?.close();
  }
}
