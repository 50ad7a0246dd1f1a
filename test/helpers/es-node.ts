/**
 * A dedicated Elasticsearch node for fault tests: one they may stop, start, freeze and kill
 * without disturbing the shared node every other test uses (`esUrl()`).
 *
 * It runs the distribution `npm run services` cached, with its own HTTP and transport ports and
 * its own config, data, logs and temp directories in one directory under TEMP_ROOT, which
 * `destroy()` removes. Starting one takes 15–30 s: create it in `beforeAll`, not per test.
 *
 *   const es = await startDedicatedElasticsearch();   // beforeAll
 *   await es.stop(); ...; await es.start();            // the data survives
 *   await es.destroy();                                // afterAll
 *
 * With `secure`, the node has security on: HTTPS with the PKI's server certificate, a file-realm
 * superuser, API keys and the token service; `url` is then https://.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  cacheDir,
  distributionPresent,
  ES_MIN_JAVA,
  esPaths,
} from '../../scripts/services/lib/es-distribution.js';
import {
  type EsNodeLayout,
  type EsSecurity,
  esUrlFor,
  launchElasticsearch,
  processAlive,
  readPid,
} from '../../scripts/services/lib/es-launch.js';
import { isRoot } from '../../scripts/services/lib/host.js';
import { findJava } from '../../scripts/services/lib/java.js';
import { waitFor } from '../../scripts/services/lib/poll.js';
import {
  asUser,
  chownTree,
  ES_USER,
  grantTraverse,
  userExists,
} from '../../scripts/services/lib/service-user.js';
import type { TestPki } from './certs.js';
import { TEMP_ROOT } from './tmp.js';

const run = promisify(execFile);

export interface EsNode {
  /** http://127.0.0.1:<port> (https:// when secure); the same across stop() and start(). */
  readonly url: string;
  /** The server's pid while it runs, else undefined. */
  readonly pid: number | undefined;
  /** Holds config/, data/, logs/ (ES's elasticsearch.log and launcher.out) and tmp/. */
  readonly dir: string;
  /** SIGTERM, then waits until the process is gone (SIGKILL after 60 s). A stopped node is fine. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data, and waits until it is healthy. A running node is fine. */
  start(): Promise<void>;
  /** SIGSTOP: the node keeps its sockets open but answers nothing, like a hung or paused server. */
  freeze(): void;
  /** SIGCONT, after freeze(). */
  thaw(): void;
  /** SIGKILL and remove its directory. Idempotent. */
  destroy(): Promise<void>;
}

export interface DedicatedElasticsearchOptions {
  /** How long each start may take to reach yellow or green; default 120 s. */
  timeoutMs?: number;
  /** Security on, HTTPS with `pki`'s server certificate, and `user` a superuser of the file realm. */
  secure?: { pki: TestPki; user: { name: string; password: string } };
}

export async function startDedicatedElasticsearch(opts: DedicatedElasticsearchOptions = {}): Promise<EsNode> {
  const paths = esPaths(cacheDir());
  if (!(await distributionPresent(paths))) {
    throw new Error(
      `Elasticsearch: no distribution in ${paths.home} for a dedicated test node — run \`npm run services\` ` +
        '(it downloads one), with the same LOGWHARF_CACHE_DIR / XDG_CACHE_HOME as the tests.',
    );
  }
  const java = await findJava(ES_MIN_JAVA);
  if (!java) {
    throw new Error(
      `Elasticsearch: no Java ${ES_MIN_JAVA} or newer for a dedicated test node — run \`npm run services\` ` +
        '(as root it installs one), or set ES_JAVA_HOME.',
    );
  }
  const user = isRoot() ? ES_USER : undefined;
  if (user && !(await userExists(user))) {
    throw new Error(
      `Elasticsearch: the user ${user} that runs Elasticsearch under root does not exist — run \`npm run services\`.`,
    );
  }

  await mkdir(TEMP_ROOT, { recursive: true });
  const dir = await mkdtemp(join(TEMP_ROOT, 'es-node-'));
  const [httpPort, transportPort] = await freePorts(2);
  const layout: EsNodeLayout = {
    home: paths.home,
    // A copy of the config: ES writes its keystore there, and the shared node uses the original.
    confDir: join(dir, 'config'),
    dataDir: join(dir, 'data'),
    logsDir: join(dir, 'logs'),
    tmpDir: join(dir, 'tmp'),
    pidFile: join(dir, 'es.pid'),
    httpPort: httpPort!,
    transportPort: transportPort!,
  };
  await cp(join(paths.home, 'config'), layout.confDir!, { recursive: true });
  await Promise.all([layout.dataDir, layout.logsDir, layout.tmpDir!].map((d) => mkdir(d)));
  const security = opts.secure && (await prepareSecurity(layout.confDir!, opts.secure));
  if (user) {
    await grantTraverse(dir, () => {});
    await chownTree(user, [dir]);
  }
  if (opts.secure) {
    await addFileRealmUser(paths.home, layout.confDir!, java.home, user, opts.secure.user);
  }

  let pid: number | undefined;
  let destroyed = false;
  // Should the test process end without destroy() (a crash, a forgotten afterAll), the node
  // must not outlive it: it runs detached, and nothing else would ever stop it.
  const killOnExit = () => {
    if (pid !== undefined) signal(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);

  const start = async () => {
    if (destroyed) throw new Error('Elasticsearch: start() after destroy()');
    if (pid !== undefined && (await processAlive(pid))) return;
    await rm(layout.pidFile, { force: true });
    try {
      pid = await launchElasticsearch({
        ...layout,
        javaHome: java.home,
        ...(user && { user }),
        ...(security && { security }),
        timeoutMs: opts.timeoutMs ?? 120_000,
        log: () => {},
      });
    } catch (err) {
      // A server that started but never became healthy must not linger: kill it with the rest.
      pid = await readPid(layout.pidFile);
      await destroy();
      throw err;
    }
  };

  const stop = async () => {
    if (pid === undefined) return;
    const stopping = pid;
    signal(stopping, 'SIGTERM');
    // A frozen node would hold the SIGTERM pending until it runs again.
    signal(stopping, 'SIGCONT');
    try {
      await waitFor(async () => !(await processAlive(stopping)), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `Elasticsearch (pid ${stopping}) to exit after SIGTERM`,
      });
    } catch {
      signal(stopping, 'SIGKILL');
      await waitFor(async () => !(await processAlive(stopping)), {
        timeoutMs: 10_000,
        what: `Elasticsearch (pid ${stopping}) to exit after SIGKILL`,
      });
    }
    pid = undefined;
  };

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener('exit', killOnExit);
    if (pid !== undefined) {
      const killing = pid;
      signal(killing, 'SIGKILL');
      await waitFor(async () => !(await processAlive(killing)), {
        timeoutMs: 10_000,
        what: `Elasticsearch (pid ${killing}) to exit after SIGKILL`,
      });
      pid = undefined;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const running = (what: string): number => {
    if (pid === undefined)
      throw new Error(`Elasticsearch: ${what}() on a node that is not running: start() it first`);
    return pid;
  };

  await start();
  return {
    url: esUrlFor(layout.httpPort, security !== undefined),
    get pid() {
      return pid;
    },
    dir,
    stop,
    start,
    freeze: () => signal(running('freeze'), 'SIGSTOP'),
    thaw: () => signal(running('thaw'), 'SIGCONT'),
    destroy,
  };
}

/** Copies the PEM files into the config directory, the only place ES reads them from. */
async function prepareSecurity(
  confDir: string,
  secure: NonNullable<DedicatedElasticsearchOptions['secure']>,
): Promise<EsSecurity> {
  await mkdir(join(confDir, 'tls'));
  await Promise.all([
    copyFile(secure.pki.serverCert, join(confDir, 'tls', 'server.pem')),
    copyFile(secure.pki.serverKey, join(confDir, 'tls', 'server.key')),
    copyFile(secure.pki.ca, join(confDir, 'tls', 'ca.pem')),
  ]);
  return {
    certificate: 'tls/server.pem',
    key: 'tls/server.key',
    certificateAuthorities: 'tls/ca.pem',
    probe: {
      username: secure.user.name,
      password: secure.user.password,
      ca: await readFile(secure.pki.ca, 'utf8'),
    },
  };
}

/**
 * `elasticsearch-users useradd` writes `users` and `users_roles` in the config directory, as
 * the node's own user so that the node may read them.
 */
async function addFileRealmUser(
  home: string,
  confDir: string,
  javaHome: string,
  osUser: string | undefined,
  esUser: { name: string; password: string },
): Promise<void> {
  const { cmd, args } = asUser(
    osUser,
    join(home, 'bin', 'elasticsearch-users'),
    ['useradd', esUser.name, '-p', esUser.password, '-r', 'superuser'],
    { ES_JAVA_HOME: javaHome, ES_PATH_CONF: confDir },
  );
  const { JAVA_HOME: _h, JAVA_TOOL_OPTIONS: _t, _JAVA_OPTIONS: _o, JAVA_OPTS: _j, ...env } = process.env;
  try {
    await run(cmd, args, { env, timeout: 60_000 });
  } catch (err) {
    // Not err.message: it repeats the command line, password included.
    const { code, stdout, stderr } = err as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(
      `Elasticsearch: elasticsearch-users useradd ${esUser.name} failed (${String(code)}): ${`${stdout ?? ''}${stderr ?? ''}`.trim()}`,
    );
  }
}

/** Sends a signal; a process already gone is not an error. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Ports the kernel hands out now, all held at once so that they differ. Another process may take
 * one before Elasticsearch binds it; the node then fails to start, and says so in its log.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address && typeof address === 'object') resolve(address.port);
              else reject(new Error('no port from listen(0)'));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
