/**
 * The fault suite's report: one entry per scenario in `.tmp/faults-report.json`, written as
 * each scenario ends (before its assertions, so a failing scenario is reported too), read by
 * `scripts/faults-table.ts` to print a markdown table. The faults project's global setup
 * empties it at the start of a run, so it only ever holds one run's results.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tally } from './fault-tally.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const FAULTS_REPORT = process.env.LOGWHARF_FAULTS_REPORT ?? join(ROOT, '.tmp', 'faults-report.json');

export interface FaultReportEntry {
  /** Stable name, e.g. `sigkill-restart`, `es-outage`. */
  scenario: string;
  /** One sentence: what was done. */
  description: string;
  /** The test file, relative to the repository. */
  file: string;
  sent: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Lines a killed container printed but had not recorded (allowed; see fault-tally.ts). */
  extra: number;
  /** Stored, never sent, not an allowed extra. */
  unexpected: number;
  /** Scenario facts: kills, restarts, containers, runs, lost_at_close, ... */
  details: Record<string, number | string | boolean>;
  /** From the first line sent to the final tally. */
  durationMs: number;
  /** No loss, no duplicate, nothing unexpected (the scenario's own further checks aside). */
  clean: boolean;
  finishedAt: string;
}

export interface FaultReport {
  version: 1;
  startedAt: string;
  entries: FaultReportEntry[];
}

export function emptyReport(now = new Date()): FaultReport {
  return { version: 1, startedAt: now.toISOString(), entries: [] };
}

export function readReport(file = FAULTS_REPORT): FaultReport {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as FaultReport;
    if (r.version === 1 && Array.isArray(r.entries)) return r;
  } catch {
    // missing or damaged: start afresh
  }
  return emptyReport();
}

/** Atomically replaces the report file. */
export function writeReport(report: FaultReport, file = FAULTS_REPORT): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * Adds (or replaces, by scenario name) one entry. The faults project runs its files one at a
 * time, so read-modify-write needs no lock.
 */
export function recordScenario(
  base: Pick<FaultReportEntry, 'scenario' | 'description' | 'file'>,
  tally: Tally,
  details: FaultReportEntry['details'],
  durationMs: number,
  file = FAULTS_REPORT,
): FaultReportEntry {
  const entry: FaultReportEntry = {
    ...base,
    sent: tally.sent,
    stored: tally.stored,
    lost: tally.lost,
    duplicated: tally.duplicated,
    extra: tally.extra,
    unexpected: tally.unexpected,
    details,
    durationMs: Math.round(durationMs),
    clean: tally.lost === 0 && tally.duplicated === 0 && tally.unexpected === 0,
    finishedAt: new Date().toISOString(),
  };
  const report = readReport(file);
  report.entries = [...report.entries.filter((e) => e.scenario !== entry.scenario), entry];
  writeReport(report, file);
  return entry;
}

/** Pure: the report as a markdown table, one row per scenario, in the order they ran. */
export function markdownTable(report: FaultReport): string {
  const rows = [
    '| scenario | sent | stored | lost | duplicated | extra | unexpected | time | result | details |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const e of report.entries) {
    const details = Object.entries(e.details)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    rows.push(
      `| ${e.scenario} | ${e.sent} | ${e.stored} | ${e.lost} | ${e.duplicated} | ${e.extra} | ${e.unexpected} | ` +
        `${(e.durationMs / 1000).toFixed(0)} s | ${e.clean ? 'ok' : '**FAIL**'} | ${details} |`,
    );
  }
  return `${rows.join('\n')}\n`;
}
