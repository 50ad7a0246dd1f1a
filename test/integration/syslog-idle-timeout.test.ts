import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { dockerClient, ensureTestImage, removeContainer } from '../helpers/docker.js';
import { metricSum, scrapeMetrics } from '../helpers/fault-observe.js';
import { waitFor } from '../helpers/poll.js';
import { type Rsyslog, startRsyslog } from '../helpers/rsyslog.js';
import { type SyslogLogwharf, startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * sources.syslog.idle_timeout over real sockets (connections.ts): a quiet rsyslog relay is
 * closed and every message it sends afterwards arrives once, over TCP (rsyslog sees the close
 * and reconnects) and over TLS (it does not, and goes on writing into the half-closed
 * connection, which logwharf still reads); quiet peers holding every max_connections slot make
 * room for a new peer; a frame left unfinished by a peer that went quiet is handled as any close
 * mid-frame.
 */

const run = promisify(execFile);
const LOGGER = process.env.LOGGER_BIN ?? 'logger';

const dirs: string[] = [];
const services: SyslogLogwharf[] = [];
const relays: Rsyslog[] = [];
let pki: TestPki;

beforeAll(async () => {
  const dir = await tempDir('lw-syslog-idle-pki-');
  dirs.push(dir);
  pki = await makeTestPki(dir);
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  for (const s of services) await s.service.stop();
  for (const d of dirs) await removeTempDir(d);
});

async function logwharf(opts: Parameters<typeof startSyslogLogwharf>[1]): Promise<SyslogLogwharf> {
  const dir = await tempDir('lw-syslog-idle-');
  dirs.push(dir);
  const lw = await startSyslogLogwharf(dir, { udp: false, ...opts });
  services.push(lw);
  return lw;
}

async function metric(lw: SyslogLogwharf, name: string): Promise<number> {
  return metricSum(await scrapeMetrics(lw.api), name) ?? Number.NaN;
}

const IDLE_CLOSED = 'logwharf_syslog_idle_connections_closed_total';
const REFUSED = 'logwharf_syslog_connections_refused_total';
const LOST_MID_FRAME = 'logwharf_syslog_messages_dropped_total{reason="peer_closed_mid_frame"}';

function idleClosed(lw: SyslogLogwharf, n: number, what: string): Promise<unknown> {
  return waitFor(async () => (await metric(lw, IDLE_CLOSED)) >= n, {
    timeoutMs: 15_000,
    what: `logwharf to close ${what} for idleness (${n} in all)`,
  });
}

/** logger sends `${prefix}${n}` for n in [from, to] to rsyslog's own listener, one message per line. */
async function sendThroughRelay(rs: Rsyslog, tag: string, prefix: string, from: number, to: number) {
  const lines: string[] = [];
  for (let n = from; n <= to; n++) lines.push(`${prefix}${n}`);
  const args = ['-T', '-n', '127.0.0.1', '-P', String(rs.tcpPort), '-t', tag, '-p', 'user.info'];
  const child = run(LOGGER, args);
  child.child.stdin!.end(`${lines.join('\n')}\n`);
  await child;
}

describe('a quiet rsyslog relay', () => {
  it.each([
    { name: 'TCP, octet-counted', framing: 'octet-counted' as const, tls: false },
    { name: 'TCP, newline-framed', framing: 'lf' as const, tls: false },
    { name: 'TCP, omfwd action defaults', framing: 'octet-counted' as const, tls: false, defaults: true },
    { name: 'TLS, octet-counted', framing: 'octet-counted' as const, tls: true },
  ])(
    'is closed when idle and every later message arrives once ($name)',
    async ({ name, framing, tls, defaults }) => {
      const lw = await logwharf({ idleTimeout: '1s', ...(tls ? { tls: { pki } } : {}) });
      const rs = await startRsyslog({
        forwardTo: {
          host: '127.0.0.1',
          port: tls ? lw.tlsPort! : lw.tcpPort!,
          framing,
          ...(tls ? { tls: { ca: pki.ca } } : {}),
          ...(defaults ? { action: 'defaults' as const } : {}),
        },
      });
      relays.push(rs);
      const tag = `idle${name.replace(/[^a-z]/gi, '').toLowerCase()}`;
      const prefix = `${tag}-`;
      const perBatch = 20;
      const batches = 3;

      for (let b = 1; b <= batches; b++) {
        await sendThroughRelay(rs, tag, prefix, (b - 1) * perBatch + 1, b * perBatch);
        await lw.api.waitForEvents(`app:${tag}`, b * perBatch, 30_000);
        // The relay has nothing more to say: logwharf closes its side after idle_timeout. Over
        // TLS the relay never notices, so its one connection is closed (half) only once.
        if (b < batches) await idleClosed(lw, tls ? 1 : b, 'the quiet relay');
      }

      const events = await lw.api.searchAll(`app:${tag}`);
      expect(tally(events, prefix, perBatch * batches)).toEqual({ missing: [], doubled: [] });
      expect(events).toHaveLength(perBatch * batches);
      expect(await metric(lw, 'logwharf_syslog_messages_dropped_total')).toBe(0);
      const peer = (await lw.api.sources()).find((p) => p.id === `${tls ? 'tls' : 'tcp'}://127.0.0.1`);
      // Over plain TCP rsyslog's omfwd sees the close before its next send and reconnects; over
      // TLS it does not notice, and goes on writing into the half-closed connection.
      expect(peer?.reconnects).toBe(tls ? 0 : batches - 1);
    },
    120_000,
  );
});

describe("Docker's syslog driver, quiet between lines", () => {
  it('keeps every line: it never notices the close, and writes on into the half-closed connection', async () => {
    const lw = await logwharf({ idleTimeout: '1s' });
    const word = `drvidle${process.pid}`;
    const docker = dockerClient();
    // The container's own pauses (3 s) are longer than the idle timeout (1 s).
    const c = await docker.createContainer({
      name: `lwtest-syslog-idle-${process.pid}`,
      Image: await ensureTestImage(),
      Cmd: ['sh', '-c', `echo "${word}-1"; sleep 3; echo "${word}-2"; sleep 3; echo "${word}-3"`],
      HostConfig: {
        LogConfig: {
          Type: 'syslog',
          Config: { 'syslog-address': `tcp://127.0.0.1:${lw.tcpPort}`, 'syslog-format': 'rfc5424' },
        },
      },
    });
    try {
      await c.start();
      await c.wait();
    } finally {
      await removeContainer(c.id);
    }
    const events = await lw.api.waitForEvents(word, 3, 30_000);
    expect(events.map((e) => e.message).sort()).toEqual([`${word}-1`, `${word}-2`, `${word}-3`]);
    expect(await metric(lw, IDLE_CLOSED)).toBeGreaterThanOrEqual(1);
    const peer = (await lw.api.sources()).find((p) => p.id === 'tcp://127.0.0.1');
    expect(peer?.reconnects).toBe(0);
  }, 60_000);
});

/** A peer that connects and sends `text`. With `ignoreFin`, it never closes, even after our FIN. */
async function peer(port: number, text: string, ignoreFin: boolean): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: ignoreFin });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  socket.write(text);
  return socket;
}

const closed = (socket: net.Socket): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('quiet peers holding every connection slot', () => {
  let lw: SyslogLogwharf;
  beforeAll(async () => {
    lw = await logwharf({ idleTimeout: '2s', maxConnections: 2 });
  });

  it('make room for a new peer once idle; until then a newcomer is refused, counted', async () => {
    const holders = [
      await peer(lw.tcpPort!, '<14>1 - holder - - - - slot-holder-1\n', true),
      await peer(lw.tcpPort!, '<14>1 - holder - - - - slot-holder-2\n', true),
    ];
    await lw.api.waitForEvents('host:holder', 2, 10_000);

    // Both slots are taken by peers not idle yet: a third is turned away, and what it sent is never stored.
    const turnedAway = await peer(lw.tcpPort!, '<14>1 - newcomer - - - - turned-away\n', false);
    await closed(turnedAway);
    expect(await metric(lw, REFUSED)).toBe(1);

    // The holders say nothing more: each gets our FIN, but (ignoring it) keeps its slot until needed.
    await idleClosed(lw, 2, 'both quiet holders');
    const newcomer = await peer(lw.tcpPort!, '<14>1 - newcomer - - - - got-in\n', false);
    await lw.api.waitForEvents('"got-in"', 1, 10_000);
    newcomer.end();
    expect(await lw.api.searchAll('"turned-away"')).toEqual([]);
    expect(await metric(lw, REFUSED)).toBe(1);
    for (const h of holders) h.destroy();
  }, 60_000);

  it('that stopped mid-frame lose only an unfinished octet-counted frame, counted', async () => {
    await waitFor(async () => (await lw.api.sources()).every((p) => p.state === 'detached'), {
      timeoutMs: 10_000,
      what: 'the previous test’s connections to be gone',
    });
    const lostBefore = await metric(lw, LOST_MID_FRAME);
    const idleBefore = await metric(lw, IDLE_CLOSED);
    // Peers that close when they see our FIN, as most do.
    const cut = await peer(lw.tcpPort!, '200 <14>1 - cut - - - - frame-never-finished', false);
    const line = await peer(lw.tcpPort!, '<14>1 - line - - - - line-without-newline', false);
    await Promise.all([closed(cut), closed(line)]);

    expect(await metric(lw, IDLE_CLOSED)).toBe(idleBefore + 2);
    // Kept: a newline-framed message needs no trailer at a close (as when a peer disconnects).
    await lw.api.waitForEvents('"line-without-newline"', 1, 10_000);
    await waitFor(async () => (await metric(lw, LOST_MID_FRAME)) === lostBefore + 1, {
      timeoutMs: 10_000,
      what: 'the unfinished octet-counted frame to be counted as lost',
    });
    expect(await lw.api.searchAll('"frame-never-finished"')).toEqual([]);
  }, 60_000);
});
