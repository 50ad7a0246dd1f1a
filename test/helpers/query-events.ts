import type { ContainerInfo, LogEvent } from '../../src/core/event.js';

/**
 * Hand-made events, one per corner of the query language (e1..e5), shared by the SQL
 * translator's tests and the Elasticsearch reader's tests so both stores answer the same spec.
 */

export const labels = {
  'com.docker.compose.project': 'demo',
  'com.docker.compose.service': 'web',
  'traefik.http.routers.web.rule': 'Host(`a.example`)',
  'quote"key': 'q',
};
export const web1: ContainerInfo = {
  id: `aaaa1111${'0'.repeat(56)}`,
  name: 'demo-web-1',
  imageName: 'nginx:1.25',
  labels,
  composeProject: 'demo',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};
export const web2: ContainerInfo = {
  ...web1,
  id: `aaaa2222${'0'.repeat(56)}`,
  name: 'demo-web-2',
  composeNumber: 2,
};
export const db1: ContainerInfo = {
  id: `bbbb3333${'0'.repeat(56)}`,
  name: 'demo-db-1',
  imageName: 'postgres:16',
  labels: { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'db' },
  composeProject: 'demo',
  composeService: 'db',
  composeNumber: 1,
  tty: false,
};
export const worker: ContainerInfo = {
  id: `cccc4444${'0'.repeat(56)}`,
  name: 'other-worker-1',
  imageName: 'worker:latest',
  labels: { 'com.docker.compose.project': 'other' },
  composeProject: 'other',
  tty: true,
};

/** e1..e5, stamped by `ts(n)` (n = 1..5), ingested at `ingested`. */
export function queryEvents(ts: (n: number) => string, ingested: string): LogEvent[] {
  const base = {
    dataset: 'docker' as const,
    ingested,
    facility: 3,
    host: 'docker-1',
  };
  return [
    {
      ...base,
      id: 'e1',
      timestamp: ts(1),
      message: 'GET /api/v1/users 200 connection established',
      severity: 6,
      stream: 'stdout',
      container: web1,
      service: 'web',
      fields: { status: 200, http: { method: 'GET' }, user: 'alice' },
      access: {
        client: '198.51.100.7',
        user: 'alice',
        method: 'GET',
        url: '/api/v1/users',
        version: '1.1',
        status: 200,
        bytes: 512,
        agent: 'curl/8.5.0',
      },
    },
    {
      ...base,
      id: 'e2',
      timestamp: ts(2),
      message: 'Connection refused by upstream :-) retrying',
      severity: 3,
      stream: 'stderr',
      container: web2,
      service: 'web',
      fields: { status: 503, 'http.method': 'POST', duration_ms: '1500', ok: false },
      // More bytes than a 32-bit integer holds: http.response.body.bytes is a long.
      access: {
        client: '10.0.0.9',
        method: 'POST',
        url: '/api/v1/orders?id=7',
        version: '2.0',
        status: 503,
        bytes: 3_000_000_000,
        referrer: 'https://shop.example/cart',
      },
    },
    {
      ...base,
      id: 'e3',
      timestamp: ts(3),
      message: 'Café crème: checkpoint starting',
      severity: 4,
      stream: 'stdout',
      container: db1,
      service: 'db',
      fields: { status: '500' },
      flags: ['multiline'],
    },
    {
      ...base,
      id: 'e4',
      dataset: 'syslog',
      timestamp: ts(4),
      message: 'Accepted publickey for "admin" OR 1=1 from 10.0.0.1',
      original: '<37>1 2024-05-01T12:00:04Z router sshd 123 AUTH - Accepted publickey',
      severity: 5,
      facility: 4,
      host: 'router',
      service: 'sshd',
      // The header names `router`; the socket saw 10.0.0.1. Its clock said 1999.
      senderAddress: '10.0.0.1',
      senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      syslog: {
        hostname: 'router',
        appname: 'sshd',
        procid: '123',
        msgid: 'AUTH',
        structuredData: {
          origin: { ip: '10.0.0.1' },
          'meta@32473': { sequenceId: '7' },
          'a.b@1': { 'c.d': 'x' },
        },
      },
    },
    {
      ...base,
      id: 'e5',
      timestamp: ts(5),
      message: 'NEAR(a b) AND c * ^x "quoted" -dash col:val',
      severity: 7,
      stream: 'stdout',
      container: worker,
      fields: { count: 7, nested: { deep: { key: 'v' } } },
    },
  ];
}

/**
 * Queries on the ECS fields of an access line and of a syslog sender, with the events of
 * `queryEvents` each finds: the same answer is expected from both stores (none of these
 * matches an event the Elasticsearch tests add).
 */
export const ECS_FIELD_QUERIES: [query: string, ids: string[]][] = [
  ['status>=500', ['e2']],
  ['status >= 500', ['e2']],
  ['status:503', ['e2']],
  ['status<300', ['e1']],
  ['status:5*', ['e2']],
  ['http.response.status_code>=500', ['e2']],
  ['http.response.status_code:200', ['e1']],
  ['http.response.body.bytes>2147483647', ['e2']],
  ['http.response.body.bytes:3000000000', ['e2']],
  ['http.response.body.bytes<1000', ['e1']],
  ['http.response.body.bytes:5*', ['e1']],
  ['method:POST', ['e2']],
  ['method:post', []],
  ['http.request.method:GET', ['e1']],
  ['url.original:/api/v1/users', ['e1']],
  ['url.original:/api/v1/*', ['e1', 'e2']],
  ['url.original:/api/v1/orders?id=7', ['e2']],
  ['url.original</api/v1/p', ['e2']],
  ['http.version:2.0', ['e2']],
  ['http.request.referrer:https*', ['e2']],
  ['user_agent.original:curl*', ['e1']],
  ['user.name:alice', ['e1']],
  ['source.address:198.51.100.7', ['e1']],
  ['source.address:10.*', ['e2']],
  ['log.source.address:10.0.0.1', ['e4']],
  ['host:router log.source.address:10.*', ['e4']],
  ['sender_timestamp<2000-01-01T00:00:00Z', ['e4']],
  ['sender_timestamp:1999-12-31T23:59:59Z', ['e4']],
  ['sender_timestamp:*', ['e4']],
  ['service:web status>=500', ['e2']],
];
