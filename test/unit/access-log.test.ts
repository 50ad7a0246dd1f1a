import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccessLog } from '../../src/core/event.js';
import { type AccessLogExtras, looksLikeAccessLog, parseAccessLog } from '../../src/transforms/access-log.js';
import { chooseClient, isPublicIp, readAddresses } from '../../src/transforms/access-log-client.js';

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../fixtures/beats/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);

const FIREFOX_49 = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0';
const FIREFOX_15 = 'Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2';
const GET = (url: string) => ({ method: 'GET', url, version: '1.1' });

/** What a line gives: the ECS facts, and the extras (fields.*) when there are any. */
type Expected = [timestamp: string, access: AccessLog, extras?: AccessLogExtras];

/** Every line of the beats nginx access test log, in order. */
const NGINX: Expected[] = [
  [
    '07/Dec/2016:11:05:07 +0100',
    // all private: the first entry is the client
    { client: '10.0.0.2', ...GET('/ocelot'), status: 200, bytes: 571, agent: FIREFOX_49 },
    { client_chain: ['10.0.0.2', '10.0.0.1', '127.0.0.1'] },
  ],
  [
    '29/May/2017:19:02:48 +0000',
    { client: '172.17.0.1', ...GET('/stringpatch'), status: 404, bytes: 612, agent: FIREFOX_15 },
  ],
  [
    '07/Dec/2016:11:05:07 +0100',
    // the first public address of the chain
    { client: '85.181.35.98', ...GET('/ocelot'), status: 200, bytes: 571, agent: FIREFOX_49 },
    { client_chain: ['10.0.0.2', '10.0.0.1', '85.181.35.98'] },
  ],
  [
    '07/Dec/2016:11:05:07 +0100',
    {
      client: '85.181.35.98',
      ...GET('/ocelot'),
      status: 200,
      bytes: 571,
      agent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36',
    },
  ],
  [
    '22/Jan/2016:13:18:29 +0000',
    // a quoted X-Forwarded-For, then the peer: one chain, not a virtual host
    {
      client: '199.96.1.1',
      ...GET('/assets/xxxx?q=100'),
      status: 200,
      bytes: 25507,
      agent: 'Amazon CloudFront',
    },
    { client_chain: ['10.5.102.222', '199.96.1.1', '204.246.1.1', '10.2.1.185'] },
  ],
  [
    '30/Dec/2016:06:47:09 +0000',
    {
      client: '2a03:0000:10ff:f00f:0000:0000:0:8000',
      ...GET('/test.html'),
      status: 404,
      bytes: 8571,
      agent:
        'Mozilla/5.0 (compatible; Facebot 1.0; https://developers.facebook.com/docs/sharing/webmasters/crawler)',
    },
    { client_chain: ['2a03:0000:10ff:f00f:0000:0000:0:8000', '10.225.192.17', '10.2.2.121'] },
  ],
  // an empty request (a client that connected and sent nothing); agent `-` is left out
  ['12/Apr/2018:09:48:40 +0200', { client: '127.0.0.1', status: 400, bytes: 0 }, { request: '' }],
];

/** Every line of the beats Apache access test log, in order. */
const APACHE: Expected[] = [
  // common format, IPv6 loopback
  ['26/Dec/2016:16:16:29 +0200', { client: '::1', ...GET('/favicon.ico'), status: 404, bytes: 209 }],
  [
    '26/Dec/2016:16:22:13 +0000',
    {
      client: '192.168.33.1',
      ...GET('/hello'),
      status: 404,
      bytes: 499,
      agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0',
    },
  ],
  // a 408: request `-`, bytes `-`
  ['26/Dec/2016:16:16:48 +0200', { client: '::1', status: 408, bytes: 0 }, { request: '-' }],
  [
    '29/May/2017:19:02:48 +0000',
    { client: '172.17.0.1', ...GET('/stringpatch'), status: 404, bytes: 612, agent: FIREFOX_15 },
  ],
  // HostnameLookups on: a host name for the client
  [
    '29/May/2017:19:02:48 +0000',
    { client: 'monitoring-server', ...GET('/status'), status: 200, bytes: 612, agent: FIREFOX_15 },
  ],
  ['02/Feb/2019:05:38:45 +0100', { client: '127.0.0.1', status: 408, bytes: 152 }, { request: '-' }],
  // vhost_combined without the port
  [
    '04/Jul/2019:09:20:46 +0200',
    {
      client: '123.123.123.123',
      ...GET('/'),
      status: 200,
      bytes: 32953,
      agent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.100 Safari/537.36',
    },
    { vhost: 'vhost1.domaine.fr' },
  ],
];

describe('parseAccessLog: the beats test logs, every line', () => {
  it.each([
    ['nginx-access.log', NGINX],
    ['apache-access.log', APACHE],
  ] as const)('%s', (file, expected) => {
    const lines = fixture(file);
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => {
      const [timestamp, access, extras] = expected[i]!;
      expect(looksLikeAccessLog(line), line).toBe(true);
      expect(parseAccessLog(line), line).toEqual({
        format: 'access',
        timestamp,
        access,
        ...(extras ? { extras } : {}),
      });
    });
  });
});

const T = '[10/Oct/2023:13:55:36 -0700]';

describe('parseAccessLog: formats', () => {
  it('reads Apache common', () => {
    expect(parseAccessLog(`127.0.0.1 - frank ${T} "GET /apache_pb.gif HTTP/1.0" 200 2326`)).toEqual({
      format: 'access',
      timestamp: '10/Oct/2023:13:55:36 -0700',
      access: {
        client: '127.0.0.1',
        user: 'frank',
        method: 'GET',
        url: '/apache_pb.gif',
        version: '1.0',
        status: 200,
        bytes: 2326,
      },
    });
  });

  it('reads nginx combined with a referrer', () => {
    const r = parseAccessLog(
      `203.0.113.9 - - ${T} "POST /api/v1/login?next=%2F HTTP/2.0" 302 0 "https://example.com/" "curl/8.4.0"`,
    );
    expect(r?.access).toEqual({
      client: '203.0.113.9',
      method: 'POST',
      url: '/api/v1/login?next=%2F',
      version: '2.0',
      status: 302,
      bytes: 0,
      referrer: 'https://example.com/',
      agent: 'curl/8.4.0',
    });
    expect(r).not.toHaveProperty('extras');
  });

  it('writes http.version as ECS does (1.1 of HTTP/1.1), another protocol as written', () => {
    const version = (protocol: string) =>
      parseAccessLog(`192.0.2.1 - - ${T} "DESCRIBE rtsp://cam/1 ${protocol}" 200 0`)?.access.version;
    expect(version('HTTP/1.1')).toBe('1.1');
    expect(version('HTTP/3')).toBe('3');
    expect(version('RTSP/1.0')).toBe('RTSP/1.0');
  });

  it("takes nginx's trailing X-Forwarded-For when it is not `-`", () => {
    const line = `10.0.0.5 - - ${T} "GET / HTTP/1.1" 200 5 "-" "ua" "198.51.100.7, 10.0.0.1"`;
    expect(parseAccessLog(line)?.extras).toEqual({ forwarded_for: '198.51.100.7, 10.0.0.1' });
    expect(parseAccessLog(line)?.access.client).toBe('10.0.0.5');
    expect(parseAccessLog(`10.0.0.5 - - ${T} "GET / HTTP/1.1" 200 5 "-" "ua" "-"`)).not.toHaveProperty(
      'extras',
    );
  });

  it('reads vhost_combined with its port, and a bracketed IPv6 virtual host', () => {
    const r = parseAccessLog(`www.example.com:443 198.51.100.2 - - ${T} "GET / HTTP/1.1" 200 10 "-" "ua"`);
    expect(r?.extras).toEqual({ vhost: 'www.example.com', vhost_port: 443 });
    expect(r?.access.client).toBe('198.51.100.2');
    const v6 = parseAccessLog(`[2001:db8::1]:8080 198.51.100.2 - - ${T} "GET / HTTP/1.1" 200 10`);
    expect(v6?.extras).toEqual({ vhost: '2001:db8::1', vhost_port: 8080 });
    expect(v6?.access.client).toBe('198.51.100.2');
  });

  it('reads a virtual host before a chain', () => {
    const r = parseAccessLog(
      `example.com:80 "10.5.0.1, 192.0.2.44" 10.2.1.185 - - ${T} "GET / HTTP/1.1" 200 1`,
    );
    expect(r?.extras).toEqual({
      vhost: 'example.com',
      vhost_port: 80,
      client_chain: ['10.5.0.1', '192.0.2.44', '10.2.1.185'],
    });
    expect(r?.access.client).toBe('192.0.2.44');
  });

  it('keeps a unix-socket client as written', () => {
    expect(parseAccessLog(`unix: - - ${T} "GET /ping HTTP/1.1" 200 2`)?.access.client).toBe('unix:');
  });

  it('leaves the tail after the agent (timings, upstreams) in the message only', () => {
    const r = parseAccessLog(`192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 12 "-" "ua" rt=0.003 uct="0.000"`);
    expect(r?.access).toEqual({ client: '192.0.2.1', ...GET('/'), status: 200, bytes: 12, agent: 'ua' });
    expect(parseAccessLog(`192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 12 1534`)?.access.bytes).toBe(12); // Apache %D
  });
});

describe('parseAccessLog: awkward values', () => {
  it('undoes Apache escapes inside quoted values and keeps \\xHH as written', () => {
    const r = parseAccessLog(
      `192.0.2.1 - - ${T} "GET /a\\"b HTTP/1.1" 200 1 "-" "Mozilla/5.0 \\"quoted\\" \\\\ end\\\\"`,
    );
    expect(r?.access.url).toBe('/a"b');
    expect(r?.access.agent).toBe('Mozilla/5.0 "quoted" \\ end\\');
    const nginx = parseAccessLog(`192.0.2.1 - - ${T} "GET /x HTTP/1.1" 200 1 "-" "say \\x22hi\\x22"`);
    expect(nginx?.access.agent).toBe('say \\x22hi\\x22');
  });

  it('keeps a request that is not METHOD TARGET PROTOCOL whole (an extra), without a method', () => {
    const tls = parseAccessLog(`192.0.2.1 - - ${T} "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"`);
    expect(tls?.access).toEqual({ client: '192.0.2.1', status: 400, bytes: 157 });
    expect(tls?.extras).toEqual({ request: '\\x16\\x03\\x01\\x02\\x00\\x01' });
    for (const request of ['GET /', 'get / HTTP/1.1', 'GET / HTTP/x', 'GET  HTTP/1.1', 'hello']) {
      const r = parseAccessLog(`192.0.2.1 - - ${T} "${request}" 400 0`);
      expect(r?.extras?.request, request).toBe(request);
      expect(r?.access.method, request).toBeUndefined();
      expect(r?.access.url, request).toBeUndefined();
    }
  });

  it('splits methods with dashes and paths with spaces', () => {
    expect(parseAccessLog(`192.0.2.1 - - ${T} "VERSION-CONTROL /r HTTP/1.1" 200 0`)?.access.method).toBe(
      'VERSION-CONTROL',
    );
    expect(parseAccessLog(`192.0.2.1 - - ${T} "GET /a b HTTP/1.1" 400 0`)?.access.url).toBe('/a b');
    expect(parseAccessLog(`192.0.2.1 - - ${T} "PRI * HTTP/2.0" 400 0`)?.access).toMatchObject({
      method: 'PRI',
      url: '*',
      version: '2.0',
    });
  });

  it('reads IPv6 clients, written short, long and with a zone', () => {
    for (const client of ['::1', '2001:db8::8a2e:370:7334', 'fe80::1%eth0', '::ffff:192.0.2.1']) {
      expect(parseAccessLog(`${client} - - ${T} "GET / HTTP/1.1" 200 1`)?.access.client).toBe(client);
    }
  });

  it('keeps a user name, and leaves out `-`', () => {
    expect(parseAccessLog(`192.0.2.1 - alice@example.com ${T} "GET / HTTP/1.1" 200 1`)?.access.user).toBe(
      'alice@example.com',
    );
    expect(parseAccessLog(`192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 1`)?.access).not.toHaveProperty('user');
  });
});

describe('parseAccessLog: not access lines', () => {
  it.each([
    ['empty', ''],
    ['prose', 'Starting nginx - version 1.25.3 [worker 1]'],
    ['nginx error log', '2016/10/25 14:49:34 [error] 54053#0: *1 open() failed (2: No such file)'],
    ['apache error log', '[Mon Dec 26 16:22:08 2016] [error] [client 192.168.33.1] File does not exist'],
    ['JSON', '{"remote_addr":"1.2.3.4","time":"10/Oct/2023:13:55:36 -0700"}'],
    ['no time', '192.0.2.1 - - [yesterday] "GET / HTTP/1.1" 200 1'],
    ['time without zone', '192.0.2.1 - - [10/Oct/2023:13:55:36] "GET / HTTP/1.1" 200 1'],
    ['unclosed request', `192.0.2.1 - - ${T} "GET / HTTP/1.1 200 1`],
    ['status of two digits', `192.0.2.1 - - ${T} "GET / HTTP/1.1" 20 1`],
    ['status of four digits', `192.0.2.1 - - ${T} "GET / HTTP/1.1" 2000 1`],
    ['no bytes', `192.0.2.1 - - ${T} "GET / HTTP/1.1" 200`],
    ['bytes not a number', `192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 12k`],
    ['no request', `192.0.2.1 - - ${T} 200 1`],
    ['odd characters before the dash', `error! - - ${T} "GET / HTTP/1.1" 200 1`],
    ['a quote left open in the address', `"10.0.0.1, 10.0.0.2 - - ${T} "GET / HTTP/1.1" 200 1`],
  ])('%s', (_name, line) => {
    expect(parseAccessLog(line)).toBeUndefined();
  });

  it('says no cheaply in the prefilter for the same lines', () => {
    expect(looksLikeAccessLog('Starting nginx - version 1.25.3 [worker 1]')).toBe(false);
    expect(looksLikeAccessLog('  192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 1')).toBe(
      false,
    );
    expect(looksLikeAccessLog(`192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 1`)).toBe(true);
  });
});

describe('readAddresses', () => {
  const read = (head: string) => readAddresses(head, head.length);

  it('reads chains, quoted lists and virtual hosts', () => {
    expect(read('10.0.0.2, 10.0.0.1')).toEqual({
      client: '10.0.0.2',
      chain: ['10.0.0.2', '10.0.0.1'],
      vhost: undefined,
      vhostPort: undefined,
    });
    expect(read('"203.0.113.1, 10.0.0.1" 10.0.0.9')?.chain).toEqual(['203.0.113.1', '10.0.0.1', '10.0.0.9']);
    expect(read('example.com localhost, localhost')).toMatchObject({
      vhost: 'example.com',
      client: 'localhost',
      chain: ['localhost', 'localhost'],
    });
    expect(read('1.128.3.4:80 127.0.0.1')).toMatchObject({
      vhost: '1.128.3.4',
      vhostPort: 80,
      client: '127.0.0.1',
    });
    expect(read('fe80::1 10.0.0.1')).toMatchObject({ vhost: 'fe80::1', vhostPort: undefined });
    expect(read('host:99999 10.0.0.1')).toMatchObject({ vhost: 'host:99999', vhostPort: undefined });
  });

  it('refuses what is not a list of addresses', () => {
    expect(read('""')).toBeUndefined();
    expect(read('"a, b')).toBeUndefined();
    expect(read('a"b c')).toBeUndefined();
    expect(read(', ,')).toBeUndefined();
  });
});

describe('chooseClient and isPublicIp', () => {
  it('picks the first public address, else the first entry', () => {
    expect(chooseClient(['10.0.0.1', '192.168.1.1', '203.0.113.5', '198.51.100.1'])).toBe('203.0.113.5');
    expect(chooseClient(['10.0.0.1', '172.16.0.1'])).toBe('10.0.0.1');
    expect(chooseClient(['unknown', '10.0.0.1'])).toBe('unknown');
    expect(chooseClient(['fd00::1', '2001:db8::1'])).toBe('2001:db8::1');
  });

  it.each([
    ['203.0.113.5', true],
    ['172.15.0.1', true],
    ['172.32.0.1', true],
    ['2a03:0000:10ff:f00f:0000:0000:0:8000', true],
    ['10.1.2.3', false],
    ['127.0.0.1', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.0.1', false],
    ['999.1.1.1', false],
    ['::1', false],
    ['0:0:0:0:0:0:0:1', false],
    ['fd12:3456::1', false],
    ['fe80::1', false],
    ['localhost', false],
    ['unknown', false],
    ['dead', false],
  ])('%s -> %s', (a, expected) => {
    expect(isPublicIp(a)).toBe(expected);
  });
});
