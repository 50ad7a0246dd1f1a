/**
 * The parts every container scenario of the fault suite shares: logwharf as a child process
 * following one sequence project, the final tally of that project, and its report entry.
 */
import { join } from 'node:path';
import type { ApiClient } from './api-client.js';
import { settle } from './fault-observe.js';
import { type FaultReportEntry, recordScenario } from './fault-report.js';
import type { SequenceProject } from './fault-sequence.js';
import { formatTally, storedSequenceLines, type Tally, tallySequences } from './fault-tally.js';
import { LogwharfProcess } from './logwharf-process.js';
import { tempDir } from './tmp.js';

/**
 * A `logwharf run` child following `project`, storing under a fresh data_dir (or `dataDir`:
 * a filesystem the scenario breaks). `storeYaml` is the `store:` section (default: the
 * embedded store). Not started: call `start()`. Remove `dir` (config and data) with
 * removeTempDir in the after-hook. `env` is added to the child's.
 */
export async function logwharfFor(
  project: SequenceProject,
  storeYaml = '',
  env: NodeJS.ProcessEnv = {},
  opts: { dataDir?: string } = {},
): Promise<{ lw: LogwharfProcess; dir: string; dataDir: string }> {
  const dir = await tempDir('lw-fault-run-');
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const configFile = LogwharfProcess.writeConfig(
    dir,
    `data_dir: ${dataDir}
http:
  listen: 127.0.0.1:0
sources:
  docker:
    project: ${project.name}
pipeline:
  flush_interval: 50ms
${storeYaml}`,
  );
  return { lw: new LogwharfProcess(configFile, env), dir, dataDir };
}

/** Every stored sequence line of the project against the containers' files. */
export async function tallyProject(api: ApiClient, project: SequenceProject): Promise<Tally> {
  const [sent, events] = await Promise.all([project.sent(), api.searchAll(project.query)]);
  return tallySequences(sent, storedSequenceLines(events));
}

/** Waits for the project's lines to be stored and logwharf to go quiet, then tallies. */
export function settleProject(
  lw: LogwharfProcess,
  project: SequenceProject,
  timeoutMs?: number,
): Promise<Tally> {
  return settle({
    api: () => lw.api,
    query: project.query,
    expected: () => project.sentCount(),
    collect: () => tallyProject(lw.api, project),
    ...(timeoutMs !== undefined && { timeoutMs }),
  });
}

/** Prints the scenario's line and records its report entry; returns the entry. */
export function report(
  base: Pick<FaultReportEntry, 'scenario' | 'description' | 'file'>,
  tally: Tally,
  details: FaultReportEntry['details'],
  startedAt: number,
): FaultReportEntry {
  const entry = recordScenario(base, tally, details, Date.now() - startedAt);
  console.log(
    `${formatTally(base.scenario, tally)} (${(entry.durationMs / 1000).toFixed(0)} s; ${Object.entries(
      details,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
  return entry;
}

/**
 * A crash (SIGKILL), then a start on the same data_dir: returns the new run's log lines that
 * report damage found on disk (a damaged buffer record, a corrupt positions file, a torn tail).
 */
export async function crashAndRestart(lw: LogwharfProcess): Promise<string[]> {
  await lw.kill('SIGKILL');
  const runs = lw.output.length;
  await lw.start();
  return lw.output.slice(runs).filter((l) => /damaged|corrupt|torn/i.test(l));
}

/** The three numbers that must be zero, for `expect(...).toEqual(CLEAN)`. */
export const CLEAN = { lost: 0, duplicated: 0, unexpected: 0 } as const;

export function verdict(t: Tally): { lost: number; duplicated: number; unexpected: number } {
  return { lost: t.lost, duplicated: t.duplicated, unexpected: t.unexpected };
}

/**
 * Runs every clean-up step even when one fails (a stuck `compose down` must not leave
 * logwharf or an Elasticsearch node running), then throws the first failure.
 */
export async function cleanUp(...steps: Array<() => unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}
