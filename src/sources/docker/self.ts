import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { COMPOSE_PROJECT } from './select.js';

export interface SelfInfo {
  containerId: string | null;
  composeProject: string | null;
}

/**
 * Finds the container logwharf itself runs in, if any, so it can follow its own compose
 * project (DESIGN.md). Docker bind-mounts /etc/hostname from /var/lib/docker/containers/<id>/,
 * which shows in mountinfo under both cgroup v1 and v2; HOSTNAME (the short id) is the fallback.
 */
export async function findSelf(docker: Docker, env: NodeJS.ProcessEnv = process.env): Promise<SelfInfo> {
  const candidates: string[] = [];
  try {
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    const m = /\/containers\/([0-9a-f]{64})\//.exec(mountinfo);
    if (m?.[1]) candidates.push(m[1]);
  } catch {
    // not Linux, or no /proc: not in a container as far as we can tell
  }
  if (env.HOSTNAME && /^[0-9a-f]{12}$/.test(env.HOSTNAME)) candidates.push(env.HOSTNAME);
  for (const id of candidates) {
    try {
      const info = await docker.getContainer(id).inspect();
      return { containerId: info.Id, composeProject: info.Config.Labels?.[COMPOSE_PROJECT] ?? null };
    } catch {
      // a hostname that merely looks like an id, or another engine: try the next candidate
    }
  }
  return { containerId: null, composeProject: null };
}
