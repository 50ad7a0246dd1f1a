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
