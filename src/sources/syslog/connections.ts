import type net from 'node:net';
import { SyslogFrameDecoder } from './framing.js';
import { peerAddress, type SyslogPeer } from './to-event.js';

/**
 * The TCP and TLS connections of the syslog listeners: bytes in, frames out (a
 * SyslogFrameDecoder each), and the `maxConnections` slots of each transport, with the idle
 * timeout that keeps quiet peers from holding them all.
 *
 * A connection that sends nothing for `idleTimeoutMs` gets a FIN (our side is shut), and
 * reading goes on. A sender that watches for the FIN closes and reconnects cleanly: rsyslog's
 * omfwd over plain TCP checks before every send. One that does not (rsyslog over TLS; Go's
 * log/syslog, which Docker's syslog driver uses) goes on writing into the half-closed
 * connection, which still delivers: closing outright would lose what it sends next (tested
 * with rsyslog 8.2302 over TLS: the whole next burst). So a shut connection stays until the
 * peer closes it, or until a new peer needs its slot: when `maxConnections` are open, the one
 * quiet the longest (at least `idleTimeoutMs`) is destroyed to make room, and when none is,
 * the newcomer is refused (counted). Only a destroyed connection can lose data: what its
 * decoder held is handled as at any close (a frame cut short is counted as lost), and a sender
 * that never noticed the FIN loses what it sends next, until it notices.
 *
 * While logwharf itself stops reading (backpressure), the idle timer does not run and nothing
 * is evicted: a paused peer is not an idle one, and its unread bytes would be lost.
 */

export interface Frame {
  bytes: Buffer;
  truncated: boolean;
}

export interface ConnectionOptions {
  maxMessageBytes: number;
  /** Per transport; beyond it a newcomer takes an idle connection's slot, or is refused. */
  maxConnections: number;
  /** Shut a connection that sent nothing for this long; null: never. */
  idleTimeoutMs: number | null;
  /** Frames of one read (what one chunk completed). */
  onFrames(frames: Frame[], peer: SyslogPeer): void;
  onConnection(peer: SyslogPeer, open: boolean): void;
  /** Something was lost or cut; `reason` names it for counters and logs. */
  onProblem(
    reason: 'truncated' | 'lost_at_close' | 'framing_error' | 'socket_error',
    peer: SyslogPeer,
    detail?: string,
  ): void;
  /** A connection sent nothing for idleTimeoutMs and was shut (our FIN). */
  onIdleClose(peer: SyslogPeer): void;
  /** A new connection was turned away: maxConnections were open and none was idle. */
  onRefused(peer: SyslogPeer): void;
}

type StreamTransport = 'tcp' | 'tls';

interface Conn {
  transport: StreamTransport;
  peer: SyslogPeer;
  /** Date.now() of the last bytes read (or of the end of a pause). */
  lastActive: number;
  /** Our FIN was sent for idleness: the connection may be evicted once quiet. */
  shut: boolean;
}

export function streamPeer(socket: net.Socket, transport: StreamTransport): SyslogPeer {
  return { transport, address: peerAddress(socket.remoteAddress) };
}

export class StreamConnections {
  private readonly conns = new Map<net.Socket, Conn>();
  private paused = false;

  /** `opts` is read at each use: the owner changes its limits in place on a reload (then calls limitsChanged). */
  constructor(private readonly opts: ConnectionOptions) {}

  accept(socket: net.Socket, transport: StreamTransport): void {
    const peer = streamPeer(socket, transport);
    if (!this.makeRoom(transport)) {
      socket.destroy();
      this.opts.onRefused(peer);
      return;
    }
    const conn: Conn = { transport, peer, lastActive: Date.now(), shut: false };
    this.conns.set(socket, conn);
    socket.setKeepAlive(true, 60_000);
    if (this.paused) socket.pause();
    else this.armIdleTimer(socket, conn);
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
      conn.lastActive = Date.now();
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
      this.conns.delete(socket);
      this.opts.onConnection(peer, false);
    };
    socket.on('end', () => {
      finish();
      socket.end();
    });
    socket.on('close', finish);
    socket.on('error', (err) => this.opts.onProblem('socket_error', peer, err.message));
    socket.on('timeout', () => {
      if (conn.shut || this.paused) return;
      conn.shut = true;
      socket.setTimeout(0);
      this.opts.onIdleClose(peer);
      socket.end();
    });
  }

  /** Stops reading every connection (TCP flow control then slows the peers; nothing is lost). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const [socket, conn] of this.conns) {
      socket.pause();
      if (!conn.shut) socket.setTimeout(0);
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const now = Date.now();
    for (const [socket, conn] of this.conns) {
      socket.resume();
      // Quiet while paused is logwharf's doing, not the peer's: its idle time starts now.
      conn.lastActive = now;
      this.armIdleTimer(socket, conn);
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The idle timeout changed (a reload): open connections are timed afresh with it. */
  limitsChanged(): void {
    if (this.paused) return;
    for (const [socket, conn] of this.conns) this.armIdleTimer(socket, conn);
  }

  /** Closes every connection; frames already complete are delivered. */
  destroyAll(): void {
    for (const socket of this.conns.keys()) socket.destroy();
  }

  private armIdleTimer(socket: net.Socket, conn: Conn): void {
    if (!conn.shut) socket.setTimeout(this.opts.idleTimeoutMs ?? 0);
  }

  /**
   * Whether a new connection of `transport` fits, after evicting the shut connection quiet
   * the longest (for at least the idle timeout) when all slots are taken.
   */
  private makeRoom(transport: StreamTransport): boolean {
    const idle = this.opts.idleTimeoutMs;
    const now = Date.now();
    let open = 0;
    let victim: [net.Socket, Conn] | undefined;
    for (const entry of this.conns) {
      const conn = entry[1];
      if (conn.transport !== transport) continue;
      open++;
      const evictable = idle !== null && !this.paused && conn.shut && now - conn.lastActive >= idle;
      if (evictable && (victim === undefined || conn.lastActive < victim[1].lastActive)) victim = entry;
    }
    if (open < this.opts.maxConnections) return true;
    if (victim === undefined || open - 1 >= this.opts.maxConnections) return false;
    // Out of the count at once: its 'close' (which delivers what it held) comes later.
    this.conns.delete(victim[0]);
    victim[0].destroy();
    return true;
  }
}
