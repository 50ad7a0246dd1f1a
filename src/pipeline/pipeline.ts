import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { BatchQueue } from '../buffer/batch-queue.js';
import { backoffMs } from '../core/backoff.js';
import type { LogEvent, Position } from '../core/event.js';
import type { Health } from '../core/health.js';
import type { Intake } from '../core/intake.js';
import { resolvesWithin } from '../core/wait.js';
import { DeliveryAborted } from './deliver.js';
import { eventBytes } from './event-bytes.js';
import type { SinkChannel } from './sink-channel.js';

export type Transform = (events: LogEvent[]) => void;

export interface PipelineOptions {
  /** Runs on every event as it enters (decode, parse, tag); must not throw for any input. */
  transform: Transform;
  /** Every sink, each behind its buffer; a batch counts once all of them have taken it. */
  sinks: readonly SinkChannel[];
  /** Called after every sink has taken a batch, with the last position per source in that batch. */
  acknowledge: (positions: Map<string, Position>) => void;
  /** A batch is cut at batchSize events or batchMaxBytes (eventBytes), whichever comes first. */
  batchSize: number;
  batchMaxBytes: number;
  flushIntervalMs: number;
  /** The sources pause once the queue holds maxInFlight events or maxInFlightBytes (eventBytes). */
  maxInFlight: number;
  maxInFlightBytes: number;
  /** Where a failure the pipeline does not expect (a bug) is shown, besides the log. */
  health?: Health;
  log: Logger;
}

/** Which bound paused the sources. */
export type PauseReason = 'events' | 'bytes';

export interface PipelineCounters {
  eventsIn: number;
  /** Events every sink has taken. */
  eventsWritten: number;
  /** Times the sources were told to pause, by the bound that was reached. */
  pauses: Record<PauseReason, number>;
}

/**
 * sources -> transform -> bounded queue -> every sink's channel -> acknowledgement -> checkpoints.
 *
 * One batch is handed over at a time, in arrival order. That order is what lets a source's
 * position advance as soon as every sink has taken a batch: every earlier event of that source
 * was in an earlier batch, already taken, so the position never passes an event kept nowhere.
 * A channel that cannot take a batch (a full disk buffer, a memory channel whose sink is down)
 * makes the pipeline wait; the queue behind it fills, and the sources pause once it holds
 * `maxInFlight` events or `maxInFlightBytes` (event-bytes.ts: 65,536 lines of 1 MiB would
 * otherwise be 64 GiB); they resume once it is below half of both. Retries belong to the
 * channels (src/pipeline/deliver.ts).
 */
export class Pipeline implements Intake {
  private readonly opts: PipelineOptions;
  private readonly queue = new BatchQueue<LogEvent>(eventBytes);
  private readonly drainListeners = new Set<() => void>();
  private readonly committedListeners = new Set<(events: readonly LogEvent[]) => void>();
  private wakeWriter: (() => void) | null = null;
  private closing = false;
  /** True while the writer sleeps on an empty queue: the next push must wake it. */
  private idle = false;
  private writerDone: Promise<void> | null = null;
  private transform: Transform;
  /** Set from the push that found the queue full until it drained: the sources are paused. */
  private pausedBy: PauseReason | null = null;
  readonly counters: PipelineCounters = { eventsIn: 0, eventsWritten: 0, pauses: { events: 0, bytes: 0 } };

  constructor(opts: PipelineOptions) {
    this.opts = opts;
    this.transform = opts.transform;
  }

  /** Replaces the transforms (a reload): events pushed from now on go through the new ones. */
  setTransform(transform: Transform): void {
    this.transform = transform;
  }

  start(): void {
    // The loop handles what it expects; anything else is a bug, which must not end the process
    // as an unhandled rejection: it is logged loudly and shown as failing instead.
    this.writerDone ??= this.writeLoop().catch((err: unknown) => {
      this.opts.health?.fail('pipeline', 'write', 'BUG');
      this.opts.log.fatal({ err }, 'the pipeline write loop failed: nothing more is stored until a restart');
    });
  }

  push(events: LogEvent[]): boolean {
    if (events.length > 0) {
      this.transform(events);
      this.queue.push(events);
      this.counters.eventsIn += events.length;
      if (this.idle || this.batchFull()) this.wake();
    }
    const full =
      this.queue.size >= this.opts.maxInFlight
        ? 'events'
        : this.queue.bytes >= this.opts.maxInFlightBytes
          ? 'bytes'
          : null;
    if (full !== null && this.pausedBy === null) {
      this.pausedBy = full;
      this.counters.pauses[full]++;
    }
    return full === null;
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

  /** eventBytes of the events queued. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Why the sources are paused now (the queue reached a bound and has not drained yet), or null. */
  get paused(): PauseReason | null {
    return this.pausedBy;
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

  private batchFull(): boolean {
    return this.queue.size >= this.opts.batchSize || this.queue.bytes >= this.opts.batchMaxBytes;
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
      if (!this.batchFull() && !this.closing) {
        // Let a small batch grow a little: fewer, larger transactions cost far less per line.
        await this.sleep(this.opts.flushIntervalMs);
      }
      const batch = this.queue.take(this.opts.batchSize, this.opts.batchMaxBytes);
      try {
        await Promise.all(this.opts.sinks.map((sink) => this.handTo(sink, batch)));
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
      if (this.queue.size < this.opts.maxInFlight / 2 && this.queue.bytes < this.opts.maxInFlightBytes / 2) {
        this.pausedBy = null;
        for (const l of [...this.drainListeners]) l();
      }
    }
  }

  /**
   * One sink takes the batch. A channel rejects only with DeliveryAborted (after close());
   * anything else is a bug in it, and the batch was not taken: it is offered again after a
   * backoff rather than dropped, or left to end the process as an unhandled rejection.
   */
  private async handTo(sink: SinkChannel, batch: LogEvent[]): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        await sink.take(batch);
        if (failures > 1) this.opts.health?.ok(sink.name, 'take');
        return;
      } catch (err) {
        if (err instanceof DeliveryAborted) throw err;
        this.opts.health?.fail(sink.name, 'take', 'BUG');
        this.opts.log.error(
          { sink: sink.name, err, attempt: failures },
          'a sink channel failed to take a batch (a bug); offering it again',
        );
        await delay(backoffMs(failures));
      }
    }
  }

  private acknowledge(batch: LogEvent[]): void {
    const last = new Map<string, Position>();
    for (const e of batch) {
      if (e.sourceKey !== undefined)
        last.set(e.sourceKey, e.checkpoint ?? { timestamp: e.timestamp, seq: e.seq ?? 0 });
    }
    try {
      this.opts.acknowledge(last);
    } catch (err) {
      // The sinks have the events; only the positions did not move, so a restart re-reads them
      // (and the stores skip them by id). Not a reason to stop storing.
      this.opts.health?.fail('positions', 'advance', 'BUG');
      this.opts.log.error({ err }, 'could not move the positions past a stored batch');
    }
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

/**
 * The pipeline's undo, once the sources stopped: what is in memory goes to the sinks' buffers
 * (fast on disk). A sink that cannot take it (a full buffer, a memory buffer whose sink is down)
 * gets part of the shutdown time; then the channels close and the rest is re-read at the next
 * start (positions did not move past it), so the stop stays within shutdown_timeout.
 */
export async function handOver(
  pipeline: Pipeline,
  channels: readonly SinkChannel[],
  shutdownTimeoutMs: number,
  log: Pick<Logger, 'warn'>,
): Promise<void> {
  const handedOver = pipeline.close();
  const budgetMs = Math.max(500, shutdownTimeoutMs * 0.6);
  if (!(await resolvesWithin(handedOver, budgetMs))) {
    log.warn({ budget_ms: budgetMs }, 'sinks did not take every queued event in time');
    await Promise.all(channels.map((c) => c.close()));
  }
  await handedOver;
}
