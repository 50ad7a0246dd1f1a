/**
 * The unprivileged account a service runs as when the script runs as root: Elasticsearch refuses
 * to start as root ("can not run elasticsearch as root").
 */
import { chmod, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { capture } from './exec.js';
import { findExecutable } from './host.js';

/** The system account the Elasticsearch nodes run as when started by root. */
export const ES_USER = 'lwes';

const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export async function userExists(name: string): Promise<boolean> {
  const id = await capture('id', ['-u', name]).catch(() => ({ code: 1 }));
  return id.code === 0;
}

/** Creates a system account with no home and no login shell (as root). */
export async function createSystemUser(name: string, log: (line: string) => void): Promise<void> {
  const useradd = await findExecutable('useradd', SBIN_DIRS);
  if (!useradd)
    throw new Error(`cannot create the user ${name}: useradd is not installed (Debian package passwd)`);
  log(`creating the system user ${name} to run Elasticsearch (it refuses to run as root)`);
  const run = await capture(useradd, ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  // 9: the name is taken, i.e. another run created it meanwhile.
  if (run.code !== 0 && run.code !== 9) {
    throw new Error(`useradd ${name} failed (exit ${run.code}): ${run.stderr.trim()}`);
  }
}

/** `chown -R user: paths...`. */
export async function chownTree(user: string, paths: string[]): Promise<void> {
  const run = await capture('chown', ['-R', `${user}:`, ...paths]);
  if (run.code !== 0) throw new Error(`chown -R ${user}: ${paths.join(' ')} failed: ${run.stderr.trim()}`);
}

/**
 * Lets other users pass through `path` and every directory above it (o+x, not o+r: they may
 * enter, not list). Needed when the cache is under /root, whose mode is usually 0700.
 */
export async function grantTraverse(path: string, log: (line: string) => void): Promise<void> {
  const dirs: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of dirs) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      log(`chmod o+x ${dir}, so that other users (${ES_USER}) may reach ${path}`);
      await chmod(dir, (mode & 0o7777) | 0o001);
    }
  }
}

/** Pure: the command that runs `cmd args` as `user` (root only), or as it is when `user` is undefined. */
export function asUser(
  user: string | undefined,
  cmd: string,
  args: string[],
  env: Record<string, string>,
): { cmd: string; args: string[] } {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // runuser (util-linux, as su but without PAM prompts) resets part of the environment; `env`
  // sets what the command needs explicitly, whoever runs it.
  if (user) return { cmd: 'runuser', args: ['-u', user, '--', 'env', ...assignments, cmd, ...args] };
  return { cmd: 'env', args: [...assignments, cmd, ...args] };
}
