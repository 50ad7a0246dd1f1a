import { type Client, errors } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../../config/schema.js';
import { parseDuration } from '../../core/duration.js';
import { LogwharfError } from '../../core/errors.js';
import type { LogEvent } from '../../core/event.js';
import type { StoreWriter, WriteOutcome } from '../../core/store.js';
import { DeadLetterStore } from '../dead-letter.js';
import { type BulkItem, classifyItem, classifyRequestError, halve, splitBySize } from './bulk.js';
import { createElasticsearchClient, describeNodes } from './client.js';
import { bulkBody, type EncodedEvent, type EncodeOptions, encodeBatch, type Unencodable } from './encode.js';
import {
  addFieldsToExistingIndices,
  DEFAULT_CLASS,
  ensureTemplate,
  type TemplateOptions,
} from './template.js';

/**
 * The Elasticsearch store's writer: a batch becomes bulk `create` requests, and their answers
 * become one outcome for the pipeline.
 *
 * Invariants of `write(batch)`:
 * - No event is sent before the index template is in place (see template.ts): it is put at
 *   open, or, when the cluster was unreachable then, before the first bulk request.
 * - `delivered` only when every event of the batch is either stored (201, or 409: already there
 *   with this id) or durably in the dead-letter store (refused for good: a 400 for the
 *   document). The pipeline then moves the sources' positions past the batch.
 * - Otherwise `retryable`, with the first reason. The pipeline, not this writer, retries (the
 *   same batch, later, with its backoff), and the client is built with `maxRetries: 0`.
 * - A retry of the same batch array sends only the events not yet settled: per batch (a
 *   WeakMap on the array) the writer remembers which events were stored or dead-lettered,
 *   so none is written to the dead-letter store twice. Re-sending a stored one would only
 *   answer 409, which is fine; writing a dead letter twice is not.
 * - Dead letters of an attempt are fsynced before their events count as settled; if that
 *   write fails, the attempt is retryable and they are sent (and refused) again next time.
 * - Requests are at most `bulk_max_bytes` (an event larger alone goes alone), at most
 *   `max_concurrency` in flight. A 413 (or a 400 for the whole body) halves the request and
 *   sends both halves at once, down to one event, which is then dead-lettered.
 * - After a retryable failure no further request of the attempt starts: a struggling cluster
 *   gets no more load, and the pipeline's backoff decides when to come back.
 */

/** The logging the store does (a pino Logger fits). */
export interface StoreLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ElasticsearchWriterCounters {
  /** Events stored (201). */
  indexed: number;
  /** Events already there (409): replays after a crash or a retry. */
  duplicates: number;
  /** Events refused for good and kept in the dead-letter store. */
  deadLettered: number;
  /** Bulk requests sent. */
  bulkRequests: number;
  /** Requests halved after a 413 (or a 400 for the whole request). */
  splits: number;
  /** `retryable` outcomes, by the kind of their first failure (`connection`, `status_429`, ...). */
  retries: Record<string, number>;
}

export interface ElasticsearchWriterOptions {
  client: Client;
  config: ElasticsearchConfig;
  deadLetters: DeadLetterStore;
  log: StoreLog;
  /** Retention class of an event, part of its index name (default: `default`). */
  classOf?: (e: LogEvent) => string;
  template?: TemplateOptions;
}

/** One write attempt of one batch. */
interface Attempt {
  /** Positions in the batch of events stored or dead-lettered (on this or an earlier attempt). */
  settled: Set<number>;
  /** Requests still to send. */
  queue: EncodedEvent[][];
  dead: Unencodable[];
  /** Retryable failures: kind -> first reason and how many events. */
  failures: Map<string, { reason: string; events: number }>;
  stop: boolean;
}

interface BulkAnswer {
  errors?: boolean;
  items?: Record<string, BulkItem | undefined>[];
}

/** Only what the outcome needs: a 10 000-event answer shrinks to its statuses and errors. */
const FILTER_PATH = 'errors,items.*.status,items.*.error';
const READY_TIMEOUT_MS = 2_000;

export class ElasticsearchWriter implements StoreWriter {
  readonly counters: ElasticsearchWriterCounters = {
    indexed: 0,
    duplicates: 0,
    deadLettered: 0,
    bulkRequests: 0,
    splits: 0,
    retries: {},
  };
  private readonly client: Client;
  private readonly config: ElasticsearchConfig;
  private readonly deadLetters: DeadLetterStore;
  private readonly log: StoreLog;
  private readonly encodeOptions: EncodeOptions;
  private readonly template: TemplateOptions;
  private readonly settled = new WeakMap<readonly LogEvent[], Set<number>>();
  private readonly active = new Set<Promise<WriteOutcome>>();
  private templateReady = false;
  private closed = false;

  constructor(opts: ElasticsearchWriterOptions) {
    this.client = opts.client;
    this.config = opts.config;
    this.deadLetters = opts.deadLetters;
    this.log = opts.log;
    this.template = opts.template ?? {};
    this.encodeOptions = { prefix: opts.config.index_prefix, classOf: opts.classOf ?? (() => DEFAULT_CLASS) };
  }

  /**
   * Puts the index template, at open. An unreachable or failing cluster must not block
   * start-up (the first write tries again); a cluster that answers and refuses (bad
   * credentials, missing privilege, a conflicting template) is a configuration error, and
   * fails start-up with what to do.
   */
  async prepare(timeoutMs = 5_000): Promise<void> {
    try {
      await this.ensureTemplate(Math.min(timeoutMs, parseDuration(this.config.request_timeout)));
    } catch (err) {
      const v = classifyRequestError(err);
      const status = err instanceof errors.ResponseError ? (err.meta.statusCode ?? 0) : 0;
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw new LogwharfError(
          'LOGWHARF_ERR_STORE',
          `store.elasticsearch (${describeNodes(this.config.nodes)}): the cluster refused the index template ` +
            `'${this.config.index_prefix}': ${v.reason}`,
          { cause: err },
        );
      }
      this.log.warn(
        { nodes: describeNodes(this.config.nodes), reason: v.reason },
        'elasticsearch does not answer; the index template is put before the first write',
      );
    }
  }

  async write(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (this.closed) return { status: 'retryable', reason: 'elasticsearch store is closed' };
    const run = this.attempt(batch);
    this.active.add(run);
    try {
      return await run;
    } finally {
      this.active.delete(run);
    }
  }

  async ready(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.client.cluster.health({}, { requestTimeout: READY_TIMEOUT_MS });
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for writes in progress; later writes answer retryable. Idempotent. The client is the store's to close. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.active]);
  }

  private async ensureTemplate(requestTimeout?: number): Promise<void> {
    await ensureTemplate(this.client, this.config.index_prefix, {
      ...this.template,
      ...(requestTimeout !== undefined ? { requestTimeout } : {}),
    });
    this.templateReady = true;
    try {
      await addFieldsToExistingIndices(
        this.client,
        this.config.index_prefix,
        requestTimeout !== undefined ? { requestTimeout } : {},
      );
    } catch (err) {
      // Only today's index is at stake (tomorrow's gets the template): not worth refusing to start.
      this.log.warn(
        { prefix: this.config.index_prefix, reason: classifyRequestError(err).reason },
        "could not add this version's fields to the existing indices; they are searchable from tomorrow's index on",
      );
    }
  }

  private async attempt(batch: readonly LogEvent[]): Promise<WriteOutcome> {
    if (!this.templateReady) {
      try {
        await this.ensureTemplate();
      } catch (err) {
        const v = classifyRequestError(err);
        return this.retry(
          'template',
          `elasticsearch: cannot put index template '${this.config.index_prefix}': ${v.reason}`,
        );
      }
    }
    const settled = this.settled.get(batch) ?? new Set<number>();
    const { encoded, invalid } = encodeBatch(batch, this.encodeOptions, settled);
    const a: Attempt = {
      settled,
      queue: splitBySize(encoded, this.config.bulk_max_bytes),
      dead: invalid,
      failures: new Map(),
      stop: false,
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(this.config.max_concurrency, a.queue.length); i++)
      workers.push(this.work(a));
    await Promise.all(workers);

    if (a.dead.length > 0) {
      try {
        await this.deadLetters.write(
          a.dead.map((d) => ({ event: batch[d.at]!, reason: d.reason, sink: 'elasticsearch' })),
        );
      } catch (err) {
        this.settled.set(batch, settled);
        const message = err instanceof Error ? err.message : String(err);
        return this.retry('dead_letter', `dead-letter store ${this.deadLetters.dir}: ${message}`);
      }
      for (const d of a.dead) settled.add(d.at);
      this.counters.deadLettered += a.dead.length;
      this.log.warn(
        { events: a.dead.length, reason: a.dead[0]!.reason, dir: this.deadLetters.dir },
        'elasticsearch refused events for good; kept them in the dead-letter store',
      );
    }

    if (a.failures.size > 0) {
      this.settled.set(batch, settled);
      const [key, first] = [...a.failures][0]!;
      const others = a.failures.size > 1 ? ` (and ${a.failures.size - 1} other kinds of failure)` : '';
      const pending = batch.length - settled.size;
      return this.retry(
        key,
        `elasticsearch: ${pending} of ${batch.length} events not stored yet: ${first.reason}${others}`,
      );
    }
    this.settled.delete(batch);
    return { status: 'delivered' };
  }

  /** One of `max_concurrency` loops sending the attempt's requests. */
  private async work(a: Attempt): Promise<void> {
    for (;;) {
      if (a.stop) return;
      const chunk = a.queue.shift();
      if (!chunk) return;
      await this.send(chunk, a);
    }
  }

  private async send(chunk: EncodedEvent[], a: Attempt): Promise<void> {
    this.counters.bulkRequests++;
    let answer: BulkAnswer;
    try {
      answer = await this.client.transport.request<BulkAnswer>({
        method: 'POST',
        path: '/_bulk',
        querystring: { filter_path: FILTER_PATH },
        bulkBody: bulkBody(chunk),
      });
    } catch (err) {
      const v = classifyRequestError(err);
      if (v.kind === 'retry') {
        fail(a, v.key, v.reason, chunk.length);
      } else if (chunk.length > 1) {
        // Both halves go first, so they are sent right away (in parallel when there is room).
        this.counters.splits++;
        a.queue.unshift(...halve(chunk));
      } else {
        a.dead.push({ at: chunk[0]!.at, reason: v.reason });
      }
      return;
    }
    const items = answer.items ?? [];
    for (let i = 0; i < chunk.length; i++) {
      const event = chunk[i]!;
      const v = classifyItem(items[i]?.create);
      switch (v.kind) {
        case 'indexed':
          this.counters.indexed++;
          a.settled.add(event.at);
          break;
        case 'duplicate':
          this.counters.duplicates++;
          a.settled.add(event.at);
          break;
        case 'dead':
          a.dead.push({ at: event.at, reason: v.reason });
          break;
        case 'retry':
          fail(a, v.key, v.reason, 1);
          break;
      }
    }
  }

  private retry(key: string, reason: string): WriteOutcome {
    this.counters.retries[key] = (this.counters.retries[key] ?? 0) + 1;
    return { status: 'retryable', reason, code: key };
  }
}

function fail(a: Attempt, key: string, reason: string, events: number): void {
  const f = a.failures.get(key);
  if (f) f.events += events;
  else a.failures.set(key, { reason, events });
  a.stop = true;
}

export interface ElasticsearchStoreOptions {
  config: ElasticsearchConfig;
  /** The dead-letter store lives under `<dataDir>/dead-letter/`. */
  dataDir: string;
  log: StoreLog;
  classOf?: (e: LogEvent) => string;
  /** Settings of new indices (replicas); tests on one node set `{ replicas: 0 }`. */
  template?: TemplateOptions;
}

export interface ElasticsearchStore {
  writer: ElasticsearchWriter;
  /** Shared with the reader. */
  client: Client;
  deadLetters: DeadLetterStore;
  /** Closes writer, client and dead-letter store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the Elasticsearch store's write side. Does not wait for the cluster: an unreachable
 * one is logged and tried again at the first write; one that refuses the template fails here.
 */
export async function openElasticsearchStore(opts: ElasticsearchStoreOptions): Promise<ElasticsearchStore> {
  const client = createElasticsearchClient(opts.config);
  let deadLetters: DeadLetterStore;
  try {
    deadLetters = await DeadLetterStore.open(opts.dataDir);
  } catch (err) {
    await client.close();
    throw err;
  }
  const writer = new ElasticsearchWriter({
    client,
    config: opts.config,
    deadLetters,
    log: opts.log,
    ...(opts.classOf ? { classOf: opts.classOf } : {}),
    ...(opts.template ? { template: opts.template } : {}),
  });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await writer.close();
      await Promise.allSettled([client.close(), deadLetters.close()]);
    })();
    return closing;
  };
  try {
    await writer.prepare();
  } catch (err) {
    await close();
    throw err;
  }
  return { writer, client, deadLetters, close };
}
