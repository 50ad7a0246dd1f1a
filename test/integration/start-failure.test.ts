import dgram from 'node:dgram';
import net from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LogwharfError } from '../../src/core/errors.js';
import { startService } from '../../src/service.js';
import { engineAddress } from '../../src/sources/docker/client.js';
import { DockerSource } from '../../src/sources/docker/source.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/rsyslog.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';
import { yamlFiles } from '../helpers/yaml-files.js';

const files = yamlFiles('lw-start-failure-config-');

/**
 * A start-up that fails at its last step (the HTTP port is taken, after the store, the buffers,
 * the pipeline and the Docker and syslog sources are up) undoes every step before it, last
 * first, and `logwharf run` exits non-zero with the error: nothing keeps running, the syslog
 * port is free again, and the data_dir (its lock, its buffers) serves the next start.
 */

let project: ComposeProject;
let holder: net.Server;
let takenPort: number;
let dir: string;

beforeAll(async () => {
  const image = await ensureTestImage();
  project = await ComposeProject.create(
    'start-failure',
    `version: "2.4"
services:
  talker:
    image: ${image}
    init: true
    command: ["sh", "-c", "i=0; while true; do i=$$((i+1)); echo \\"talker n=$$i\\"; sleep 0.1; done"]
`,
  );
  await project.up();
  holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  takenPort = (holder.address() as net.AddressInfo).port;
  dir = await tempDir('lw-start-failure-');
});

afterAll(async () => {
  await new Promise((resolve) => holder?.close(resolve));
  await project?.down();
  if (dir) await removeTempDir(dir);
});

function configYaml(dataDir: string, httpPort: number, syslogPort: number): string {
  return `data_dir: ${dataDir}
http:
  listen: 127.0.0.1:${httpPort}
sources:
  docker:
    project: ${project.name}
  syslog:
    enabled: true
    udp: 127.0.0.1:${syslogPort}
    tcp: 127.0.0.1:${syslogPort}
pipeline:
  flush_interval: 50ms
`;
}

/** Whether both syslog sockets could be bound on `port` now (then they are closed again). */
async function portFree(port: number): Promise<boolean> {
  const tcp = net.createServer();
  const udp = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, '127.0.0.1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => (tcp.listening ? tcp.close(resolve) : resolve(undefined)));
    await new Promise((resolve) => {
      try {
        udp.close(() => resolve(undefined));
      } catch {
        resolve(undefined);
      }
    });
  }
}

/** What keeps the event loop alive, by kind (`TCPServerWrap`, `Timeout`, ...). */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Log lines of a child whose message is `msg`. */
function logged(lw: LogwharfProcess, msg: string): Record<string, unknown>[] {
  return lw.output
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the HTTP port is taken when logwharf starts', () => {
  it('logwharf run exits non-zero with LOGWHARF_ERR_LISTEN, having undone every step, and the data_dir serves the next start', async () => {
    const syslogPort = await freePort();
    const runDir = join(dir, 'run');
    const lw = new LogwharfProcess(files.yamlFile(configYaml(runDir, takenPort, syslogPort)));
    const startedAt = Date.now();
    await expect(lw.start()).rejects.toThrow(/logwharf exited with 1/);
    expect(await lw.waitForExit(1000)).toBe(1);
    expect(Date.now() - startedAt, 'exits within a bound, not when something times out').toBeLessThan(20_000);

    const out = lw.output.join('\n');
    expect(out).toContain(
      `logwharf: http.listen: cannot listen on 127.0.0.1:${takenPort} (EADDRINUSE) — another program already listens there`,
    );
    expect(out).toContain('[LOGWHARF_ERR_LISTEN]');
    const order = [
      'HTTP API',
      'syslog source',
      'docker source',
      'multiline',
      'pipeline',
      'positions',
      'sink buffers',
      'store',
      'data_dir lock',
    ];
    expect(logged(lw, 'start-up failed; undoing the steps before it')[0]).toMatchObject({ undoing: order });
    // Each undone, in that order: the sources before the pipeline, the data_dir lock last.
    expect(logged(lw, 'undone').map((l) => l.step)).toEqual(order);

    expect(await portFree(syslogPort), 'the syslog port is free again').toBe(true);
    // The lock and the buffers were let go: a start on the same data_dir works.
    const next = new LogwharfProcess(files.yamlFile(configYaml(runDir, 0, syslogPort)));
    try {
      await next.start();
      await waitFor(async () => (await next.api.search({ q: 'service:talker' })).events.length > 0, {
        timeoutMs: 30_000,
        what: 'the next start to store the container lines',
      });
    } finally {
      expect(await next.kill('SIGTERM')).toBe(0);
    }
  });

  it('in process: startService rejects with LOGWHARF_ERR_LISTEN and leaves nothing running', async () => {
    const syslogPort = await freePort();
    const dataDir = join(dir, 'in-process');
    const log = pino({ level: 'silent' });
    const before = resourceCounts();
    const config = loadConfig({ file: files.yamlFile(configYaml(dataDir, takenPort, syslogPort)), env: {} });
    const err = await startService(config, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogwharfError);
    expect(err).toMatchObject({ code: 'LOGWHARF_ERR_LISTEN' });
    // Every socket, timer and file handle the start opened is closed again: no more of any
    // kind than before it (other tests' leftovers may close meanwhile; a pending fs callback of
    // the test runner's is not the start's).
    let extra: string[] = [];
    await waitFor(
      () => {
        extra = [...resourceCounts()]
          .filter(([kind, n]) => kind !== 'FSReqCallback' && n > (before.get(kind) ?? 0))
          .map(([kind, n]) => `${kind} x${n - (before.get(kind) ?? 0)}`);
        return extra.length === 0;
      },
      { timeoutMs: 10_000, what: 'no more open resources than before the start' },
    ).catch(() => {
      throw new Error(`still open after the failed start: ${extra.join(', ')}`);
    });
    expect(await portFree(syslogPort)).toBe(true);

    const again = await startService(
      loadConfig({ file: files.yamlFile(configYaml(dataDir, 0, syslogPort)), env: {} }),
      log,
    );
    await again.stop();
  });

  it('a Docker source stopped while it is still connecting stops (it used to wait for good)', async () => {
    const source = new DockerSource({
      config: loadConfig({ file: files.yamlFile('sources: { docker: { project: nobody } }\n'), env: {} })
        .sources.docker,
      address: engineAddress(null),
      intake: { push: () => true, onDrain: () => () => undefined },
      committed: () => undefined,
      log: pino({ level: 'silent' }),
    });
    source.start();
    // At once: the engine has not answered yet, so there is no event stream to end.
    const stopped = await Promise.race([
      source.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    expect(stopped, 'stop() resolved within 10 s').toBe(true);
  });
});
