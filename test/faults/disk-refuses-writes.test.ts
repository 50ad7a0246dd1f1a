import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemType, setImmutable, skipOrFail, unavailable } from '../helpers/fault-disk.js';
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
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir } from '../helpers/tmp.js';

/**
 * The filesystem under data_dir refuses every write for 15 s: everything in data_dir (the
 * embedded store, the store's disk buffer and its ledger, positions.json) is made immutable
 * (`chattr -R +i`), so ext4 answers EPERM to each write, through the files logwharf holds open
 * too, then writable again: a refusal from ext4 itself, on the real files, where EIO (in
 * test/faults/disk-eio.test.ts) comes from a FUSE filesystem of our own. For logwharf any errno
 * takes the same path.
 *
 * logwharf must stay up, say what fails (/readyz 503 naming the buffer and the code;
 * /metrics), retry, and go on by itself once writes work again. Then it is killed (SIGKILL)
 * and started again on the same data_dir: the buffer and positions it left must be intact, and
 * every line of four sequence containers that printed all along is stored exactly once.
 */

const REFUSE_MS = 15_000;
const CONTAINERS = 4;
/** Filesystems whose immutable flag stops writes through open files (tmpfs does not). */
const REFUSING = ['ext2/ext3', 'xfs', 'btrfs'];

let skip = false;
let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;
let dataDir: string;

beforeAll(async () => {
  skip = skipOrFail('disk-refuses-writes', await unavailable(['chattr', 'stat']));
  if (skip) return;
  seq = await SequenceProject.create('disk-refuses', [{ name: 'seq' }]);
  ({ lw, dir, dataDir } = await logwharfFor(seq));
  const type = await filesystemType(dir);
  skip = skipOrFail(
    'disk-refuses-writes',
    REFUSING.includes(type) ? null : `a temp directory on ext4, xfs or btrfs (${dir} is on ${type})`,
  );
}, 180_000);

afterAll(() =>
  cleanUp(
    // First of all: writable again, or nothing can be stopped or removed cleanly.
    () => dataDir && setImmutable(dataDir, false),
    () => lw?.kill('SIGTERM'),
    () => seq?.down(),
    () => dir && removeTempDir(dir),
  ),
);

describe('the filesystem under data_dir refuses every write for a while', () => {
  it('stays up, says why, retries, and loses and doubles nothing, also after a crash', async (ctx) => {
    if (skip) ctx.skip();
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    await waitForStored(() => lw.api, seq.query, 300);

    await setImmutable(dataDir, true);
    const refusedAt = Date.now();
    const failing = await waitFor(
      async () => {
        const r = await lw.api.readiness();
        return r.status === 503 && r.failing.includes('store buffer: EPERM on append') ? r.failing : null;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: '/readyz to name the refused writes' },
    );
    expect(failing.join('\n')).not.toMatch(/\//); // names and codes, no paths
    const { healthz } = await watchThrough(lw, refusedAt + REFUSE_MS);
    expect(lw.running, lw.tail()).toBe(true);
    expect(new Set(healthz), 'every /healthz while writes were refused').toEqual(new Set([200]));
    const whileRefused = await scrapeMetrics(lw.api);
    expect(metricSum(whileRefused, 'logwharf_component_failing') ?? 0).toBeGreaterThan(0);

    await setImmutable(dataDir, false);
    const allowedAt = Date.now();
    const recoveredMs = await waitForReady(lw.api, '/readyz to answer 200 once writes work again');
    await seq.waitForMoreSent(200);
    const m = await scrapeMetrics(lw.api);

    // What it left on disk serves the next start: a crash, then a start on the same data_dir.
    const damaged = await crashAndRestart(lw);

    await seq.waitForMoreSent(100);
    await seq.compose.stop();
    const tally = await settleProject(lw, seq, 180_000);
    report(
      {
        scenario: 'disk-refuses-writes',
        description: `every file of data_dir made immutable (EPERM on each write) for ${REFUSE_MS / 1000} s during ingest; then a SIGKILL and a restart`,
        file: 'test/faults/disk-refuses-writes.test.ts',
      },
      tally,
      {
        containers: CONTAINERS,
        failing: failing.join('; '),
        refused_s: Math.round((allowedAt - refusedAt) / 1000),
        recovered_s: Math.round(recoveredMs / 1000),
        io_errors: componentErrors(m),
        damaged_at_restart: damaged.length,
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
    expect(damaged, 'the buffer and positions were left intact').toEqual([]);
  });
});
