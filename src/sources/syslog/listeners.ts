import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { LogwharfError } from '../../core/errors.js';
import { readPemFile } from '../../core/pem.js';
import { SyslogFrameDecoder } from './framing.js';
import { peerAddress, type SyslogPeer } from './to-event.js';

/**
 * The syslog server's sockets: UDP (one message per datagram), TCP and TLS (RFC 6587 framing,
 * detected per connection by SyslogFrameDecoder). This module only moves bytes; what a frame
 * means is decided by the caller (source.ts).
 */

export interface Frame {
  bytes: Buffer;
  truncated: boolean;
}

export interface ListenerOptions {
  udp: { host: string; port: number } | null;
  tcp: { host: string; port: number } | null;
  tls: { host: string; port: number; cert: string; key: string; ca?: string } | null;
  maxMessageBytes: number;
  maxConnections: number;
  /** Frames of one read (one datagram, or what one TCP chunk completed). */
  onFrames(frames: Frame[], peer: SyslogPeer): void;
  onConnection(peer: SyslogPeer, open: boolean): void;
  /** Something was lost or cut; `reason` names it for counters and logs. */
  onProblem(
    reason: 'truncated' | 'lost_at_close' | 'framing_error' | 'socket_error',
    peer: SyslogPeer,
    detail?: string,
  ): void;
}

export interface BoundAddresses {
  udp?: string;
  tcp?: string;
  tls?: string;
}

export class SyslogListeners {
  private readonly opts: ListenerOptions;
  private udp: dgram.Socket | null = null;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private paused = false;
  private closed: Promise<void> | null = null;

  constructor(opts: ListenerOptions) {
    this.opts = opts;
  }

  /** Binds every configured listener; a port in use or an unreadable certificate fails here, with what to do. */
  async start(): Promise<BoundAddresses> {
    const out: BoundAddresses = {};
    const { udp, tcp, tls: tlsOpts } = this.opts;
    if (udp) out.udp = await this.listenUdp(udp.host, udp.port);
    if (tcp) out.tcp = await this.listenStream(net.createServer(), 'tcp', tcp.host, tcp.port);
    if (tlsOpts) {
      const server = tls.createServer({
        cert: readPemFile(tlsOpts.cert, 'sources.syslog.tls.cert'),
        key: readPemFile(tlsOpts.key, 'sources.syslog.tls.key'),
        ...(tlsOpts.ca
          ? {
              ca: readPemFile(tlsOpts.ca, 'sources.syslog.tls.ca'),
              requestCert: true,
              rejectUnauthorized: true,
            }
          : {}),
      });
      server.on('tlsClientError', (err, socket) =>
        this.opts.onProblem('socket_error', this.peerOf(socket, 'tls'), err.message),
      );
      out.tls = await this.listenStream(server, 'tls', tlsOpts.host, tlsOpts.port);
    }
    return out;
  }

  /**
   * Stops reading from every stream connection (the pipeline is full). The peers' kernels
   * then hold their data and TCP flow control slows them: nothing is lost.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const s of this.sockets) s.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const s of this.sockets) s.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Stops listening and closes every connection; frames completed before that are delivered. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const waits: Promise<void>[] = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const s of this.sockets) s.destroy();
      if (this.udp) {
        const u = this.udp;
        waits.push(new Promise<void>((r) => u.close(() => r())));
      }
      await Promise.all(waits);
    })();
    return this.closed;
  }

  private listenUdp(host: string, port: number): Promise<string> {
    const socket = dgram.createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: 8 << 20,
    });
    this.udp = socket;
    const max = this.opts.maxMessageBytes;
    socket.on('message', (msg, rinfo) => {
      const peer: SyslogPeer = { transport: 'udp', address: peerAddress(rinfo.address) };
      const truncated = msg.length > max;
      if (truncated) this.opts.onProblem('truncated', peer);
      this.opts.onFrames([{ bytes: truncated ? msg.subarray(0, max) : msg, truncated }], peer);
    });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => reject(bindError('udp', host, port, err)));
      socket.bind(port, host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (err) =>
          this.opts.onProblem('socket_error', { transport: 'udp', address: host }, err.message),
        );
        const a = socket.address();
        resolve(`${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  private listenStream(
    server: net.Server,
    transport: 'tcp' | 'tls',
    host: string,
    port: number,
  ): Promise<string> {
    server.maxConnections = this.opts.maxConnections;
    server.on(transport === 'tls' ? 'secureConnection' : 'connection', (socket: net.Socket) =>
      this.accept(socket, transport),
    );
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(bindError(transport, host, port, err)));
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) =>
          this.opts.onProblem('socket_error', { transport, address: host }, err.message),
        );
        const a = server.address() as net.AddressInfo;
        resolve(`${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  private accept(socket: net.Socket, transport: 'tcp' | 'tls'): void {
    const peer = this.peerOf(socket, transport);
    this.sockets.add(socket);
    socket.setKeepAlive(true, 60_000);
    if (this.paused) socket.pause();
    this.opts.onConnection(peer, true);
    let frames: Frame[] = [];
    const decoder = new SyslogFrameDecoder({
      maxFrameBytes: this.opts.maxMessageBytes,
      onFrame: (bytes, truncated) => {
        if (truncated) this.opts.onProblem('truncated', peer);
        frames.push({ bytes, truncated });
      },
    });
    const deliver = () => {
      if (frames.length === 0) return;
      const out = frames;
      frames = [];
      this.opts.onFrames(out, peer);
    };
    let framingErrors = 0;
    let lost = 0;
    const checkCounters = () => {
      const c = decoder.counters;
      if (c.framingErrors > framingErrors) {
        framingErrors = c.framingErrors;
        this.opts.onProblem('framing_error', peer);
      }
      if (c.lostAtClose > lost) {
        lost = c.lostAtClose;
        this.opts.onProblem('lost_at_close', peer);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      checkCounters();
      deliver();
    });
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      decoder.end();
      checkCounters();
      deliver();
      this.sockets.delete(socket);
      this.opts.onConnection(peer, false);
    };
    socket.on('end', () => {
      finish();
      socket.end();
    });
    socket.on('close', finish);
    socket.on('error', (err) => this.opts.onProblem('socket_error', peer, err.message));
  }

  private peerOf(socket: net.Socket, transport: 'tcp' | 'tls'): SyslogPeer {
    return { transport, address: peerAddress(socket.remoteAddress) };
  }
}

function bindError(transport: string, host: string, port: number, err: NodeJS.ErrnoException): LogwharfError {
  const key = transport === 'tls' ? 'sources.syslog.tls.listen' : `sources.syslog.${transport}`;
  const hint =
    err.code === 'EADDRINUSE'
      ? 'another program (a system syslogd?) already listens there: pick another port or stop it'
      : err.code === 'EACCES'
        ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a port such as 5514'
        : err.code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : 'check the address';
  return new LogwharfError(
    'LOGWHARF_ERR_LISTEN',
    `${key}: cannot listen on ${host}:${port} (${err.code ?? err.message}) — ${hint}`,
  );
}
