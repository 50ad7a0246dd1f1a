import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { startLogwharf } from '../helpers/in-process.js';
import { type Rsyslog, startRsyslog } from '../helpers/rsyslog.js';
import { type SyslogLogwharf, startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * logwharf as the central server behind a real rsyslog relay: `logger` sends to rsyslogd, which
 * forwards to logwharf with omfwd, in each framing rsyslog offers and over TLS (rsyslog's GnuTLS
 * driver against logwharf's TLS listener). What logwharf stored must be what logger said.
 */

const run = promisify(execFile);
const LOGGER = process.env.LOGGER_BIN ?? 'logger';

let dir: string;
let pki: TestPki;
let lw: SyslogLogwharf;
let tcpPort: number;
let tlsPort: number;
const relays: Rsyslog[] = [];

beforeAll(async () => {
  dir = await tempDir('lw-syslog-rsyslog-');
  pki = await makeTestPki(dir);
  lw = await startSyslogLogwharf(dir, { udp: false, tls: { pki } });
  tcpPort = lw.tcpPort!;
  tlsPort = lw.tlsPort!;
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  await lw?.service.stop();
  if (dir) await removeTempDir(dir);
});

async function relay(opts: Parameters<typeof startRsyslog>[0]): Promise<Rsyslog> {
  const r = await startRsyslog(opts);
  relays.push(r);
  return r;
}

const cases = [
  { name: 'TCP, octet-counted, RFC 5424', forward: { framing: 'octet-counted' as const } },
  { name: 'TCP, newline-framed, RFC 5424', forward: { framing: 'lf' as const } },
  {
    name: 'TCP, newline-framed, RFC 3164 (RSYSLOG_ForwardFormat)',
    forward: { framing: 'lf' as const, template: 'RSYSLOG_ForwardFormat' },
  },
  { name: 'TLS, octet-counted, RFC 5424', forward: { framing: 'octet-counted' as const }, tls: true },
];

describe('rsyslog forwarding to logwharf', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const word = `rs${c.name.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}`;
      const rs = await relay({
        forwardTo: {
          host: '127.0.0.1',
          port: c.tls ? tlsPort : tcpPort,
          ...c.forward,
          ...(c.tls ? { tls: { ca: pki.ca } } : {}),
        },
      });
      const count = 50;
      const lines = Array.from({ length: count }, (_, i) => `${word}-${i + 1} payment accepted`).join('\n');
      // logger reads stdin line by line: one message each, to rsyslog's own TCP listener.
      const child = run(LOGGER, [
        '-T',
        '-n',
        '127.0.0.1',
        '-P',
        String(rs.tcpPort),
        '-t',
        'payments',
        '-p',
        'auth.notice',
        '-i',
      ]);
      child.child.stdin!.end(`${lines}\n`);
      await child;
      await rs.waitForMessages(count);

      const events = await lw.api.waitForEvents(`app:payments ${word}`, count, 30_000);
      const t = tally(
        events.map((e) => ({ ...e, message: String(e.message).replace(/ payment accepted$/, '') })),
        `${word}-`,
        count,
      );
      expect(t).toEqual({ missing: [], doubled: [] });
      for (const e of events) {
        expect(e.message).toMatch(/ payment accepted$/);
        expect(e.log.syslog.appname).toBe('payments');
        expect(e.log.syslog.procid).toMatch(/^\d+$/);
        expect(e.log.level).toBe('notice');
        expect(e.log.syslog.facility.name).toBe('auth');
        // rsyslog keeps the original sender's hostname when it relays.
        expect(e.host.name).toBe(hostname());
      }
    });
  }
});

describe('logwharf forwarding to rsyslog (forward.syslog)', () => {
  it('sends every event, redacted, to rsyslog as well as to the store; catches up after an outage', async () => {
    const central = await relay({});
    const fdir = await tempDir('lw-syslog-fwd-svc-');
    const fwd = await startLogwharf(
      fdir,
      `sources:
  docker:
    enabled: false
  syslog:
    enabled: true
    udp: null
    tcp: 127.0.0.1:0
forward:
  syslog:
    - { target: "127.0.0.1:${central.tcpPort}", tls: null }
pipeline:
  flush_interval: 20ms
`,
    );
    try {
      const port = String(fwd.service.syslogAddresses.tcp!.split(':').pop());
      const send = (text: string) =>
        run(LOGGER, [
          '-T',
          '-n',
          '127.0.0.1',
          '-P',
          port,
          '--rfc5424',
          '-t',
          'orders',
          '-p',
          'user.warning',
          text,
        ]);
      await send('fwd-one token check Authorization: Bearer abc.def.ghi done');
      const [got] = await central.waitForMessages(1);
      expect(got).toMatchObject({ appname: 'orders', hostname: hostname(), pri: '12' });
      expect(got!.msg).toContain('fwd-one token check Authorization: Bearer [REDACTED');
      expect(got!.msg).not.toContain('abc.def.ghi');
      await fwd.api.waitForEvents('"fwd-one"', 1, 10_000);

      // rsyslog goes away: the store still gets new events; forwarding retries until it is back.
      await central.kill();
      await send('fwd-two while central is down');
      await fwd.api.waitForEvents('"fwd-two"', 1, 10_000);
      await central.start();
      const after = await central.waitForMessages(2, 30_000);
      expect(after.map((m) => m.msg.trim())).toEqual([
        expect.stringContaining('fwd-one'),
        'fwd-two while central is down',
      ]);
    } finally {
      await fwd.service.stop();
      await removeTempDir(fdir);
    }
  });
});
