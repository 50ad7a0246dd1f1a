import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The prototype of Node's FileHandle, the one way the disk buffer and the positions store
 * reach the disk: spy on its `write`, `read`, `sync`... to make a real call fail (ENOSPC, EIO)
 * in a unit test. Made from a probe file in `dir`, removed again.
 */
export async function fileHandlePrototype(dir: string): Promise<fs.FileHandle> {
  const probe = await fs.open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as fs.FileHandle;
  await probe.close();
  await fs.rm(path.join(dir, 'probe'));
  return proto;
}
