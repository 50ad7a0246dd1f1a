import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../../config/schema.js';
import { parseDuration } from '../../core/duration.js';
import { LogwharfError } from '../../core/errors.js';
import { readPemFile } from '../../core/pem.js';

/**
 * The one Elasticsearch client of the store, built from `store.elasticsearch`; writer and
 * reader share it (and its connection pool).
 *
 * `maxRetries: 0`: the client must not retry on its own. Retries are the pipeline's, with its
 * backoff (src/core/backoff.ts), so a failing cluster sees one request per attempt and the
 * retry counters tell the truth.
 */
export function createElasticsearchClient(config: ElasticsearchConfig): Client {
  const options: ClientOptions = {
    nodes: config.nodes,
    requestTimeout: parseDuration(config.request_timeout),
    maxRetries: 0,
    name: 'logwharf',
  };
  const auth = config.auth;
  if (auth && 'username' in auth) options.auth = { username: auth.username, password: auth.password };
  else if (auth && 'api_key' in auth) options.auth = { apiKey: auth.api_key };
  else if (auth && 'bearer' in auth) options.auth = { bearer: auth.bearer };
  if (config.ca !== null) options.tls = { ca: readPemFile(config.ca, 'store.elasticsearch.ca') };
  try {
    return new Client(options);
  } catch (err) {
    throw new LogwharfError(
      'LOGWHARF_ERR_CONFIG',
      `store.elasticsearch.nodes: ${err instanceof Error ? err.message : String(err)} — expected URLs such as http://127.0.0.1:9200`,
      { cause: err },
    );
  }
}

/** The node URLs without credentials, for messages. */
export function describeNodes(nodes: readonly string[]): string {
  return nodes
    .map((n) => {
      try {
        const u = new URL(n);
        return `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
      } catch {
        return n;
      }
    })
    .join(', ');
}
