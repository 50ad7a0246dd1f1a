import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, rssMiB, scrapeMetrics, waitForStored } from '../helpers/fault-observe.js';
import { CLEAN, cleanUp, logwharfFor, report, settleProject, verdict } from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import { holdExclusiveLock, type SqliteLock } from '../helpers/fault-sqlite-lock.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir } from '../helpers/tmp.js';

/**
 * The embedded store cannot be written for 30 s: another process holds an exclusive SQLite
 * write lock on the day file logwharf is writing. Every write attempt meanwhile waits out its
 * busy timeout and fails with SQLITE_BUSY, which the writer reports as retryable. Six
 * containers print all along; when the lock goes, every line must be stored once.
 *
 * The store's disk buffer is small (MAX_BYTES) and so is the pipeline's memory (max_in_flight):
 * the buffer fills to its limit, then the sources stop reading (Docker keeps the lines) while
 * the containers go on printing. Then logwharf is killed (SIGKILL) with the buffer full and
 * started again; when the lock goes, the recovered backlog and the held-back lines are stored.
 */

const CONTAINERS = 6;
const LOCK_MS = 30_000;
const MAX_BYTES = 262_144;
const MAX_IN_FLIGHT = 256;

let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;
let dataDir: string;
let lock: SqliteLock | undefined;

beforeAll(async () => {
  seq = await SequenceProject.create('store-locked', [{ name: 'seq' }]);
  ({ lw, dir, dataDir } = await logwharfFor(
    seq,
    `store:
  buffer:
    max_bytes: ${MAX_BYTES}
`,
    { LOGWHARF_PIPELINE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) },
  ));
});

afterAll(() =>
  cleanUp(
    () => lock?.release(),
    () => lw?.kill('SIGTERM'),
    () => seq?.down(),
    () => dir && removeTempDir(dir),
  ),
);

/** Lines logwharf has read, and lines the containers have printed, at one moment. */
interface Reading {
  read: number;
  sent: number;
}

describe('the embedded store locked by another process for 30 s', () => {
  it('loses no line and doubles none; logwharf neither crashes nor gives up', async () => {
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    await waitForStored(() => lw.api, seq.query, 300);
    const before = await scrapeMetrics(lw.api);

    const day = new Date().toISOString().slice(0, 10);
    const file = join(dataDir, 'store', 'default', `${day}.sqlite`);
    expect(existsSync(file), `${file} is the day file being written`).toBe(true);
    lock = await holdExclusiveLock(file);

    // While it is locked: logwharf must stay up. How long its HTTP API takes to answer shows
    // what a write waiting on the lock costs the rest of the process.
    let slowestMetricsMs = 0;
    let bufferPeak = 0;
    /** Lines read and sent when the buffer was first seen full, and at the end of the lock. */
    const seen: { atFull: Reading | null; atEnd: Reading } = { atFull: null, atEnd: { read: 0, sent: 0 } };
    const rss: number[] = [];
    await waitFor(
      async () => {
        if (!lw.running) throw new Error(`logwharf exited while the store was locked:\n${lw.tail()}`);
        const t = Date.now();
        const m = await scrapeMetrics(lw.api);
        slowestMetricsMs = Math.max(slowestMetricsMs, Date.now() - t);
        const buffered = metricSum(m, 'logwharf_sink_buffer_bytes') ?? 0;
        bufferPeak = Math.max(bufferPeak, buffered);
        const now = { read: metricSum(m, 'logwharf_source_lines_total') ?? 0, sent: await seq.sentCount() };
        if (seen.atFull === null && buffered >= MAX_BYTES) seen.atFull = now;
        seen.atEnd = now;
        const mib = await rssMiB(lw.pid);
        if (mib !== undefined) rss.push(mib);
        return Date.now() - lock!.lockedAt >= LOCK_MS;
      },
      { timeoutMs: LOCK_MS + 30_000, intervalMs: 500, what: `the ${LOCK_MS / 1000} s of the lock to pass` },
    );

    // The buffer filled to its limit (overshooting by one batch at most), then the sources
    // stopped reading: what the containers printed meanwhile stayed with Docker.
    const { atFull, atEnd } = seen;
    if (atFull === null) throw new Error(`the buffer never reached max_bytes (peak ${bufferPeak})`);
    expect(bufferPeak).toBeLessThan(MAX_BYTES * 4);
    const printedSinceFull = atEnd.sent - atFull.sent;
    const readSinceFull = atEnd.read - atFull.read;
    expect(printedSinceFull, 'the containers kept printing while the store was locked').toBeGreaterThan(500);
    // At most what the pipeline's memory holds, plus one chunk per follower.
    expect(
      readSinceFull,
      `read ${readSinceFull} of ${printedSinceFull} printed since the buffer was full`,
    ).toBeLessThan(MAX_IN_FLIGHT + CONTAINERS * 200);
    expect(lw.running, lw.tail()).toBe(true);

    // A crash with a full buffer: SIGKILL, start again (the lock still held). The backlog is
    // found on disk again, and delivered once the lock goes.
    const backlog = metricSum(await scrapeMetrics(lw.api), 'logwharf_sink_buffer_bytes') ?? 0;
    await lw.restart('SIGKILL');
    const recovered = metricSum(await scrapeMetrics(lw.api), 'logwharf_sink_buffer_bytes') ?? 0;
    expect(recovered, `the buffer held ${backlog} bytes before the crash`).toBeGreaterThan(0);
    await lock.release();
    const lockedMs = Date.now() - lock.lockedAt;

    await seq.waitForMoreSent(300);
    await seq.compose.stop();
    const tally = await settleProject(lw, seq);
    const after = await scrapeMetrics(lw.api);
    expect(metricSum(after, 'logwharf_sink_buffer_bytes'), 'the buffer drained').toBe(0);
    const retries = (m: Map<string, number>) => metricSum(m, 'logwharf_sink_write_retries_total') ?? 0;
    report(
      {
        scenario: 'embedded-store-locked',
        description: `another process holds BEGIN EXCLUSIVE on the day file for ${LOCK_MS / 1000} s during ingest`,
        file: 'test/faults/store-locked.test.ts',
      },
      tally,
      {
        containers: CONTAINERS,
        locked_s: Math.round(lockedMs / 1000),
        write_retries: retries(after) - retries(before),
        slowest_metrics_ms: slowestMetricsMs,
        buffer_max_bytes: MAX_BYTES,
        buffer_peak_bytes: bufferPeak,
        printed_while_full: printedSinceFull,
        recovered_after_sigkill_bytes: recovered,
        read_while_full: readSinceFull,
        rss_mib_during_lock: rss.length
          ? `${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)}`
          : 'n/a',
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
    expect(lw.running, 'logwharf is still running').toBe(true);
    // The lock did stop writes: they were retried, not dropped.
    expect(retries(after) - retries(before)).toBeGreaterThan(0);
  });
});
