import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../helpers/docker.js';
import { type EsNode, startDedicatedElasticsearch } from '../helpers/es-node.js';
import { metricSum, rssMiB, scrapeMetrics, storedCount, waitForStored } from '../helpers/fault-observe.js';
import { CLEAN, cleanUp, logwharfFor, report, settleProject, verdict } from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Elasticsearch goes away in the middle of ingest, for 30 seconds, and comes back. Five
 * containers print numbered lines all along; every one is stored once. An event Elasticsearch
 * refuses for good (a term longer than Lucene takes) is dead-lettered while the rest keeps flowing.
 * A dedicated node is used, so stopping it does not disturb the other test files' cluster.
 *
 * While the node is down, two flood containers print FLOOD lines each as fast as they can, one
 * after the other: the lines go to the disk buffer (tens of MiB each), and logwharf's resident
 * memory must not grow with them (DESIGN.md: memory is bounded, the disk buffer holds the
 * backlog). logwharf runs with its JavaScript heap capped at HEAP_MIB, far below what the
 * backlog would take as objects in memory (~1 KiB per event, 300,000 events), so holding it
 * anywhere but on disk would end the process; its RSS is reported after each wave.
 */

const CONTAINERS = 5;
const OUTAGE_MS = 30_000;
const FLOOD = 150_000;
const HEAP_MIB = 160;
/** ~200 bytes per flood line, so the backlog is well beyond what memory could hide. */
const PAD = 'x'.repeat(160);

let node: EsNode;
let fixtures: string;
let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;

beforeAll(async () => {
  node = await startDedicatedElasticsearch();
  fixtures = await tempDir('lw-es-outage-fx-');
  // A JSON key of 40,000 characters: Elasticsearch indexes a `flattened` leaf as one term of key
  // and value, and Lucene refuses a term over 32,766 bytes, so it refuses the whole document (the
  // embedded store keeps it). A 40 KB line also crosses Docker's 16 KiB frames.
  await writeFile(join(fixtures, 'refused.json'), `{"msg":"key too long","${'k'.repeat(40_000)}":"v"}\n`);
  const image = await ensureTestImage();
  seq = await SequenceProject.create(
    'es-outage',
    [{ name: 'seq' }],
    `  refused:
    image: ${image}
    init: true
    volumes: ["${fixtures}:/fx:ro"]
    command: ["sh", "-c", "cat /fx/refused.json; exec sleep 86400"]
  flood1:
    image: ${image}
    init: true
    volumes: ["${fixtures}:/fx:ro"]
    command: ["sh", "-c", "while [ ! -e /fx/go1 ]; do sleep 0.2; done; seq 1 ${FLOOD} | sed 's/^/flood ${PAD} /'; exec sleep 86400"]
  flood2:
    image: ${image}
    init: true
    volumes: ["${fixtures}:/fx:ro"]
    command: ["sh", "-c", "while [ ! -e /fx/go2 ]; do sleep 0.2; done; seq 1 ${FLOOD} | sed 's/^/flood ${PAD} /'; exec sleep 86400"]
`,
  );
  ({ lw, dir } = await logwharfFor(
    seq,
    `store:
  kind: elasticsearch
  elasticsearch:
    nodes: [ "${node.url}" ]
    index_prefix: lwfault
    request_timeout: 5s
`,
    { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` },
  ));
}, 180_000);

afterAll(() =>
  cleanUp(
    () => lw?.kill('SIGTERM'),
    () => seq?.down(),
    () => node?.destroy(),
    () => dir && removeTempDir(dir),
    () => fixtures && removeTempDir(fixtures),
  ),
);

/**
 * Starts flood container n and waits until logwharf has read all its lines; then the disk
 * buffer's size and logwharf's RSS (the highest of a few samples as the process settles).
 */
async function floodWave(n: number): Promise<{ bufferMiB: number; rssMiB: number }> {
  await writeFile(join(fixtures, `go${n}`), '');
  const read = (m: Map<string, number>) => {
    let lines = 0;
    for (const [key, value] of m) {
      if (key.startsWith('logwharf_source_lines_total{') && key.includes(`_flood${n}_`)) lines += value;
    }
    return lines;
  };
  await waitFor(async () => read(await scrapeMetrics(lw.api)) >= FLOOD, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: `logwharf to read the ${FLOOD} lines of flood${n}`,
  });
  let rss = 0;
  for (let i = 0; i < 4; i++) {
    const now = await rssMiB(lw.pid);
    if (now === undefined) throw new Error(`no VmRSS for logwharf (pid ${lw.pid}): has it exited?`);
    rss = Math.max(rss, now);
    await new Promise((r) => setTimeout(r, 250));
  }
  const buffered = metricSum(await scrapeMetrics(lw.api), 'logwharf_sink_buffer_bytes') ?? 0;
  return { bufferMiB: buffered / 2 ** 20, rssMiB: rss };
}

describe('Elasticsearch down for 30 s during ingest', () => {
  it('loses no line and doubles none; the refused event is dead-lettered', async () => {
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    await waitForStored(() => lw.api, seq.query, 500);

    await node.stop();
    const downAt = Date.now();
    await waitFor(async () => (await lw.api.readyz()) === 503, {
      timeoutMs: 30_000,
      what: '/readyz to answer 503 with Elasticsearch down',
    });
    // Each wave starts once the node is down: everything it prints waits in the disk buffer.
    const wave1 = await floodWave(1);
    const wave2 = await floodWave(2);
    // The rest of the outage: 30 s of lines that cannot be stored.
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
    const stoppedMs = Date.now() - downAt;
    await node.start();
    const outageMs = Date.now() - downAt;
    await seq.waitForMoreSent(300);
    await seq.compose.stop();

    const tally = await settleProject(lw, seq, 180_000);
    const m = await scrapeMetrics(lw.api);
    report(
      {
        scenario: 'es-outage',
        description: `a dedicated Elasticsearch node stopped for ${OUTAGE_MS / 1000} s during ingest, then started`,
        file: 'test/faults/es-outage.test.ts',
      },
      tally,
      {
        containers: CONTAINERS,
        es_stopped_s: Math.round(stoppedMs / 1000),
        // Until the node answered healthy again (it takes a while to start).
        es_unavailable_s: Math.round(outageMs / 1000),
        es_retries: metricSum(m, 'logwharf_elasticsearch_retries_total') ?? 0,
        es_duplicates_409: metricSum(m, 'logwharf_elasticsearch_duplicates_total') ?? 0,
        dead_lettered: metricSum(m, 'logwharf_elasticsearch_dead_lettered_total') ?? 0,
        flood_lines: 2 * FLOOD,
        heap_cap_mib: HEAP_MIB,
        buffer_mib_after_waves: `${wave1.bufferMiB.toFixed(0)}, ${wave2.bufferMiB.toFixed(0)}`,
        rss_mib_after_waves: `${wave1.rssMiB.toFixed(0)}, ${wave2.rssMiB.toFixed(0)}`,
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);

    // The floods went to disk, not to memory (the capped heap could not have held them), and
    // reached Elasticsearch once it was back.
    expect(wave2.bufferMiB - wave1.bufferMiB, 'the second wave waited in the disk buffer').toBeGreaterThan(
      20,
    );
    expect(wave2.bufferMiB, 'the backlog on disk exceeds the heap cap').toBeGreaterThan(HEAP_MIB / 2);
    expect(lw.running, 'logwharf survived the backlog under its heap cap').toBe(true);
    for (const service of ['flood1', 'flood2']) {
      await waitFor(async () => (await storedCount(lw.api, `service:${service}`)) === FLOOD, {
        timeoutMs: 120_000,
        what: `all ${FLOOD} lines of ${service} stored`,
      });
    }

    // The one event Elasticsearch cannot take is kept aside, and said so.
    const res = await fetch(`${lw.api.baseUrl}/api/v1/sources`);
    const body = (await res.json()) as { dead_letters?: { count: number; dir: string } };
    expect(body.dead_letters?.count).toBe(1);
    expect(m.get('logwharf_dead_letter_events')).toBe(1);
    expect(m.get('logwharf_elasticsearch_dead_lettered_total')).toBe(1);
    expect(metricSum(m, 'logwharf_elasticsearch_retries_total')).toBeGreaterThan(0);
    expect((await lw.api.search({ q: '"key too long"' })).events).toHaveLength(0);
    expect(await lw.api.readyz()).toBe(200);
  });
});
