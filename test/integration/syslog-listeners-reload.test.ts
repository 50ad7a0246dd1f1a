import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type ListenerSettings, SyslogListeners } from '../../src/sources/syslog/listeners.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/rsyslog.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * SyslogListeners.reconfigure (SIGHUP): real sockets on loopback. Only what changed is bound
 * again, a listener that cannot move stays where it was, and open connections go on.
 */

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

function listeners(settings: ListenerSettings) {
  const received: string[] = [];
  const idleClosed: string[] = [];
  const l = new SyslogListeners({
    ...settings,
    onFrames: (frames) => {
      for (const f of frames) received.push(f.bytes.toString('utf8') + (f.truncated ? ' [truncated]' : ''));
    },
    onConnection: () => {},
    onProblem: () => {},
    onIdleClose: (peer) => idleClosed.push(peer.address),
    onRefused: () => {},
  });
  open.push({ close: () => void l.close() });
  return { l, received, idleClosed };
}

const BASE: ListenerSettings = {
  udp: null,
  tcp: null,
  tls: null,
  maxMessageBytes: 65536,
  maxConnections: 16,
  idleTimeoutMs: null,
};
const at = (port: number, host = '127.0.0.1') => ({ host, port });
const portOf = (address: string | undefined) => Number(address?.split(':').pop());

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
    open.push({ close: () => s.destroy() });
  });
}

async function refuses(port: number): Promise<boolean> {
  return connect(port).then(
    (s) => {
      s.destroy();
      return false;
    },
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );
}

function sendUdp(port: number, text: string): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    s.send(text, port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

const until = (received: string[], text: string) =>
  waitFor(() => received.includes(text), { timeoutMs: 10_000, what: `'${text}' to arrive` });

describe('SyslogListeners.reconfigure', () => {
  it('moves TCP and UDP to new ports: the old ones stop, the new ones receive, open connections go on', async () => {
    const [t1, t2, u1, u2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const { l, received } = listeners({ ...BASE, tcp: at(t1), udp: at(u1) });
    await l.start();
    const old = await connect(t1);
    old.write('before\n');
    await until(received, 'before');

    const failed = await l.reconfigure({ ...BASE, tcp: at(t2), udp: at(u2) });
    expect(failed).toEqual([]);
    expect(l.addresses()).toEqual({ tcp: `127.0.0.1:${t2}`, udp: `127.0.0.1:${u2}` });
    expect(await refuses(t1)).toBe(true);
    old.write('old connection\n');
    (await connect(t2)).write('new connection\n');
    await sendUdp(u2, 'udp moved');
    await until(received, 'old connection');
    await until(received, 'new connection');
    await until(received, 'udp moved');

    // Removing a listener closes it; nothing else changes.
    expect(await l.reconfigure({ ...BASE, tcp: at(t2), udp: null })).toEqual([]);
    expect(l.addresses()).toEqual({ tcp: `127.0.0.1:${t2}` });
  });

  it('moves onto an address that overlaps the old one (the same port on 0.0.0.0) by freeing it first', async () => {
    const port = await freePort();
    const { l, received } = listeners({ ...BASE, tcp: at(port) });
    await l.start();
    expect(await l.reconfigure({ ...BASE, tcp: at(port, '0.0.0.0') })).toEqual([]);
    expect(l.addresses()).toEqual({ tcp: `0.0.0.0:${port}` });
    (await connect(port)).write('on all addresses\n');
    await until(received, 'on all addresses');
  });

  it('keeps a listener where it was when its new port is taken, and applies the rest', async () => {
    const [t1, u1, u2] = [await freePort(), await freePort(), await freePort()];
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => taken.close() });
    const busy = (taken.address() as net.AddressInfo).port;

    const { l, received } = listeners({ ...BASE, tcp: at(t1), udp: at(u1) });
    await l.start();
    const failed = await l.reconfigure({ ...BASE, tcp: at(busy), udp: at(u2) });
    expect(failed.map((f) => f.transport)).toEqual(['tcp']);
    expect(failed[0]!.error).toMatchObject({ code: 'LOGWHARF_ERR_LISTEN' });
    expect(failed[0]!.error.message).toContain(
      `sources.syslog.tcp: cannot listen on 127.0.0.1:${busy} (EADDRINUSE)`,
    );
    expect(l.addresses()).toEqual({ tcp: `127.0.0.1:${t1}`, udp: `127.0.0.1:${u2}` });
    (await connect(t1)).write('still here\n');
    await until(received, 'still here');
    // A later reload tries the move again (the old address is the one in force).
    taken.close();
    await waitFor(async () => (await l.reconfigure({ ...BASE, tcp: at(busy), udp: at(u2) })).length === 0, {
      timeoutMs: 10_000,
      what: 'the freed port to be taken',
    });
    expect(portOf(l.addresses().tcp)).toBe(busy);
  });

  it('applies limits to connections opened after it', async () => {
    const port = await freePort();
    const { l, received } = listeners({ ...BASE, tcp: at(port) });
    await l.start();
    const before = await connect(port);
    before.write('accepted\n');
    await until(received, 'accepted');
    received.length = 0;
    await l.reconfigure({ ...BASE, tcp: at(port), maxMessageBytes: 480 });
    const long = 'x'.repeat(600);
    before.write(`${long}\n`);
    (await connect(port)).write(`${long}\n`);
    await waitFor(() => received.length === 2, { timeoutMs: 10_000, what: 'both long messages' });
    expect(received.sort()).toEqual([long, `${'x'.repeat(480)} [truncated]`].sort());
  });

  it('applies a new idle timeout to connections already open', async () => {
    const port = await freePort();
    const { l, received, idleClosed } = listeners({ ...BASE, tcp: at(port) });
    await l.start();
    const quiet = await connect(port);
    quiet.write('then quiet\n');
    await until(received, 'then quiet');
    const fin = new Promise<void>((resolve) => quiet.once('end', resolve));
    await l.reconfigure({ ...BASE, tcp: at(port), idleTimeoutMs: 200 });
    await fin;
    expect(idleClosed).toEqual(['127.0.0.1']);
  });

  it('does not time out a connection it stopped reading (backpressure), and times it from the resume', async () => {
    const port = await freePort();
    const { l, received, idleClosed } = listeners({ ...BASE, tcp: at(port), idleTimeoutMs: 200 });
    await l.start();
    l.pause();
    const paused = await connect(port);
    paused.write('held back\n');
    let finAt = 0;
    const fin = new Promise<void>((resolve) =>
      paused.once('end', () => {
        finAt = Date.now();
        resolve();
      }),
    );
    // Nothing to poll for: the assertion is that no close comes while paused, for five idle timeouts.
    await new Promise((r) => setTimeout(r, 1000));
    expect(idleClosed).toEqual([]);
    expect(received).toEqual([]);
    const resumedAt = Date.now();
    l.resume();
    await until(received, 'held back');
    await fin;
    expect(idleClosed).toEqual(['127.0.0.1']);
    expect(finAt - resumedAt).toBeGreaterThanOrEqual(150);
  });

  describe('TLS', () => {
    let a: TestPki;
    let b: TestPki;
    let live: { cert: string; key: string };
    let received: string[] = [];

    let sent = 0;
    /** 'ok' once the listener received a message over a TLS connection; else why not. */
    const handshake = (port: number, pki: TestPki, client?: TestPki) =>
      new Promise<string>((resolve) => {
        const text = `hello ${++sent}`;
        const s = tls.connect({
          port,
          host: '127.0.0.1',
          ca: readFileSync(pki.ca),
          ...(client ? { cert: readFileSync(client.clientCert), key: readFileSync(client.clientKey) } : {}),
        });
        open.push({ close: () => s.destroy() });
        s.once('secureConnect', () => {
          // With TLS 1.3 a refused client certificate shows after the handshake: wait for the frame.
          s.write(`${text}\n`);
          s.once('close', () => resolve('closed'));
          until(received, text).then(() => resolve('ok'), resolve);
        });
        s.once('error', (err) => resolve(`error: ${err.message}`));
      });

    it('reads its certificate files again at the same address (rotation), and rebinds to ask for client certificates', async () => {
      const dir = await tempDir('lw-tls-reload-');
      await mkdir(join(dir, 'a'));
      await mkdir(join(dir, 'b'));
      a = await makeTestPki(join(dir, 'a'));
      b = await makeTestPki(join(dir, 'b'));
      live = { cert: join(dir, 'live.pem'), key: join(dir, 'live.key') };
      await copyFile(a.serverCert, live.cert);
      await copyFile(a.serverKey, live.key);
      const port = await freePort();
      const settings = { ...BASE, tls: { ...at(port), ...live } };
      const started = listeners(settings);
      const l = started.l;
      received = started.received;
      await l.start();
      expect(await handshake(port, a)).toBe('ok');

      await copyFile(b.serverCert, live.cert);
      await copyFile(b.serverKey, live.key);
      expect(await l.reconfigure(settings)).toEqual([]);
      expect(await handshake(port, b)).toBe('ok');
      expect(await handshake(port, a)).toMatch(/^error: /);

      // Mutual TLS on: same address, bound again (the old listener is freed first).
      const mutual = { ...BASE, tls: { ...at(port), ...live, ca: b.ca } };
      expect(await l.reconfigure(mutual)).toEqual([]);
      expect(l.addresses()).toEqual({ tls: `127.0.0.1:${port}` });
      expect(await handshake(port, b, b)).toBe('ok');
      expect(await handshake(port, b)).not.toBe('ok');

      // A certificate that cannot be read: the listener keeps the one it has.
      const broken = {
        ...BASE,
        tls: { ...at(port), cert: join(dir, 'missing.pem'), key: live.key, ca: b.ca },
      };
      const failed = await l.reconfigure(broken);
      expect(failed.map((f) => f.error.message)).toEqual([
        expect.stringContaining('sources.syslog.tls.cert: cannot read'),
      ]);
      expect(await handshake(port, b, b)).toBe('ok');
    });
  });
});
