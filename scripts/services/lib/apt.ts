/** Installing Debian packages without a prompt, refreshing the package lists only when needed. */
import { capture, stream } from './exec.js';

const APT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  DEBIAN_FRONTEND: 'noninteractive',
  // needrestart (a recommendation of docker.io) would otherwise ask which services to restart.
  NEEDRESTART_SUSPEND: '1',
  NEEDRESTART_MODE: 'l',
};

const INSTALL_OPTIONS = [
  '-q',
  '-y',
  // Wait for another apt (unattended-upgrades on a fresh machine) instead of failing at once.
  '-o',
  'DPkg::Lock::Timeout=300',
  '-o',
  'Dpkg::Options::=--force-confdef',
  '-o',
  'Dpkg::Options::=--force-confold',
];

/**
 * Pure: the packages that `apt-cache policy <packages>` gives no installation candidate for
 * (never listed, or `Candidate: (none)`): their lists are missing and need `apt-get update`.
 */
export function packagesWithoutCandidate(policyOutput: string, packages: string[]): string[] {
  const candidates = new Map<string, string>();
  let current: string | undefined;
  for (const line of policyOutput.split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header) {
      current = header[1]!.replace(/:[a-z0-9]+$/, ''); // drop an architecture suffix (pkg:amd64)
      continue;
    }
    const candidate = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (candidate && current) candidates.set(current, candidate[1]!);
  }
  return packages.filter((p) => {
    const c = candidates.get(p);
    return c === undefined || c === '(none)';
  });
}

/** `apt-get install` as root, running `apt-get update` first only if a package has no candidate, or after a failed install. */
export async function aptInstall(packages: string[], log: (line: string) => void): Promise<void> {
  const policy = await capture('apt-cache', ['policy', ...packages], APT_ENV);
  let updated = false;
  const unknown = packagesWithoutCandidate(policy.stdout, packages);
  if (unknown.length > 0) {
    log(`apt: no candidate for ${unknown.join(', ')}; running apt-get update`);
    await aptUpdate();
    updated = true;
  }
  log(`apt: installing ${packages.join(' ')}`);
  let code = await stream('apt-get', [...INSTALL_OPTIONS, 'install', ...packages], APT_ENV);
  if (code !== 0 && !updated) {
    // Stale lists point at package versions the mirror no longer has: refresh and try once more.
    log(`apt: install failed (exit ${code}); running apt-get update and trying again`);
    await aptUpdate();
    code = await stream('apt-get', [...INSTALL_OPTIONS, 'install', ...packages], APT_ENV);
  }
  if (code !== 0) {
    throw new Error(`apt-get install ${packages.join(' ')} failed (exit ${code}); its output is above`);
  }
}

async function aptUpdate(): Promise<void> {
  const code = await stream('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=300', 'update'], APT_ENV);
  if (code !== 0) throw new Error(`apt-get update failed (exit ${code}); its output is above`);
}
