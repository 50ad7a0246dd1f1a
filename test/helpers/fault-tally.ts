/**
 * The fault suite's arithmetic: what was sent (the containers' own files, or what a syslog
 * peer wrote) against what the store holds, by key. Pure.
 *
 * - lost: sent, not stored;
 * - duplicated: keys stored more than once (`copies` counts the surplus events);
 * - extra: stored, not in the files, but allowed: the one line a container printed and was
 *   killed before it reached its file (per run at most one, and it is that run's last seq + 1);
 * - unexpected: stored, never sent, and not such an extra. Always a failure.
 */
import type { EcsDoc } from './api-client.js';
import { lineKey, type SentLine } from './fault-sequence.js';

export interface Tally {
  sent: number;
  /** Distinct sent keys found in the store. */
  stored: number;
  lost: number;
  duplicated: number;
  /** Events beyond the first of each duplicated key. */
  copies: number;
  extra: number;
  unexpected: number;
  /** A few of each kind, for failure messages. */
  samples: { lost: string[]; duplicated: string[]; unexpected: string[] };
}

const SAMPLE = 10;
const SEQ_LINE = /^lwseq h=([0-9a-f]{12}) r=([0-9a-f]{8}) s=(\d+)$/;

/**
 * Stored sequence lines, from events. An event whose container id does not start with the
 * hostname its line names is kept under a key that cannot match, so it counts as unexpected.
 */
export function storedSequenceLines(events: EcsDoc[]): SentLine[] {
  const out: SentLine[] = [];
  for (const e of events) {
    const m = SEQ_LINE.exec(String(e.message));
    if (!m) continue;
    const host = m[1]!;
    const id = String(e.container?.id ?? '');
    out.push({
      host: id.startsWith(host) ? host : `${host}!${id.slice(0, 12)}`,
      run: m[2]!,
      seq: Number(m[3]),
    });
  }
  return out;
}

/** Tallies sequence lines: `sent` from the containers' files, `stored` from the store. */
export function tallySequences(sent: SentLine[], stored: SentLine[]): Tally {
  const lastSeq = new Map<string, number>();
  for (const l of sent) {
    const run = `${l.host}/${l.run}`;
    lastSeq.set(run, Math.max(lastSeq.get(run) ?? 0, l.seq));
  }
  const sentKeys = new Set(sent.map(lineKey));
  return tallyKeys(sentKeys, stored.map(lineKey), (key) => {
    // Stored under another container than the one its line names: never allowed.
    if (key.includes('!')) return false;
    const at = key.lastIndexOf('/');
    const run = key.slice(0, at);
    return Number(key.slice(at + 1)) === (lastSeq.get(run) ?? 0) + 1;
  });
}

/** Tallies any keys; `allowedExtra` says whether a stored key that was never sent is tolerated. */
export function tallyKeys(
  sentKeys: ReadonlySet<string>,
  storedKeys: readonly string[],
  allowedExtra: (key: string) => boolean = () => false,
): Tally {
  const counts = new Map<string, number>();
  for (const k of storedKeys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const samples = { lost: [] as string[], duplicated: [] as string[], unexpected: [] as string[] };
  const add = (list: string[], k: string) => {
    if (list.length < SAMPLE) list.push(k);
  };
  let stored = 0;
  let lost = 0;
  for (const k of sentKeys) {
    if (counts.has(k)) stored++;
    else {
      lost++;
      add(samples.lost, k);
    }
  }
  let duplicated = 0;
  let copies = 0;
  let extra = 0;
  let unexpected = 0;
  for (const [k, n] of counts) {
    if (n > 1) {
      duplicated++;
      copies += n - 1;
      add(samples.duplicated, `${k} x${n}`);
    }
    if (sentKeys.has(k)) continue;
    if (allowedExtra(k)) extra++;
    else {
      unexpected++;
      add(samples.unexpected, k);
    }
  }
  return { sent: sentKeys.size, stored, lost, duplicated, copies, extra, unexpected, samples };
}

/** The summary line a scenario prints. */
export function formatTally(scenario: string, t: Tally): string {
  return (
    `[faults] ${scenario}: sent ${t.sent}, stored ${t.stored}, lost ${t.lost}, duplicated ${t.duplicated}` +
    `, extra ${t.extra}${t.unexpected ? `, UNEXPECTED ${t.unexpected}` : ''}` +
    (t.lost ? `\n  lost e.g. ${t.samples.lost.join(' ')}` : '') +
    (t.duplicated ? `\n  duplicated e.g. ${t.samples.duplicated.join(' ')}` : '') +
    (t.unexpected ? `\n  unexpected e.g. ${t.samples.unexpected.join(' ')}` : '')
  );
}
