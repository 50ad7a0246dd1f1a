import type { Logger } from 'pino';
import { BatchQueue } from '../buffer/batch-queue.js';
import { backoffMs } from '../core/backoff.js';
import type { LogEvent, Position } from '../core/event.js';
import type { Intake } from '../core/intake.js';
import type { StoreWriter } from '../core/store.js';

export interface PipelineOptions {
  /** Runs on every event as it enters (decode, parse, tag); must not throw for any input. */
  transform: (events: LogEvent[]) => void;
  writer: StoreWriter;
  /**
   * Keeps a batch the store refused for good (durably, before it is acknowledged), so a
   * rejection never loses events. Without it they are logged, counted and lost.
   */
  deadLetter?: (events: readonly LogEvent[], reason: string) => Promise<void>;
  /** Called after a batch is committed, with the last position per source in that batch. */
  acknowledge: (positions: Map<string, Position>) => void;
  batchSize: number;
  flushIntervalMs: number;
  maxInFlight: number;
  log: Logger;
}

export interface PipelineCounters {
  eventsIn: number;
  eventsWritten: number;
  writeRetries: number;
  eventsRejected: number;
}

/**
 * sources -> transform -> bounded queue -> store -> acknowledgement -> checkpoints.
 *
 * One batch is written at a time, in arrival order. That order is what lets a source's
 * position advance as soon as a batch commits: every earlier event of that source was in an
 * earlier batch, already committed, so the position never passes an unstored line.
 * A batch that fails retryably is retried (same batch, same order) until it succeeds; the
 * queue behind it fills, and the sources pause once it holds `maxInFlight` events.
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
  readonly counters: PipelineCounters = { eventsIn: 0, eventsWritten: 0, writeRetries: 0, eventsRejected: 0 };

  constructor(opts: PipelineOptions) {
    this.opts = opts;
  }

  start(): void {
    if (!this.writerDone) this.writerDone = this.writeLoop();
  }

  push(events: LogEvent[]): boolean {
    if (events.length === 0) return this.queue.size < this.opts.maxInFlight;
    this.opts.transform(events);
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

  /** Writes everything queued, then stops. Sources must be stopped first. Idempotent. */
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
      await this.writeWithRetry(batch);
      if (this.queue.size < this.opts.maxInFlight / 2 && this.drainListeners.size > 0) {
        for (const l of [...this.drainListeners]) l();
      }
    }
  }

  private async writeWithRetry(batch: LogEvent[]): Promise<void> {
    let failures = 0;
    for (;;) {
      let outcome: Awaited<ReturnType<StoreWriter['write']>>;
      try {
        outcome = await this.opts.writer.write(batch);
      } catch (err) {
        outcome = { status: 'retryable', reason: err instanceof Error ? err.message : String(err) };
      }
      if (outcome.status === 'delivered') {
        this.counters.eventsWritten += batch.length;
        this.acknowledge(batch);
        return;
      }
      if (outcome.status === 'rejected') {
        // Not retryable (the store refuses this data for good): never retried forever. Kept in
        // the dead-letter store first; if even that fails (disk full), retried like a write,
        // since acknowledging would move positions past events kept nowhere.
        try {
          await this.opts.deadLetter?.(batch, outcome.reason);
        } catch (err) {
          failures++;
          this.counters.writeRetries++;
          this.opts.log.error({ err: String(err) }, 'could not keep a rejected batch aside; retrying');
          await this.sleep(backoffMs(failures), true);
          continue;
        }
        this.counters.eventsRejected += batch.length;
        this.opts.log.error(
          { reason: outcome.reason, events: batch.length },
          this.opts.deadLetter
            ? 'store rejected a batch; kept in the dead-letter store'
            : 'store rejected a batch',
        );
        this.acknowledge(batch);
        return;
      }
      failures++;
      this.counters.writeRetries++;
      this.opts.log.warn({ reason: outcome.reason, attempt: failures }, 'store write failed; retrying');
      await this.sleep(backoffMs(failures), true);
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

  /** Waits `ms`, or until woken (new data, close); `uninterruptible` waits out the full time. */
  private sleep(ms: number, uninterruptible = false): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : null;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (!uninterruptible) this.wakeWriter = done;
    });
  }
}
