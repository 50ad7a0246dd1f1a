import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { waitFor } from '../helpers/poll.js';
import { type SyslogLogwharf, startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The receiver under load and abuse, over real sockets: a burst of 100,000 messages stored
 * exactly once, and malformed, oversized and cut-off input that must cost only itself while
 * other peers keep being served.
 */

const MAX = 4096;
let dir: string;
let pki: TestPki;
let lw: SyslogLogwharf;
let udpPort: number;
let tcpPort: number;
let tlsPort: number;

beforeAll(async () => {
  dir = await tempDir('lw-syslog-recv-');
  pki = await makeTestPki(dir);
  lw = await startSyslogLogwharf(dir, { tls: { pki, mutual: true }, maxMessageBytes: MAX });
  udpPort = lw.udpPort!;
  tcpPort = lw.tcpPort!;
  tlsPort = lw.tlsPort!;
});

afterAll(async () => {
  await lw?.service.stop();
  if (dir) await removeTempDir(dir);
});

/** A sample's value in Prometheus text, or NaN when absent. */
function metric(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : Number.NaN;
}

function octet(msg: string): Buffer {
  const body = Buffer.from(msg);
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

/** Connects, writes each chunk in turn, then closes (or destroys: a peer vanishing mid-frame). */
async function sendTcp(chunks: (string | Buffer)[], how: 'end' | 'destroy' = 'end'): Promise<void> {
  const socket = net.connect(tcpPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  for (const c of chunks) {
    if (!socket.write(c)) await new Promise((r) => socket.once('drain', r));
  }
  if (how === 'destroy') {
    // Let the bytes leave before the reset, so the receiver really sees a partial frame.
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    return;
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

describe('a burst over TCP', () => {
  it('stores all 100,000 messages exactly once', async () => {
    const total = 100_000;
    const parts: Buffer[] = [];
    for (let i = 1; i <= total; i++) {
      parts.push(
        octet(
          `<134>1 2026-11-27T02:00:00.${String(i % 1000).padStart(3, '0')}Z burst-host burst 42 - - burst-${i}`,
        ),
      );
    }
    // 64 KiB writes: the receiver sees frames split across chunks everywhere.
    const stream = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 65536) chunks.push(stream.subarray(at, at + 65536));
    await sendTcp(chunks);
    await waitFor(async () => (await lw.api.search({ q: 'burst-100000', limit: '1' })).events.length === 1, {
      timeoutMs: 120_000,
      what: 'the last message of the burst',
    });
    // One connection, one pipeline, in order: the last one stored means every earlier one is.
    const events = await lw.api.searchAll('app:burst');
    const t = tally(events, 'burst-', total);
    expect(t.missing).toEqual([]);
    expect(t.doubled).toEqual([]);
    expect(events).toHaveLength(total);
    // The peer shows in /api/v1/sources, by transport and address, with what it sent.
    const peer = (await lw.api.sources()).find((p) => p.id === 'tcp://127.0.0.1');
    expect(peer).toMatchObject({ kind: 'syslog', name: 'burst-host' });
    expect(peer!.lines_read).toBeGreaterThanOrEqual(total);
  }, 180_000);
});

describe('bad input costs only itself', () => {
  it('keeps serving a good peer while another floods, garbles and cuts frames', async () => {
    const good = (i: number) => `<14>1 2026-11-27T03:00:00Z good-host goodapp - - - good-${i}\n`;
    const bad = [
      // a line far over max_message_bytes with no newline for a long time
      sendTcp([`<14>${'x'.repeat(MAX * 50)}`, '\n<14>after-flood\n']),
      // an octet count that lies (too big), then a peer that vanishes mid-frame
      sendTcp([Buffer.from('500 <14>1 - - - - - - cut-off-frame')], 'destroy'),
      // binary garbage, newline framed
      sendTcp([Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x80, 0x81, 0x0a]), 'plain text with no header\n']),
    ];
    const goodPeer = sendTcp(Array.from({ length: 200 }, (_, i) => good(i + 1)));
    await Promise.all([...bad, goodPeer]);
    const events = await waitFor(
      async () => {
        const all = await lw.api.searchAll('app:goodapp');
        return tally(all, 'good-', 200).missing.length === 0 ? all : null;
      },
      { timeoutMs: 30_000, what: 'every message of the good peer' },
    );
    expect(tally(events, 'good-', 200).doubled).toEqual([]);

    // The flood is cut at the limit, flagged, and the next message on that connection survives.
    const [flood] = await lw.api.waitForEvents('log.flags:truncated', 1, 10_000);
    expect(Buffer.byteLength(flood!.event.original ?? flood!.message)).toBeLessThanOrEqual(MAX);
    await lw.api.waitForEvents('"after-flood"', 1, 10_000);
    // Input that is not syslog is kept whole, tagged as unparsed, never dropped.
    const [plain] = await lw.api.waitForEvents('"plain text with no header"', 1, 10_000);
    expect(plain!.message).toBe('plain text with no header');
    expect(plain!.log.flags).toContain('unparsed');
    // The frame cut off by the disconnect is the only thing lost.
    expect((await lw.api.search({ q: '"cut-off-frame"' })).events).toHaveLength(0);
    // And each of these is counted, with its reason, for an alert.
    const metrics = await (await fetch(`${lw.api.baseUrl}/metrics`)).text();
    expect(metric(metrics, 'logwharf_syslog_truncated_total')).toBeGreaterThanOrEqual(1);
    expect(metric(metrics, 'logwharf_syslog_unparsed_total')).toBeGreaterThanOrEqual(1);
    expect(
      metric(metrics, 'logwharf_syslog_messages_dropped_total{reason="peer_closed_mid_frame"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('cuts an oversized UDP datagram at the limit and flags it', async () => {
    const socket = dgram.createSocket('udp4');
    const text = `<11>1 2026-11-27T04:00:00Z h bigudp - - - ${'y'.repeat(MAX * 2)}`;
    await new Promise<void>((resolve, reject) =>
      socket.send(text, udpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    socket.close();
    const [e] = await lw.api.waitForEvents('app:bigudp', 1, 10_000);
    expect(e!.log.flags).toContain('truncated');
    expect(e!.log.level).toBe('err');
    expect(e!.message.length).toBeLessThan(MAX);
  });
});

describe('TLS with client certificates (mutual TLS)', () => {
  /** Sends one message; resolves with the error the connection ended with, if any. */
  async function sendTls(withCert: boolean, msg: string): Promise<Error | null> {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: tlsPort,
      ca: await readFile(pki.ca),
      ...(withCert ? { cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) } : {}),
    });
    return new Promise((resolve) => {
      socket.once('error', (err) => resolve(err));
      socket.once('secureConnect', () => {
        socket.write(octet(msg));
        socket.end();
      });
      // With TLS 1.3 the server's verdict on the client certificate comes after the client's
      // handshake is done: wait for the connection to close either way.
      socket.once('close', () => resolve(null));
    });
  }

  it('accepts a client with a certificate signed by the configured CA', async () => {
    expect(await sendTls(true, '<13>1 2026-11-27T05:00:00Z tlshost tlsapp - - - over-mtls')).toBeNull();
    const [e] = await lw.api.waitForEvents('"over-mtls"', 1, 10_000);
    expect(e!.host.name).toBe('tlshost');
  });

  it('refuses a client without a certificate', async () => {
    const err = await sendTls(false, '<13>1 - nocert nocert - - - no-cert-msg');
    expect(err?.message).toMatch(/certificate/i);
    // A later, authorised message is stored; the refused one never was.
    await sendTls(true, '<13>1 - withcert withcert - - - after-no-cert');
    await lw.api.waitForEvents('"after-no-cert"', 1, 10_000);
    expect((await lw.api.search({ q: '"no-cert-msg"' })).events).toHaveLength(0);
  });
});
