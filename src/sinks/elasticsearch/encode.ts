import { toEcs } from '../../core/ecs.js';
import type { LogEvent } from '../../core/event.js';
import { indexName, isValidClass } from './template.js';

/**
 * Events to bulk `create` lines (pure). The document is exactly `toEcs(e)`, so `_source` in
 * Elasticsearch equals what the embedded store returns for the same event; the event id is
 * `_id`, so a replayed event answers 409 instead of being stored twice.
 */

/** One event, ready to go into a bulk body. */
export interface EncodedEvent {
  /** Position of the event in the batch it came from. */
  at: number;
  index: string;
  /** Action line and document line, each ending in `\n`. */
  lines: string;
  /** UTF-8 length of `lines`: what the event adds to a request body. */
  bytes: number;
}

/** An event that cannot be sent at all; it goes straight to the dead-letter store. */
export interface Unencodable {
  at: number;
  reason: string;
}

export interface EncodeOptions {
  prefix: string;
  /** The event's retention class (part of the index name). */
  classOf: (e: LogEvent) => string;
}

export interface EncodedBatch {
  encoded: EncodedEvent[];
  invalid: Unencodable[];
}

const CANONICAL_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
/** Elasticsearch refuses a longer `_id`, and it does so for the whole bulk request. */
const MAX_ID_BYTES = 512;

export function encodeEvent(e: LogEvent, at: number, opts: EncodeOptions): EncodedEvent | Unencodable {
  if (typeof e.id !== 'string' || e.id === '') return { at, reason: 'event without an id' };
  if (Buffer.byteLength(e.id) > MAX_ID_BYTES) {
    return { at, reason: `event id is longer than Elasticsearch's ${MAX_ID_BYTES} bytes` };
  }
  if (typeof e.timestamp !== 'string' || !CANONICAL_TS_RE.test(e.timestamp)) {
    return {
      at,
      reason: `event ${e.id}: timestamp ${JSON.stringify(e.timestamp)} is not RFC 3339 UTC with 9 fraction digits`,
    };
  }
  let retentionClass: string;
  try {
    retentionClass = opts.classOf(e);
  } catch (err) {
    return {
      at,
      reason: `event ${e.id}: retention class: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (!isValidClass(retentionClass)) {
    return {
      at,
      reason: `event ${e.id}: retention class ${JSON.stringify(retentionClass)} is not [a-z0-9_-]{1,64}`,
    };
  }
  const index = indexName(opts.prefix, retentionClass, e.timestamp);
  let doc: string;
  try {
    doc = JSON.stringify(toEcs(e));
  } catch (err) {
    // Only a value JSON cannot hold (a BigInt, a cycle) in `fields` gets here.
    return {
      at,
      reason: `event ${e.id}: not serializable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const lines = `${JSON.stringify({ create: { _index: index, _id: e.id } })}\n${doc}\n`;
  return { at, index, lines, bytes: Buffer.byteLength(lines) };
}

/** Encodes the events of `batch` whose position is not in `skip` (already settled on an earlier try). */
export function encodeBatch(
  batch: readonly LogEvent[],
  opts: EncodeOptions,
  skip: ReadonlySet<number> = new Set(),
): EncodedBatch {
  const encoded: EncodedEvent[] = [];
  const invalid: Unencodable[] = [];
  for (let at = 0; at < batch.length; at++) {
    if (skip.has(at)) continue;
    const r = encodeEvent(batch[at]!, at, opts);
    if ('lines' in r) encoded.push(r);
    else invalid.push(r);
  }
  return { encoded, invalid };
}

/** The body of one bulk request. */
export function bulkBody(events: readonly EncodedEvent[]): string {
  let body = '';
  for (const e of events) body += e.lines;
  return body;
}
