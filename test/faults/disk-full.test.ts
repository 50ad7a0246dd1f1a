import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../helpers/docker.js';
import { skipOrFail, Tmpfs, unavailable } from '../helpers/fault-disk.js';
import {
  componentErrors,
  metricSum,
  scrapeMetrics,
  storedCount,
  waitForReady,
  waitForStored,
  watchThrough,
} from '../helpers/fault-observe.js';
import { CLEAN, cleanUp, logwharfFor, report, settleProject, verdict } from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * The disk under data_dir fills up: data_dir is on a small tmpfs, and a container prints lines
 * as fast as it can until the embedded store and the store's disk buffer cannot write another
 * byte (SQLITE_FULL, ENOSPC). logwharf must stay up and say why it is stalled (/readyz 503
 * naming the buffer and the code; /metrics), its sources must pause (Docker keeps the lines),
 * and once the filesystem is grown every line must be stored exactly once: the flood's and
 * those of three sequence containers that print all along (the ground truth).
 */

const TMPFS_MIB = 48;
const GROWN_MIB = 512;
const CONTAINERS = 3;
/** ~190 bytes a line, ~700 bytes a row in the store: twice what the tmpfs holds. */
const FLOOD = 150_000;
const PAD = 'x'.repeat(160);

let skip = false;
let root: string;
let tmpfs: Tmpfs | undefined;
let fixtures: string;
let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;

beforeAll(async () => {
  skip = skipOrFail('disk-full', await unavailable(['mount', 'umount', 'df']));
  if (skip) return;
  root = await tempDir('lw-disk-full-');
  tmpfs = await Tmpfs.mount(join(root, 'fs'), TMPFS_MIB);
  fixtures = await tempDir('lw-disk-full-fx-');
  const image = await ensureTestImage();
  seq = await SequenceProject.create(
    'disk-full',
    [{ name: 'seq' }],
    `  flood:
    image: ${image}
    init: true
    volumes: ["${fixtures}:/fx:ro"]
    command: ["sh", "-c", "while [ ! -e /fx/go ]; do sleep 0.2; done; seq 1 ${FLOOD} | sed 's/^/flood ${PAD} /'; exec sleep 86400"]
`,
  );
  ({ lw, dir } = await logwharfFor(seq, '', {}, { dataDir: join(tmpfs.dir, 'data') }));
}, 180_000);

afterAll(() =>
  cleanUp(
    // Before the unmount: logwharf holds files on the tmpfs.
    () => lw?.kill('SIGTERM'),
    () => lw?.kill('SIGKILL'),
    () => seq?.down(),
    () => tmpfs?.unmount(),
    () => root && removeTempDir(root),
    () => dir && removeTempDir(dir),
    () => fixtures && removeTempDir(fixtures),
  ),
);

/** Lines logwharf has read from the flood container. */
function floodRead(m: Map<string, number>): number {
  let n = 0;
  for (const [key, value] of m) {
    if (key.startsWith('logwharf_source_lines_total{') && key.includes('_flood_')) n += value;
  }
  return n;
}

describe('the disk under data_dir fills up', () => {
  it('stalls without crashing, says why, pauses the sources, and stores every line once when space is back', async (ctx) => {
    if (skip) ctx.skip();
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    await waitForStored(() => lw.api, seq.query, 200);

    await writeFile(join(fixtures, 'go'), '');
    // Full: the disk buffer cannot append a batch, and /readyz says so, by name and code.
    const stalled = await waitFor(
      async () => {
        if (!lw.running) throw new Error(`logwharf exited on a full disk:\n${lw.tail()}`);
        const r = await lw.api.readiness();
        return r.status === 503 && r.failing.includes('store buffer: ENOSPC on append') ? r : null;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: '/readyz to name the full disk' },
    );
    const fullAt = Date.now();
    expect(stalled.failing.join('\n')).not.toMatch(/\//); // names and codes, no paths

    // The sources pause: the pipeline is full, the flood's follower stops reading although
    // Docker has more of its lines.
    await waitFor(
      async () => {
        const m = await scrapeMetrics(lw.api);
        const res = await fetch(`${lw.api.baseUrl}/api/v1/sources`);
        const { sources } = (await res.json()) as { sources: { name: string; paused?: boolean }[] };
        return (metricSum(m, 'logwharf_pipeline_paused') ?? 0) === 1 &&
          sources.some((s) => s.name.includes('_flood_') && s.paused === true)
          ? true
          : null;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the pipeline and the flood follower to pause' },
    );
    const atPause = floodRead(await scrapeMetrics(lw.api));
    // Stalled for a while: the process stays up and answers, the flood is not read on.
    const { healthz, rss } = await watchThrough(lw, fullAt + 15_000);
    expect(lw.running, lw.tail()).toBe(true);
    expect(new Set(healthz), 'every /healthz while full').toEqual(new Set([200]));
    const stalledMetrics = await scrapeMetrics(lw.api);
    const readWhileFull = floodRead(stalledMetrics) - atPause;
    expect(floodRead(stalledMetrics), 'Docker still holds part of the flood').toBeLessThan(FLOOD);
    expect(readWhileFull, 'lines read while paused (one chunk per stream at most)').toBeLessThan(5000);
    const enospc =
      metricSum(
        stalledMetrics,
        'logwharf_component_errors_total{component="store buffer",op="append",code="ENOSPC"}',
      ) ?? 0;
    expect(enospc).toBeGreaterThan(0);
    expect(await lw.api.readyz()).toBe(503);

    // Space is back: everything goes on by itself.
    await tmpfs!.resize(GROWN_MIB);
    const grownAt = Date.now();
    const recoveredMs = await waitForReady(lw.api, '/readyz to answer 200 once the disk has room');
    await seq.waitForMoreSent(100);
    await seq.compose.stop();
    const tally = await settleProject(lw, seq, 180_000);
    await waitFor(async () => (await storedCount(lw.api, 'service:flood')) >= FLOOD, {
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: `all ${FLOOD} flood lines stored`,
    });
    const floodStored = await storedCount(lw.api, 'service:flood');
    const m = await scrapeMetrics(lw.api);
    const errors = (component: string, op: string, code: string) =>
      metricSum(m, `logwharf_component_errors_total{component="${component}",op="${op}",code="${code}"}`) ??
      0;
    report(
      {
        scenario: 'disk-full',
        description: `data_dir on a ${TMPFS_MIB} MiB tmpfs filled by a flood of ${FLOOD} lines, stalled, then grown to ${GROWN_MIB} MiB`,
        file: 'test/faults/disk-full.test.ts',
      },
      tally,
      {
        containers: CONTAINERS,
        flood_lines: FLOOD,
        flood_stored: floodStored,
        stalled_s: Math.round((grownAt - fullAt) / 1000),
        recovered_s: Math.round(recoveredMs / 1000),
        buffer_enospc: errors('store buffer', 'append', 'ENOSPC'),
        io_errors: componentErrors(m),
        read_while_paused: readWhileFull,
        rss_mib_while_full: rss.length
          ? `${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)}`
          : 'n/a',
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
    expect(floodStored, 'every flood line once').toBe(FLOOD);
    expect(lw.running).toBe(true);
    expect(metricSum(m, 'logwharf_component_failing') ?? 0).toBe(0);
  });
});
