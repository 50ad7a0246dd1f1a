/**
 * Whether an Elasticsearch answers at a URL, and how healthy its cluster is. Shared by
 * `npm run services`, the test global setup and the dedicated test nodes, so all three ask the
 * same question and fail with the same words.
 *
 * It asks `GET /_cluster/health`, not `GET /`: the integ-test distribution answers `/` with 405.
 * Node's own http client, not `@elastic/elasticsearch`, so the check stays cheap and works on a
 * port where something else listens (the client would refuse a non-Elasticsearch product).
 */
import http from 'node:http';
import https from 'node:https';

export type ClusterStatus = 'green' | 'yellow' | 'red';

export type EsProbe =
  /** Elasticsearch answered (the `X-elastic-product` header says so), with its cluster status. */
  | { kind: 'elasticsearch'; status: ClusterStatus }
  /** Something answered, but not as Elasticsearch: another program holds the port, or auth failed. */
  | { kind: 'other'; detail: string }
  /** Nothing answered: ECONNREFUSED, a timeout, a DNS error, ... */
  | { kind: 'down'; reason: string };

/** Yellow is as good as green here: a single node never allocates replicas. */
export function isHealthy(probe: EsProbe): boolean {
  return probe.kind === 'elasticsearch' && probe.status !== 'red';
}

/** For messages: "cluster status red", "ECONNREFUSED", "HTTP 401 from something that is not ...". */
export function describeProbe(probe: EsProbe): string {
  switch (probe.kind) {
    case 'elasticsearch':
      return `cluster status ${probe.status}`;
    case 'other':
      return probe.detail;
    case 'down':
      return probe.reason;
  }
}

interface Answer {
  statusCode: number;
  product: string | undefined;
  body: string;
}

/** Pure: what an HTTP answer to `GET /_cluster/health` says about the server. */
export function classifyHealthAnswer(answer: Answer): EsProbe {
  if (answer.product !== 'Elasticsearch') {
    return {
      kind: 'other',
      detail: `HTTP ${answer.statusCode}, without the X-elastic-product: Elasticsearch header`,
    };
  }
  if (answer.statusCode === 401 || answer.statusCode === 403) {
    return {
      kind: 'other',
      detail: `HTTP ${answer.statusCode}: Elasticsearch wants credentials (put them in the URL: http://user:password@host:9200)`,
    };
  }
  let status: unknown;
  try {
    status = (JSON.parse(answer.body) as { status?: unknown }).status;
  } catch {
    // handled below
  }
  // A cluster health request that times out waiting for a master answers 503 with a status too.
  if (status === 'green' || status === 'yellow' || status === 'red') return { kind: 'elasticsearch', status };
  return {
    kind: 'other',
    detail: `HTTP ${answer.statusCode} from Elasticsearch without a cluster status: ${answer.body.slice(0, 200)}`,
  };
}

/**
 * `GET <url>/_cluster/health`. Never throws: a failure is a probe of kind `down` or `other`.
 * Credentials go in the URL (`https://user:password@host:9200`); `ca` (PEM) verifies an https
 * node whose certificate the system's CAs do not vouch for.
 */
export async function probeElasticsearch(
  url: string,
  timeoutMs = 3000,
  opts: { ca?: string | Buffer } = {},
): Promise<EsProbe> {
  let target: URL;
  try {
    target = new URL('/_cluster/health', url);
  } catch {
    return { kind: 'down', reason: `${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:9200)` };
  }
  try {
    return classifyHealthAnswer(await get(target, timeoutMs, opts.ca));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { kind: 'down', reason: typeof code === 'string' ? code : (err as Error).message };
  }
}

function get(target: URL, timeoutMs: number, ca: string | Buffer | undefined): Promise<Answer> {
  const client = target.protocol === 'https:' ? https : http;
  const auth = target.username
    ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`
    : undefined;
  return new Promise((resolve, reject) => {
    // agent: false, so no keep-alive socket holds the script's event loop open afterwards.
    const req = client.get(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        ...(auth && { auth }),
        ...(ca !== undefined && { ca }),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          body += s;
        });
        res.on('error', reject);
        res.on('end', () => {
          const product = res.headers['x-elastic-product'];
          resolve({
            statusCode: res.statusCode ?? 0,
            product: Array.isArray(product) ? product[0] : product,
            body,
          });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', reject);
  });
}
