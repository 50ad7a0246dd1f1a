/**
 * Opening the forwarder's connection: plain TCP, or TLS as RFC 5425 describes it (the client
 * verifies the server's certificate, and presents its own when configured). Only sockets here;
 * what is written on them is the forwarder's business.
 */
import net from 'node:net';
import tls from 'node:tls';
import { LogwharfError } from '../../core/errors.js';
import { readPemFile } from '../../core/pem.js';

export interface ForwardTlsOptions {
  /** PEM CA bundle (path) to verify the server; absent = Node's bundled public CAs. */
  ca?: string;
  /** PEM client certificate and key (paths), for servers that authenticate clients. */
  cert?: string;
  key?: string;
  /** The name the server's certificate must carry (and SNI); default: the target host. */
  serverName?: string;
  /** Skip verifying the server (testing only: anyone in the path can then read and forge the logs). */
  insecure?: boolean;
}

/** The TLS settings with the PEM files read, once, at start-up. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  serverName?: string;
  insecure: boolean;
}

/**
 * Reads the PEM files now, so a wrong path stops start-up with the key and the path instead of
 * turning into an endless "retryable" later. `where` names the target in messages.
 */
export function loadTlsMaterial(opts: ForwardTlsOptions, where: string): TlsMaterial {
  if ((opts.cert === undefined) !== (opts.key === undefined))
    throw new LogwharfError(
      'LOGWHARF_ERR_CONFIG',
      `${where}: tls.cert and tls.key go together — give both for client authentication, or neither`,
    );
  const read = (key: 'ca' | 'cert' | 'key', path: string | undefined): Buffer | undefined =>
    path === undefined ? undefined : readPemFile(path, `${where}: tls.${key}`);
  const m: TlsMaterial = { insecure: opts.insecure === true };
  const ca = read('ca', opts.ca);
  const cert = read('cert', opts.cert);
  const key = read('key', opts.key);
  if (ca) m.ca = ca;
  if (cert) m.cert = cert;
  if (key) m.key = key;
  if (opts.serverName !== undefined) m.serverName = opts.serverName;
  return m;
}

/**
 * Connects (and, for TLS, completes the handshake, verifying the server) within `timeoutMs`.
 * Rejects with an Error whose message says what failed: `connect ECONNREFUSED 127.0.0.1:6514`,
 * `TLS handshake: self-signed certificate`, `connect: no answer within 10000 ms`.
 */
export function connectSyslog(
  target: { host: string; port: number; tls: TlsMaterial | null },
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const { host, port } = target;
    const t = target.tls;
    let socket: net.Socket;
    if (t) {
      const options: tls.ConnectionOptions = { host, port, rejectUnauthorized: !t.insecure };
      if (t.ca) options.ca = t.ca;
      if (t.cert) options.cert = t.cert;
      if (t.key) options.key = t.key;
      // SNI may not carry an IP address (RFC 6066); the certificate is then checked against the
      // IP itself, unless a server name is configured.
      const name = t.serverName ?? (net.isIP(host) ? undefined : host);
      if (name !== undefined) options.servername = name;
      socket = tls.connect(options);
    } else {
      socket = net.connect({ host, port });
    }
    // Whether TCP got through, to tell a refused connection from a failed TLS handshake.
    let tcpUp = false;
    socket.once('connect', () => {
      tcpUp = true;
    });
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(t && tcpUp ? new Error(`TLS handshake: ${err.message}`, { cause: err }) : err);
    };
    timer = setTimeout(() => {
      const what = `no answer within ${timeoutMs} ms`;
      fail(new Error(tcpUp ? what : `connect: ${what}`));
    }, timeoutMs);
    socket.once('error', fail);
    socket.once(t ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
