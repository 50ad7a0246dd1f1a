import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipOrFail } from '../helpers/fault-disk.js';
import { buildEiofs, type EioCounts, EioFs, eiofsUnavailable } from '../helpers/fault-eiofs.js';
import {
  componentErrors,
  metricSum,
  scrapeMetrics,
  waitForReady,
  waitForStored,
  watchThrough,
} from '../helpers/fault-observe.js';
import {
  CLEAN,
  cleanUp,
  crashAndRestart,
  logwharfFor,
  report,
  settleProject,
  verdict,
} from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import { holdExclusiveLock } from '../helpers/fault-sqlite-lock.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The disk under data_dir answers EIO for 15 s: data_dir (the embedded store's SQLite day
 * files with their WAL and shared-memory index, the store's disk buffer and its ledger,
 * positions.json, the data_dir lock) is on eiofs, a FUSE filesystem of our own
 * (test/tools/eiofs) that on command answers EIO to every write, fsync, flush, read, create and
 * namespace change, on the files logwharf holds open too, then works again.
 *
 * Just before, another process holds a lock on the store's day file for a moment, so that the
 * disk buffer holds a backlog when the disk fails: then the store's SQLite writes meet the EIO
 * too, not only the buffer's appends.
 *
 * logwharf must stay up, say what fails (/readyz 503 naming the buffer and EIO; /metrics),
 * pause its sources (Docker keeps the lines), and go on by itself once the disk works again.
 * Then it is killed (SIGKILL) and started again on the same data_dir: what the EIOs left on
 * disk must be intact, and every line of four sequence containers that printed all along is
 * stored exactly once.
 */

const FAIL_MS = 15_000;
const CONTAINERS = 4;
/** Small, so that the sources pause within a second or two of the disk failing. */
const MAX_IN_FLIGHT = 256;
/** Events in the disk buffer when the disk fails: more than its hot copies (2 batches) hold. */
const BACKLOG = 200;

let skip = false;
let root: string;
let eiofs: EioFs | undefined;
let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;

beforeAll(async () => {
  skip = skipOrFail('disk-eio', await eiofsUnavailable());
  if (skip) return;
  root = await tempDir('lw-disk-eio-');
  eiofs = await EioFs.mount(await buildEiofs(), join(root, 'backing'));
  seq = await SequenceProject.create('disk-eio', [{ name: 'seq' }]);
  ({ lw, dir } = await logwharfFor(
    seq,
    '',
    { LOGWHARF_PIPELINE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) },
    { dataDir: join(eiofs.dir, 'data') },
  ));
}, 300_000);

afterAll(() =>
  cleanUp(
    // First: working again, or logwharf cannot stop cleanly.
    () => eiofs?.heal(),
    () => lw?.kill('SIGTERM'),
    () => lw?.kill('SIGKILL'),
    () => seq?.down(),
    // Before removing the backing directory: nothing may be mounted in it.
    () => eiofs?.unmount(),
    () => root && removeTempDir(root),
    () => dir && removeTempDir(dir),
  ),
);

/** SQLite's `PRAGMA integrity_check` of a database no other process has open: `ok`, or what is wrong. */
function integrityCheck(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
}

/** `write x12, fsync x3` for the report. */
function formatCounts(c: EioCounts): string {
  const parts = Object.entries(c).map(([op, n]) => `${op} x${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

describe('the disk under data_dir answers EIO for a while', () => {
  it('stays up, says why, pauses the sources, and loses and doubles nothing, also after a crash', async (ctx) => {
    if (skip) ctx.skip();
    const fs = eiofs!;
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    await waitForStored(() => lw.api, seq.query, 300);

    // SQLite works on eiofs as on a local disk: WAL mode, its -shm index mapped into memory,
    // fcntl locks (the kernel's own, eiofs does not take part).
    const day = new Date().toISOString().slice(0, 10);
    const dayFile = join(fs.backing, 'data', 'store', 'default', `${day}.sqlite`);
    for (const f of [dayFile, `${dayFile}-wal`, `${dayFile}-shm`]) expect(existsSync(f), f).toBe(true);

    const lock = await holdExclusiveLock(join(fs.dir, 'data', 'store', 'default', `${day}.sqlite`));
    const backlog = await waitFor(
      async () => {
        const events = metricSum(await scrapeMetrics(lw.api), 'logwharf_sink_buffer_events') ?? 0;
        return events >= BACKLOG ? events : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${BACKLOG} events in the disk buffer` },
    );
    await fs.fail();
    const failedAt = Date.now();
    await lock.release();
    const failing = await waitFor(
      async () => {
        if (!lw.running) throw new Error(`logwharf exited on EIO:\n${lw.tail()}`);
        const r = await lw.api.readiness();
        return r.status === 503 && r.failing.includes('store buffer: EIO on append') ? r.failing : null;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: '/readyz to name the EIO' },
    );
    expect(failing.join('\n')).not.toMatch(/\//); // names and codes, no paths

    // The sources pause: the pipeline is full, the followers stop reading.
    await waitFor(
      async () => {
        const m = await scrapeMetrics(lw.api);
        const res = await fetch(`${lw.api.baseUrl}/api/v1/sources`);
        const { sources } = (await res.json()) as { sources: { kind: string; paused?: boolean }[] };
        const docker = sources.filter((s) => s.kind === 'docker');
        return (metricSum(m, 'logwharf_pipeline_paused') ?? 0) === 1 &&
          docker.length === CONTAINERS &&
          docker.every((s) => s.paused === true)
          ? true
          : null;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the pipeline and every follower to pause' },
    );
    const readAtPause = metricSum(await scrapeMetrics(lw.api), 'logwharf_source_lines_total') ?? 0;
    const sentAtPause = await seq.sentCount();

    const { healthz, rss } = await watchThrough(lw, failedAt + FAIL_MS);
    expect(lw.running, lw.tail()).toBe(true);
    expect(new Set(healthz), 'every /healthz while the disk answered EIO').toEqual(new Set([200]));
    const whileFailing = await scrapeMetrics(lw.api);
    const readWhilePaused = (metricSum(whileFailing, 'logwharf_source_lines_total') ?? 0) - readAtPause;
    const sentWhilePaused = (await seq.sentCount()) - sentAtPause;
    const appendEio =
      metricSum(
        whileFailing,
        'logwharf_component_errors_total{component="store buffer",op="append",code="EIO"}',
      ) ?? 0;
    expect(appendEio, 'appends that met EIO').toBeGreaterThan(0);
    const storeErrors = [...whileFailing].filter(
      ([k, v]) =>
        k.startsWith('logwharf_component_errors_total{component="store",op="write"') &&
        !k.includes('SQLITE_BUSY') &&
        v > 0,
    );
    expect(storeErrors.length, `store writes that met EIO: ${componentErrors(whileFailing)}`).toBeGreaterThan(
      0,
    );
    expect(metricSum(whileFailing, 'logwharf_component_failing') ?? 0).toBeGreaterThan(0);
    expect(sentWhilePaused, 'the containers kept printing').toBeGreaterThan(500);
    // One chunk per follower at most.
    expect(readWhilePaused, `read ${readWhilePaused} of ${sentWhilePaused} printed`).toBeLessThan(
      CONTAINERS * 200,
    );
    const stillFailing = (await lw.api.readiness()).failing;

    const answered = await fs.heal();
    const healedAt = Date.now();
    expect(answered.write ?? 0, 'eiofs answered EIO to writes').toBeGreaterThan(0);
    const recoveredMs = await waitForReady(lw.api, '/readyz to answer 200 once the disk works again');
    await seq.waitForMoreSent(200);
    const m = await scrapeMetrics(lw.api);

    // What the EIOs left on disk serves the next start: a crash, then a start on the same data_dir.
    const damaged = await crashAndRestart(lw);

    await seq.waitForMoreSent(100);
    await seq.compose.stop();
    const tally = await settleProject(lw, seq, 180_000);
    const failingAtEnd = metricSum(await scrapeMetrics(lw.api), 'logwharf_component_failing') ?? 0;
    // A clean stop, and a day file SQLite finds sound (the read errors showed as SQLITE_CORRUPT).
    const stopped = await lw.kill('SIGTERM');
    const integrity = integrityCheck(dayFile);
    report(
      {
        scenario: 'disk-eio',
        description: `data_dir on a FUSE filesystem (eiofs) answering EIO to every write, fsync, read and create for ${FAIL_MS / 1000} s during ingest; then a SIGKILL and a restart`,
        file: 'test/faults/disk-eio.test.ts',
      },
      tally,
      {
        containers: CONTAINERS,
        backlog_events: backlog,
        failing: [...new Set([...failing, ...stillFailing])].join('; '),
        failed_s: Math.round((healedAt - failedAt) / 1000),
        recovered_s: Math.round(recoveredMs / 1000),
        eio_answered: formatCounts(answered),
        io_errors: componentErrors(m),
        read_while_paused: readWhilePaused,
        printed_while_paused: sentWhilePaused,
        damaged_at_restart: damaged.length,
        day_file_integrity: integrity,
        rss_mib_while_failing: rss.length
          ? `${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)}`
          : 'n/a',
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
    expect(damaged, 'the buffer, positions and store were left intact').toEqual([]);
    expect(failingAtEnd, 'nothing failing at the end').toBe(0);
    expect(stopped, `exit status of the stop:\n${lw.tail()}`).toBe(0);
    expect(integrity).toBe('ok');
  });
});
