/**
 * What is failing right now, and how often each operation has failed, by error code: the one
 * place the parts of logwharf report I/O trouble they retry (a disk buffer that cannot append,
 * positions that cannot be saved, a store that cannot be written). `/readyz` lists what is
 * failing now and `/metrics` shows both, so a stall always says why.
 *
 * Only component names, operation names and error codes are kept (`store buffer`, `append`,
 * `ENOSPC`): never a message, a path or data, since `/readyz` is open to probes without a token.
 */

export interface Failure {
  /** `store buffer`, `store`, `positions`, `process`. */
  component: string;
  /** `append`, `read`, `ack`, `write`, `save`, ... */
  op: string;
  /** `ENOSPC`, `EIO`, `SQLITE_FULL`, `connection`, ... (see errorCode). */
  code: string;
  /** Wall-clock ms of the first failure of this run of failures. */
  since: number;
}

export interface ErrorCount {
  component: string;
  op: string;
  code: string;
  count: number;
}

/**
 * Codes as Node, SQLite and the sinks spell them: `ENOSPC`, `SQLITE_IOERR_FSYNC`, `status_429`.
 * Anything else (a message) is not a code.
 */
const CODE_RE = /^[A-Za-z][A-Za-z0-9_]{1,40}$/;

/** The error's code (`ENOSPC`, `EIO`, `SQLITE_FULL`), or `UNKNOWN`: never its message (it may hold paths or data). */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODE_RE.test(code) ? code : 'UNKNOWN';
}

export class Health {
  private readonly current = new Map<string, Failure>();
  private readonly counts = new Map<string, ErrorCount>();

  /**
   * Records a failed `op` of `component` (counted by code; shown as failing until ok()).
   * `err` is an error (its code is taken) or a code. Returns the code.
   */
  fail(component: string, op: string, err: unknown): string {
    const code = typeof err === 'string' && CODE_RE.test(err) ? err : errorCode(err);
    const key = `${component}\0${op}`;
    const was = this.current.get(key);
    this.current.set(key, { component, op, code, since: was?.since ?? Date.now() });
    const countKey = `${key}\0${code}`;
    const c = this.counts.get(countKey);
    if (c) c.count++;
    else this.counts.set(countKey, { component, op, code, count: 1 });
    return code;
  }

  /** `op` of `component` works (again). */
  ok(component: string, op: string): void {
    if (this.current.size > 0) this.current.delete(`${component}\0${op}`);
  }

  /** What fails now, oldest first. */
  failing(): Failure[] {
    return [...this.current.values()].sort((a, b) => a.since - b.since);
  }

  /** Failures since start, per component, operation and code (for counters). */
  errors(): ErrorCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}

/** How /readyz names a failure: `store buffer: ENOSPC on append`. */
export function describeFailure(f: Pick<Failure, 'component' | 'op' | 'code'>): string {
  return `${f.component}: ${f.code} on ${f.op}`;
}

/**
 * What of it makes logwharf not ready, as /readyz lists it: every failing operation but a
 * sink's writes. Those are retried while its disk buffer keeps the events (the store being
 * reachable is /readyz's own store check); a disk under data_dir that fails, or positions
 * that cannot be saved, leave nowhere to keep events.
 */
export function readinessFailures(health: Health): string[] {
  return health
    .failing()
    .filter((f) => f.op !== 'write')
    .map(describeFailure);
}
