import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { FakeReader } from '../helpers/fake-reader.js';

const reader = new FakeReader();
const status = { sources: () => [], ready: () => true };
const TOKEN = 'a-long-enough-read-token';

async function app() {
  return buildApp({ reader, status, storeReady: async () => true, tokens: [{ token: TOKEN, role: 'read' }] });
}

describe('bearer tokens (http.auth.tokens)', () => {
  it.each(['/api/v1/search?q=x', '/api/v1/histogram?q=x'])(
    'refuses %s without a token, naming what to send',
    async (url) => {
      const res = await (await app()).inject({ url });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="logwharf"');
      expect(res.json()).toMatchObject({
        error: 'unauthorized',
        message: expect.stringContaining('Authorization: Bearer'),
      });
    },
  );

  it('refuses a wrong token, and one that is only a prefix of a right one', async () => {
    const a = await app();
    for (const token of ['wrong-token-of-some-length', TOKEN.slice(0, -1)]) {
      const res = await a.inject({ url: '/api/v1/sources', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('serves every guarded route with a configured token', async () => {
    const a = await app();
    for (const url of ['/api/v1/search', '/api/v1/histogram', '/api/v1/sources', '/metrics', '/']) {
      const res = await a.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it.each(['/healthz', '/readyz'])('leaves %s open for probes, which cannot send a token', async (url) => {
    expect((await (await app()).inject({ url })).statusCode).toBe(200);
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer wrong-token-of-some-length'],
    ['a malformed header', 'Basic dXNlcjpwYXNz'],
    ['the right token', `Bearer ${TOKEN}`],
  ])(
    'answers /readyz to a probe with %s, ready or not, revealing only what fails',
    async (_what, authorization) => {
      let ready = true;
      const a = await buildApp({
        reader,
        status: { sources: () => [], ready: () => ready },
        storeReady: async () => true,
        tokens: [{ token: TOKEN, role: 'read' }],
      });
      const headers = authorization ? { authorization } : {};
      const up = await a.inject({ url: '/readyz', headers });
      expect([up.statusCode, up.json()]).toEqual([200, { status: 'ready' }]);
      ready = false;
      const down = await a.inject({ url: '/readyz', headers });
      expect([down.statusCode, down.json()]).toEqual([
        503,
        { status: 'not_ready', failing: ['docker: engine unreachable'] },
      ]);
    },
  );

  it('needs no token when none are configured', async () => {
    const open = await buildApp({ reader, status, storeReady: async () => true });
    expect((await open.inject({ url: '/api/v1/sources' })).statusCode).toBe(200);
  });
});
