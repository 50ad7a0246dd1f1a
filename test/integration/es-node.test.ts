import { existsSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeElasticsearch } from '../../scripts/services/lib/es-health.js';
import { processAlive } from '../../scripts/services/lib/es-launch.js';
import { esClient, esUrl } from '../helpers/elasticsearch.js';
import { type EsNode, startDedicatedElasticsearch } from '../helpers/es-node.js';

/** Which node answers, and since when: a restart of the shared node would change it. */
async function nodeIdentity(client: Client): Promise<{ id: string; startedAt: number | undefined }> {
  const info = await client.nodes.info({ node_id: '_local', metric: 'jvm' });
  const [id, node] = Object.entries(info.nodes)[0]!;
  return { id, startedAt: node.jvm?.start_time_in_millis };
}

describe('a dedicated Elasticsearch node', () => {
  let node: EsNode;
  let client: Client;
  let shared: Client;
  let sharedBefore: Awaited<ReturnType<typeof nodeIdentity>>;

  beforeAll(async () => {
    shared = esClient();
    sharedBefore = await nodeIdentity(shared);
    node = await startDedicatedElasticsearch();
    client = new Client({ node: node.url });
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    await shared?.close();
    await node?.destroy();
  });

  it('is a node of its own, not the shared one', async () => {
    expect(node.url).not.toBe(esUrl());
    expect((await nodeIdentity(client)).id).not.toBe(sharedBefore.id);
  });

  it('keeps its data across stop() and start(), on the same URL', async () => {
    await client.index({
      index: 'lwtest-durable',
      id: '1',
      document: { message: 'survives' },
      refresh: true,
    });
    const url = node.url;

    await node.stop();
    expect(node.pid).toBeUndefined();
    expect((await probeElasticsearch(url, 2000)).kind).toBe('down');

    await node.start();
    expect(node.url).toBe(url);
    const doc = await client.get<{ message: string }>({ index: 'lwtest-durable', id: '1' });
    expect(doc._source).toEqual({ message: 'survives' });
  }, 180_000);

  it('answers nothing while frozen, and again once thawed', async () => {
    node.freeze();
    try {
      const probe = await probeElasticsearch(node.url, 1000);
      expect(probe).toEqual({ kind: 'down', reason: 'ETIMEDOUT' });
    } finally {
      node.thaw();
    }
    expect((await probeElasticsearch(node.url, 10_000)).kind).toBe('elasticsearch');
  });

  it('leaves the shared Elasticsearch running, untouched', async () => {
    expect(await nodeIdentity(shared)).toEqual(sharedBefore);
  });

  it('destroy() kills the node and removes its directory, and may be called again', async () => {
    const pid = node.pid!;
    await node.destroy();
    expect(await processAlive(pid)).toBe(false);
    expect(existsSync(node.dir)).toBe(false);
    await node.destroy();
  });
});
