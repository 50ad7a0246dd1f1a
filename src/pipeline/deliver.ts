import type { Logger } from 'pino';
import { backoffMs } from '../core/backoff.js';
import type { LogEvent } from '../core/event.js';
import { errorCode, type Health } from '../core/health.js';
import type { StoreWriter, WriteOutcome } from '../core/store.js';
import { sleep } from '../core/wait.js';

/** What one sink's deliveries have done so far (read by /metrics). */
export interface DeliveryCounters {
  eventsWritten: number;
  eventsRejected: number;
  writeRetries: number;
}

export interface DeliverOptions {
  sink: string;
  writer: StoreWriter;
  /**
   * Keeps a batch the sink refused for good, durably, before it counts as handled; without it
   * a rejection is logged, counted and the events are lost.
   */
  deadLetter?: (events: readonly LogEvent[], reason: string) => Promise<void>;
  counters: DeliveryCounters;
  /** Told of each failed write (op `write`, the outcome's code) and of the next that works. */
  health?: Health;
  log: Logger;
  /** Aborting ends the retries: `deliver` then rejects with a `DeliveryAborted`. */
  signal: AbortSignal;
}

export class DeliveryAborted extends Error {
  constructor(sink: string) {
    super(`delivery to ${sink} stopped before the sink took the batch`);
    this.name = 'DeliveryAborted';
  }
}

/**
 * Writes one batch to one sink until the sink has it: the engine owns retries (STYLE.md), so
 * sinks answer delivered / retryable / rejected and this is the only retry loop. A retryable
 * answer is retried with backoff and jitter for as long as it takes (the buffer or the
 * pipeline behind it fills, and the sources pause); a rejection is final and goes to the
 * dead-letter store. If even that fails (disk full) it is retried like a write, since handling
 * the batch would move positions past events kept nowhere.
 */
export async function deliver(batch: readonly LogEvent[], o: DeliverOptions): Promise<void> {
  let failures = 0;
  for (;;) {
    if (o.signal.aborted) throw new DeliveryAborted(o.sink);
    let outcome: WriteOutcome;
    try {
      outcome = await o.writer.write(batch);
    } catch (err) {
      outcome = {
        status: 'retryable',
        reason: err instanceof Error ? err.message : String(err),
        code: errorCode(err),
      };
    }
    if (outcome.status === 'delivered') {
      o.counters.eventsWritten += batch.length;
      o.health?.ok(o.sink, 'write');
      return;
    }
    if (outcome.status === 'rejected') {
      try {
        await o.deadLetter?.(batch, outcome.reason);
        o.counters.eventsRejected += batch.length;
        o.health?.ok(o.sink, 'write');
        o.log.error(
          { sink: o.sink, reason: outcome.reason, events: batch.length },
          o.deadLetter ? 'sink rejected a batch; kept in the dead-letter store' : 'sink rejected a batch',
        );
        return;
      } catch (err) {
        outcome = {
          status: 'retryable',
          reason: `could not keep a rejected batch aside: ${String(err)}`,
          code: errorCode(err),
        };
      }
    }
    failures++;
    o.counters.writeRetries++;
    o.health?.fail(o.sink, 'write', outcome.code ?? 'UNKNOWN');
    o.log.warn({ sink: o.sink, reason: outcome.reason, attempt: failures }, 'sink write failed; retrying');
    await sleep(backoffMs(failures), o.signal);
  }
}
