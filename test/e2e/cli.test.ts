import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openElasticsearchStore } from '../../src/sinks/elasticsearch/writer.js';
import { deleteIndices, esClient, esTestConfig, esUrl, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { KUBERNETES_SERVICE_LOGWHARF } from '../helpers/kubernetes-env.js';
import { BIN, LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { sendWithLogger, writeSyslogRunConfig } from '../helpers/syslog-run.js';
import { tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);

const running: LogwharfProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill('SIGTERM');
});

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

/** A `logwharf run` taking syslog over TCP, in its own temp dir; `http` is YAML added under `http:`. */
async function startRun(http: string, env: NodeJS.ProcessEnv = {}): Promise<LogwharfProcess> {
  const config = writeSyslogRunConfig(await tempDir('lw-cli-run-'), http);
  const lw = new LogwharfProcess(config, env);
  running.push(lw);
  await lw.start();
  return lw;
}

describe('a Kubernetes pod environment (Service logwharf)', () => {
  it('check-config accepts it; a typo next to it is still reported', async () => {
    const ok = await logwharf(
      ['check-config', '--config', 'config/logwharf.yaml'],
      KUBERNETES_SERVICE_LOGWHARF,
    );
    expect(ok.code, ok.stderr).toBe(0);
    const typo = await logwharf(['check-config', '--config', 'config/logwharf.yaml'], {
      ...KUBERNETES_SERVICE_LOGWHARF,
      LOGWHARF_HTTP_LISTN: '0.0.0.0:8080',
    });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      'LOGWHARF_HTTP_LISTN: unknown configuration variable; did you mean LOGWHARF_HTTP_LISTEN?',
    );
    expect(typo.stderr).not.toContain('LOGWHARF_SERVICE_HOST');
  });

  it('run starts, and says at debug level which variables it passed over', async () => {
    const lw = await startRun('', KUBERNETES_SERVICE_LOGWHARF);
    const note = lw.output
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => Array.isArray(l.variables));
    expect(note).toMatchObject({
      level: 'debug',
      msg: 'LOGWHARF_* variables of a Kubernetes Service named logwharf: not configuration, passed over',
    });
    expect(note.variables.sort()).toEqual(Object.keys(KUBERNETES_SERVICE_LOGWHARF).sort());
  });
});

describe("logwharf run's own log", () => {
  it('names its levels ("level":"info"), as operators read them', async () => {
    const lw = await startRun('');
    const lines = lw.output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'HTTP API listening')).toMatchObject({
      level: 'info',
      app: 'logwharf',
    });
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(l.level);
  });
});

describe('logwharf query --server against a logwharf with http.auth.tokens', () => {
  const TOKEN = 'e2e-tok-7c1d9a3f5b8e2a4c';

  it('works with the token from LOGWHARF_TOKEN or --token-file; without it says what to set; never prints it', async () => {
    const lw = await startRun(`  auth:\n    tokens:\n      - { token: ${TOKEN}, role: read }\n`);
    const server = lw.api.baseUrl;
    await sendWithLogger(lw, 'clitest', 'tokencheck arrived');
    const outputs: string[] = [];
    const query = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await logwharf(['query', 'tokencheck', '--server', server, ...args], env);
      outputs.push(r.stdout, r.stderr);
      return r;
    };

    const withEnv = await waitFor(
      async () => {
        const r = await query([], { LOGWHARF_TOKEN: TOKEN });
        if (r.code !== 0) throw new Error(`logwharf query exited ${r.code}: ${r.stderr}`);
        return r.stdout.includes('tokencheck arrived') ? r : null;
      },
      { timeoutMs: 30_000, what: 'the line through logwharf query --server with LOGWHARF_TOKEN' },
    );
    expect(withEnv.stdout).toMatch(/clitest\s*\| \S+ tokencheck arrived\n$/);

    const dir = await tempDir('lw-cli-token-');
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    const withFile = await query(['--token-file', join(dir, 'token'), '--json']);
    expect(withFile.code, withFile.stderr).toBe(0);
    expect(JSON.parse(withFile.stdout)).toMatchObject({ message: 'tokencheck arrived' });

    const without = await query([]);
    expect(without.code).toBe(1);
    expect(without.stderr).toBe(
      `logwharf query: ${server} needs a token (HTTP 401): set LOGWHARF_TOKEN or pass --token-file FILE with one of its http.auth.tokens\n`,
    );
    const wrong = await query([], { LOGWHARF_TOKEN: 'e2e-wrong-token-0000000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('did not accept the token from LOGWHARF_TOKEN (HTTP 401)');

    for (const text of [...outputs, ...lw.output]) expect(text).not.toContain(TOKEN);
  });
});
