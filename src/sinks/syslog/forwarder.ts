/**
 * The syslog forwarding sink: every event as RFC 5424, octet-counted (RFC 6587), over one TCP or
 * TLS (RFC 5425) connection to a remote syslogd.
 *
 * What "delivered" means here: the batch was handed to the kernel (the socket's write callback
 * fired). Plain syslog has no application-level acknowledgement (that is why RELP exists), so:
 * - a crash, or a peer that dies right after our write, can lose what was in flight: the kernel
 *   had it, the peer never processed it, and nothing tells us;
 * - a write that fails half way is retried whole on a new connection (the pipeline retries the
 *   same batch), so the frames that did arrive arrive twice: duplicates are possible downstream.
 *   A remote syslogd has no event ids to drop them by.
 *
 * The sink never retries by itself (the pipeline owns retry and backoff): a refused, lost or
 * stalled connection makes `write` answer `retryable` with the reason, and the next write
 * connects again. `write` never throws.
 */
import type net from 'node:net';
import type { LogEvent } from '../../core/event.js';
import type { StoreWriter, WriteOutcome } from '../../core/store.js';
import { connectSyslog, type ForwardTlsOptions, loadTlsMaterial, type TlsMaterial } from './connect.js';
import { encodeRfc5424, frameOctetCounted } from './encode.js';

export interface SyslogForwarderOptions {
  host: string;
  port: number;
  /** null = plain TCP; else TLS (RFC 5425) with these PEM files (paths): ca to verify the server, cert+key for client auth, serverName for SNI/verification. */
  tls: null | ForwardTlsOptions;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Per-write time limit (and per-connect); then the write is retryable. Default 10 s. */
  timeoutMs?: number;
}

export interface SyslogForwarderCounters {
  /** Events and batches handed to the kernel, and their bytes (framing included). */
  events: number;
  batches: number;
  bytes: number;
  /** Connections made, and connections lost (peer closed, reset, write failed or stalled). */
  connects: number;
  disconnects: number;
  /** Writes answered `retryable`, by reason. */
  retryable: { connect: number; write: number; timeout: number; closed: number };
  /** Batches answered `rejected` (an event that cannot be encoded). */
  rejected: number;
}

export type SyslogForwarder = StoreWriter & { readonly counters: SyslogForwarderCounters };

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Opens the forwarder. Resolves at once, even when the server is down: start-up must not wait
 * for a remote syslogd, so the first connection is tried in the background and a failure only
 * logged. Unreadable TLS files do fail here (LOGWHARF_ERR_CONFIG): no retry would fix them.
 */
export async function openSyslogForwarder(opts: SyslogForwarderOptions): Promise<SyslogForwarder> {
  const where = `forward.syslog ${hostPort(opts.host, opts.port)}`;
  const tls = opts.tls ? loadTlsMaterial(opts.tls, where) : null;
  const forwarder = new Forwarder(opts, tls);
  forwarder.warmUp();
  return forwarder;
}

class Forwarder implements SyslogForwarder {
  readonly counters: SyslogForwarderCounters = {
    events: 0,
    batches: 0,
    bytes: 0,
    connects: 0,
    disconnects: 0,
    retryable: { connect: 0, write: 0, timeout: 0, closed: 0 },
    rejected: 0,
  };
  private readonly target: { host: string; port: number; tls: TlsMaterial | null };
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly log: SyslogForwarderOptions['log'];
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  /** Writes run one after another, so batches keep their order on the wire and share one connection attempt. */
  private tail: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | null = null;
  /** Set once close() has drained the writes: a connection that completes after that is not kept. */
  private closed = false;
  /** Whether the last attempt failed, so an outage is logged once, not on every retry. */
  private down = false;

  constructor(opts: SyslogForwarderOptions, tls: TlsMaterial | null) {
    this.target = { host: opts.host, port: opts.port, tls };
    this.name = `${tls ? 'tls' : 'tcp'}://${hostPort(opts.host, opts.port)}`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.log = opts.log;
  }

  /** The first connection, in the background: a server that is down is worth a warning at start-up, not a failure. */
  warmUp(): void {
    this.connection().catch(() => {
      // Logged by connection(); the next write tries again.
    });
  }

  write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (this.closing) {
      this.counters.retryable.closed++;
      return Promise.resolve({ status: 'retryable', reason: `syslog ${this.name}: the forwarder is closed` });
    }
    // writeNow handles every failure it knows of; the catch keeps the promise (and so the
    // chain of later writes) from ever rejecting.
    const result = this.tail
      .then(() => this.writeNow(batch))
      .catch((err: unknown): WriteOutcome => {
        this.counters.retryable.write++;
        return { status: 'retryable', reason: `syslog ${this.name}: ${describe(err)}` };
      });
    this.tail = result;
    return result;
  }

  async ready(): Promise<boolean> {
    if (this.closing) return false;
    try {
      await this.connection();
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for the writes in progress, then ends the connection politely (FIN after the data). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tail;
      this.closed = true;
      await this.connecting?.catch(() => undefined);
      const s = this.socket;
      this.socket = null;
      if (s) await endGracefully(s, this.timeoutMs);
    })();
    return this.closing;
  }

  private async writeNow(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (batch.length === 0) return { status: 'delivered' };
    let payload: Buffer;
    try {
      payload = Buffer.concat(batch.map((e) => frameOctetCounted(encodeRfc5424(e))));
    } catch (err) {
      // Not expected (the encoder makes every field valid), but a batch that cannot be encoded
      // never will be: retrying it would block the pipeline for good.
      this.counters.rejected++;
      return {
        status: 'rejected',
        reason: `syslog ${this.name}: cannot encode the batch (${describe(err)})`,
      };
    }
    let socket: net.Socket;
    try {
      socket = await this.connection();
    } catch (err) {
      this.counters.retryable.connect++;
      return { status: 'retryable', reason: `syslog ${this.name}: cannot connect (${describe(err)})` };
    }
    const failure = await this.send(socket, payload);
    if (failure === null) {
      this.counters.events += batch.length;
      this.counters.batches++;
      this.counters.bytes += payload.length;
      return { status: 'delivered' };
    }
    // Part of the batch may be on the wire: this connection's framing can no longer be trusted,
    // so it is dropped, and the retry starts clean on a new one.
    this.counters.retryable[failure.timeout ? 'timeout' : 'write']++;
    this.drop(socket);
    return { status: 'retryable', reason: `syslog ${this.name}: ${failure.reason}` };
  }

  /** Resolves null once the kernel has the whole payload, or why not within the time limit. */
  private send(socket: net.Socket, payload: Buffer): Promise<{ reason: string; timeout: boolean } | null> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (v: { reason: string; timeout: boolean } | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('close', onClose);
        resolve(v);
      };
      const onClose = () => settle({ reason: 'the connection closed during the write', timeout: false });
      const timer = setTimeout(
        () =>
          settle({
            reason: `the write did not finish within ${this.timeoutMs} ms (server stalled?)`,
            timeout: true,
          }),
        this.timeoutMs,
      );
      socket.once('close', onClose);
      socket.write(payload, (err) =>
        settle(err ? { reason: `write failed (${describe(err)})`, timeout: false } : null),
      );
    });
  }

  /** The open connection, or a new one. Concurrent callers share one attempt. */
  private connection(): Promise<net.Socket> {
    const s = this.socket;
    if (s && !s.destroyed && s.writable) return Promise.resolve(s);
    if (s) this.drop(s);
    this.connecting ??= connectSyslog(this.target, this.timeoutMs)
      .then(
        (socket) => {
          if (this.closed) {
            socket.destroy();
            throw new Error('the forwarder is closed');
          }
          this.adopt(socket);
          return socket;
        },
        (err: unknown) => {
          if (!this.down) {
            this.down = true;
            this.log.warn(
              { target: this.name, err: describe(err) },
              'syslog forwarder cannot reach its server; events wait in the pipeline and are retried',
            );
          }
          throw err;
        },
      )
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  private adopt(socket: net.Socket): void {
    this.socket = socket;
    this.counters.connects++;
    if (this.down) {
      this.down = false;
      this.log.info({ target: this.name }, 'syslog forwarder reconnected');
    }
    // TCP keepalive notices a peer that vanished while the connection sat idle.
    socket.setKeepAlive(true, 60_000);
    // A syslog server sends nothing, but reading is how a closed connection (FIN) is noticed
    // before the next write goes into the void.
    socket.on('data', () => {});
    socket.on('error', () => {
      // 'close' follows; the write in progress (if any) reports the failure.
    });
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.counters.disconnects++;
      if (!this.closing) this.log.warn({ target: this.name }, 'syslog forwarder lost its connection');
    });
  }

  private drop(socket: net.Socket): void {
    if (this.socket === socket) {
      this.socket = null;
      this.counters.disconnects++;
    }
    socket.destroy();
  }
}

function endGracefully(socket: net.Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
