import { loadConfig, resolveConfigFile } from '../config/load.js';
import type { StoreReader } from '../core/store.js';
import { createElasticsearchClient } from '../sinks/elasticsearch/client.js';
import { openElasticsearchReader } from '../sinks/elasticsearch/reader.js';
import { openEmbeddedReader } from '../sinks/embedded/reader.js';

/**
 * Opens the store named by the config read-only, for `logwharf query`: the embedded store's
 * files directly (works while `logwharf run` writes them), or the Elasticsearch cluster.
 */
export async function openReaderFromConfig(file: string | undefined): Promise<StoreReader> {
  const config = loadConfig({ file: resolveConfigFile(file) });
  if (config.store.kind === 'elasticsearch') {
    // Validated at load time: kind elasticsearch requires store.elasticsearch.
    const es = config.store.elasticsearch!;
    const client = createElasticsearchClient(es);
    const reader = openElasticsearchReader({ client, indexPrefix: es.index_prefix });
    return {
      search: (req) => reader.search(req),
      histogram: (req) => reader.histogram(req),
      close: async () => {
        await reader.close();
        await client.close();
      },
    };
  }
  return openEmbeddedReader({ dataDir: config.data_dir });
}
