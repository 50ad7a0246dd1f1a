import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { LogwharfError } from '../../core/errors.js';
import { listenError } from '../../core/listen-error.js';
import { readPemFile } from '../../core/pem.js';
import { type ConnectionOptions, StreamConnections, streamPeer } from './connections.js';
import { peerAddress, type SyslogPeer } from './to-event.js';

/**
 * The syslog server's sockets: UDP (one message per datagram), TCP and TLS (RFC 6587 framing,
 * detected per connection; the connections, their slots and idle timeout: connections.ts).
 * This module binds and moves listeners; what a frame means is decided by the caller
 * (source.ts).
 */

export interface ListenerOptions extends ConnectionOptions {
  udp: { host: string; port: number } | null;
  tcp: { host: string; port: number } | null;
  tls: { host: string; port: number; cert: string; key: string; ca?: string } | null;
}

export interface BoundAddresses {
  udp?: string;
  tcp?: string;
  tls?: string;
}

type Transport = 'udp' | 'tcp' | 'tls';
type Address = { host: string; port: number };
type TlsListen = NonNullable<ListenerOptions['tls']>;

/** What a reload can change: the addresses and the limits. */
export type ListenerSettings = Pick<
  ListenerOptions,
  'udp' | 'tcp' | 'tls' | 'maxMessageBytes' | 'maxConnections' | 'idleTimeoutMs'
>;

/** One bound listener: the UDP socket, or the TCP/TLS server. */
interface Bound {
  address: string;
  udp?: dgram.Socket;
  server?: net.Server;
}

export class SyslogListeners {
  /** A copy: reconfigure() changes addresses and limits in it. */
  private readonly opts: ListenerOptions;
  private readonly live = new Map<Transport, Bound>();
  private readonly connections: StreamConnections;
  private closed: Promise<void> | null = null;

  constructor(opts: ListenerOptions) {
    this.opts = { ...opts };
    this.connections = new StreamConnections(this.opts);
  }

  /** Binds every configured listener; a port in use or an unreadable certificate fails here, with what to do. */
  async start(): Promise<BoundAddresses> {
    const { udp, tcp, tls: tlsOpts } = this.opts;
    if (udp) this.live.set('udp', await this.bindUdp(udp.host, udp.port));
    if (tcp) this.live.set('tcp', await this.bindStream(net.createServer(), 'tcp', tcp.host, tcp.port));
    if (tlsOpts) this.live.set('tls', await this.bindTls(tlsOpts));
    return this.addresses();
  }

  /** Where each listener is bound now. */
  addresses(): BoundAddresses {
    const out: BoundAddresses = {};
    for (const [transport, bound] of this.live) out[transport] = bound.address;
    return out;
  }

  /**
   * Applies new settings (SIGHUP) and returns the transports it could not apply, each with its
   * error; every other change is applied. Only a listener whose address changed is bound again,
   * the new address first, so that one that cannot bind leaves the old listener as it was.
   * (When the new address overlaps the old one, e.g. the same port on 0.0.0.0, the old one is
   * closed first, and bound again if the new one still fails.) Connections already open stay
   * open until their peers close them (or they idle out). Size limits apply to connections and
   * datagrams from now on; the idle timeout applies to open connections too, timed afresh.
   * A TLS listener that keeps its address loads its certificate files again, so a SIGHUP also
   * rotates certificates; one that cannot be read keeps the old ones.
   */
  async reconfigure(next: ListenerSettings): Promise<{ transport: Transport; error: Error }[]> {
    this.opts.maxMessageBytes = next.maxMessageBytes;
    this.opts.maxConnections = next.maxConnections;
    for (const bound of this.live.values())
      if (bound.server) bound.server.maxConnections = serverLimit(next.maxConnections);
    if (next.idleTimeoutMs !== this.opts.idleTimeoutMs) {
      this.opts.idleTimeoutMs = next.idleTimeoutMs;
      this.connections.limitsChanged();
    }
    const failed: { transport: Transport; error: Error }[] = [];
    const attempt = async (transport: Transport, apply: () => Promise<void>) => {
      try {
        await apply();
      } catch (err) {
        failed.push({ transport, error: err instanceof Error ? err : new Error(String(err)) });
      }
    };
    const { udp, tcp, tls: tlsNext } = next;
    if (!sameAddress(this.opts.udp, udp)) {
      await attempt('udp', async () => {
        await this.move('udp', this.opts.udp, udp, (a) => this.bindUdp(a.host, a.port));
        this.opts.udp = udp;
      });
    }
    if (!sameAddress(this.opts.tcp, tcp)) {
      await attempt('tcp', async () => {
        await this.move('tcp', this.opts.tcp, tcp, (a) =>
          this.bindStream(net.createServer(), 'tcp', a.host, a.port),
        );
        this.opts.tcp = tcp;
      });
    }
    const tlsOld = this.opts.tls;
    const server = this.live.get('tls')?.server as tls.Server | undefined;
    if (tlsOld && tlsNext && server && sameAddress(tlsOld, tlsNext) && !tlsOld.ca === !tlsNext.ca) {
      await attempt('tls', async () => {
        server.setSecureContext(secureContextOptions(tlsNext));
        this.opts.tls = tlsNext;
      });
    } else if (tlsOld !== tlsNext) {
      await attempt('tls', async () => {
        await this.move('tls', tlsOld, tlsNext, (a) => this.bindTls(a));
        this.opts.tls = tlsNext;
      });
    }
    return failed;
  }

  /**
   * Stops reading from every stream connection (the pipeline is full). The peers' kernels
   * then hold their data and TCP flow control slows them: nothing is lost.
   */
  pause(): void {
    this.connections.pause();
  }

  resume(): void {
    this.connections.resume();
  }

  get isPaused(): boolean {
    return this.connections.isPaused;
  }

  /** Stops listening and closes every connection; frames completed before that are delivered. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const waits: Promise<void>[] = [];
      for (const bound of this.live.values()) {
        const { server, udp } = bound;
        if (server) waits.push(new Promise<void>((r) => server.close(() => r())));
        if (udp) waits.push(new Promise<void>((r) => udp.close(() => r())));
      }
      this.live.clear();
      this.connections.destroyAll();
      await Promise.all(waits);
    })();
    return this.closed;
  }

  /**
   * Moves one listener from `from` to `to` (either may be null: added, removed). The new one is
   * bound before the old one is closed, except when they overlap (see reconfigure()).
   */
  private async move<A extends Address>(
    transport: Transport,
    from: A | null,
    to: A | null,
    bind: (address: A) => Promise<Bound>,
  ): Promise<void> {
    const current = this.live.get(transport);
    if (to === null) {
      this.live.delete(transport);
      if (current) await release(current);
      return;
    }
    try {
      const bound = await bind(to);
      this.live.set(transport, bound);
      if (current) await release(current);
      return;
    } catch (err) {
      if (!current || !from || from.port !== to.port || !addressInUse(err)) throw err;
    }
    this.live.delete(transport);
    await release(current);
    try {
      this.live.set(transport, await bind(to));
    } catch (err) {
      try {
        this.live.set(transport, await bind(from));
      } catch (again) {
        throw new LogwharfError(
          'LOGWHARF_ERR_LISTEN',
          `${(err as Error).message}; the previous address could not be bound again either ` +
            `(${(again as Error).message}): no ${transport} listener until the next reload`,
        );
      }
      throw err;
    }
  }

  private bindUdp(host: string, port: number): Promise<Bound> {
    const socket = dgram.createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: 8 << 20,
    });
    socket.on('message', (msg, rinfo) => {
      const max = this.opts.maxMessageBytes;
      const peer: SyslogPeer = { transport: 'udp', address: peerAddress(rinfo.address) };
      const truncated = msg.length > max;
      if (truncated) this.opts.onProblem('truncated', peer);
      this.opts.onFrames([{ bytes: truncated ? msg.subarray(0, max) : msg, truncated }], peer);
    });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        try {
          socket.close();
        } catch {
          // never bound: nothing to close
        }
        reject(bindError('udp', host, port, err));
      });
      socket.bind(port, host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (err) =>
          this.opts.onProblem('socket_error', { transport: 'udp', address: host }, err.message),
        );
        resolve({ address: showAddress(socket.address()), udp: socket });
      });
    });
  }

  private bindTls(opts: TlsListen): Promise<Bound> {
    const server = tls.createServer(secureContextOptions(opts));
    server.on('tlsClientError', (err, socket) =>
      this.opts.onProblem('socket_error', streamPeer(socket, 'tls'), err.message),
    );
    return this.bindStream(server, 'tls', opts.host, opts.port);
  }

  private bindStream(
    server: net.Server,
    transport: 'tcp' | 'tls',
    host: string,
    port: number,
  ): Promise<Bound> {
    server.maxConnections = serverLimit(this.opts.maxConnections);
    server.on(transport === 'tls' ? 'secureConnection' : 'connection', (socket: net.Socket) =>
      this.connections.accept(socket, transport),
    );
    server.on('drop', (data) =>
      this.opts.onRefused({ transport, address: peerAddress(data?.remoteAddress) }),
    );
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(bindError(transport, host, port, err)));
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) =>
          this.opts.onProblem('socket_error', { transport, address: host }, err.message),
        );
        resolve({ address: showAddress(server.address() as net.AddressInfo), server });
      });
    });
  }
}

/** The server options of a TLS listener; reads its PEM files (throws LOGWHARF_ERR_CONFIG naming the key). */
function secureContextOptions(opts: TlsListen): tls.TlsOptions {
  return {
    cert: readPemFile(opts.cert, 'sources.syslog.tls.cert'),
    key: readPemFile(opts.key, 'sources.syslog.tls.key'),
    ...(opts.ca
      ? { ca: readPemFile(opts.ca, 'sources.syslog.tls.ca'), requestCert: true, rejectUnauthorized: true }
      : {}),
  };
}

/**
 * The limit Node enforces at accept, before TLS or our own count: one above max_connections,
 * so that a newcomer reaches StreamConnections, which may make room for it by evicting an idle
 * connection. Beyond that (a handshake flood), Node drops connections itself ('drop', counted).
 */
function serverLimit(maxConnections: number): number {
  return maxConnections + 1;
}

/** Stops listening. A server's open connections go on until their peers close them (or close()). */
function release(bound: Bound): Promise<void> {
  const { server, udp } = bound;
  if (server) server.close();
  return udp ? new Promise<void>((r) => udp.close(() => r())) : Promise.resolve();
}

function sameAddress(a: Address | null, b: Address | null): boolean {
  return a === b || (a !== null && b !== null && a.host === b.host && a.port === b.port);
}

function addressInUse(err: unknown): boolean {
  return ((err as { cause?: NodeJS.ErrnoException })?.cause?.code ?? '') === 'EADDRINUSE';
}

function showAddress(a: { address: string; port: number }): string {
  return `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}

function bindError(transport: string, host: string, port: number, err: NodeJS.ErrnoException): LogwharfError {
  const key = transport === 'tls' ? 'sources.syslog.tls.listen' : `sources.syslog.${transport}`;
  return listenError(key, host, port, err, {
    EADDRINUSE: 'another program (a system syslogd?) already listens there: pick another port or stop it',
    EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a port such as 5514',
  });
}
