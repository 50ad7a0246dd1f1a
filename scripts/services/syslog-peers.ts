/**
 * The real syslog programs the interoperability tests talk to: util-linux `logger` (with
 * `--rfc5424`, `--octet-count` and TCP, util-linux 2.26 or newer), `rsyslogd` (Debian's rsyslog)
 * with its GnuTLS network driver (rsyslog-gnutls, for RFC 5425) and `openssl` (throwaway
 * certificates for the TLS tests). Nothing is started here: each test
 * starts its own rsyslogd with its own config and ports.
 *
 * As root on Debian/Ubuntu the missing packages are installed; elsewhere the error names them.
 * Deciding (`planSyslogPeers`) is pure; installing is the thin shell around it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall } from './lib/apt.js';
import { capture } from './lib/exec.js';
import { findExecutable, isRoot, osDescription } from './lib/host.js';
import type { Service, ServiceContext } from './service.js';

const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const RSYSLOG_MODULE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/rsyslog',
  '/usr/lib/aarch64-linux-gnu/rsyslog',
  '/usr/lib/rsyslog',
];

export interface SyslogPeerFacts {
  /** Path of a logger that knows --rfc5424, or why not. */
  logger: { path: string } | { missing: string };
  rsyslogd: string | undefined;
  /** rsyslog's TLS network stream driver (lmnsd_gtls.so) is installed. */
  rsyslogTls: boolean;
  openssl: string | undefined;
  root: boolean;
  debianLike: boolean;
  os: string;
}

export interface SyslogPeerPlan {
  install: string[];
  problems: string[];
}

/** Pure: which Debian packages to install, or what to tell the user. */
export function planSyslogPeers(f: SyslogPeerFacts): SyslogPeerPlan {
  const needed: [string, string][] = [];
  if ('missing' in f.logger) needed.push(['bsdutils', `logger: ${f.logger.missing}`]);
  if (!f.rsyslogd) needed.push(['rsyslog', 'rsyslogd: not installed']);
  if (!f.rsyslogTls) needed.push(['rsyslog-gnutls', "rsyslog's TLS driver lmnsd_gtls.so: not installed"]);
  if (!f.openssl) needed.push(['openssl', 'openssl: not installed']);
  if (needed.length === 0) return { install: [], problems: [] };
  if (f.root && f.debianLike) return { install: needed.map(([pkg]) => pkg), problems: [] };
  const why = !f.root ? 'not running as root' : `${f.os} is not Debian or Ubuntu`;
  return {
    install: [],
    problems: needed.map(
      ([pkg, what]) =>
        `${what} — install it (Debian package ${pkg}; ${why}, so this script cannot), e.g. \`sudo apt-get install ${pkg}\``,
    ),
  };
}

async function syslogPeerFacts(): Promise<SyslogPeerFacts> {
  const os = await osDescription();
  const loggerPath = await findExecutable('logger', SBIN_DIRS);
  let logger: SyslogPeerFacts['logger'] = { missing: 'not installed' };
  if (loggerPath) {
    const help = await capture(loggerPath, ['--help']).catch(() => ({ stdout: '', stderr: '', code: 1 }));
    logger = /--rfc5424/.test(help.stdout + help.stderr)
      ? { path: loggerPath }
      : { missing: `${loggerPath} has no --rfc5424 (util-linux 2.26 or newer is needed)` };
  }
  return {
    logger,
    rsyslogd: await findExecutable('rsyslogd', SBIN_DIRS),
    rsyslogTls: RSYSLOG_MODULE_DIRS.some((d) => existsSync(join(d, 'lmnsd_gtls.so'))),
    openssl: await findExecutable('openssl', SBIN_DIRS),
    root: isRoot(),
    debianLike: os.debianLike,
    os: os.name,
  };
}

async function ensureSyslogPeers(ctx: ServiceContext): Promise<Record<string, string>> {
  let facts = await syslogPeerFacts();
  const plan = planSyslogPeers(facts);
  if (plan.problems.length > 0) throw new Error(plan.problems.join('\n'));
  if (plan.install.length > 0) {
    await aptInstall(plan.install, (line) => ctx.log(`syslog peers: ${line}`));
    facts = await syslogPeerFacts();
    const still = planSyslogPeers({ ...facts, root: false });
    if (still.problems.length > 0)
      throw new Error(`still missing after apt-get install:\n${still.problems.join('\n')}`);
  }
  if ('missing' in facts.logger || !facts.rsyslogd || !facts.rsyslogTls || !facts.openssl)
    throw new Error('unreachable: checked above');
  return { LOGGER_BIN: facts.logger.path, RSYSLOGD_BIN: facts.rsyslogd, OPENSSL_BIN: facts.openssl };
}

export const syslogPeersService: Service = {
  name: 'syslog peers (logger, rsyslogd, openssl)',
  ensure: ensureSyslogPeers,
};
