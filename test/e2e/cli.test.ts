import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openElasticsearchStore } from '../../src/sinks/elasticsearch/writer.js';
import { deleteIndices, esClient, esTestConfig, esUrl, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { BIN } from '../helpers/logwharf-process.js';
import { tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);

async function logwharf(args: string[], env: NodeJS.ProcessEnv = {}) {
  return exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe('the logwharf command line', () => {
  it('check-config accepts the shipped configs', async () => {
    for (const file of ['config/logwharf.yaml', 'config/example.yaml']) {
      const r = await logwharf(['check-config', '--config', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`config OK: ${file}`);
    }
  });

  it('run refuses a bad config with the key, the file and line, and what was expected', async () => {
    const dir = await tempDir('lw-cli-');
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'data_dir: ./data\nhttp:\n  listen: nowhere\nsorces: {}\n');
    const r = await logwharf(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:11: http.listen:`);
    expect(r.stderr).toMatch(/host:port/);
    expect(r.stderr).toContain(`${file}:4:1: sorces: unknown key 'sorces'; did you mean 'sources'?`);
    expect(r.stderr).toContain('[LOGWHARF_ERR_CONFIG]');
  });

  it('run refuses a non-loopback listen address without tokens or an explicit auth: none', async () => {
    const r = await logwharf(['run', '--config', 'config/logwharf.yaml'], {
      LOGWHARF_HTTP_LISTEN: '0.0.0.0:8080',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LOGWHARF_HTTP_LISTEN');
    expect(r.stderr).toContain('auth');
  });

  it('explains its usage and refuses unknown commands and options', async () => {
    expect((await logwharf(['--help'])).stdout).toContain('logwharf query QUERY');
    const unknown = await logwharf(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badOption = await logwharf(['query', 'x', '--limit', 'lots']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('--limit');
  });
});

describe('logwharf query on Elasticsearch', () => {
  it('reads the cluster the config names, with the same query language and output', async () => {
    const prefix = uniqueIndexPrefix();
    const dir = await tempDir('lw-cli-es-');
    const es = await openElasticsearchStore({
      config: esTestConfig(prefix),
      dataDir: dir,
      log: pino({ level: 'silent' }),
      template: { replicas: 0 },
    });
    try {
      const at = (s: number) => `2026-11-27T01:00:0${s}.000000000Z`;
      const base = { dataset: 'syslog' as const, ingested: at(9), facility: 1, host: 'edge' };
      expect(
        await es.writer.write([
          { ...base, id: 'q1', timestamp: at(1), message: 'disk almost full', severity: 4, service: 'df' },
          { ...base, id: 'q2', timestamp: at(2), message: 'disk full', severity: 2, service: 'df' },
          { ...base, id: 'q3', timestamp: at(3), message: 'all good', severity: 6, service: 'df' },
        ]),
      ).toEqual({ status: 'delivered' });
      await esClient().indices.refresh({ index: `${prefix}-*` });
      const file = join(dir, 'es.yaml');
      await writeFile(
        file,
        `data_dir: ${dir}/data\nstore:\n  kind: elasticsearch\n  elasticsearch:\n    nodes: ["${esUrl()}"]\n    index_prefix: ${prefix}\n`,
      );
      const r = await logwharf([
        'query',
        'disk level>=warning',
        '--config',
        file,
        '--from',
        '2026-11-27T00:00:00Z',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toEqual([
        `edge/df  | ${at(1)} disk almost full`,
        `edge/df  | ${at(2)} disk full`,
      ]);
    } finally {
      await es.close();
      await deleteIndices(prefix);
    }
  });
});
