/**
 * A real rsyslogd for interoperability tests: it receives (plain TCP, and TLS when its TLS
 * driver is installed) and writes every message it parsed to a JSON Lines file, one object per
 * message with the fields as rsyslog understood them; it can also forward what it receives
 * (omfwd over TCP, octet-counted or LF-framed), so it can stand as a sender in front of logwharf.
 *
 * Each instance has its own config, work directory, pid file and ports under a temp directory,
 * runs in the foreground (`-n`) as a child of the test, and touches no system file: no imuxsock
 * (/dev/log), no imklog, no /etc/rsyslog.d. Its own diagnostics (config errors, "Incomplete
 * frame at end of stream", TLS handshake failures) go to its stderr, kept in `diagnostics()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './poll.js';
import { removeTempDir, tempDir } from './tmp.js';

const run = promisify(execFile);

export const RSYSLOGD = process.env.RSYSLOGD_BIN ?? '/usr/sbin/rsyslogd';
const MODULE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/rsyslog',
  '/usr/lib/aarch64-linux-gnu/rsyslog',
  '/usr/lib/rsyslog',
];

/**
 * rsyslog's TLS netstream driver, if one is installed: `gtls` (Debian package rsyslog-gnutls)
 * or `ossl` (rsyslog-openssl). null when neither is: rsyslog then cannot speak TLS at all.
 */
export function rsyslogTlsDriver(): 'gtls' | 'ossl' | null {
  for (const driver of ['gtls', 'ossl'] as const) {
    if (MODULE_DIRS.some((d) => existsSync(join(d, `lmnsd_${driver}.so`)))) return driver;
  }
  return null;
}

export interface RsyslogOptions {
  /** Plain TCP listener (imtcp, octet counting or LF detected per connection); a free port when omitted. */
  tcpPort?: number;
  /** A TLS listener too (RFC 5425), with these PEM paths. Throws when no TLS driver is installed. */
  tls?: {
    ca: string;
    cert: string;
    key: string;
    port?: number;
    /** `anon` (default): clients need no certificate; `x509/certvalid`: a client certificate signed by `ca` is required. */
    authMode?: 'anon' | 'x509/certvalid';
  };
  /** Forward every received message over TCP (rsyslog as a sender in front of the code under test). */
  forwardTo?: {
    host: string;
    port: number;
    framing: 'octet-counted' | 'lf';
    /**
     * rsyslog template for the forwarded text; default `RSYSLOG_SyslogProtocol23Format` (RFC 5424).
     * Mind that this built-in template ends with "\n", which octet counting then carries as the
     * message's last byte. `RSYSLOG_ForwardFormat` gives RFC 3164 with a precise timestamp.
     */
    template?: string;
    /** Forward over TLS (RFC 5425): verify the target against `ca` (name `localhost`); present cert/key if given. */
    tls?: { ca: string; cert?: string; key?: string };
    /**
     * `queued` (default): a LinkedList queue retried forever, as a production forwarder would be
     * configured; `defaults`: omfwd's own action defaults (no queue, rsyslog's default retries).
     */
    action?: 'queued' | 'defaults';
  };
  /** `global(maxMessageSize)`; default 64k (rsyslog's own default is 8k). */
  maxMessageSize?: string;
}

/** One message as rsyslog parsed it (see the `lw` template in the config). */
export interface RsyslogMessage {
  pri: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  /** `%structured-data%`: the SD text as received, `-` for none. */
  structuredData: string;
  msg: string;
  /** `%timereported:::date-rfc3339%` */
  timestamp: string;
  protocolVersion: string;
  rawmsg: string;
  fromhostIp: string;
  /** `imtcp` for both the plain and the TLS listener. */
  input: string;
}

export interface Rsyslog {
  readonly tcpPort: number;
  /** null without a TLS listener. */
  readonly tlsPort: number | null;
  readonly dir: string;
  /** Where the received messages go, one JSON object per line. */
  readonly outputFile: string;
  /** Every message written so far, in the order rsyslog wrote them. */
  messages(): Promise<RsyslogMessage[]>;
  /** Polls until at least `n` messages were written; returns them all. */
  waitForMessages(n: number, timeoutMs?: number): Promise<RsyslogMessage[]>;
  /** What rsyslogd printed on stdout/stderr (its internal messages), across restarts. */
  diagnostics(): string;
  /** Stops the daemon (SIGTERM, then SIGKILL), keeping config, ports and output: `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts it (again) on the same ports and waits until the listeners accept connections. */
  start(): Promise<void>;
  /** Freezes / thaws the daemon (SIGSTOP / SIGCONT): it stays connected but reads nothing. */
  pause(): void;
  resume(): void;
  /** Kills it and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** A port nothing listens on now: bind port 0, read it, close. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRsyslog(opts: RsyslogOptions = {}): Promise<Rsyslog> {
  const driver = opts.tls ? rsyslogTlsDriver() : null;
  if (opts.tls && !driver)
    throw new Error(
      'rsyslog has no TLS driver (lmnsd_gtls.so or lmnsd_ossl.so): install the Debian package rsyslog-gnutls',
    );
  const dir = await tempDir('lw-rsyslog-');
  const tcpPort = opts.tcpPort ?? (await freePort());
  const tlsPort = opts.tls ? (opts.tls.port ?? (await freePort())) : null;
  const paths = {
    conf: join(dir, 'rsyslog.conf'),
    pid: join(dir, 'rsyslogd.pid'),
    out: join(dir, 'received.jsonl'),
  };
  const conf = rsyslogConf({ ...opts, dir, out: paths.out, tcpPort, tlsPort, driver });
  await writeFile(paths.conf, conf);
  // Config errors are reported here, with rsyslog's own words, instead of as a port that never opens.
  const check = await run(RSYSLOGD, ['-N1', '-f', paths.conf]).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => err,
  );
  if ('message' in check) {
    await removeTempDir(dir);
    throw new Error(
      `rsyslogd refused its config:\n${check.stdout ?? ''}${check.stderr ?? ''}\n--- config ---\n${conf}`,
    );
  }

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let stopped = false;

  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const start = async () => {
    if (stopped) throw new Error('rsyslogd: start() after stop()');
    await kill();
    // A pid file left by a killed run makes rsyslogd think it is already running.
    await rm(paths.pid, { force: true });
    const c = spawn(RSYSLOGD, ['-n', '-f', paths.conf, '-i', paths.pid], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const died = new AbortController();
    exited = new Promise((resolve) =>
      c.once('exit', (code, signal) => {
        died.abort(new Error(`rsyslogd exited (${signal ?? code}):\n${output}`));
        resolve();
      }),
    );
    c.once('error', (err) => died.abort(err));
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    for (const port of [tcpPort, tlsPort]) {
      if (port === null) continue;
      await waitFor(() => canConnect(port), {
        timeoutMs: 15_000,
        what: `rsyslogd to listen on 127.0.0.1:${port}`,
        signal: died.signal,
      });
    }
  };

  const messages = async (): Promise<RsyslogMessage[]> => {
    const text = await readFile(paths.out, 'utf8').catch(() => '');
    // Only complete lines: rsyslog may be writing the next one.
    const end = text.lastIndexOf('\n');
    if (end < 0) return [];
    return text
      .slice(0, end)
      .split('\n')
      .map((line) => JSON.parse(line) as RsyslogMessage);
  };

  const handle: Rsyslog = {
    tcpPort,
    tlsPort,
    dir,
    outputFile: paths.out,
    messages,
    waitForMessages: async (n, timeoutMs = 30_000) => {
      let seen = 0;
      try {
        return await waitFor(
          async () => {
            const m = await messages();
            seen = m.length;
            return m.length >= n ? m : null;
          },
          { timeoutMs, what: `rsyslogd to write ${n} messages` },
        );
      } catch (err) {
        throw new Error(
          `${(err as Error).message}; it wrote ${seen}; its diagnostics:\n${output.slice(-4000)}`,
        );
      }
    },
    diagnostics: () => output,
    kill,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      await removeTempDir(dir);
    },
  };
  try {
    await start();
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** rsyslog string constants are double-quoted; paths and names here never hold quotes, but make sure. */
function q(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`rsyslog config value with a quote, backslash or newline: ${s}`);
  return `"${s}"`;
}

function rsyslogConf(
  o: RsyslogOptions & {
    dir: string;
    out: string;
    tcpPort: number;
    tlsPort: number | null;
    driver: 'gtls' | 'ossl' | null;
  },
): string {
  const lines = [
    '# Written by test/helpers/rsyslog.ts for one test; nothing here touches system files.',
    // maxMessageSize must come before the inputs. Control characters are kept as received
    // (rsyslog would write a LF inside a message as "#012"), so multi-line messages compare exactly.
    `global(workDirectory=${q(o.dir)} maxMessageSize=${q(o.maxMessageSize ?? '64k')}`,
    '       parser.escapeControlCharactersOnReceive="off" net.enableDNS="off")',
    'module(load="imtcp")',
    '',
    '# One JSON object per message, with the fields as rsyslog parsed them.',
    'template(name="lw" type="list" option.jsonf="on") {',
    ...(
      [
        ['pri', 'pri'],
        ['hostname', 'hostname'],
        ['appname', 'app-name'],
        ['procid', 'procid'],
        ['msgid', 'msgid'],
        ['structuredData', 'structured-data'],
        ['msg', 'msg'],
        ['protocolVersion', 'protocol-version'],
        ['rawmsg', 'rawmsg'],
        ['fromhostIp', 'fromhost-ip'],
        ['input', 'inputname'],
      ] as const
    ).map(([out, name]) => `  property(outname="${out}" name="${name}" format="jsonf")`),
    '  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
    '}',
    '',
    'ruleset(name="received") {',
    `  action(type="omfile" file=${q(o.out)} template="lw")`,
  ];
  if (o.forwardTo) {
    const f = o.forwardTo;
    lines.push(
      // Queued and retried forever (unless `action: 'defaults'`), so rsyslog keeps what it could
      // not deliver while the target is down, as a production forwarder would be configured.
      `  action(type="omfwd" target=${q(f.host)} port="${f.port}" protocol="tcp"`,
      `         TCP_Framing="${f.framing === 'octet-counted' ? 'octet-counted' : 'traditional'}"`,
      `         template=${q(f.template ?? 'RSYSLOG_SyslogProtocol23Format')}`,
      ...(f.tls
        ? [
            `         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"`,
            `         StreamDriverPermittedPeers="localhost" StreamDriver.CAFile=${q(f.tls.ca)}`,
            ...(f.tls.cert && f.tls.key
              ? [`         StreamDriver.CertFile=${q(f.tls.cert)} StreamDriver.KeyFile=${q(f.tls.key)}`]
              : []),
          ]
        : []),
      f.action === 'defaults'
        ? '         )'
        : '         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")',
    );
  }
  lines.push('}', '', `input(type="imtcp" address="127.0.0.1" port="${o.tcpPort}" ruleset="received")`);
  if (o.tls && o.tlsPort !== null && o.driver) {
    lines.push(
      // Per-input TLS settings (rsyslog 8.2108 and later) keep the plain listener and omfwd on plain TCP.
      `input(type="imtcp" address="127.0.0.1" port="${o.tlsPort}" ruleset="received"`,
      `      streamDriver.name="${o.driver}" streamDriver.mode="1" streamDriver.authMode=${q(o.tls.authMode ?? 'anon')}`,
      `      streamDriver.caFile=${q(o.tls.ca)} streamDriver.certFile=${q(o.tls.cert)} streamDriver.keyFile=${q(o.tls.key)})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
