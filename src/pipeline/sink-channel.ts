import type { Logger } from 'pino';
import type { LogEvent } from '../core/event.js';
import type { Health } from '../core/health.js';
import type { SinkStatus } from '../core/status.js';
import type { StoreWriter } from '../core/store.js';
import { type DeliveryCounters, deliver } from './deliver.js';

/**
 * The way from the pipeline to one sink. The pipeline hands every batch to every channel and
 * moves the sources' positions once all of them have taken it, so what "taken" means is the
 * whole durability promise (DESIGN.md, "Pipeline"):
 * - a memory channel takes a batch when the sink has it (end-to-end: the sink's commit);
 * - a disk channel takes it when its disk buffer has it (fsynced under `fsync: always`), and
 *   delivers from there on its own, so a sink that is down holds up neither the other sinks
 *   nor memory.
 */
export interface SinkChannel {
  /** `store`, `syslog 10.0.0.5:6514`: for logs, metrics and reasons. */
  readonly name: string;
  /**
   * Resolves once the batch is taken, as above. Waits while a disk buffer is full (`block`),
   * so the pipeline, and then the sources, stop. Rejects only with `DeliveryAborted`, after
   * `close()`: the batch was not taken and its positions must not move.
   */
  take(batch: readonly LogEvent[]): Promise<void>;
  status(): SinkStatus;
  ready(): Promise<boolean>;
  /** Stops taking and delivering; a disk buffer's backlog stays for the next start. Idempotent. */
  close(): Promise<void>;
}

export interface ChannelSink {
  name: string;
  /** `embedded`, `elasticsearch`, `syslog`. */
  kind: string;
  writer: StoreWriter;
  deadLetter?: (events: readonly LogEvent[], reason: string) => Promise<void>;
  /**
   * Its failing writes are reported to Health, with their code (the store: SQLITE_BUSY,
   * status_429), for /metrics. A forwarding target has metrics of its own.
   */
  reportWrites?: boolean;
}

/** Writes straight to the sink: no files, positions move once the sink has committed. */
export class MemoryChannel implements SinkChannel {
  readonly name: string;
  private readonly sink: ChannelSink;
  private readonly log: Logger;
  private readonly health: Health;
  private readonly counters: DeliveryCounters = { eventsWritten: 0, eventsRejected: 0, writeRetries: 0 };
  private readonly abort = new AbortController();
  private pending = 0;
  private pendingSince = 0;

  constructor(sink: ChannelSink, health: Health, log: Logger) {
    this.name = sink.name;
    this.sink = sink;
    this.health = health;
    this.log = log;
  }

  async take(batch: readonly LogEvent[]): Promise<void> {
    this.pending = batch.length;
    this.pendingSince = Date.now();
    try {
      await deliver(batch, {
        sink: this.name,
        writer: this.sink.writer,
        ...(this.sink.deadLetter ? { deadLetter: this.sink.deadLetter } : {}),
        counters: this.counters,
        ...(this.sink.reportWrites ? { health: this.health } : {}),
        log: this.log,
        signal: this.abort.signal,
      });
    } finally {
      this.pending = 0;
    }
  }

  status(): SinkStatus {
    return {
      name: this.name,
      kind: this.sink.kind,
      buffer: {
        kind: 'memory',
        bytes: 0,
        maxBytes: 0,
        events: this.pending,
        oldestAgeSeconds: this.pending > 0 ? (Date.now() - this.pendingSince) / 1000 : 0,
        damagedRecords: 0,
        damagedBytes: 0,
      },
      ...this.counters,
      dropped: {},
    };
  }

  ready(): Promise<boolean> {
    return this.sink.writer.ready();
  }

  async close(): Promise<void> {
    this.abort.abort();
  }
}
