import { readFile } from 'node:fs/promises';
/**
 * Watching a running logwharf from outside during a fault scenario: its Prometheus metrics,
 * a cheap count of stored events, when it has gone quiet, and the final tally.
 */
import type { ApiClient } from './api-client.js';
import type { Tally } from './fault-tally.js';
import type { LogwharfProcess } from './logwharf-process.js';
import { waitFor } from './poll.js';

/** Pure: Prometheus text to `name{labels}` -> value (labels as written, `name` alone without). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * The sum of every sample of `name` (all label sets; or exactly one, when `name` carries its
 * labels), or undefined when the scrape has none.
 */
export function metricSum(m: Map<string, number>, name: string): number | undefined {
  let sum: number | undefined;
  for (const [key, value] of m) {
    if (key === name || key.startsWith(`${name}{`)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * Every failed operation logwharf retried (logwharf_component_errors_total), for a report:
 * `store buffer append ENOSPC x7, positions save ENOSPC x3`, or `none`.
 */
export function componentErrors(m: Map<string, number>): string {
  const out: string[] = [];
  for (const [key, value] of m) {
    const l = /^logwharf_component_errors_total\{component="([^"]*)",op="([^"]*)",code="([^"]*)"\}$/.exec(
      key,
    );
    if (l) out.push(`${l[1]} ${l[2]} ${l[3]} x${value}`);
  }
  return out.length > 0 ? out.join(', ') : 'none';
}

export async function scrapeMetrics(api: ApiClient): Promise<Map<string, number>> {
  const res = await fetch(`${api.baseUrl}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** Events matching q in the last two hours, counted by the histogram endpoint (no documents fetched). */
export async function storedCount(api: ApiClient, q: string): Promise<number> {
  const params = new URLSearchParams({ q, from: '2h', interval: '1h' });
  const res = await fetch(`${api.baseUrl}/api/v1/histogram?${params}`);
  if (!res.ok) throw new Error(`histogram ${q} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { buckets: { total: number }[] };
  return body.buckets.reduce((n, b) => n + b.total, 0);
}

/** Waits until at least `n` events match q (counted, not fetched). */
export function waitForStored(
  api: () => ApiClient,
  q: string,
  n: number,
  timeoutMs = 90_000,
): Promise<number> {
  return waitFor(
    async () => {
      const c = await storedCount(api(), q);
      return c >= n ? c : null;
    },
    { timeoutMs, intervalMs: 500, what: `${n} events matching ${q} to be stored` },
  );
}

/**
 * Waits until logwharf has nothing left to do: no event queued in memory or in a sink's buffer,
 * every event taken in passed on, no container stream attached or re-attaching, and all of that
 * unchanged for `stableMs` (the multiline stage holds a container's last line up to its flush_after, 1 s).
 */
export async function waitForQuiet(api: () => ApiClient, timeoutMs = 60_000, stableMs = 2500): Promise<void> {
  let since = 0;
  let last = '';
  await waitFor(
    async () => {
      const m = await scrapeMetrics(api());
      const res = await fetch(`${api().baseUrl}/api/v1/sources`);
      const { sources } = (await res.json()) as {
        sources: { kind: string; state: string; linesRead: number }[];
      };
      // Waiting in memory for the sinks' buffers, or in a buffer for its sink.
      const queued =
        (m.get('logwharf_pipeline_queued_events') ?? -1) + (metricSum(m, 'logwharf_sink_buffer_events') ?? 0);
      const taken = m.get('logwharf_pipeline_events_in_total') ?? -1;
      const done = m.get('logwharf_pipeline_events_written_total') ?? 0;
      const streaming = sources.filter(
        (s) => s.kind === 'docker' && (s.state === 'attached' || s.state === 'reconnecting'),
      ).length;
      const lines = sources.reduce((n, s) => n + s.linesRead, 0);
      const signature = `${taken}/${done}/${lines}`;
      if (queued !== 0 || taken !== done || streaming > 0 || signature !== last) {
        last = signature;
        since = Date.now();
        return null;
      }
      return Date.now() - since >= stableMs;
    },
    { timeoutMs, intervalMs: 500, what: 'logwharf to go quiet (nothing queued, read or streaming)' },
  );
}

export interface SettleOptions {
  api: () => ApiClient;
  /** Fetches everything and tallies it. */
  collect: () => Promise<Tally>;
  /** How many events must be counted before a full fetch is worth it. */
  expected: () => Promise<number>;
  query: string;
  /** How long lines may take to arrive after the fault is over; default 120 s. */
  timeoutMs?: number;
}

/**
 * The end of a scenario: waits until nothing sent is missing (or the time is up: the tally then
 * reports what is lost), then until logwharf is quiet (a late replay would show up as a
 * duplicate), and tallies once more.
 */
export async function settle(o: SettleOptions): Promise<Tally> {
  try {
    await waitFor(
      async () => {
        if ((await storedCount(o.api(), o.query)) < (await o.expected())) return null;
        return (await o.collect()).lost === 0;
      },
      { timeoutMs: o.timeoutMs ?? 120_000, intervalMs: 1000, what: 'every line sent to be stored' },
    );
  } catch {
    // Reported by the tally below: which lines, how many.
  }
  await waitForQuiet(o.api).catch(() => {});
  return o.collect();
}

/** VmRSS of a process in MiB, from /proc; undefined when it is gone (or there is no /proc). */
export async function rssMiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : undefined;
}

/**
 * Watches logwharf through a fault until `untilMs` (wall clock): each second its /healthz
 * status (0 once it has exited) and its resident memory. For "it stays up and answers".
 */
export async function watchThrough(
  lw: LogwharfProcess,
  untilMs: number,
): Promise<{ healthz: number[]; rss: number[] }> {
  const healthz: number[] = [];
  const rss: number[] = [];
  await waitFor(
    async () => {
      healthz.push(lw.running ? (await fetch(`${lw.api.baseUrl}/healthz`)).status : 0);
      const mib = await rssMiB(lw.pid);
      if (mib !== undefined) rss.push(mib);
      return Date.now() >= untilMs;
    },
    { timeoutMs: Math.max(0, untilMs - Date.now()) + 15_000, intervalMs: 1000, what: 'the fault to last' },
  );
  return { healthz, rss };
}

/** Waits for /readyz to answer 200 again after a fault; returns how long it took. */
export async function waitForReady(api: ApiClient, what: string, timeoutMs = 120_000): Promise<number> {
  const since = Date.now();
  await waitFor(async () => (await api.readyz()) === 200, { timeoutMs, intervalMs: 500, what });
  return Date.now() - since;
}
