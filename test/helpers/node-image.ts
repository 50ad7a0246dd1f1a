import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { dockerClient } from './docker.js';

const exec = promisify(execFile);
export const NODE_TEST_IMAGE = 'logwharf-test/node:1';

/**
 * An image that runs this machine's Node.js (no registry needed): the node binary and the
 * shared libraries `ldd` names, imported with `docker import`. Tests bind-mount the checkout
 * at /app, so logwharf runs inside a container exactly from the sources under test.
 */
export async function ensureNodeImage(): Promise<string> {
  const docker = dockerClient();
  try {
    await docker.getImage(NODE_TEST_IMAGE).inspect();
    return NODE_TEST_IMAGE;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const root = await mkdtemp(join(tmpdir(), 'lwtest-noderoot-'));
  try {
    const node = process.execPath;
    const { stdout } = await exec('ldd', [node]);
    const libs = [...stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
    for (const file of [node, ...libs]) {
      await mkdir(join(root, dirname(file)), { recursive: true });
      await cp(file, join(root, file), { dereference: true });
    }
    await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o1777 });
    await exec('sh', [
      '-c',
      `chmod 1777 "${root}/tmp" && tar -C "${root}" --numeric-owner --owner=0 --group=0 -cf - . | docker import -c 'ENTRYPOINT ["${node}"]' - ${NODE_TEST_IMAGE}`,
    ]);
    return NODE_TEST_IMAGE;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
