import type { Logger } from 'pino';
import type { SyslogSourceConfig } from '../../config/schema.js';
import { splitHostPort } from '../../config/semantic.js';
import { parseDuration } from '../../core/duration.js';
import { LogwharfError } from '../../core/errors.js';
import type { LogEvent } from '../../core/event.js';
import type { Intake } from '../../core/intake.js';
import type { SourceStatus } from '../../core/status.js';
import { canonicalFromMillis } from '../../core/timestamp.js';
import type { Frame } from './connections.js';
import { type BoundAddresses, type ListenerSettings, SyslogListeners } from './listeners.js';
import { parseSyslog } from './parse.js';
import { type SyslogPeer, syslogEvent } from './to-event.js';

/** The listeners' part of the config: addresses split, TLS files named. */
function listenerSettings(config: SyslogSourceConfig): ListenerSettings {
  const address = (v: string | null) => (v ? splitHostPort(v)! : null);
  const tlsAddress = config.tls ? splitHostPort(config.tls.listen)! : null;
  return {
    udp: address(config.udp),
    tcp: address(config.tcp),
    tls:
      config.tls && tlsAddress
        ? {
            ...tlsAddress,
            cert: config.tls.cert,
            key: config.tls.key,
            ...(config.tls.ca ? { ca: config.tls.ca } : {}),
          }
        : null,
    maxMessageBytes: config.max_message_bytes,
    maxConnections: config.max_connections,
    idleTimeoutMs: config.idle_timeout === null ? null : parseDuration(config.idle_timeout),
  };
}

/** Peers remembered for /api/v1/sources; the oldest is forgotten past this many (UDP senders are unbounded). */
const MAX_PEERS = 1024;

export interface SyslogCounters {
  messages: number;
  truncated: number;
  unparsed: number;
  lostAtClose: number;
  framingErrors: number;
  socketErrors: number;
  /** UDP datagrams dropped while the pipeline was full (UDP cannot be paused; use TCP for no loss). */
  udpDroppedBackpressure: number;
  /** TCP/TLS connections shut (our FIN) after sending nothing for idle_timeout. */
  idleClosed: number;
  /** New TCP/TLS connections turned away: max_connections were open and none had been idle for idle_timeout. */
  connectionsRefused: number;
}

interface PeerState {
  status: SourceStatus;
  openConnections: number;
  /** Whether a connection from this peer was ever opened: the next one after all closed is a reconnect. */
  connectedBefore: boolean;
}

/**
 * The syslog source: listeners -> frames -> parse -> events -> pipeline.
 *
 * Backpressure: when the pipeline says it is full, every TCP/TLS connection stops being read
 * (TCP flow control then slows the senders; nothing is lost) until it drains. UDP cannot be
 * paused, so datagrams arriving meanwhile are dropped and counted: that is UDP's contract with
 * every syslogd, and the reason to send over TCP when every message matters.
 *
 * Syslog has no replay, so there is no position to save: a message's id is made when it is
 * received (a per-process prefix and a counter) and stays with it through buffers and retries.
 */
export class SyslogSource {
  readonly counters: SyslogCounters = {
    messages: 0,
    truncated: 0,
    unparsed: 0,
    lostAtClose: 0,
    framingErrors: 0,
    socketErrors: 0,
    udpDroppedBackpressure: 0,
    idleClosed: 0,
    connectionsRefused: 0,
  };
  private readonly listeners: SyslogListeners;
  private readonly intake: Intake;
  private readonly log: Logger;
  private readonly peers = new Map<string, PeerState>();
  private readonly idPrefix: string;
  private nextId = 0;
  private full = false;
  private lastDropWarning = 0;
  private lastRefusedWarning = 0;
  private stopDrain: (() => void) | null = null;
  /** The settings in force: the configured ones, except listeners a reload could not move. */
  private config: SyslogSourceConfig;

  constructor(opts: { config: SyslogSourceConfig; intake: Intake; log: Logger }) {
    const { config } = opts;
    this.config = config;
    this.intake = opts.intake;
    this.log = opts.log;
    // Start time in base 36 plus randomness: ids never repeat across restarts of one host.
    this.idPrefix = `sl${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4)
      .toString(36)
      .padStart(4, '0')}-`;
    this.listeners = new SyslogListeners({
      ...listenerSettings(config),
      onFrames: (frames, peer) => this.receive(frames, peer),
      onConnection: (peer, open) => this.connection(peer, open),
      onProblem: (reason, peer, detail) => this.problem(reason, peer, detail),
      onIdleClose: (peer) => {
        this.counters.idleClosed++;
        // Routine for quiet senders (they reconnect when they next send), so not above debug.
        this.log.debug(
          { peer: this.peerKey(peer), idle_timeout: this.config.idle_timeout },
          'syslog connection sent nothing for idle_timeout: closing it (its slot is free for a new peer)',
        );
      },
      onRefused: (peer) => this.refused(peer),
    });
  }

  async start(): Promise<BoundAddresses> {
    this.stopDrain = this.intake.onDrain(() => {
      this.full = false;
      this.listeners.resume();
    });
    const bound = await this.listeners.start();
    this.log.info(bound, 'syslog receiver listening');
    return bound;
  }

  /** The settings in force (after a reload that could not move a listener: its old address). */
  get settings(): SyslogSourceConfig {
    return this.config;
  }

  /**
   * Applies new settings (SIGHUP); see SyslogListeners.reconfigure: only listeners whose address
   * changed are bound again, size limits apply to new connections, the idle timeout to all. Rejects with the listeners that
   * could not be moved (LOGWHARF_ERR_LISTEN), after applying everything else; those keep their
   * old address, and `settings` says so. Resolves with the addresses listened on.
   */
  async reconfigure(config: SyslogSourceConfig): Promise<BoundAddresses> {
    const failed = await this.listeners.reconfigure(listenerSettings(config));
    const kept = new Set(failed.map((f) => f.transport));
    this.config = {
      ...config,
      udp: kept.has('udp') ? this.config.udp : config.udp,
      tcp: kept.has('tcp') ? this.config.tcp : config.tcp,
      tls: kept.has('tls') ? this.config.tls : config.tls,
    };
    const bound = this.listeners.addresses();
    this.log.info(bound, 'syslog receiver listening');
    if (failed.length > 0) {
      const first = failed[0]!.error;
      throw new LogwharfError(
        first instanceof LogwharfError ? first.code : 'LOGWHARF_ERR_LISTEN',
        failed.map((f) => `${f.error.message}; the ${f.transport} listener stays where it was`).join('\n'),
      );
    }
    return bound;
  }

  /** Closes the listeners; frames already complete are handed to the pipeline first. Idempotent. */
  async stop(): Promise<void> {
    await this.listeners.close();
    this.stopDrain?.();
    this.stopDrain = null;
  }

  statuses(): SourceStatus[] {
    return [...this.peers.values()].map((p) => ({ ...p.status, dropped: { ...p.status.dropped } }));
  }

  private receive(frames: Frame[], peer: SyslogPeer): void {
    if (peer.transport === 'udp' && this.full) {
      this.counters.udpDroppedBackpressure += frames.length;
      const dropped = this.peerState(peer).status.dropped;
      dropped.udp_pipeline_full = (dropped.udp_pipeline_full ?? 0) + frames.length;
      const now = Date.now();
      if (now - this.lastDropWarning > 10_000) {
        this.lastDropWarning = now;
        this.log.warn(
          { dropped: this.counters.udpDroppedBackpressure },
          'pipeline full: dropping UDP syslog messages (send over TCP to be paused instead of dropped)',
        );
      }
      return;
    }
    const receivedAt = canonicalFromMillis(Date.now());
    const events: LogEvent[] = new Array(frames.length);
    const now = new Date();
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      const raw = frame.bytes.toString('utf8');
      const msg = parseSyslog(raw, { now });
      if (msg.format === 'unparsed') this.counters.unparsed++;
      const id = this.idPrefix + (this.nextId++).toString(36);
      events[i] = syslogEvent(msg, raw, peer, { timestamp: receivedAt, id }, frame.truncated);
    }
    this.counters.messages += events.length;
    const more = this.intake.push(events);
    // After the push: the transforms have replaced a sender time out of line by the receive time
    // (transforms/sender-time.ts), and the peer's last line time is the one stored.
    this.touch(peer, events);
    if (!more) {
      this.full = true;
      this.listeners.pause();
    }
  }

  private peerKey(peer: SyslogPeer): string {
    return `${peer.transport}://${peer.address}`;
  }

  private peerState(peer: SyslogPeer): PeerState {
    const key = this.peerKey(peer);
    let p = this.peers.get(key);
    if (!p) {
      if (this.peers.size >= MAX_PEERS) {
        const oldest = this.peers.keys().next().value;
        if (oldest !== undefined) this.peers.delete(oldest);
      }
      p = {
        status: {
          kind: 'syslog',
          id: key,
          name: peer.address,
          state: peer.transport === 'udp' ? 'attached' : 'detached',
          linesRead: 0,
          lastLineTime: null,
          committedTime: null,
          // Syslog has no per-peer acknowledgement; the sinks' oldest buffered age covers it.
          lagSeconds: null,
          reconnects: 0,
          // The losses this transport can have, present at 0 so a rate() sees the first one.
          dropped: peer.transport === 'udp' ? { udp_pipeline_full: 0 } : { peer_closed_mid_frame: 0 },
        },
        openConnections: 0,
        connectedBefore: false,
      };
      this.peers.set(key, p);
    }
    return p;
  }

  private touch(peer: SyslogPeer, events: LogEvent[]): void {
    const p = this.peerState(peer);
    p.status.linesRead += events.length;
    const last = events[events.length - 1];
    if (last) {
      p.status.lastLineTime = last.timestamp;
      // The name people know a sender by is its hostname, when it says one.
      if (last.syslog?.hostname) p.status.name = last.syslog.hostname;
    }
  }

  private connection(peer: SyslogPeer, open: boolean): void {
    const p = this.peerState(peer);
    if (open) {
      // A peer coming back after all its connections closed; not a second concurrent one.
      if (p.openConnections === 0 && p.connectedBefore) p.status.reconnects++;
      p.connectedBefore = true;
    }
    p.openConnections += open ? 1 : -1;
    p.status.state = p.openConnections > 0 ? 'attached' : 'detached';
  }

  private refused(peer: SyslogPeer): void {
    this.counters.connectionsRefused++;
    const now = Date.now();
    if (now - this.lastRefusedWarning > 10_000) {
      this.lastRefusedWarning = now;
      this.log.warn(
        {
          peer: this.peerKey(peer),
          refused: this.counters.connectionsRefused,
          max_connections: this.config.max_connections,
        },
        'syslog connection refused: max_connections are open and none has been idle for idle_timeout (raise max_connections, or lower idle_timeout)',
      );
    }
  }

  private problem(reason: string, peer: SyslogPeer, detail?: string): void {
    switch (reason) {
      case 'truncated':
        this.counters.truncated++;
        return;
      case 'lost_at_close': {
        this.counters.lostAtClose++;
        const dropped = this.peerState(peer).status.dropped;
        dropped.peer_closed_mid_frame = (dropped.peer_closed_mid_frame ?? 0) + 1;
        this.log.warn(
          { peer: this.peerKey(peer) },
          'syslog peer closed in the middle of a message; that message is lost',
        );
        return;
      }
      case 'framing_error':
        this.counters.framingErrors++;
        this.log.warn(
          { peer: this.peerKey(peer) },
          'syslog peer sent a malformed octet count; reading on as newline-framed',
        );
        return;
      default:
        this.counters.socketErrors++;
        this.log.debug({ peer: this.peerKey(peer), detail }, 'syslog connection error');
    }
  }
}
