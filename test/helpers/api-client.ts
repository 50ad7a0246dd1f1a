import { waitFor } from './poll.js';

// biome-ignore lint/suspicious/noExplicitAny: tests walk ECS documents freely in their assertions
export type EcsDoc = Record<string, any>;

export interface SearchPage {
  events: EcsDoc[];
  next_cursor: string | null;
}

/** The HTTP API of a running logwharf, as a script or the web page calls it. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async search(params: Record<string, string>): Promise<SearchPage> {
    const res = await fetch(`${this.baseUrl}/api/v1/search?${new URLSearchParams(params)}`);
    if (!res.ok)
      throw new Error(`search ${JSON.stringify(params)} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as SearchPage;
  }

  /** Every event matching q, oldest first, following cursors. */
  async searchAll(q: string): Promise<EcsDoc[]> {
    const all: EcsDoc[] = [];
    let cursor: string | null = null;
    do {
      const page: SearchPage = await this.search({
        q,
        limit: '5000',
        order: 'asc',
        ...(cursor ? { cursor } : {}),
      });
      all.push(...page.events);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  /** Waits until at least `count` events match q, and returns them all (oldest first). */
  async waitForEvents(q: string, count: number, timeoutMs = 60_000): Promise<EcsDoc[]> {
    return waitFor(
      async () => {
        const all = await this.searchAll(q);
        return all.length >= count ? all : null;
      },
      { timeoutMs, what: `${count} events matching ${q}` },
    );
  }

  async sources(): Promise<EcsDoc[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/sources`);
    return ((await res.json()) as { sources: EcsDoc[] }).sources;
  }

  async readyz(): Promise<number> {
    return (await this.readiness()).status;
  }

  /** GET /readyz: its status and, when not ready, what it names as failing. */
  async readiness(): Promise<{ status: number; failing: string[] }> {
    const res = await fetch(`${this.baseUrl}/readyz`);
    const body = (await res.json().catch(() => ({}))) as { failing?: string[] };
    return { status: res.status, failing: body.failing ?? [] };
  }
}

/** Counts how often each `<prefix><n>` message appears, and which of 1..count are missing or doubled. */
export function tally(
  events: EcsDoc[],
  prefix: string,
  count: number,
): { missing: number[]; doubled: number[] } {
  const seen = new Map<number, number>();
  for (const e of events) {
    const m = String(e.message);
    if (m.startsWith(prefix)) {
      const n = Number(m.slice(prefix.length));
      seen.set(n, (seen.get(n) ?? 0) + 1);
    }
  }
  const missing: number[] = [];
  const doubled: number[] = [];
  for (let i = 1; i <= count; i++) {
    const times = seen.get(i) ?? 0;
    if (times === 0) missing.push(i);
    if (times > 1) doubled.push(i);
  }
  return { missing, doubled };
}
