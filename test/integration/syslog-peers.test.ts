import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsDoc } from '../helpers/api-client.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { dockerClient, ensureTestImage, removeContainer } from '../helpers/docker.js';
import { type SyslogLogwharf, startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The syslog receiver against the real senders people point at it: util-linux `logger` and
 * Docker's own `syslog` logging driver (the engine's dockerd connects to logwharf). rsyslog is
 * in syslog-rsyslog.test.ts. logwharf runs in-process, the peers are the real programs.
 */

const run = promisify(execFile);
const LOGGER = process.env.LOGGER_BIN ?? 'logger';

let dir: string;
let pki: TestPki;
let lw: SyslogLogwharf;
let udpPort: number;
let tcpPort: number;
let tlsPort: number;

beforeAll(async () => {
  dir = await tempDir('lw-syslog-peers-');
  pki = await makeTestPki(dir);
  lw = await startSyslogLogwharf(dir, { tls: { pki } });
  udpPort = lw.udpPort!;
  tcpPort = lw.tcpPort!;
  tlsPort = lw.tlsPort!;
});

afterAll(async () => {
  await lw?.service.stop();
  if (dir) await removeTempDir(dir);
});

async function one(q: string): Promise<EcsDoc> {
  const [e] = await lw.api.waitForEvents(q, 1, 30_000);
  return e!;
}

describe('util-linux logger', () => {
  const modes = [
    { name: 'UDP', args: ['-d'], port: () => udpPort },
    { name: 'TCP, newline framing', args: ['-T'], port: () => tcpPort },
    { name: 'TCP, octet counting', args: ['-T', '--octet-count'], port: () => tcpPort },
  ];
  for (const mode of modes) {
    it(`RFC 5424 over ${mode.name}: header, msgid and structured data land in log.syslog.*`, async () => {
      const word = `l5424${mode.args.join('').replace(/[^a-z]/g, '')}`;
      await run(LOGGER, [
        ...['-n', '127.0.0.1', '-P', String(mode.port()), ...mode.args],
        ...['--rfc5424', '-t', 'billing', '-p', 'local3.warning', '--msgid', 'INVOICE'],
        ...['--sd-id', 'order@32473', '--sd-param', 'id="A-17"', '--sd-param', 'note="say \\"hi\\""'],
        `${word} invoice sent`,
      ]);
      const e = await one(word);
      expect(e.message).toBe(`${word} invoice sent`);
      expect(e.event.dataset).toBe('syslog');
      expect(e.log.level).toBe('warning');
      expect(e.log.syslog.facility).toEqual({ code: 19, name: 'local3' });
      expect(e.log.syslog.appname).toBe('billing');
      expect(e.service.name).toBe('billing');
      expect(e.log.syslog.msgid).toBe('INVOICE');
      expect(e.log.syslog.procid).toBeUndefined();
      expect(e.log.syslog.hostname).toBe(hostname());
      expect(e.host.name).toBe(hostname());
      // The header names a host; the address is what the socket saw.
      expect(e.log.source.address).toBe('127.0.0.1');
      expect(e.log.syslog.structured_data['order@32473']).toEqual({
        id: 'A-17',
        note: 'say "hi"',
      });
      // logger's own element says whether the clock is synchronised.
      expect(e.log.syslog.structured_data.timeQuality).toBeDefined();
      expect(e.event.original).toContain(`${word} invoice sent`);
      // The header's time, to the microsecond logger sends, not the time of receipt.
      expect(e['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}000Z$/);
    });

    it(`RFC 3164 over ${mode.name}: tag, priority and hostname`, async () => {
      const word = `l3164${mode.args.join('').replace(/[^a-z]/g, '')}`;
      await run(LOGGER, [
        ...['-n', '127.0.0.1', '-P', String(mode.port()), ...mode.args],
        ...['--rfc3164', '-t', 'cron', '-p', 'cron.err', '-i'],
        `${word} job failed`,
      ]);
      const e = await one(word);
      expect(e.message).toBe(`${word} job failed`);
      expect(e.log.level).toBe('err');
      expect(e.log.syslog.facility.name).toBe('cron');
      expect(e.log.syslog.appname).toBe('cron');
      expect(e.log.syslog.procid).toMatch(/^\d+$/);
      expect(e.host.name).toBe(hostname());
      expect(e.log.source.address).toBe('127.0.0.1');
    });
  }
});

describe("Docker's syslog logging driver", () => {
  const formats = ['rfc3164', 'rfc5424', 'rfc5424micro', ''] as const;
  for (const format of formats) {
    it(`syslog-format=${format || '(default)'}: stdout is info, stderr is err, under the tag`, async () => {
      const word = `drv${format || 'default'}`;
      const { name, id } = await runWithSyslogDriver(word, {
        'syslog-address': `tcp://127.0.0.1:${tcpPort}`,
        ...(format ? { 'syslog-format': format } : {}),
      });
      const events = await lw.api.waitForEvents(word, 4, 30_000);
      const tag = `${name}/${id.slice(0, 12)}`;
      for (const e of events) {
        expect(e.log.syslog.appname).toBe(tag);
        expect(e.service.name).toBe(tag);
        expect(e.log.syslog.facility.name).toBe('daemon');
      }
      const byMessage = new Map(events.map((e) => [e.message, e]));
      expect(byMessage.get(`${word} out 1`)?.log.level).toBe('info');
      expect(byMessage.get(`${word} out 2`)?.log.level).toBe('info');
      expect(byMessage.get(`${word} err 1`)?.log.level).toBe('err');
      expect(byMessage.get(`${word} err 2`)?.log.level).toBe('err');
      expect(events).toHaveLength(4);
      if (format === 'rfc5424micro') {
        expect(events[0]!['@timestamp']).toMatch(/\.\d{6}000Z$/);
      }
      if (format !== '') expect(events[0]!.host.name).toBe(events[0]!.log.syslog.hostname);
    });
  }

  it('over TLS (tcp+tls, RFC 5424 with octet counting), verified against our CA', async () => {
    const word = 'drvtls';
    await runWithSyslogDriver(word, {
      'syslog-address': `tcp+tls://127.0.0.1:${tlsPort}`,
      'syslog-format': 'rfc5424',
      'syslog-tls-ca-cert': pki.ca,
    });
    const events = await lw.api.waitForEvents(word, 4, 30_000);
    expect(events.map((e) => e.message).sort()).toEqual([
      `${word} err 1`,
      `${word} err 2`,
      `${word} out 1`,
      `${word} out 2`,
    ]);
  });
});

/** Runs a busybox container whose log goes to logwharf through Docker's syslog driver; waits for it to exit. */
async function runWithSyslogDriver(
  word: string,
  config: Record<string, string>,
): Promise<{ name: string; id: string }> {
  const docker = dockerClient();
  const name = `lwtest-syslog-${word}-${process.pid}`;
  const c = await docker.createContainer({
    name,
    Image: await ensureTestImage(),
    Cmd: [
      'sh',
      '-c',
      `echo "${word} out 1"; echo "${word} err 1" >&2; echo "${word} out 2"; echo "${word} err 2" >&2`,
    ],
    HostConfig: { LogConfig: { Type: 'syslog', Config: { ...config, tag: '{{.Name}}/{{.ID}}' } } },
  });
  try {
    await c.start();
    await c.wait();
  } finally {
    await removeContainer(c.id);
  }
  return { name, id: c.id };
}
