import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { FakeReader } from '../helpers/fake-reader.js';

/**
 * The HTTP API logs into logwharf's own log (the service's pino logger, as `logwharf run` gives
 * it): a 5xx at error level with its request id, the id the client got in `request-id`; never
 * a token or an Authorization header.
 */

const TOKEN = 'secret-token-0123456789abcdef';

interface Line {
  level: number | string;
  msg: string;
  request_id?: string;
  err?: { message?: string; type?: string };
  [key: string]: unknown;
}

/** logwharf's logger (createLogger, as `run` makes it) writing into an array. */
function capture(level = 'trace') {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      done();
    },
  });
  return { log: createLogger(level, sink), raw, lines: () => raw.map((l) => JSON.parse(l) as Line) };
}

const isError = (l: Line) => l.level === 50 || l.level === 'error';

async function appWith(log: ReturnType<typeof capture>['log'], reader: FakeReader) {
  return buildApp({
    reader,
    status: { sources: () => [], ready: () => true },
    storeReady: async () => true,
    tokens: [{ token: TOKEN, role: 'read' }],
    logger: log,
  });
}

describe('the HTTP API in logwharf log', () => {
  it('logs a 500 at error level with the request id the client got, and the error', async () => {
    const c = capture('info');
    const reader = new FakeReader();
    reader.failWith = new TypeError('the reader broke: cannot read properties of undefined');
    const app = await appWith(c.log, reader);
    try {
      const res = await app.inject({
        url: '/api/v1/search?q=x',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.statusCode).toBe(500);
      const id = res.headers['request-id'];
      expect(typeof id).toBe('string');
      expect(res.json().request_id).toBe(id);
      const errors = c.lines().filter(isError);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        request_id: id,
        msg: 'request failed',
        status: 500,
        route: '/api/v1/search',
        err: { type: 'TypeError', message: 'the reader broke: cannot read properties of undefined' },
      });
    } finally {
      await app.close();
    }
  });

  it('logs a 4xx below error level, and a probe that answers 503 at debug', async () => {
    const c = capture('trace');
    const app = await buildApp({
      reader: new FakeReader(),
      status: { sources: () => [], ready: () => false },
      storeReady: async () => true,
      logger: c.log,
    });
    try {
      expect((await app.inject('/api/v1/search?q=(')).statusCode).toBe(400);
      expect((await app.inject('/readyz')).statusCode).toBe(503);
      expect(c.lines().filter(isError)).toEqual([]);
      expect(c.lines().map((l) => l.msg)).toEqual([
        'request rejected',
        'request answered with a server error',
      ]);
    } finally {
      await app.close();
    }
  });

  it('never writes a token, with the right one, a wrong one, on a failing request and at trace level', async () => {
    const c = capture('trace');
    const reader = new FakeReader();
    reader.failWith = new Error('store gone');
    const app = await appWith(c.log, reader);
    try {
      for (const url of ['/api/v1/search?q=x', '/api/v1/sources', '/readyz', '/nope']) {
        for (const token of [TOKEN, 'wrong-token-0123456789abcdef']) {
          await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
        }
      }
      expect(c.raw.length).toBeGreaterThan(0);
      for (const line of c.raw) {
        expect(line).not.toContain(TOKEN);
        expect(line).not.toContain('wrong-token');
        expect(line.toLowerCase()).not.toContain('bearer');
      }
    } finally {
      await app.close();
    }
  });

  it('redacts an Authorization header or a token wherever a log line would carry one', () => {
    const c = capture('info');
    c.log.info({ req: { headers: { authorization: `Bearer ${TOKEN}` } } }, 'a request');
    c.log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'headers');
    c.log.info({ auth: { token: TOKEN }, tokens: [{ token: TOKEN, role: 'read' }] }, 'a config');
    expect(c.raw).toHaveLength(3);
    for (const line of c.raw) expect(line).not.toContain(TOKEN);
    expect(c.lines()[0]).toMatchObject({ req: { headers: { authorization: '[redacted]' } } });
  });
});
