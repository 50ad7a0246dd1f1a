/**
 * Where the Docker engine is and whether it answers. Shared by `npm run services` and the test
 * helpers, so both resolve the same address and fail with the same words.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { waitFor } from './poll.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface EngineAddress {
  /** As DOCKER_HOST would spell it: unix:///var/run/docker.sock, tcp://host:2375, ... */
  dockerHost: string;
  /** The user pointed DOCKER_HOST somewhere else than the default socket: we must not start our own. */
  fromEnv: boolean;
}

export function engineAddress(env: NodeJS.ProcessEnv = process.env): EngineAddress {
  const host = env.DOCKER_HOST?.trim();
  if (!host || host === `unix://${DEFAULT_SOCKET}`)
    return { dockerHost: `unix://${DEFAULT_SOCKET}`, fromEnv: false };
  return { dockerHost: host, fromEnv: true };
}

/** The unix socket path of an address, or undefined for tcp/ssh engines. */
export function unixSocketPath(address: EngineAddress): string | undefined {
  return address.dockerHost.startsWith('unix://') ? address.dockerHost.slice('unix://'.length) : undefined;
}

/**
 * `GET /_ping`, with node's own http client: importing dockerode here would cost the
 * already-running case a third of a second. Never throws: the reason says why the engine did not
 * answer (ENOENT, ECONNREFUSED, HTTP 500, ...).
 */
export async function pingEngine(address: EngineAddress, timeoutMs = 3000): Promise<PingResult> {
  try {
    const body = await get(address, '/_ping', timeoutMs);
    return body.trim() === 'OK'
      ? { ok: true }
      : { ok: false, reason: `unexpected answer ${JSON.stringify(body)}` };
  } catch (err) {
    return { ok: false, reason: errorReason(err) };
  }
}

export type PingResult = { ok: true } | { ok: false; reason: string };

/** Polls until the engine answers a ping; `signal` ends the wait early (the daemon died). */
export async function waitForEngine(
  address: EngineAddress,
  o: { timeoutMs: number; intervalMs: number; what: string; signal?: AbortSignal },
): Promise<void> {
  await waitFor(async () => {
    const ping = await pingEngine(address, 2000);
    if (!ping.ok) throw new Error(ping.reason);
    return true;
  }, o);
}

interface Target {
  client: typeof http | typeof https;
  options: https.RequestOptions;
}

/** How to send a request to the engine: its socket, or host and port (TLS as the docker CLI decides it). */
async function target(address: EngineAddress): Promise<Target> {
  const socketPath = unixSocketPath(address);
  if (socketPath) return { client: http, options: { socketPath } };
  if (!/^(tcp|http|https):\/\//.test(address.dockerHost)) {
    throw new Error(`unsupported DOCKER_HOST scheme in ${address.dockerHost} (use unix:// or tcp://)`);
  }
  const url = new URL(address.dockerHost.replace(/^tcp:/, 'http:'));
  const tls = process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376' || url.protocol === 'https:';
  const options: https.RequestOptions = { host: url.hostname, port: url.port || (tls ? 2376 : 2375) };
  const certs = process.env.DOCKER_CERT_PATH;
  if (tls && certs) {
    const [ca, cert, key] = await Promise.all(
      ['ca.pem', 'cert.pem', 'key.pem'].map((f) => readFile(join(certs, f))),
    );
    Object.assign(options, { ca, cert, key });
  }
  return { client: tls ? https : http, options };
}

async function get(address: EngineAddress, path: string, timeoutMs: number): Promise<string> {
  const { client, options } = await target(address);
  return new Promise((resolve, reject) => {
    const req = client.get({ ...options, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        body += s;
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === 200) resolve(body);
        else reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
      });
    });
    req.on('timeout', () => {
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', reject);
  });
}

export function errorReason(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, statusCode, message } = err as { code?: unknown; statusCode?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof statusCode === 'number') return `HTTP ${statusCode}`;
    if (typeof message === 'string') return message;
  }
  return String(err);
}

/** What happened, for the start of a message: "docker: cannot reach the Docker engine at ... (ENOENT)". */
export function engineUnreachableHead(address: EngineAddress, reason: string): string {
  return `docker: cannot reach the Docker engine at ${address.dockerHost} (${reason})`;
}

/** What to say when no engine answers: what happened, then every way to provide one. */
export function engineUnreachableMessage(address: EngineAddress, reason: string): string {
  const head = engineUnreachableHead(address, reason);
  if (address.fromEnv) {
    return `${head} — DOCKER_HOST is set, so no engine is started here: start the engine it names, or unset DOCKER_HOST.`;
  }
  return (
    `${head} — run \`npm run services\` (as root on Debian/Ubuntu it installs docker.io and starts dockerd), ` +
    'or install Docker and start it yourself, or set DOCKER_HOST to an engine that answers.'
  );
}
