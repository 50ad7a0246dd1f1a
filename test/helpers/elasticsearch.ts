import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../../src/config/schema.js';

/**
 * The Elasticsearch the tests use: LOGWHARF_TEST_ES_URL (an existing cluster), else the one
 * `npm run services` started (ELASTICSEARCH_URL, loaded from .tmp/services.env by the global
 * setup). Missing is a failure that says how to provide one, never a skip.
 */
export function esUrl(): string {
  const url = process.env.LOGWHARF_TEST_ES_URL ?? process.env.ELASTICSEARCH_URL;
  if (!url) {
    throw new Error(
      'Elasticsearch: no ELASTICSEARCH_URL — run `npm run services` (it downloads and starts one), ' +
        'or set LOGWHARF_TEST_ES_URL to an existing cluster',
    );
  }
  return url;
}

export function esClient(): Client {
  return new Client({ node: esUrl() });
}

/**
 * An index prefix of its own for one test (`lwtest-<random>`), so test files running in
 * parallel never share indices; `deleteIndices` removes what it made.
 */
export function uniqueIndexPrefix(): string {
  return `lwtest-${randomBytes(4).toString('hex')}`;
}

export async function deleteIndices(prefix: string): Promise<void> {
  const client = esClient();
  // Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name): list, then name them.
  const found = await client.indices.get({
    index: `${prefix}-*`,
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  const names = Object.keys(found);
  if (names.length > 0) await client.indices.delete({ index: names });
  await client.indices.deleteIndexTemplate({ name: prefix }).catch(() => {});
}

/** A store config for the test cluster with the schema's defaults, as `loadConfig` would fill them. */
export function esTestConfig(prefix: string, over: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig {
  return {
    nodes: [esUrl()],
    auth: null,
    ca: null,
    index_prefix: prefix,
    bulk_max_bytes: 5 * 1024 * 1024,
    max_concurrency: 2,
    request_timeout: '30s',
    ...over,
  };
}
