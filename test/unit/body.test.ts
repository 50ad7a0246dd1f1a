import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEVERITY } from '../../src/core/event.js';
import { MAX_JSON_DEPTH, parseBody } from '../../src/transforms/body.js';

const { emerg, crit, err, warning, notice, info, debug } = SEVERITY;

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../fixtures/beats/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);

describe('parseBody: JSON', () => {
  it('keeps the whole object as fields and takes msg and level', () => {
    const r = parseBody('{"level":"error","msg":"db down","retry":{"n":3,"in":"5s"},"tags":["a","b"]}');
    expect(r).toEqual({
      format: 'json',
      message: 'db down',
      severity: err,
      fields: { level: 'error', msg: 'db down', retry: { n: 3, in: '5s' }, tags: ['a', 'b'] },
    });
  });

  it('reads pino numeric levels and its time', () => {
    const r = parseBody('{"level":40,"time":1714564800000,"pid":1,"hostname":"web","msg":"slow query"}');
    expect(r?.severity).toBe(warning);
    expect(r?.message).toBe('slow query');
    expect(r?.timestamp).toBeUndefined(); // a number: left to the caller, in fields
    expect(r?.fields?.time).toBe(1714564800000);
  });

  it('reads `message`, `@message`, `lvl`, `severity`, `log.level` and nested log.level', () => {
    expect(parseBody('{"message":"m","lvl":"warn"}')).toMatchObject({ message: 'm', severity: warning });
    expect(parseBody('{"@message":"m","severity":"CRITICAL"}')).toMatchObject({
      message: 'm',
      severity: crit,
    });
    expect(parseBody('{"log.level":"debug","message":"m"}')).toMatchObject({ severity: debug });
    expect(parseBody('{"log":{"level":"notice"},"message":"m"}')).toMatchObject({ severity: notice });
    expect(parseBody('{"level":"panic","msg":"x"}')?.severity).toBe(crit);
  });

  it('takes the first level key that means something', () => {
    expect(parseBody('{"level":"custom","severity":"error"}')?.severity).toBe(err);
  });

  it('reports the line time as written', () => {
    expect(parseBody('{"@timestamp":"2020-04-14T14:05:58.019Z","message":"x"}')?.timestamp).toBe(
      '2020-04-14T14:05:58.019Z',
    );
    expect(parseBody('{"ts":"2024-05-01T12:00:00Z"}')?.timestamp).toBe('2024-05-01T12:00:00Z');
  });

  it('keeps an object without message or level as fields only', () => {
    expect(parseBody('{"a":1} ')).toEqual({ format: 'json', fields: { a: 1 } });
  });

  it('ignores a non-string message field', () => {
    const r = parseBody('{"msg":{"text":"x"},"level":"info"}');
    expect(r?.severity).toBe(info);
    expect(r && 'message' in r).toBe(false);
  });

  it('treats broken or non-object JSON as plain text', () => {
    for (const s of ['{"a":', '{"a": 1', '{not json}', '{}x', '[1,2,3]', '"just a string"', '{"a":1}}']) {
      expect(parseBody(s)).toBeUndefined();
    }
  });

  it('leaves JSON nested too deep to store as plain text (found by the fuzzer)', () => {
    // 5000 levels: JSON.stringify, which every store and the disk buffer use, threw on it.
    const deep = (n: number) => `{"msg":"deep","v":${'['.repeat(n)}1${']'.repeat(n)}}`;
    expect(parseBody(deep(5000))).toBeUndefined();
    expect(parseBody(deep(MAX_JSON_DEPTH))).toBeUndefined();
    expect(parseBody(deep(MAX_JSON_DEPTH - 1))?.message).toBe('deep');
    const nestedObjects = `{"msg":"x","a":${'{"a":'.repeat(MAX_JSON_DEPTH - 1)}1${'}'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(() => JSON.stringify(parseBody(nestedObjects)?.fields)).not.toThrow();
    expect(parseBody(nestedObjects)?.format).toBe('json');
  });

  it('keeps a "__proto__" key as data', () => {
    const r = parseBody('{"__proto__":{"polluted":true},"msg":"x"}');
    expect(Object.hasOwn(r!.fields!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads the Elasticsearch 8 JSON log line (elastic/beats sample)', () => {
    const [line] = fixture('elasticsearch-8-json.log');
    const r = parseBody(line!);
    expect(r?.format).toBe('json');
    expect(r?.severity).toBe(info);
    expect(r?.message).toBe('adding template [.management-beats] for index patterns [.management-beats]');
    expect(r?.timestamp).toBe('2020-04-14T14:05:58.019Z');
    expect(r?.fields?.['cluster.name']).toBe('elasticsearch');
  });
});

describe('parseBody: logfmt', () => {
  it('reads pairs, quoted values with escapes, and msg and level', () => {
    const r = parseBody('time=2024-05-01T12:00:00Z level=warn msg="disk \\"data\\" at 91%" path=/var/lib x=');
    expect(r).toEqual({
      format: 'logfmt',
      message: 'disk "data" at 91%',
      severity: warning,
      timestamp: '2024-05-01T12:00:00Z',
      fields: {
        time: '2024-05-01T12:00:00Z',
        level: 'warn',
        msg: 'disk "data" at 91%',
        path: '/var/lib',
        x: '',
      },
    });
  });

  it('unescapes \\n, \\t, \\\\ and \\u, keeps unknown escapes', () => {
    const r = parseBody('a=1 msg="l1\\nl2\\tt \\\\ \\u00e9 \\q"');
    expect(r?.message).toBe('l1\nl2\tt \\ é \\q');
  });

  it('keeps `=` inside a value (URLs) and reads dotted keys', () => {
    const r = parseBody('url=http://x/?a=b&c=d log.level=error');
    expect(r?.fields).toEqual({ url: 'http://x/?a=b&c=d', 'log.level': 'error' });
    expect(r?.severity).toBe(err);
  });

  it('needs two pairs and nothing else', () => {
    expect(parseBody('level=error')).toBeUndefined();
    expect(parseBody('level=error something failed')).toBeUndefined();
    expect(parseBody('a=1 b="unterminated')).toBeUndefined();
    expect(parseBody('a=1 b="x"y')).toBeUndefined();
    expect(parseBody('Options: x=1 y=2')).toBeUndefined();
    expect(parseBody('-Dfoo=bar -Dbaz=1')).toBeUndefined();
  });

  it('keeps a "__proto__" key as data', () => {
    const r = parseBody('__proto__=x msg=y');
    expect(Object.hasOwn(r!.fields!, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(r!.fields!, '__proto__')?.value).toBe('x');
  });
});

describe('parseBody: syslog PRI', () => {
  it('reads severity and facility and returns the message after it', () => {
    expect(parseBody('<34>Oct 11 22:14:15 mymachine su: failed')).toEqual({
      format: 'pri',
      severity: crit,
      facility: 4,
      message: 'Oct 11 22:14:15 mymachine su: failed',
    });
    expect(parseBody('<191>x')).toMatchObject({ severity: debug, facility: 23 });
    expect(parseBody('<0>')).toEqual({ format: 'pri', severity: emerg, message: '' });
  });

  it('takes a PRI below 8 as a severity only (sd-daemon style)', () => {
    expect(parseBody('<3>something broke')).toEqual({
      format: 'pri',
      severity: err,
      message: 'something broke',
    });
  });

  it('rejects what is not a PRI', () => {
    for (const s of ['<192>x', '<013>x', '<>x', '<1234>x', '<12', '<html><body>', '<a>']) {
      expect(parseBody(s)).toBeUndefined();
    }
  });
});

describe('parseBody: leading level keyword', () => {
  it.each([
    ['ERROR something failed', err],
    ['ERR something failed', err],
    ['WARN disk almost full', warning],
    ['WARNING: disk almost full', warning],
    ['INFO started', info],
    ['DEBUG x=1', debug],
    ['TRACE enter', debug],
    ['FATAL out of memory', crit],
    ['CRITICAL out of memory', crit],
    ['NOTICE config reloaded', notice],
    ['[ERROR] bracketed', err],
    ['[error] bracketed', err],
    ['[Warning] mixed case', warning],
    ['ERRO[0000] logrus text format', err],
    ['INFO', info],
    ['2024-05-01 12:00:00,123 ERROR python logging', err],
    ['2024-05-01 12:00:00.123  INFO 1 --- [main] spring boot', info],
    ['2024-05-01T12:00:00Z WARN zap console', warning],
    ['2024-05-01T12:00:00.123456+02:00\tDEBUG\ttab separated', debug],
    ['[2024-05-01 12:00:00,123] ERROR log4j in brackets', err],
    ['2016/10/25 14:49:34 [error] nginx', err],
  ])('%s', (line, code) => {
    expect(parseBody(line)).toEqual({ format: 'keyword', severity: code });
  });

  it('does not take prose for a level', () => {
    for (const s of [
      'Error connecting to db',
      'Info about the thing',
      'ERRORS: 3',
      'ERR_CONNECTION_REFUSED',
      'INFORMATION',
      'I am ERROR',
      '2024-05-01 12:00:00 user logged in',
      '2024-05-01 12:00:00ERROR glued',
      '[10] something',
      '[main] INFO thread first',
    ]) {
      expect(parseBody(s)).toBeUndefined();
    }
  });

  it('reads the level of real log4j, Apache and nginx lines (elastic/beats samples)', () => {
    expect(fixture('kafka-server.log').map((l) => parseBody(l)?.severity)).toEqual([info, info, warning]);
    expect(fixture('apache-error.log').map((l) => parseBody(l)?.severity)).toEqual([err, notice, err]);
    expect(fixture('nginx-error.log').map((l) => parseBody(l)?.severity)).toEqual([err, err]);
  });

  it('leaves formats it does not know to later parsers (MySQL puts a thread id first)', () => {
    expect(fixture('mysql-8.0.15-error.log').map((l) => parseBody(l))).toEqual([undefined, undefined]);
  });
});

describe('parseBody: access logs', () => {
  it('reads an Apache common line into its ECS facts, with no fields and no level of its own', () => {
    expect(
      parseBody('127.0.0.1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209'),
    ).toEqual({
      format: 'access',
      timestamp: '26/Dec/2016:16:16:29 +0200',
      access: {
        client: '127.0.0.1',
        method: 'GET',
        url: '/favicon.ico',
        version: '1.1',
        status: 404,
        bytes: 209,
      },
    });
  });

  it('keeps what ECS has no field for (a proxy chain, a virtual host) in fields', () => {
    expect(
      parseBody(
        'example.com:443 10.0.0.2, 192.0.2.7 - - [26/Dec/2016:16:16:29 +0200] "GET / HTTP/1.1" 200 9',
      ),
    ).toEqual({
      format: 'access',
      timestamp: '26/Dec/2016:16:16:29 +0200',
      access: { client: '192.0.2.7', method: 'GET', url: '/', version: '1.1', status: 200, bytes: 9 },
      fields: { vhost: 'example.com', vhost_port: 443, client_chain: ['10.0.0.2', '192.0.2.7'] },
    });
  });
});

describe('parseBody: plain text', () => {
  it('returns undefined', () => {
    for (const s of [
      '',
      'Starting server on :8080',
      '    at Object.<anonymous> (/app/index.js:1:1)',
      'GET /api?a=b c=d',
      '12345',
    ]) {
      expect(parseBody(s)).toBeUndefined();
    }
  });
});
