import { errors } from '@elastic/elasticsearch';

/**
 * The bulk protocol's decisions, as pure functions: how a batch is cut into requests, and
 * what each answer means for each event. The writer (writer.ts) only does the I/O.
 *
 * Every answer is one of:
 * - stored: 201 created, or 409 (already there with this `_id`: a replay) — both count as stored;
 * - dead: Elasticsearch refuses this document for good (400: it does not fit the mapping) —
 *   kept in the dead-letter store, so the batch can still be delivered;
 * - retry: the cluster cannot take it now (429, 5xx, unreachable, a closed index, missing
 *   permissions) — the batch is retried by the pipeline; the default for anything unknown,
 *   since the default is never to drop;
 * - split (a whole request): 413 too large, or 400 for the whole body: halved until the one
 *   document at fault is alone, and that one is dead.
 */

export type ItemVerdict =
  | { kind: 'indexed' }
  | { kind: 'duplicate' }
  | { kind: 'dead'; reason: string }
  | { kind: 'retry'; key: string; reason: string };

export type RequestVerdict =
  | { kind: 'split'; reason: string }
  | { kind: 'retry'; key: string; reason: string };

/** The `error` of a bulk item or of an error response body. */
export interface EsErrorCause {
  type?: string;
  reason?: string | null;
  caused_by?: EsErrorCause;
}

export interface BulkItem {
  status: number;
  error?: EsErrorCause;
}

/**
 * Errors that answer 400 (or 403) per item but depend on the cluster's state, not on the
 * document: an operator opens the index or lifts the block, and the same document goes in.
 */
const CLUSTER_STATE_ERRORS = new Set(['index_closed_exception', 'cluster_block_exception']);

/**
 * Cuts events, in order, into runs whose total size is at most `maxBytes`. An event larger than
 * `maxBytes` on its own gets a run of its own: the cluster may still take it (its
 * http.max_content_length is 100mb by default), and if not, the 413 sends it to the dead letters.
 */
export function splitBySize<T extends { bytes: number }>(items: readonly T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let size = 0;
  for (const item of items) {
    if (run.length > 0 && size + item.bytes > maxBytes) {
      out.push(run);
      run = [];
      size = 0;
    }
    run.push(item);
    size += item.bytes;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** Two halves of a request of at least two events (the first one the larger, by count, when odd). */
export function halve<T>(items: readonly T[]): [T[], T[]] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

/** `type: reason (caused by type: reason ...)`, the whole chain, as Elasticsearch gives it. */
export function describeCause(cause: EsErrorCause | undefined): string {
  if (!cause) return 'no reason given';
  let text = [cause.type, cause.reason].filter(Boolean).join(': ') || 'no reason given';
  let inner = cause.caused_by;
  for (let depth = 0; inner && depth < 5; depth++, inner = inner.caused_by) {
    text += ` (caused by ${[inner.type, inner.reason].filter(Boolean).join(': ')})`;
  }
  return text;
}

/** What one item of a bulk answer means; `undefined` is an item the answer is missing. */
export function classifyItem(item: BulkItem | undefined): ItemVerdict {
  if (!item || typeof item.status !== 'number') {
    return { kind: 'retry', key: 'bad_response', reason: 'the bulk answer has no result for this event' };
  }
  const { status, error } = item;
  if (status === 200 || status === 201) return { kind: 'indexed' };
  if (status === 409) return { kind: 'duplicate' };
  const reason = `HTTP ${status} ${describeCause(error)}`;
  const type = error?.type ?? '';
  if (status === 400 && !CLUSTER_STATE_ERRORS.has(type)) return { kind: 'dead', reason };
  if (status === 429) return { kind: 'retry', key: 'status_429', reason };
  if (status >= 500) return { kind: 'retry', key: `status_${status}`, reason };
  return { kind: 'retry', key: type || `status_${status}`, reason: reason + hintFor(status, type) };
}

/** What an error thrown by the client for a whole bulk request means. */
export function classifyRequestError(err: unknown): RequestVerdict {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const body = err.meta.body as { error?: EsErrorCause | string } | string | undefined;
    const detail =
      typeof body === 'object' && body !== null && typeof body.error === 'object'
        ? describeCause(body.error)
        : typeof body === 'object' && body !== null && typeof body.error === 'string'
          ? body.error
          : typeof body === 'string' && body !== ''
            ? body.slice(0, 300)
            : err.message;
    const reason = `HTTP ${status} ${detail}${nodeOf(err)}`;
    if (status === 413) {
      return { kind: 'split', reason: `${reason} — larger than the cluster's http.max_content_length` };
    }
    if (status === 400) return { kind: 'split', reason };
    if (status === 429) return { kind: 'retry', key: 'status_429', reason };
    if (status >= 500) return { kind: 'retry', key: `status_${status}`, reason };
    return { kind: 'retry', key: `status_${status}`, reason: reason + hintFor(status, '') };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.TimeoutError) {
    return { kind: 'retry', key: 'timeout', reason: `request timed out${nodeOf(err)}: ${message}` };
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
    return { kind: 'retry', key: 'connection', reason: `cannot connect${nodeOf(err)}: ${message}` };
  }
  if (err instanceof errors.ProductNotSupportedError) {
    return { kind: 'retry', key: 'not_elasticsearch', reason: `${message} — is the node URL right?` };
  }
  if (err instanceof errors.DeserializationError) {
    return { kind: 'retry', key: 'bad_response', reason: `unreadable answer${nodeOf(err)}: ${message}` };
  }
  return { kind: 'retry', key: 'error', reason: message };
}

function hintFor(status: number, type: string): string {
  if (status === 401) return ' — check store.elasticsearch.auth';
  if (status === 403) {
    return type === 'cluster_block_exception'
      ? ' — the index or cluster is blocked (read-only, or disk flood stage): free disk, then lift the block'
      : ' — the credentials in store.elasticsearch.auth lack the privilege (create_doc, create_index on the indices)';
  }
  if (status === 404)
    return ' — cannot create the index: does the cluster allow auto-creating it (action.auto_create_index)?';
  if (type === 'index_closed_exception') return ' — the index is closed: open it';
  return '';
}

/** ` (node http://...)` when the client tells which node answered. */
function nodeOf(err: unknown): string {
  const url = (err as { meta?: { meta?: { connection?: { url?: unknown } | null } } }).meta?.meta?.connection
    ?.url;
  if (!url) return '';
  try {
    // Origin and path only: a node URL may carry credentials, and reasons end up in logs.
    const u = new URL(String(url));
    return ` (node ${u.origin}${u.pathname === '/' ? '' : u.pathname})`;
  } catch {
    return '';
  }
}
