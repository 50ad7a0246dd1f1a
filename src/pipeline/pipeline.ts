import type { Logger } from 'pino';
import { BatchQueue } from '../buffer/batch-queue.js';
import type { LogEvent, Position } from '../core/event.js';
import type { Intake } from '../core/intake.js';
import { DeliveryAborted } from './deliver.js';
import type { SinkChannel } from './sink-channel.js';

export type Transform = (events: LogEvent[]) => void;

export interface PipelineOptions {
  /** Runs on every event as it enters (decode, parse, tag); must not throw for any input. */
  transform: Transform;
  /** Every sink, each behind its buffer; a batch counts once all of them have taken it. */
  sinks: readonly SinkChannel[];
  /** Called after every sink has taken a batch, with the last position per source in that batch. */
  acknowledge: (positions: Map<string, Position>) => void;
  batchSize: number;
  flushIntervalMs: number;
  maxInFlight: number;
  log: Logger;
}

export interface PipelineCounters {
  eventsIn: number;
  /** Events every sink has taken. */
  eventsWritten: number;
}

/**
 * sources -> transform -> bounded queue -> every sink's channel -> acknowledgement -> checkpoints.
 *
 * One batch is handed over at a time, in arrival order. That order is what lets a source's
 * position advance as soon as every sink has taken a batch: every earlier event of that source
 * was in an earlier batch, already taken, so the position never passes an event kept nowhere.
 * A channel that cannot take a batch (a full disk buffer, a memory channel whose sink is down)
 * makes the pipeline wait; the queue behind it fills, and the sources pause once it holds
 * `maxInFlight` events. Retries belong to the channels (src/pipeline/deliver.ts).
 */
export class Pipeline implements Intake {
  private readonly opts: PipelineOptions;
  private readonly queue = new BatchQueue<LogEvent>();
  private readonly drainListeners = new Set<() => void>();
  private readonly committedListeners = new Set<(events: readonly LogEvent[]) => void>();
  private wakeWriter: (() => void) | null = null;
  private closing = false;
  /** True while the writer sleeps on an empty queue: the next push must wake it. */
  private idle = false;
  private writerDone: Promise<void> | null = null;
  private transform: Transform;
  readonly counters: PipelineCounters = { eventsIn: 0, eventsWritten: 0 };

  constructor(opts: PipelineOptions) {
    this.opts = opts;
    this.transform = opts.transform;
  }

  /** Replaces the transforms (a reload): events pushed from now on go through the new ones. */
  setTransform(transform: Transform): void {
    this.transform = transform;
  }

  start(): void {
    if (!this.writerDone) this.writerDone = this.writeLoop();
  }

  push(events: LogEvent[]): boolean {
    if (events.length === 0) return this.queue.size < this.opts.maxInFlight;
    this.transform(events);
    this.queue.push(events);
    this.counters.eventsIn += events.length;
    if (this.idle || this.queue.size >= this.opts.batchSize) this.wake();
    return this.queue.size < this.opts.maxInFlight;
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Listens to events after they are committed (the live tail listens here). */
  onCommitted(listener: (events: readonly LogEvent[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  get queued(): number {
    return this.queue.size;
  }

  /**
   * Hands everything queued to the sinks, then stops. Sources must be stopped first. Resolves
   * early if the channels are closed meanwhile (a stop that ran out of time): what was still
   * queued is not acknowledged, so the sources replay it. Idempotent.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    await this.writerDone;
  }

  private wake(): void {
    const w = this.wakeWriter;
    this.wakeWriter = null;
    w?.();
  }

  private async writeLoop(): Promise<void> {
    for (;;) {
      if (this.queue.size === 0) {
        if (this.closing) return;
        this.idle = true;
        await this.sleep(Number.POSITIVE_INFINITY);
        this.idle = false;
        continue;
      }
      if (this.queue.size < this.opts.batchSize && !this.closing) {
        // Let a small batch grow a little: fewer, larger transactions cost far less per line.
        await this.sleep(this.opts.flushIntervalMs);
      }
      const batch = this.queue.take(this.opts.batchSize);
      try {
        await Promise.all(this.opts.sinks.map((sink) => sink.take(batch)));
      } catch (err) {
        if (!(err instanceof DeliveryAborted)) throw err;
        this.opts.log.warn(
          { queued: batch.length + this.queue.size },
          'sinks closed before taking every event; the sources re-read them at the next start',
        );
        return;
      }
      this.counters.eventsWritten += batch.length;
      this.acknowledge(batch);
      if (this.queue.size < this.opts.maxInFlight / 2 && this.drainListeners.size > 0) {
        for (const l of [...this.drainListeners]) l();
      }
    }
  }

  private acknowledge(batch: LogEvent[]): void {
    const last = new Map<string, Position>();
    for (const e of batch) {
      if (e.sourceKey !== undefined)
        last.set(e.sourceKey, e.checkpoint ?? { timestamp: e.timestamp, seq: e.seq ?? 0 });
    }
    this.opts.acknowledge(last);
    for (const l of this.committedListeners) {
      try {
        l(batch);
      } catch (err) {
        this.opts.log.error({ err: String(err) }, 'committed-events listener failed');
      }
    }
  }

  /** Waits `ms`, or until woken (new data, close). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : null;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.wakeWriter = done;
    });
  }
}
