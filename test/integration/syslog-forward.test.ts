import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import { openSyslogForwarder, type SyslogForwarder } from '../../src/sinks/syslog/forwarder.js';
import { SyslogFrameDecoder } from '../../src/sources/syslog/framing.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { waitFor } from '../helpers/poll.js';
import { type Rsyslog, type RsyslogMessage, rsyslogTlsDriver, startRsyslog } from '../helpers/rsyslog.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The syslog forwarder against a real rsyslogd: what rsyslog parsed out of every message must be
 * exactly what the event said. rsyslog writes each message's fields as JSON (test/helpers/rsyslog.ts).
 */

type Expected = Pick<
  RsyslogMessage,
  'pri' | 'hostname' | 'appname' | 'procid' | 'msgid' | 'structuredData' | 'msg' | 'timestamp'
>;

const container: ContainerInfo = {
  id: '4f2a9c0d1e7b',
  name: 'demo-web-1',
  imageName: 'nginx:1.27',
  labels: {},
  composeProject: 'demo',
  composeService: 'web',
  tty: false,
};

/** n events of eight kinds, each with what rsyslog should report; procid `p<i>` identifies them. */
function dataset(n: number, tag: string): { events: LogEvent[]; expected: Expected[] } {
  const events: LogEvent[] = [];
  const expected: Expected[] = [];
  for (let i = 0; i < n; i++) {
    const ms = String(i % 1000).padStart(3, '0');
    const facility = i % 24;
    const severity = i % 8;
    const e: LogEvent = {
      timestamp: `2024-05-01T12:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}:00.${ms}456789Z`,
      id: `${tag}-${i}`,
      dataset: 'syslog',
      ingested: '2024-05-01T12:00:00.000000000Z',
      message: `request ${i} served`,
      severity,
      facility,
      host: 'web-01.example.org',
      syslog: { appname: 'nginx', procid: `${tag}${i}`, msgid: 'ACCESS' },
    };
    const x: Expected = {
      pri: String(facility * 8 + severity),
      hostname: 'web-01.example.org',
      appname: 'nginx',
      procid: `${tag}${i}`,
      msgid: 'ACCESS',
      structuredData: '-',
      msg: e.message,
      timestamp: `${e.timestamp.slice(0, 26)}Z`,
    };
    switch (i % 8) {
      case 1:
        e.message = x.msg = `grüße aus Köln — 日本語 — 😀 #${i}`;
        e.syslog = { procid: `${tag}${i}` };
        e.service = 'café';
        x.appname = 'caf_';
        x.msgid = '-';
        break;
      case 2:
        e.message =
          x.msg = `Traceback (most recent call last):\n  File "app.py", line ${i}, in <module>\n\tValueError: bad`;
        break;
      case 3:
        e.syslog!.structuredData = {
          'exampleSDID@32473': { iut: '3', eventSource: 'App "quoted" [br\\ack]' },
          origin: { ip: '10.0.0.1' },
        };
        x.structuredData =
          '[exampleSDID@32473 iut="3" eventSource="App \\"quoted\\" [br\\\\ack\\]"][origin ip="10.0.0.1"]';
        break;
      case 4:
        e.message = x.msg = `${i}:${'abcdefghij'.repeat(820)}`;
        break;
      case 5:
        e.dataset = 'docker';
        e.syslog = undefined;
        e.container = container;
        e.stream = 'stderr';
        e.service = 'web';
        e.facility = 3;
        e.severity = 3;
        x.pri = '27';
        x.appname = 'web';
        x.procid = '-';
        x.msgid = '-';
        x.structuredData =
          '[logwharf@32473 container="demo-web-1" id="4f2a9c0d1e7b" image="nginx:1.27" stream="stderr" service="web" project="demo"]';
        // procid is how messages are matched; docker events have none, so the message says it.
        e.message = x.msg = `docker line ${tag}${i}`;
        break;
      case 6:
        e.host = 'bad host\tname';
        e.syslog!.msgid = 'M'.repeat(40);
        e.message = x.msg = '   indented by three spaces';
        x.hostname = 'bad_host_name';
        x.msgid = 'M'.repeat(32);
        break;
      case 7:
        e.message = x.msg = '';
        break;
    }
    events.push(e);
    expected.push(x);
  }
  return { events, expected };
}

function keyOf(m: Expected): string {
  return m.procid !== '-' ? m.procid : (/docker line (\S+)/.exec(m.msg)?.[1] ?? m.msg);
}

function fieldsOf(m: RsyslogMessage): Expected {
  const { pri, hostname, appname, procid, msgid, structuredData, msg, timestamp } = m;
  return { pri, hostname, appname, procid, msgid, structuredData, msg, timestamp };
}

function recorder() {
  const lines: Array<{ level: 'warn' | 'info'; msg: string; obj: object }> = [];
  return {
    lines,
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj }),
    info: (obj: object, msg: string) => lines.push({ level: 'info', msg, obj }),
  };
}

async function writeAll(fwd: SyslogForwarder, events: LogEvent[], batchSize = 100): Promise<void> {
  for (let i = 0; i < events.length; i += batchSize) {
    expect(await fwd.write(events.slice(i, i + batchSize))).toEqual({ status: 'delivered' });
  }
}

/** Sends the 1000-event data set and checks every field rsyslog parsed, in order, none twice. */
async function sendAndCheck(fwd: SyslogForwarder, rs: Rsyslog, tag: string): Promise<void> {
  const { events, expected } = dataset(1000, tag);
  await writeAll(fwd, events);
  const all = await rs.waitForMessages(1000);
  const mine = all.map(fieldsOf).filter((m) => keyOf(m).startsWith(tag));
  expect(mine).toHaveLength(1000);
  // One connection, one rsyslog worker: the order on the wire is the order written.
  expect(mine.map(keyOf)).toEqual(expected.map(keyOf));
  for (let i = 0; i < expected.length; i++)
    expect(mine[i], `event ${i} (kind ${i % 8})`).toEqual(expected[i]);
  expect(rs.diagnostics()).not.toMatch(/Framing Error|Incomplete frame|invalid/i);
}

describe('forwarding to rsyslog over plain TCP', () => {
  let rs: Rsyslog;
  beforeAll(async () => {
    rs = await startRsyslog();
  });
  afterAll(async () => {
    await rs?.stop();
  });

  it('delivers 1000 varied events that rsyslog parses field for field', async () => {
    const log = recorder();
    const fwd = await openSyslogForwarder({ host: '127.0.0.1', port: rs.tcpPort, tls: null, log });
    try {
      expect(await fwd.ready()).toBe(true);
      await sendAndCheck(fwd, rs, 'tcp');
      expect(fwd.counters).toMatchObject({ events: 1000, batches: 10, connects: 1, rejected: 0 });
      expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    } finally {
      await fwd.close();
    }
  });

  it('drains a write in progress on close(), and answers retryable after it', async () => {
    const before = (await rs.messages()).length;
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port: rs.tcpPort,
      tls: null,
      log: recorder(),
    });
    const { events } = dataset(200, 'drain');
    const writing = fwd.write(events);
    await Promise.all([fwd.close(), fwd.close()]);
    expect(await writing).toEqual({ status: 'delivered' });
    await rs.waitForMessages(before + 200);
    const after = await fwd.write(events.slice(0, 1));
    expect(after.status).toBe('retryable');
    expect(fwd.counters.retryable.closed).toBe(1);
    expect(await fwd.ready()).toBe(false);
  });
});

describe('forwarding to rsyslog over TLS', () => {
  let dir: string;
  let otherDir: string;
  let pki: TestPki;
  let other: TestPki;
  let rs: Rsyslog;
  let port: number;
  const driver = rsyslogTlsDriver();

  beforeAll(async () => {
    dir = await tempDir('lw-syslog-fwd-tls-');
    pki = await makeTestPki(dir);
    otherDir = await tempDir('lw-syslog-fwd-other-');
    other = await makeTestPki(otherDir);
    // Fails, naming the Debian package rsyslog-gnutls, when rsyslog has no TLS driver.
    rs = await startRsyslog({
      tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, authMode: 'x509/certvalid' },
    });
    port = rs.tlsPort!;
  });
  afterAll(async () => {
    await rs?.stop();
    await removeTempDir(dir);
    await removeTempDir(otherDir);
  });

  const tlsOpts = () => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });

  it(`delivers 1000 varied events, verified server, client certificate (rsyslog ${driver})`, async () => {
    const fwd = await openSyslogForwarder({ host: '127.0.0.1', port, tls: tlsOpts(), log: recorder() });
    try {
      await sendAndCheck(fwd, rs, 'tls');
    } finally {
      await fwd.close();
    }
  });

  it('verifies the server by the SNI name when one is configured', async () => {
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port,
      tls: { ...tlsOpts(), serverName: 'localhost' },
      log: recorder(),
    });
    try {
      expect(await fwd.write(dataset(1, 'sni').events)).toEqual({ status: 'delivered' });
    } finally {
      await fwd.close();
    }
  });

  it('refuses a server whose certificate another CA signed: retryable, with the reason', async () => {
    const log = recorder();
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port,
      tls: { ca: other.ca, cert: pki.clientCert, key: pki.clientKey },
      log,
    });
    try {
      const out = await fwd.write(dataset(1, 'badca').events);
      expect(out.status).toBe('retryable');
      expect(out.status === 'retryable' && out.reason).toMatch(/TLS handshake: .*(certificate|self.signed)/i);
      expect(await fwd.ready()).toBe(false);
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      await fwd.close();
    }
  });

  it('refuses a server whose certificate does not name the configured server name', async () => {
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port,
      tls: { ...tlsOpts(), serverName: 'syslog.example.net' },
      log: recorder(),
    });
    try {
      const out = await fwd.write(dataset(1, 'badname').events);
      expect(out.status === 'retryable' && out.reason).toMatch(/syslog\.example\.net|altnames/i);
    } finally {
      await fwd.close();
    }
  });

  it('fails start-up on an unreadable PEM file, naming the key and path', async () => {
    await expect(
      openSyslogForwarder({ host: '127.0.0.1', port, tls: { ca: `${dir}/missing.pem` }, log: recorder() }),
    ).rejects.toThrow(/tls\.ca: cannot read .*missing\.pem \(ENOENT\)/);
  });
});

describe('when rsyslog is down', () => {
  it('opens at once, warns, answers retryable, then delivers once rsyslog is back', async () => {
    const rs = await startRsyslog();
    try {
      await rs.kill();
      const log = recorder();
      const fwd = await openSyslogForwarder({
        host: '127.0.0.1',
        port: rs.tcpPort,
        tls: null,
        log,
        timeoutMs: 2_000,
      });
      try {
        await waitFor(() => log.lines.some((l) => l.level === 'warn'), {
          timeoutMs: 5_000,
          what: 'a start-up warning',
        });
        const { events, expected } = dataset(20, 'down');
        const out = await fwd.write(events.slice(0, 10));
        expect(out.status).toBe('retryable');
        expect(out.status === 'retryable' && out.reason).toMatch(/cannot connect \(connect ECONNREFUSED/);
        expect(await fwd.ready()).toBe(false);
        // One warning for the outage, not one per attempt.
        expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);

        await rs.start();
        expect(await fwd.write(events.slice(0, 10))).toEqual({ status: 'delivered' });
        expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: 'syslog forwarder reconnected' });
        expect((await rs.waitForMessages(10)).map(fieldsOf)).toEqual(expected.slice(0, 10));
      } finally {
        await fwd.close();
      }
    } finally {
      await rs.stop();
    }
  });

  it('notices rsyslog going away, answers retryable, and reconnects when it restarts', async () => {
    const rs = await startRsyslog();
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port: rs.tcpPort,
      tls: null,
      log: recorder(),
    });
    try {
      const { events, expected } = dataset(30, 'restart');
      expect(await fwd.write(events.slice(0, 10))).toEqual({ status: 'delivered' });
      await rs.waitForMessages(10);

      await rs.kill();
      // rsyslog's exit closes the connection; the forwarder reads the FIN. (A write racing that
      // FIN would be "delivered" into a dead socket: plain syslog has no acknowledgement.)
      await waitFor(() => fwd.counters.disconnects >= 1, {
        timeoutMs: 5_000,
        what: 'the forwarder to see the close',
      });
      const out = await fwd.write(events.slice(10, 20));
      expect(out).toMatchObject({ status: 'retryable' });
      expect(await fwd.ready()).toBe(false);

      await rs.start();
      expect(await fwd.ready()).toBe(true);
      // The pipeline retries the same batch: it arrives once.
      expect(await fwd.write(events.slice(10, 20))).toEqual({ status: 'delivered' });
      expect(await fwd.write(events.slice(20, 30))).toEqual({ status: 'delivered' });
      const got = await rs.waitForMessages(30);
      expect(got.map(fieldsOf)).toEqual(expected);
      expect(fwd.counters).toMatchObject({ connects: 2, events: 30 });
    } finally {
      await fwd.close();
      await rs.stop();
    }
  });

  it('gives up on a write rsyslog does not read within timeoutMs (frozen with SIGSTOP), then recovers', async () => {
    const rs = await startRsyslog();
    const fwd = await openSyslogForwarder({
      host: '127.0.0.1',
      port: rs.tcpPort,
      tls: null,
      log: recorder(),
      timeoutMs: 1_000,
    });
    try {
      expect(await fwd.write(dataset(1, 'warm').events)).toEqual({ status: 'delivered' });
      rs.pause();
      // 40 MB: far more than the kernel's socket buffers hold for a reader that does not read.
      const big = dataset(5_000, 'big').events.map((e) => ({ ...e, message: 'x'.repeat(8_000) }));
      const out = await fwd.write(big);
      expect(out.status).toBe('retryable');
      expect(out.status === 'retryable' && out.reason).toMatch(/did not finish within 1000 ms/);
      expect(fwd.counters.retryable.timeout).toBe(1);
      rs.resume();
      expect(await fwd.write(dataset(1, 'after').events)).toEqual({ status: 'delivered' });
      await waitFor(async () => (await rs.messages()).some((m) => m.procid === 'after0'), {
        timeoutMs: 30_000,
        what: 'the write after the stall to arrive',
      });
    } finally {
      rs.resume();
      await fwd.close();
      await rs.stop();
    }
  });
});

describe('rsyslog as a sender (the helper forwardTo option), framed by SyslogFrameDecoder', () => {
  /** A TCP server that frames whatever rsyslog forwards with the decoder under test. */
  async function frameServer(): Promise<{
    port: number;
    frames: string[];
    errors: () => number;
    close(): Promise<void>;
  }> {
    const frames: string[] = [];
    const decoders: SyslogFrameDecoder[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const d = new SyslogFrameDecoder({
        maxFrameBytes: 65536,
        onFrame: (f) => frames.push(f.toString('utf8')),
      });
      decoders.push(d);
      socket.on('data', (chunk) => d.push(chunk));
      socket.on('end', () => d.end());
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      frames,
      errors: () => decoders.reduce((n, d) => n + d.counters.framingErrors + d.counters.truncated, 0),
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    };
  }

  for (const framing of ['octet-counted', 'lf'] as const) {
    it(`receives rsyslog's ${framing} forwards as one frame per message`, async () => {
      const sink = await frameServer();
      const rs = await startRsyslog({ forwardTo: { host: '127.0.0.1', port: sink.port, framing } });
      const fwd = await openSyslogForwarder({
        host: '127.0.0.1',
        port: rs.tcpPort,
        tls: null,
        log: recorder(),
      });
      try {
        const { events } = dataset(6, framing === 'lf' ? 'lf' : 'oc');
        // LF framing cannot carry a multi-line message (kind 2): that is what octet counting is for.
        // Docker events (kind 5) carry no PROCID to match by.
        const sent = events.filter((e, i) => e.syslog?.procid && (framing !== 'lf' || i % 8 !== 2));
        expect(await fwd.write(sent)).toEqual({ status: 'delivered' });
        await waitFor(() => sink.frames.length >= sent.length, {
          timeoutMs: 15_000,
          what: 'rsyslog to forward',
        });
        expect(sink.frames).toHaveLength(sent.length);
        expect(sink.errors()).toBe(0);
        sent.forEach((e, i) => {
          // RSYSLOG_SyslogProtocol23Format ends with "\n": octet counting carries it as the last byte.
          const text = framing === 'octet-counted' ? sink.frames[i]!.replace(/\n$/, '') : sink.frames[i]!;
          expect(text).toMatch(new RegExp(`^<\\d+>1 \\S+ \\S+ \\S+ ${e.syslog!.procid} `));
          expect(text.endsWith(e.message === '' ? '-' : e.message)).toBe(true);
        });
        if (framing === 'octet-counted') expect(sink.frames.every((f) => f.endsWith('\n'))).toBe(true);
      } finally {
        await fwd.close();
        await rs.stop();
        await sink.close();
      }
    });
  }
});
