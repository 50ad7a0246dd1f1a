import type { TestPki } from './certs.js';
import { type RunningLogwharf, startLogwharf } from './in-process.js';

export interface SyslogLogwharf extends RunningLogwharf {
  /** The ports the listeners got (each asked for port 0); undefined when that listener is off. */
  udpPort?: number;
  tcpPort?: number;
  tlsPort?: number;
}

/**
 * logwharf as a syslog server only (no Docker source), in-process, on free loopback ports:
 * UDP and TCP, and TLS when `tls` is given (`mutual`: clients must present a certificate).
 */
export async function startSyslogLogwharf(
  dir: string,
  opts: {
    udp?: boolean;
    tls?: { pki: TestPki; mutual?: boolean };
    maxMessageBytes?: number;
    maxConnections?: number;
    /** sources.syslog.idle_timeout; the default (5m) when omitted. */
    idleTimeout?: string | null;
    /** More top-level YAML, e.g. a `store:` section (the embedded store otherwise). */
    more?: string;
  } = {},
): Promise<SyslogLogwharf> {
  const tls = opts.tls
    ? `    tls:
      listen: 127.0.0.1:0
      cert: ${opts.tls.pki.serverCert}
      key: ${opts.tls.pki.serverKey}
${opts.tls.mutual ? `      ca: ${opts.tls.pki.ca}\n` : ''}`
    : '';
  const lw = await startLogwharf(
    dir,
    `sources:
  docker:
    enabled: false
  syslog:
    enabled: true
    udp: ${opts.udp === false ? 'null' : '127.0.0.1:0'}
    tcp: 127.0.0.1:0
${opts.maxMessageBytes ? `    max_message_bytes: ${opts.maxMessageBytes}\n` : ''}${
  opts.maxConnections ? `    max_connections: ${opts.maxConnections}\n` : ''
}${opts.idleTimeout !== undefined ? `    idle_timeout: ${opts.idleTimeout ?? 'null'}\n` : ''}${tls}pipeline:
  flush_interval: 20ms
${opts.more ?? ''}`,
  );
  const port = (a: string | undefined) => (a === undefined ? undefined : Number(a.split(':').pop()));
  const bound = lw.service.syslogAddresses;
  const out: SyslogLogwharf = { ...lw };
  const [udp, tcp, tlsPort] = [port(bound.udp), port(bound.tcp), port(bound.tls)];
  if (udp !== undefined) out.udpPort = udp;
  if (tcp !== undefined) out.tcpPort = tcp;
  if (tlsPort !== undefined) out.tlsPort = tlsPort;
  return out;
}
