/**
 * The global setup's Elasticsearch check: the run fails once, here, with what to do, instead of
 * every Elasticsearch test failing on its own with a connection error.
 */
import { describeProbe, isHealthy, probeElasticsearch } from '../../scripts/services/lib/es-health.js';
import { waitFor } from '../../scripts/services/lib/poll.js';
import { esUrl } from './elasticsearch.js';

/**
 * Throws unless `esUrl()` (LOGWHARF_TEST_ES_URL, else the ELASTICSEARCH_URL that `npm run
 * services` wrote; load .tmp/services.env into process.env first) is a healthy Elasticsearch.
 * A cluster that answers red gets 30 s to become yellow (it may still be starting); one that does
 * not answer fails at once.
 */
export async function ensureElasticsearch(): Promise<void> {
  const url = esUrl();
  const source = process.env.LOGWHARF_TEST_ES_URL
    ? 'LOGWHARF_TEST_ES_URL'
    : 'ELASTICSEARCH_URL, from `npm run services`';
  const fail = (why: string) =>
    new Error(
      `Elasticsearch: ${url} (${source}) is not a healthy Elasticsearch (${why}) — run \`npm run services\` ` +
        '(it starts one on http://127.0.0.1:9200), or set LOGWHARF_TEST_ES_URL to a cluster that answers.',
    );
  const probe = await probeElasticsearch(url, 5000);
  if (isHealthy(probe)) return;
  if (probe.kind !== 'elasticsearch') throw fail(describeProbe(probe));
  try {
    await waitFor(async () => isHealthy(await probeElasticsearch(url, 2000)), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'cluster status yellow or green',
    });
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
}
