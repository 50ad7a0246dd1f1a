/**
 * Which Docker Compose to call: the `docker compose` CLI plugin (v2) where it is installed,
 * else a `docker-compose` executable (Debian 12 ships the Python v1, 1.29). Found by looking at
 * files, not by running them, because `docker-compose version` alone takes half a second.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileExists, findExecutable } from './host.js';

export interface ComposeCli {
  /** The executable, and the arguments that come before compose's own. */
  cmd: string;
  args: string[];
  /** For messages: "docker compose" or "docker-compose". */
  label: string;
}

const EXTRA_BIN_DIRS = ['/usr/local/bin', '/usr/bin', '/bin'];

function pluginDirs(): string[] {
  const config = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  return [
    join(config, 'cli-plugins'),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
  ];
}

export async function findComposeCli(): Promise<ComposeCli | undefined> {
  const docker = await findExecutable('docker', EXTRA_BIN_DIRS);
  if (docker) {
    for (const dir of pluginDirs()) {
      if (await fileExists(join(dir, 'docker-compose')))
        return { cmd: docker, args: ['compose'], label: 'docker compose' };
    }
  }
  const standalone = await findExecutable('docker-compose', EXTRA_BIN_DIRS);
  return standalone ? { cmd: standalone, args: [], label: 'docker-compose' } : undefined;
}
