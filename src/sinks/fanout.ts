import type { LogEvent } from '../core/event.js';
import type { StoreWriter, WriteOutcome } from '../core/store.js';

export interface NamedSink {
  /** For reasons and logs: "store", "syslog 10.0.0.5:6514". */
  name: string;
  writer: StoreWriter;
}

/**
 * Several sinks behind one writer, so the pipeline (which owns retries) sees one outcome per
 * batch: delivered once every sink has it, retryable while any sink still needs it, rejected when
 * a sink refuses it for good (after the others have it).
 *
 * A retry goes only to the sinks that have not taken the batch yet: the pipeline retries the
 * same batch object, and which sinks have it is remembered per batch. Without that, a forwarder
 * that is down would make the store re-write (harmless: ids) and, worse, a store outage would
 * make the forwarder send every batch again (a remote syslogd has no ids to drop duplicates by).
 */
export class FanoutWriter implements StoreWriter {
  private readonly sinks: readonly NamedSink[];
  /** Per batch: sink index -> null (delivered) or the reason it rejected the batch. */
  private readonly done = new WeakMap<readonly LogEvent[], Map<number, string | null>>();

  constructor(sinks: readonly NamedSink[]) {
    this.sinks = sinks;
  }

  async write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    let delivered = this.done.get(batch);
    if (!delivered) {
      delivered = new Map();
      this.done.set(batch, delivered);
    }
    const pending = this.sinks.map((s, i) => ({ s, i })).filter(({ i }) => !delivered.has(i));
    const outcomes = await Promise.all(
      pending.map(async ({ s, i }) => {
        let outcome: WriteOutcome;
        try {
          outcome = await s.writer.write(batch);
        } catch (err) {
          outcome = { status: 'retryable', reason: err instanceof Error ? err.message : String(err) };
        }
        return { name: s.name, i, outcome };
      }),
    );
    const retryable: string[] = [];
    const rejected: string[] = [];
    for (const { name, i, outcome } of outcomes) {
      // A rejection is final for that sink: it is not asked again.
      if (outcome.status === 'retryable') retryable.push(`${name}: ${outcome.reason}`);
      else delivered.set(i, outcome.status === 'rejected' ? `${name}: ${outcome.reason}` : null);
    }
    for (const reason of delivered.values()) if (reason !== null) rejected.push(reason);
    if (retryable.length > 0) return { status: 'retryable', reason: retryable.join('; ') };
    if (rejected.length > 0) return { status: 'rejected', reason: rejected.join('; ') };
    return { status: 'delivered' };
  }

  async ready(): Promise<boolean> {
    const all = await Promise.all(this.sinks.map((s) => s.writer.ready().catch(() => false)));
    return all.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.writer.close()));
  }
}
