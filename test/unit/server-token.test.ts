import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { type QueryArgs, queryCommand } from '../../src/cli/query.js';
import { authRefusal, loadServerToken } from '../../src/cli/server-token.js';
import { FakeReader } from '../helpers/fake-reader.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `logwharf query --server` authenticates with a token from --token-file or $LOGWHARF_TOKEN
 * (never a command-line value), refuses unusable ones clearly, and never prints a token.
 * Against a real `logwharf run`: test/e2e/cli.test.ts.
 */

const TOKEN = 'tok-3f9a1c7e5b2d4a6f8e0c';
const READ_ONLY = { token: TOKEN, role: 'read' as const };

describe('where the token comes from', () => {
  it('is none without --token-file or LOGWHARF_TOKEN', async () => {
    expect(await loadServerToken({ env: {} })).toBeNull();
  });

  it('reads $LOGWHARF_TOKEN, trimmed', async () => {
    expect(await loadServerToken({ env: { LOGWHARF_TOKEN: ` ${TOKEN}\n` } })).toEqual({
      token: TOKEN,
      from: 'LOGWHARF_TOKEN',
    });
  });

  it('reads --token-file, trimmed (a trailing newline, CRLF), before $LOGWHARF_TOKEN', async () => {
    const dir = await tempDir('lw-token-');
    for (const text of [TOKEN, `${TOKEN}\n`, `  ${TOKEN}\r\n`]) {
      writeFileSync(join(dir, 'token'), text);
      expect(
        await loadServerToken({ tokenFile: join(dir, 'token'), env: { LOGWHARF_TOKEN: 'another-token' } }),
      ).toEqual({ token: TOKEN, from: `--token-file ${join(dir, 'token')}` });
    }
  });

  it.each([
    ['an empty file', '', /: the file is empty; write the token into it$/],
    ['a blank file', ' \n\n', /: the file is empty; write the token into it$/],
    ['two lines', `${TOKEN}\n${TOKEN}\n`, /: expected one token on one line, found whitespace/],
    ['a YAML file', `token: ${TOKEN}\n`, /: expected one token on one line/],
  ])('refuses %s, without printing it', async (_name, text, message) => {
    const dir = await tempDir('lw-token-');
    const file = join(dir, 'token');
    writeFileSync(file, text);
    const err = await loadServerToken({ tokenFile: file, env: {} }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'LOGWHARF_ERR_USAGE', message });
    expect((err as Error).message.startsWith(`--token-file ${file}: `)).toBe(true);
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('says why a token file cannot be read', async () => {
    const dir = await tempDir('lw-token-');
    await expect(loadServerToken({ tokenFile: join(dir, 'missing'), env: {} })).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_USAGE',
      message: `--token-file ${join(dir, 'missing')}: cannot read the token (no such file)`,
    });
    mkdirSync(join(dir, 'adir'));
    await expect(loadServerToken({ tokenFile: join(dir, 'adir'), env: {} })).rejects.toMatchObject({
      message: `--token-file ${join(dir, 'adir')}: cannot read the token (it is a directory)`,
    });
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'secret'), TOKEN);
      chmodSync(join(dir, 'secret'), 0o000);
      await expect(loadServerToken({ tokenFile: join(dir, 'secret'), env: {} })).rejects.toMatchObject({
        message: `--token-file ${join(dir, 'secret')}: cannot read the token (permission denied)`,
      });
    }
  });

  it('refuses an empty or spaced LOGWHARF_TOKEN', async () => {
    await expect(loadServerToken({ env: { LOGWHARF_TOKEN: '' } })).rejects.toMatchObject({
      code: 'LOGWHARF_ERR_USAGE',
      message: 'LOGWHARF_TOKEN: it is set but empty; set it to the token, or unset it',
    });
    await expect(loadServerToken({ env: { LOGWHARF_TOKEN: 'Bearer abc' } })).rejects.toMatchObject({
      message: /^LOGWHARF_TOKEN: expected one token on one line/,
    });
  });
});

describe('the message for a 401 or 403', () => {
  const origin = 'https://logs.example.net:8443';
  it('says what to set when no token was sent', () => {
    expect(authRefusal(origin, 401, null)).toBe(
      `${origin} needs a token (HTTP 401): set LOGWHARF_TOKEN or pass --token-file FILE with one of its http.auth.tokens`,
    );
  });
  it('names where a refused token came from, never the token', () => {
    const auth = { token: TOKEN, from: '--token-file /run/secrets/ops' };
    expect(authRefusal(origin, 401, auth)).toBe(
      `${origin} did not accept the token from --token-file /run/secrets/ops (HTTP 401): it must be one of the server's http.auth.tokens`,
    );
    expect(authRefusal(origin, 403, auth)).toBe(
      `${origin} refused the token from --token-file /run/secrets/ops (HTTP 403): its role may not search; use a token with role read or admin`,
    );
  });
});

describe('logwharf query --server against a logwharf with http.auth.tokens', () => {
  let app: FastifyInstance;
  let base: string;
  const served = new FakeReader();
  /** The Authorization header of each request the command made. */
  const seen: (string | undefined)[] = [];
  const recording = ((input: URL, init?: RequestInit) => {
    seen.push(new Headers(init?.headers).get('authorization') ?? undefined);
    return fetch(input, init);
  }) as typeof fetch;

  beforeAll(async () => {
    app = await buildApp({
      reader: served,
      status: { sources: () => [], ready: () => true },
      storeReady: async () => true,
      tokens: [READ_ONLY],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    served.result = {
      events: [{ '@timestamp': '2024-05-01T11:59:01.000000000Z', message: 'hello', event: { id: 'a' } }],
      nextCursor: null,
    };
  });

  afterAll(async () => {
    await app.close();
  });

  async function run(args: Partial<QueryArgs>, env: Record<string, string> = {}, doFetch?: typeof fetch) {
    let out = '';
    let err = '';
    const code = await queryCommand(
      { query: '', ...args },
      {
        openReader: async () => served,
        stdout: (s) => {
          out += s;
        },
        stderr: (s) => {
          err += s;
        },
        isTTY: false,
        env,
        fetch: doFetch ?? recording,
      },
    );
    expect(out + err).not.toContain(TOKEN);
    return { code, out, err };
  }

  it('sends the token from LOGWHARF_TOKEN as a bearer token', async () => {
    const r = await run({ server: base, json: true }, { LOGWHARF_TOKEN: TOKEN });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(r.out)).toMatchObject({ message: 'hello' });
    expect(seen.at(-1)).toBe(`Bearer ${TOKEN}`);
  });

  it('sends the token from --token-file', async () => {
    const dir = await tempDir('lw-token-');
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const r = await run({ server: base, tokenFile: join(dir, 'token') });
    expect(r.code).toBe(0);
    expect(seen.at(-1)).toBe(`Bearer ${TOKEN}`);
  });

  it('without a token: exit 1 and what to set', async () => {
    const r = await run({ server: base });
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `logwharf query: ${base} needs a token (HTTP 401): set LOGWHARF_TOKEN or pass --token-file FILE with one of its http.auth.tokens\n`,
    });
    expect(seen.at(-1)).toBeUndefined();
  });

  it('with a wrong token: exit 1, naming where it came from', async () => {
    const r = await run({ server: base }, { LOGWHARF_TOKEN: 'not-the-token-at-all' });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `logwharf query: ${base} did not accept the token from LOGWHARF_TOKEN (HTTP 401): it must be one of the server's http.auth.tokens\n`,
    );
  });

  it('with a token whose role may not search (403): exit 1, what role it needs', async () => {
    const forbidden = (async () =>
      new Response('{"error":"forbidden"}', { status: 403 })) as unknown as typeof fetch;
    const r = await run({ server: 'http://logs.example.net:8080' }, { LOGWHARF_TOKEN: TOKEN }, forbidden);
    expect(r.code).toBe(1);
    expect(r.err).toContain('refused the token from LOGWHARF_TOKEN (HTTP 403): its role may not search');
  });

  it('a bad token file is a usage error (exit 2), and no request is made', async () => {
    const before = seen.length;
    const r = await run({ server: base, tokenFile: '/nonexistent/token' });
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'logwharf query: --token-file /nonexistent/token: cannot read the token (no such file)\n',
    });
    expect(seen.length).toBe(before);
  });

  it('--token-file without --server is a usage error', async () => {
    const r = await run({ tokenFile: '/run/secrets/ops' });
    expect(r).toMatchObject({ code: 2, err: /--token-file is for --server/ });
  });
});
