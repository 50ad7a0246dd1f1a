import type { Logger } from 'pino';
import { DiskBuffer, RecordEncodeError } from '../buffer/disk-buffer.js';
import { dropUnencodableParts, FIELDS_DROPPED_FLAG } from '../buffer/encodable.js';
import { backoffMs } from '../core/backoff.js';
import type { LogEvent } from '../core/event.js';
import type { Health } from '../core/health.js';
import type { SinkStatus } from '../core/status.js';
import { orAbort, resolvesWithin, sleep } from '../core/wait.js';
import { DeliveryAborted, type DeliveryCounters, deliver } from './deliver.js';
import type { ChannelSink, SinkChannel } from './sink-channel.js';

/** Batches kept as live objects for a reader that keeps up (at most 2 × batch_size events). */
const HOT_RECORDS = 2;
/** How long close() waits for a delivery in flight. */
const CLOSE_GRACE_MS = 1000;

export interface DiskChannelOptions {
  sink: ChannelSink;
  dir: string;
  maxBytes: number;
  fsync: 'always' | 'never';
  whenFull: 'block' | 'drop_newest';
  /** Where failed buffer operations (and the sink's writes, under sink.reportWrites) are reported. */
  health: Health;
  log: Logger;
}

/** A disk buffer operation that failed and is being retried (the `op` of its health reports). */
type BufferOp = 'append' | 'read' | 'ack';

/** The health component of a sink's disk buffer: `store buffer`. */
export function bufferComponent(sink: string): string {
  return `${sink} buffer`;
}

/**
 * A sink behind a disk buffer. Two loops that meet only in the buffer:
 * - `take` (the pipeline's side) appends each batch as one record and resolves once it is
 *   written (and fsynced under `fsync: always`): from then on the batch survives a crash of
 *   logwharf, so the pipeline may move the sources' positions past it.
 * - the drain loop reads the oldest record, delivers it (retrying for as long as the sink
 *   needs), and only then acknowledges it in the buffer. A crash between delivery and
 *   acknowledgement sends that record again: harmless for the stores (event ids), a duplicate
 *   at a remote syslog server, which has nothing to recognise it by.
 * Memory stays flat however long the sink is down: the buffer holds the backlog on disk and the
 * drain loop holds one record.
 *
 * Full buffer: with `when_full: block` (the default) `take` waits for room, the pipeline's
 * queue fills and the sources pause: Docker keeps the lines, TCP slows syslog peers. With
 * `drop_newest` the batch is dropped and counted (`buffer_full`): the user's choice.
 *
 * Disk errors (ENOSPC, EIO, EROFS, ...) on append, read or ack never end either loop: each
 * operation is retried with backoff until it works or the channel closes, counted by code and
 * shown as failing in `health` meanwhile (so /readyz and /metrics say why it is stalled). The
 * buffer keeps its invariants under them: a failed append is cut off and never visible, a
 * failed ack leaves the record peeked and is retried (the ledger moves once), a failed read is
 * read again.
 */
export class DiskChannel implements SinkChannel {
  readonly name: string;
  private readonly opts: DiskChannelOptions;
  private readonly buffer: DiskBuffer;
  private readonly counters: DeliveryCounters = { eventsWritten: 0, eventsRejected: 0, writeRetries: 0 };
  private readonly dropped: Record<string, number> = {};
  private readonly abort = new AbortController();
  private readonly drained: Promise<void>;
  private closing: Promise<void> | null = null;
  private lastDropWarning = 0;
  private readonly component: string;

  private constructor(opts: DiskChannelOptions, buffer: DiskBuffer) {
    this.name = opts.sink.name;
    this.opts = opts;
    this.buffer = buffer;
    this.component = bufferComponent(this.name);
    if (buffer.batches > 0) {
      opts.log.info(
        { sink: this.name, events: buffer.events, bytes: buffer.bytes, dir: opts.dir },
        'sending what the disk buffer kept from before the restart',
      );
    }
    // The loop handles every error it expects; anything else is a bug, which must not end the
    // process as an unhandled rejection: it is logged loudly and shown as failing instead.
    this.drained = this.drainLoop().catch((err: unknown) => {
      opts.health.fail(this.component, 'drain', 'BUG');
      opts.log.fatal(
        { sink: this.name, err },
        'the disk buffer drain loop failed: this sink gets nothing more until a restart',
      );
    });
  }

  static async open(opts: DiskChannelOptions): Promise<DiskChannel> {
    const buffer = await DiskBuffer.open({
      dir: opts.dir,
      maxBytes: opts.maxBytes,
      fsync: opts.fsync,
      // Live copies serve a reader that keeps up; one that lags reads the disk anyway, so more
      // would only hold memory in proportion to batch_size while a sink is down.
      hotRecords: HOT_RECORDS,
      log: opts.log,
    });
    return new DiskChannel(opts, buffer);
  }

  async take(batch: readonly LogEvent[]): Promise<void> {
    if (this.buffer.full()) {
      if (this.opts.whenFull === 'drop_newest') {
        this.drop(batch.length, 'buffer_full');
        return;
      }
      await orAbort(this.buffer.waitForRoom(), this.abort.signal);
    }
    const appended = await this.untilDone('append', async () => {
      try {
        await this.buffer.append(batch);
      } catch (err) {
        // Not the disk: the batch itself cannot be written, and never will be as it is.
        if (!(err instanceof RecordEncodeError)) throw err;
        this.repairUnencodable(batch, err);
        await this.buffer.append(batch);
      }
      return true;
    });
    if (appended === null) throw new DeliveryAborted(this.name);
  }

  status(): SinkStatus {
    const oldest = this.buffer.oldestAppendedAt();
    return {
      name: this.name,
      kind: this.opts.sink.kind,
      buffer: {
        kind: 'disk',
        bytes: this.buffer.bytes,
        maxBytes: this.opts.maxBytes,
        events: this.buffer.events,
        oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
        damagedRecords: this.buffer.corruptRecords,
        damagedBytes: this.buffer.corruptBytes,
      },
      ...this.counters,
      dropped: { ...this.dropped },
    };
  }

  ready(): Promise<boolean> {
    return this.opts.sink.writer.ready();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Wakes a drain loop waiting for a record and a `take` waiting for room. A delivery in
      // flight gets a moment to finish and be acknowledged; a sink that hangs (a request timeout
      // of 30 s) must not hold up the stop: its record stays unacknowledged, and is sent again
      // after the restart (the stores skip it by id).
      this.abort.abort();
      await resolvesWithin(this.drained, CLOSE_GRACE_MS);
      await this.buffer.close();
    })();
    return this.closing;
  }

  private async drainLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const record = await this.untilDone('read', () => orAbort(this.buffer.peek(), signal));
      if (!record) return;
      try {
        await deliver(record.events, {
          sink: this.name,
          writer: this.opts.sink.writer,
          ...(this.opts.sink.deadLetter ? { deadLetter: this.opts.sink.deadLetter } : {}),
          counters: this.counters,
          ...(this.opts.sink.reportWrites ? { health: this.opts.health } : {}),
          log: this.opts.log,
          signal,
        });
      } catch (err) {
        if (err instanceof DeliveryAborted) return;
        throw err;
      }
      // Delivered: the buffer may forget it (a crash before this line only sends it again). A
      // failed ack leaves it peeked, and the next try acknowledges that same record.
      if ((await this.untilDone('ack', () => this.buffer.ack().then(() => true))) === null) return;
    }
  }

  /**
   * Runs one buffer operation until it works; null once the channel closes (or `op` itself
   * answered null: a peek cut short by the close). Every failure is counted by its code and the
   * buffer shows as failing until the operation works again.
   */
  private async untilDone<T>(op: BufferOp, run: () => Promise<T | null>): Promise<T | null> {
    const signal = this.abort.signal;
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        const result = await run();
        this.opts.health.ok(this.component, op);
        return result;
      } catch (err) {
        const code = this.opts.health.fail(this.component, op, err);
        // One line per try: the backoff (at most 10 s) keeps that to a few per minute.
        this.opts.log.error(
          { sink: this.name, dir: this.opts.dir, op, code, err: String(err), attempt: failures },
          `disk buffer ${op} failed (${code}${code === 'ENOSPC' ? ': the disk is full' : ''}); retrying`,
        );
        await sleep(backoffMs(failures), signal);
      }
    }
    return null;
  }

  /** Gives up the parsed parts an event cannot be written with (the line is kept), counted and logged. */
  private repairUnencodable(batch: readonly LogEvent[], err: RecordEncodeError): void {
    const events = dropUnencodableParts(batch);
    // Counted (logwharf_component_errors_total), never left failing: the batch goes on at once.
    this.opts.health.fail(this.component, 'encode', 'UNENCODABLE');
    this.opts.health.ok(this.component, 'encode');
    this.opts.log.warn(
      { sink: this.name, events, err: String(err.cause) },
      `events whose parsed fields cannot be written: fields dropped, lines kept (flag ${FIELDS_DROPPED_FLAG})`,
    );
  }

  private drop(events: number, reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + events;
    const now = Date.now();
    if (now - this.lastDropWarning > 10_000) {
      this.lastDropWarning = now;
      this.opts.log.warn(
        { sink: this.name, reason, dropped_total: this.dropped[reason] },
        'disk buffer full: dropping new events (when_full: drop_newest)',
      );
    }
  }
}
