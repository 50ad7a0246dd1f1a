import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { LogEvent } from '../../src/core/event.js';
import type { Intake } from '../../src/core/intake.js';
import { engineAddress } from '../../src/sources/docker/client.js';
import { DockerSource } from '../../src/sources/docker/source.js';
import { type EcsDoc, tally } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { deleteIndices, esUrl, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { type RunningLogwharf, startLogwharf } from '../helpers/in-process.js';
import { waitFor } from '../helpers/poll.js';
import { DockerSocketProxy } from '../helpers/socket-proxy.js';
import { startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * What /api/v1/sources and /metrics say about the sources, against real peers: a real container
 * (lines read, lag back to 0 once caught up, lag growing while the store is away), a log stream
 * cut under a running container and an engine that goes away (reconnects), and syslog peers
 * that come back and one that vanishes mid-frame (reconnects and drops per peer).
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function compose(name: string, services: string): Promise<ComposeProject> {
  const image = await ensureTestImage();
  const project = await ComposeProject.create(
    name,
    `version: "2.4"\nservices:\n${services.replaceAll('IMAGE', image)}`,
  );
  cleanups.push(() => project.down());
  return project;
}

async function logwharf(yaml: string): Promise<RunningLogwharf> {
  const dir = await tempDir('lw-srcmetrics-');
  cleanups.push(() => removeTempDir(dir));
  const lw = await startLogwharf(dir, yaml);
  cleanups.push(() => lw.service.stop());
  return lw;
}

/** `count` lines `<prefix><n>`, then `sleep` (a running container that has gone quiet). */
function printer(name: string, prefix: string, count: number, then = 'sleep 3600'): string {
  return `  ${name}:
    image: IMAGE
    init: true
    command: ["sh", "-c", "i=1; while [ $$i -le ${count} ]; do echo \\"${prefix}$$i\\"; i=$$((i+1)); done; ${then}"]
`;
}

async function metricsText(lw: RunningLogwharf): Promise<string> {
  return (await fetch(`${lw.api.baseUrl}/metrics`)).text();
}

/** A sample's value in Prometheus text, or NaN when absent. */
function metric(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : Number.NaN;
}

async function sourceOf(lw: RunningLogwharf, id: string): Promise<EcsDoc | undefined> {
  return (await lw.api.sources()).find((s) => s.id === id);
}

/** A TCP proxy in front of Elasticsearch that can be taken down (refused, connections cut) and back up. */
class CuttableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  private constructor(private readonly upstream: URL) {}

  static async create(upstream: string): Promise<CuttableProxy> {
    const p = new CuttableProxy(new URL(upstream));
    await p.up();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const es = net.connect(Number(this.upstream.port || 9200), this.upstream.hostname);
      for (const s of [client, es]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(es).pipe(client);
    });
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()),
    );
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('source metrics: a container', () => {
  it('counts the lines read, and its lag is 0 once every line is committed', async () => {
    const project = await compose('srcm-caughtup', printer('talker', 'talk ', 300));
    const lw = await logwharf(
      `sources:\n  docker:\n    project: ${project.name}\npipeline:\n  flush_interval: 20ms\n`,
    );
    await project.up();
    const [c] = await project.containers('talker');
    const events = await lw.api.waitForEvents('service:talker', 300);
    expect(tally(events, 'talk ', 300)).toEqual({ missing: [], doubled: [] });

    // Caught up: every line read is committed, and the container is quiet.
    const caughtUp = await waitFor(
      async () => {
        const s = await sourceOf(lw, c!.Id);
        return s && s.lines_read === 300 && s.lag_seconds === 0 && s.committed_time === s.last_line_time
          ? s
          : null;
      },
      { timeoutMs: 30_000, what: 'the container to be caught up' },
    );
    expect(caughtUp).toMatchObject({
      kind: 'docker',
      state: 'attached',
      lines_read: 300,
      lag_seconds: 0,
      reconnects: 0,
      dropped: { undecodable: 0 },
      compose: { project: project.name, service: 'talker' },
    });

    // Still 0 a while later: a quiet container is not a lagging one.
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await sourceOf(lw, c!.Id))?.lag_seconds).toBe(0);

    const labels = `kind="docker",id="${c!.Id}",name="${caughtUp.name}"`;
    const text = await metricsText(lw);
    expect(metric(text, `logwharf_source_lines_total{${labels}}`)).toBe(300);
    expect(metric(text, `logwharf_source_lag_seconds{${labels}}`)).toBe(0);
    expect(metric(text, `logwharf_source_reconnects_total{${labels}}`)).toBe(0);
    expect(metric(text, `logwharf_source_lines_dropped_total{${labels},reason="undecodable"}`)).toBe(0);
  });

  it('shows the lag growing while the store is away, and back to 0 once it has every line', async () => {
    const es = await CuttableProxy.create(esUrl());
    cleanups.push(() => es.down());
    const prefix = uniqueIndexPrefix();
    cleanups.push(() => deleteIndices(prefix));
    // Starts printing once the file appears, so the store can be taken away first.
    const dir = await tempDir('lw-srcmetrics-go-');
    cleanups.push(() => removeTempDir(dir));
    const project = await compose(
      'srcm-lag',
      `  waiter:
    image: IMAGE
    init: true
    volumes: ["${dir}:/go:ro"]
    command: ["sh", "-c", "echo ready; while [ ! -e /go/now ]; do sleep 0.1; done; i=1; while [ $$i -le 50 ]; do echo \\"late $$i\\"; i=$$((i+1)); done; sleep 3600"]
`,
    );
    // A memory buffer: positions move only once Elasticsearch has the events.
    const lw = await logwharf(
      `sources:\n  docker:\n    project: ${project.name}\nstore:\n  kind: elasticsearch\n  elasticsearch:\n    nodes: [ "${es.url}" ]\n    index_prefix: ${prefix}\n    request_timeout: 3s\n  buffer:\n    kind: memory\npipeline:\n  flush_interval: 20ms\n`,
    );
    await project.up();
    const [c] = await project.containers('waiter');
    await lw.api.waitForEvents('"ready"', 1);
    await waitFor(async () => (await sourceOf(lw, c!.Id))?.lag_seconds === 0, {
      timeoutMs: 30_000,
      what: 'the first line committed',
    });

    await es.down();
    await writeFile(join(dir, 'now'), '');
    const lagging = await waitFor(
      async () => {
        const s = await sourceOf(lw, c!.Id);
        return s && s.lines_read === 51 && s.lag_seconds >= 2 ? s : null;
      },
      { timeoutMs: 30_000, what: 'the lag to grow past 2 s while the store is away' },
    );
    // It waits from the first line not stored, not from the last one stored.
    expect(lagging.committed_time < lagging.last_line_time).toBe(true);

    await es.up();
    await waitFor(async () => (await sourceOf(lw, c!.Id))?.lag_seconds === 0, {
      timeoutMs: 60_000,
      what: 'the lag back to 0 once the store has every line',
    });
    const events = await lw.api.waitForEvents('service:waiter', 51);
    expect(tally(events, 'late ', 50)).toEqual({ missing: [], doubled: [] });
  });

  it('counts a re-attach after the log stream was cut under the running container', async () => {
    const proxy = await DockerSocketProxy.create();
    cleanups.push(() => proxy.close());
    const project = await compose('srcm-reattach', printer('talker', 'talk ', 20));
    const lw = await logwharf(
      `sources:\n  docker:\n    project: ${project.name}\n    host: ${proxy.dockerHost}\npipeline:\n  flush_interval: 20ms\n`,
    );
    await project.up();
    const [c] = await project.containers('talker');
    await lw.api.waitForEvents('service:talker', 20);
    await waitFor(async () => (await sourceOf(lw, c!.Id))?.state === 'attached', {
      timeoutMs: 30_000,
      what: 'the follower attached',
    });
    expect((await sourceOf(lw, c!.Id))?.reconnects).toBe(0);
    expect(proxy.cutConnections((line) => line.includes('/logs?'))).toBeGreaterThan(0);
    const s = await waitFor(
      async () => {
        const s = await sourceOf(lw, c!.Id);
        return s?.reconnects === 1 && s.state === 'attached' ? s : null;
      },
      { timeoutMs: 30_000, what: 'the re-attach counted' },
    );
    // Nothing read twice, nothing lost, and nothing waiting.
    expect(s).toMatchObject({ lines_read: 20, lag_seconds: 0 });
  });
});

describe('source metrics: the Docker engine connection', () => {
  it('counts a reconnection to the engine, not the attempts while it is away', async () => {
    const proxy = await DockerSocketProxy.create();
    cleanups.push(() => proxy.close());
    const dir = await tempDir('lw-srcmetrics-engine-');
    cleanups.push(() => removeTempDir(dir));
    const file = join(dir, 'logwharf.yaml');
    await writeFile(file, `sources:\n  docker:\n    project: lwtest-no-such-project\n`);
    const config = loadConfig({ file, env: {} }).sources.docker;
    const intake: Intake = { push: (_: LogEvent[]) => true, onDrain: () => () => {} };
    const source = new DockerSource({
      config,
      address: engineAddress(proxy.dockerHost),
      intake,
      committed: () => undefined,
      log: pino({ level: 'silent' }),
    });
    cleanups.push(() => source.stop());
    source.start();
    await waitFor(() => source.engine().connected, { timeoutMs: 30_000, what: 'connected' });
    expect(source.engine()).toEqual({ connected: true, reconnects: 0 });

    await proxy.stop();
    await waitFor(() => !source.engine().connected, { timeoutMs: 30_000, what: 'the engine gone' });
    // Several failed attempts while it is away (backoff from 100 ms) count as nothing.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(source.engine().reconnects).toBe(0);
    await proxy.start();
    await waitFor(() => source.engine().connected, { timeoutMs: 30_000, what: 'reconnected' });
    expect(source.engine()).toEqual({ connected: true, reconnects: 1 });
  });
});

describe('source metrics: syslog peers', () => {
  it('counts reconnects and drops per peer; no lag for syslog', async () => {
    const dir = await tempDir('lw-srcmetrics-syslog-');
    cleanups.push(() => removeTempDir(dir));
    const lw = await startSyslogLogwharf(dir, { udp: false });
    cleanups.push(() => lw.service.stop());

    const send = async (data: string, how: 'end' | 'destroy') => {
      const socket = net.connect(lw.tcpPort!, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      await new Promise<void>((resolve) => socket.write(data, () => resolve()));
      if (how === 'end') {
        socket.end();
        await new Promise((r) => socket.once('close', r));
      } else {
        // Let the bytes arrive before the reset, so the receiver sees a partial frame.
        await new Promise((r) => setTimeout(r, 100));
        socket.destroy();
      }
    };
    const peerId = 'tcp://127.0.0.1';
    // The first connection, then two more after it closed: two reconnects.
    await send('<13>1 2026-01-01T00:00:00Z peerhost app - - - first\n', 'end');
    await send('<13>1 2026-01-01T00:00:01Z peerhost app - - - second\n', 'end');
    // Octet-counted (RFC 6587), the last frame promising 60 bytes and sending fewer.
    const third = '<13>1 2026-01-01T00:00:02Z peerhost app - - - third';
    await send(`${Buffer.byteLength(third)} ${third}60 <13>1 cut-off`, 'destroy');

    const peer = await waitFor(
      async () => {
        const s = await sourceOf(lw, peerId);
        return s && s.reconnects === 2 && s.dropped.peer_closed_mid_frame === 1 && s.state === 'detached'
          ? s
          : null;
      },
      { timeoutMs: 15_000, what: 'the third connection counted and closed' },
    );
    expect(peer).toMatchObject({
      kind: 'syslog',
      name: 'peerhost',
      lines_read: 3,
      lag_seconds: null,
      reconnects: 2,
      dropped: { peer_closed_mid_frame: 1 },
    });

    const labels = `kind="syslog",id="${peerId}",name="peerhost"`;
    const text = await metricsText(lw);
    expect(metric(text, `logwharf_source_lines_total{${labels}}`)).toBe(3);
    expect(metric(text, `logwharf_source_reconnects_total{${labels}}`)).toBe(2);
    expect(
      metric(text, `logwharf_source_lines_dropped_total{${labels},reason="peer_closed_mid_frame"}`),
    ).toBe(1);
    // Not measured for syslog: no sample at all.
    expect(text).not.toContain(`logwharf_source_lag_seconds{${labels}}`);
    expect(metric(text, 'logwharf_syslog_messages_dropped_total{reason="peer_closed_mid_frame"}')).toBe(1);
  });

  it('does not count a second connection open at the same time as a reconnect', async () => {
    const dir = await tempDir('lw-srcmetrics-syslog2-');
    cleanups.push(() => removeTempDir(dir));
    const lw = await startSyslogLogwharf(dir, { udp: false });
    cleanups.push(() => lw.service.stop());
    const open = async () => {
      const s = net.connect(lw.tcpPort!, '127.0.0.1');
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
      return s;
    };
    const a = await open();
    const b = await open();
    a.write('<13>1 2026-01-01T00:00:00Z h app - - - from a\n');
    b.write('<13>1 2026-01-01T00:00:00Z h app - - - from b\n');
    await waitFor(async () => (await sourceOf(lw, 'tcp://127.0.0.1'))?.lines_read === 2, {
      timeoutMs: 15_000,
      what: 'both messages',
    });
    expect((await sourceOf(lw, 'tcp://127.0.0.1'))?.reconnects).toBe(0);
    a.destroy();
    b.destroy();
  });
});
