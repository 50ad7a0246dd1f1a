import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tally } from '../helpers/api-client.js';
import { ComposeProject } from '../helpers/compose.js';
import { ensureTestImage } from '../helpers/docker.js';
import { type EsNode, startDedicatedElasticsearch } from '../helpers/es-node.js';
import { type RunningLogwharf, startLogwharf } from '../helpers/in-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Elasticsearch goes away in the middle of ingest, for 30 seconds, and comes back: every line
 * of a real container is stored once (counted), and an event Elasticsearch refuses for good
 * (a mapping it cannot take) is dead-lettered while the rest keeps flowing. A dedicated node is
 * used, so stopping it does not disturb the other test files' cluster.
 */

const TOTAL = 3000;
let node: EsNode;
let dir: string;
let project: ComposeProject;
let lw: RunningLogwharf;

beforeAll(async () => {
  node = await startDedicatedElasticsearch();
  dir = await tempDir('lw-es-outage-');
  const image = await ensureTestImage();
  // 25 levels of nesting: deeper than the flattened `fields` mapping takes (depth_limit 20).
  let deep = '"bottom"';
  for (let i = 0; i < 25; i++) deep = `{"d":${deep}}`;
  await writeFile(join(dir, 'deep.json'), `{"msg":"too deep","x":${deep}}\n`);
  project = await ComposeProject.create(
    'es-outage',
    `version: "2.4"
services:
  counter:
    image: ${image}
    init: true
    volumes: ["${dir}:/fx:ro"]
    command: ["sh", "-c", "i=1; while [ $$i -le ${TOTAL} ]; do echo \\"count $$i\\"; if [ $$i -eq 200 ]; then cat /fx/deep.json; fi; if [ $$((i % 50)) -eq 0 ]; then sleep 1; fi; i=$$((i+1)); done; sleep 3600"]
`,
  );
  lw = await startLogwharf(
    dir,
    `sources:
  docker:
    project: ${project.name}
store:
  kind: elasticsearch
  elasticsearch:
    nodes: [ "${node.url}" ]
    index_prefix: lwfault
    request_timeout: 5s
pipeline:
  flush_interval: 50ms
`,
  );
}, 180_000);

afterAll(async () => {
  await lw?.service.stop();
  await project?.down();
  await node?.destroy();
  if (dir) await removeTempDir(dir);
});

async function counted(): Promise<{ missing: number[]; doubled: number[]; total: number }> {
  const events = await lw.api.searchAll('service:counter "count"');
  return { ...tally(events, 'count ', TOTAL), total: events.length };
}

describe('Elasticsearch down for 30 s during ingest', () => {
  it('loses no line and doubles none; the refused event is dead-lettered', async () => {
    await project.up();
    await waitFor(async () => (await counted()).total >= 500, {
      timeoutMs: 90_000,
      what: '500 lines stored',
    });

    await node.stop();
    expect(await lw.api.readyz()).toBe(503);
    // The outage itself is the scenario: 30 s of lines that cannot be stored.
    await new Promise((r) => setTimeout(r, 30_000));
    await node.start();

    const final = await waitFor(
      async () => {
        const c = await counted();
        return c.missing.length === 0 ? c : null;
      },
      { timeoutMs: 120_000, what: `all ${TOTAL} lines after the outage` },
    );
    expect(final.doubled).toEqual([]);
    expect(final.total).toBe(TOTAL);

    // The one event Elasticsearch cannot take is kept aside, and said so.
    const res = await fetch(`${lw.api.baseUrl}/api/v1/sources`);
    const body = (await res.json()) as { dead_letters?: { count: number; dir: string } };
    expect(body.dead_letters?.count).toBe(1);
    const metrics = await (await fetch(`${lw.api.baseUrl}/metrics`)).text();
    expect(metrics).toContain('\nlogwharf_dead_letters_total 1\n');
    expect(metrics).toContain('\nlogwharf_elasticsearch_dead_lettered_total 1\n');
    expect(metrics).toMatch(/\nlogwharf_elasticsearch_retries_total\{kind="[a-z_0-9]+"\} [1-9]/);
    expect((await lw.api.search({ q: '"too deep"' })).events).toHaveLength(0);
    expect(await lw.api.readyz()).toBe(200);
  }, 300_000);
});
