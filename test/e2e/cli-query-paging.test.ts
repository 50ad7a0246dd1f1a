import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/core/answer.js';
import type { EcsDocument } from '../../src/core/ecs.js';
import { openEmbeddedReader } from '../../src/sinks/embedded/reader.js';
import { openEmbeddedStore } from '../../src/sinks/embedded/writer.js';
import { BIN, LogwharfProcess } from '../helpers/logwharf-process.js';
import { answerEventBytes, bigEvents, idOf, MiB } from '../helpers/search-bytes.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * `logwharf query` against a real `logwharf run` whose answers are cut at the byte budget
 * (8 MiB): the server's answer holds only part of what was asked for, and the CLI follows
 * next_cursor until it has --limit events, over HTTP (--server) and reading the store itself.
 */

const exec = promisify(execFile);
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
// 14 events of about 1 MiB: an answer of the default budget holds 7.
const EVENTS = bigEvents({ prefix: 'cli', count: 14, days: [DAY], sizes: [MiB], perTimestamp: 3 });
const FROM = `${DAY}T00:00:00Z`;

let dir: string | undefined;
let configFile: string;
let lw: LogwharfProcess | undefined;

beforeAll(async () => {
  dir = await tempDir('lw-cli-paging-');
  const store = await openEmbeddedStore({ dataDir: join(dir, 'data') });
  expect(await store.writer.write(EVENTS)).toEqual({ status: 'delivered' });
  await store.close();
  configFile = LogwharfProcess.writeConfig(
    dir,
    `data_dir: ${dir}/data\nhttp:\n  listen: 127.0.0.1:0\nsources:\n  docker:\n    enabled: false\n`,
  );
  lw = new LogwharfProcess(configFile);
  await lw.start();
});

afterAll(async () => {
  await lw?.kill('SIGTERM');
  if (dir) await removeTempDir(dir);
});

async function query(args: string[]): Promise<{ code: number; ids: string[]; stderr: string }> {
  const r = await exec(process.execPath, [BIN, 'query', '', '--from', FROM, '--json', ...args], {
    maxBuffer: 64 * MiB,
  }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  return { code: r.code, ids: lines.map((l) => idOf(JSON.parse(l))), stderr: r.stderr };
}

describe('logwharf query pages through answers cut by bytes', () => {
  it('--server: the server cuts its answer at the byte budget, and the CLI follows next_cursor to --limit', async () => {
    const res = await fetch(`${lw!.api.baseUrl}/api/v1/search?q=&from=${FROM}&limit=100`);
    const body = (await res.json()) as { events: EcsDocument[]; next_cursor: unknown; cut_by: unknown };
    expect(body).toMatchObject({ cut_by: 'max_bytes', next_cursor: expect.any(String) });
    expect(body.events).toHaveLength(7);
    expect(answerEventBytes(body)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);

    const all = await query(['--server', lw!.api.baseUrl, '--limit', '100']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.ids).toEqual(EVENTS.map((e) => e.id));
    const newest = await query(['--server', lw!.api.baseUrl, '--limit', '10']);
    expect(newest.ids).toEqual(EVENTS.slice(-10).map((e) => e.id));
  });

  it('reading the store itself: the store cuts its answer too, and the CLI follows the cursor', async () => {
    const reader = await openEmbeddedReader({ dataDir: join(dir!, 'data') });
    try {
      const r = await reader.search({ query: { type: 'all' }, from: FROM, limit: 100, order: 'desc' });
      expect(r).toMatchObject({ cutBy: 'max_bytes', nextCursor: expect.any(String) });
      expect(r.events).toHaveLength(7);
    } finally {
      await reader.close();
    }

    const all = await query(['--config', configFile, '--limit', '100']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.ids).toEqual(EVENTS.map((e) => e.id));
    const newest = await query(['--config', configFile, '--limit', '9']);
    expect(newest.ids).toEqual(EVENTS.slice(-9).map((e) => e.id));
  });
});
