import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { envNameFor, parseEnvValue, resolveEnvName } from '../../src/config/env.js';
import { type ConfigProblem, checkConfig, formatProblem, loadConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { propertyPaths } from '../../src/config/schema-walk.js';
import { LogwharfError } from '../../src/core/errors.js';
import { yamlFiles } from '../helpers/yaml-files.js';

const { root, yamlFile } = yamlFiles('logwharf-config-');

/** Problems for a YAML text (and environment), as `LINE:COL: KEY: MESSAGE` without the file. */
function problemsOf(text: string | null, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  const file = text === null ? null : yamlFile(text);
  const { config, problems } = checkConfig({ file, env, cwd: root });
  expect(config === undefined).toBe(problems.length > 0);
  return problems;
}

function configOf(text: string | null, env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ file: text === null ? null : yamlFile(text), env, cwd: root });
}

const BUFFER_DEFAULTS = { kind: 'disk', max_bytes: 268435456, fsync: 'always', when_full: 'block' };
const DEFAULTS = {
  data_dir: join(root, 'data'),
  http: { listen: '127.0.0.1:8080', auth: null },
  sources: {
    docker: { enabled: true, host: null, project: null, max_line_bytes: 1048576 },
    syslog: {
      enabled: false,
      udp: '127.0.0.1:5514',
      tcp: '127.0.0.1:5514',
      tls: null,
      max_message_bytes: 65536,
      max_connections: 1024,
      idle_timeout: '5m',
    },
  },
  transforms: {
    parser: 'auto',
    tag: null,
    multiline: { enabled: true, flush_after: '1s', max_lines: 1000, rules: [] },
    redact: { builtin: true, rules: [] },
    sender_time: { max_age: '7d', max_ahead: '1d' },
  },
  forward: { syslog: [] },
  store: { kind: 'embedded', buffer: BUFFER_DEFAULTS },
  shutdown_timeout: '10s',
  pipeline: {
    batch_size: 4096,
    batch_max_bytes: 8388608,
    flush_interval: '250ms',
    max_in_flight: 65536,
    max_in_flight_bytes: 67108864,
  },
  retention: [{ name: 'default', keep: '14d' }],
};

describe('defaults', () => {
  it('fills every default, nested ones included, from an empty file', () => {
    expect(configOf('')).toEqual(DEFAULTS);
  });

  it('gives the same defaults with no file, a comment-only file or an empty mapping', () => {
    expect(configOf(null)).toEqual(DEFAULTS);
    expect(configOf('# nothing set\n')).toEqual(DEFAULTS);
    expect(configOf('{}')).toEqual(DEFAULTS);
  });

  it('treats a mapping key left empty (children commented out) as all defaults', () => {
    expect(configOf('sources:\n  docker:\n    # project: demo\n')).toEqual(DEFAULTS);
  });

  it('fills defaults inside partly written mappings and list items', () => {
    const config = configOf(
      'sources:\n  docker:\n    project: demo\nhttp:\n  auth:\n    tokens:\n      - token: 0123456789abcdef\n',
    );
    expect(config.sources.docker).toEqual({ ...DEFAULTS.sources.docker, project: 'demo' });
    expect(config.http.auth).toEqual({ tokens: [{ token: '0123456789abcdef', role: 'read' }] });
  });

  it('resolves a relative data_dir against the working directory, not the config file', () => {
    const file = yamlFile('data_dir: ./state\n');
    const config = loadConfig({ file, env: {}, cwd: root });
    expect(config.data_dir).toBe(join(root, 'state'));
    expect(configOf('data_dir: /var/lib/logwharf\n').data_dir).toBe('/var/lib/logwharf');
  });

  it('returns a deeply frozen config', () => {
    const config = configOf('');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(Object.isFrozen(config.sources.docker)).toBe(true);
    expect(Object.isFrozen(config.retention)).toBe(true);
    expect(Object.isFrozen(config.retention[0])).toBe(true);
    expect(() => {
      (config.http as { listen: string }).listen = '0.0.0.0:80';
    }).toThrow(TypeError);
    // The schema's own defaults are copies, never the frozen objects.
    expect(Object.isFrozen(ConfigSchema.properties.retention.default)).toBe(false);
  });
});

describe('problems in the file', () => {
  it('reports an unknown key at its line and column, with a suggestion', () => {
    const [problem, ...rest] = problemsOf('data_dir: ./data\nsorces:\n  docker: {}\n');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: 'sorces', line: 2, column: 1, source: 'file' });
    expect(problem!.message).toBe("unknown key 'sorces'; did you mean 'sources'?");
  });

  it('points a key written at the wrong level to where it belongs', () => {
    const [problem] = problemsOf('http:\n  listen: 127.0.0.1:8080\nlisten: 127.0.0.1:9090\n');
    expect(problem).toMatchObject({ path: 'listen', line: 3, column: 1 });
    expect(problem!.message).toContain("did you mean 'http.listen'?");
  });

  it('lists the known keys when nothing is close', () => {
    const [problem] = problemsOf('pipeline:\n  zzzzzz: 1\n');
    expect(problem).toMatchObject({ path: 'pipeline.zzzzzz', line: 2, column: 3 });
    expect(problem!.message).toContain('batch_size, flush_interval, max_in_flight');
  });

  it('reports every problem at once, in file order, each at its position', () => {
    const file = yamlFile(
      [
        'data_dir: 5', // 1
        'http:',
        '  listen: abc', // 3
        'sources:',
        '  docker:',
        '    enabled: yes please', // 6
        '    max_line_bytes: 10', // 7
        'store:',
        '  kind: mysql', // 9
        'pipeline:',
        '  flush_interval: soon', // 11
        'retention:',
        '  - { name: Bad Name, keep: 14d }', // 13
        '',
      ].join('\n'),
    );
    const { problems } = checkConfig({ file, env: {}, cwd: root });
    expect(problems.map(formatProblem)).toEqual([
      `${file}:1:11: data_dir: expected a non-empty string, got 5`,
      `${file}:3:11: http.listen: expected host:port such as 127.0.0.1:8080 or null, got 'abc'`,
      `${file}:6:14: sources.docker.enabled: expected true or false, got 'yes please'`,
      `${file}:7:21: sources.docker.max_line_bytes: expected an integer of at least 1024, got 10`,
      `${file}:9:9: store.kind: expected 'embedded' or 'elasticsearch', got 'mysql'`,
      `${file}:11:19: pipeline.flush_interval: expected a duration such as 500ms, 30s, 15m, 2h, 14d, 1h30m, got 'soon'`,
      `${file}:13:13: retention[0].name: expected a name of lowercase letters, digits, '_' and '-', got 'Bad Name'`,
    ]);
  });

  it('says what a wrong type should have been', () => {
    const [problem] = problemsOf('pipeline:\n  batch_size: "100"\n');
    expect(problem).toMatchObject({ path: 'pipeline.batch_size', line: 2, column: 15 });
    expect(problem!.message).toBe("expected an integer from 1 to 100000, got '100'");
    expect(problemsOf('http: [127.0.0.1:8080]\n')[0]!.message).toBe(
      "expected a mapping with 'listen' and 'auth', got a list",
    );
    expect(problemsOf('retention: null\n')[0]!.message).toBe('expected a list, got null');
  });

  it('names the exact key inside a union branch, and never repeats a token', () => {
    const problems = problemsOf('http:\n  auth:\n    tokens:\n      - token: hunter2\n        role: root\n');
    expect(problems.map((p) => [p.path, p.line, p.column, p.message])).toEqual([
      [
        'http.auth.tokens[0].token',
        4,
        16,
        'expected a string of at least 16 characters, got a string of 7 characters',
      ],
      ['http.auth.tokens[0].role', 5, 15, "expected 'read' or 'admin', got 'root'"],
    ]);
    expect(problemsOf('http:\n  auth: nobody\n')[0]!.message).toBe(
      "expected 'none', a mapping with 'tokens' or null, got 'nobody'",
    );
  });

  it("reports a missing required key at its parent's position", () => {
    const [problem] = problemsOf('store:\n  kind: elasticsearch\n  elasticsearch:\n    api_key: x\n');
    expect(problem).toMatchObject({ path: 'store.elasticsearch.nodes', line: 3, column: 3 });
    expect(problem!.message).toBe("missing required key 'nodes' (expected a list of at least 1 item)");
  });

  it('reports a YAML syntax error with its position', () => {
    const [problem, ...rest] = problemsOf('data_dir: ./data\nhttp:\n  listen: 127.0.0.1: 8080\n');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: '', line: 3, column: 11, source: 'file' });
    expect(problem!.message).toBe('YAML syntax error: Nested mappings are not allowed in compact mappings');
    const [unclosed] = problemsOf('data_dir: ./data\nretention: [a,\nstore: {}\n');
    expect(unclosed).toMatchObject({ line: 3, column: 1 });
    expect(unclosed!.message).toMatch(/^YAML syntax error: Flow sequence .* end with a \]$/);
  });

  it('reports a duplicate key as a syntax error at the second one', () => {
    const [problem] = problemsOf('data_dir: a\ndata_dir: b\n');
    expect(problem).toMatchObject({ line: 2, column: 1 });
    expect(problem!.message).toContain('unique');
  });

  it('requires a mapping at the top level', () => {
    const [problem] = problemsOf('- data_dir: ./data\n');
    expect(problem).toMatchObject({ path: '', line: 1, column: 1 });
    expect(problem!.message).toBe('expected a mapping of settings at the top level, got a list');
  });

  it('says so when a named file does not exist', () => {
    const missing = join(root, 'nope.yaml');
    const { problems } = checkConfig({ file: missing, env: {}, cwd: root });
    expect(problems).toEqual([
      { path: '', message: `config file not found (looked for ${missing})`, file: missing, source: 'file' },
    ]);
    expect(() => loadConfig({ file: missing, env: {} })).toThrow(/config file not found/);
  });

  it('throws LOGWHARF_ERR_CONFIG listing every problem as FILE:LINE:COL: KEY: MESSAGE', () => {
    const file = yamlFile('sorces: {}\nhttp:\n  listen: abc\n');
    let thrown: unknown;
    try {
      loadConfig({ file, env: { LOGWHARF_BOGUS: '1' }, cwd: root });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LogwharfError);
    expect((thrown as LogwharfError).code).toBe('LOGWHARF_ERR_CONFIG');
    expect((thrown as LogwharfError).message.split('\n')).toEqual([
      'invalid configuration (3 problems):',
      `${file}:1:1: sorces: unknown key 'sorces'; did you mean 'sources'?`,
      `${file}:3:11: http.listen: expected host:port such as 127.0.0.1:8080 or null, got 'abc'`,
      'LOGWHARF_BOGUS: unknown configuration variable',
    ]);
  });
});

describe('environment overrides', () => {
  it('maps variable names to keys by walking the schema, underscores in keys included', () => {
    expect(resolveEnvName('LOGWHARF_DATA_DIR')).toEqual([['data_dir']]);
    expect(resolveEnvName('LOGWHARF_HTTP_LISTEN')).toEqual([['http', 'listen']]);
    expect(resolveEnvName('LOGWHARF_SOURCES_DOCKER_PROJECT')).toEqual([['sources', 'docker', 'project']]);
    expect(resolveEnvName('LOGWHARF_SOURCES_DOCKER_MAX_LINE_BYTES')).toEqual([
      ['sources', 'docker', 'max_line_bytes'],
    ]);
    expect(resolveEnvName('LOGWHARF_SOURCES_SYSLOG_TLS_LISTEN')).toEqual([
      ['sources', 'syslog', 'tls', 'listen'],
    ]);
    expect(resolveEnvName('LOGWHARF_DATA')).toEqual([]);
    expect(resolveEnvName('LOGWHARF_HTTP_LISTEN_X')).toEqual([]);
  });

  it('has exactly one variable for every key, and back', () => {
    const paths = propertyPaths(ConfigSchema);
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) expect(resolveEnvName(envNameFor(path))).toEqual([path]);
  });

  it('parses values as YAML scalars and flow collections', () => {
    expect(parseEnvValue('true')).toEqual({ value: true });
    expect(parseEnvValue('123')).toEqual({ value: 123 });
    expect(parseEnvValue('null')).toEqual({ value: null });
    expect(parseEnvValue('"123"')).toEqual({ value: '123' });
    expect(parseEnvValue('[a, b]')).toEqual({ value: ['a', 'b'] });
    expect(parseEnvValue('{kind: embedded}')).toEqual({ value: { kind: 'embedded' } });
    expect(parseEnvValue('0.0.0.0:8080')).toEqual({ value: '0.0.0.0:8080' });
    expect(parseEnvValue('[::]:8080')).toEqual({ value: '[::]:8080' });
    expect(parseEnvValue('@host')).toEqual({ value: '@host' });
    expect(parseEnvValue('{a: [1, 2}')).toHaveProperty('error');
  });

  it('overrides file values, keys with underscores and booleans included', () => {
    const config = configOf('data_dir: ./from-file\nsources:\n  docker:\n    project: file\n', {
      LOGWHARF_DATA_DIR: '/srv/logs',
      LOGWHARF_SOURCES_DOCKER_PROJECT: 'shop',
      LOGWHARF_SOURCES_DOCKER_MAX_LINE_BYTES: '2048',
      LOGWHARF_SOURCES_SYSLOG_ENABLED: 'true',
      LOGWHARF_STORE_KIND: 'elasticsearch',
      LOGWHARF_STORE_ELASTICSEARCH_NODES: '[http://es1:9200, "https://es2:9200"]',
      LOGWHARF_HTTP_LISTEN: '127.0.0.2:9000',
      LOGWHARF_SOURCES_SYSLOG_UDP: 'null',
      LOGWHARF_RETENTION: '[{name: short, keep: 1d}, {name: audit, keep: 400d, match: "service:auth"}]',
    });
    expect(config.data_dir).toBe('/srv/logs');
    expect(config.sources.docker).toMatchObject({ project: 'shop', max_line_bytes: 2048, enabled: true });
    expect(config.sources.syslog).toMatchObject({ enabled: true, udp: null, tcp: '127.0.0.1:5514' });
    expect(config.store).toEqual({
      kind: 'elasticsearch',
      elasticsearch: {
        nodes: ['http://es1:9200', 'https://es2:9200'],
        auth: null,
        ca: null,
        index_prefix: 'logwharf',
        bulk_max_bytes: 5242880,
        max_concurrency: 2,
        request_timeout: '30s',
      },
      buffer: BUFFER_DEFAULTS,
    });
    expect(config.http.listen).toBe('127.0.0.2:9000');
    expect(config.retention.map((r) => r.name)).toEqual(['short', 'audit']);
  });

  it('lets a key variable win over a parent variable', () => {
    const config = configOf(null, {
      LOGWHARF_HTTP: '{listen: 127.0.0.1:1}',
      LOGWHARF_HTTP_LISTEN: '127.0.0.1:2',
    });
    expect(config.http.listen).toBe('127.0.0.1:2');
  });

  it('reports an unknown LOGWHARF_ variable, with a suggestion, but not the reserved ones', () => {
    const problems = problemsOf(null, {
      LOGWHARF_HTTP_LISTN: '127.0.0.1:1',
      LOGWHARF_CONFIG: 'config/x.yaml',
      LOGWHARF_LOG_LEVEL: 'debug',
      LOGWHARF_TOKEN: 'the token logwharf query --server sends',
      LOGWHARF_TEST_DOCKER: '1',
      PATH: '/usr/bin',
    });
    expect(problems).toEqual([
      {
        path: '',
        message: 'unknown configuration variable; did you mean LOGWHARF_HTTP_LISTEN?',
        file: 'LOGWHARF_HTTP_LISTN',
        source: 'env',
      },
    ]);
  });

  it('names the variable when its value fails validation', () => {
    const problems = problemsOf('http:\n  listen: 127.0.0.1:8080\n', {
      LOGWHARF_HTTP_LISTEN: 'localhost',
      LOGWHARF_PIPELINE_BATCH_SIZE: 'many',
      LOGWHARF_STORE_ELASTICSEARCH_NODES: '[http://a:9200',
    });
    expect(problems.map(formatProblem)).toEqual([
      "LOGWHARF_HTTP_LISTEN: http.listen: expected host:port such as 127.0.0.1:8080 or null, got 'localhost'",
      "LOGWHARF_PIPELINE_BATCH_SIZE: pipeline.batch_size: expected an integer from 1 to 100000, got 'many'",
      "LOGWHARF_STORE_ELASTICSEARCH_NODES: store.elasticsearch.nodes: expected a list of at least 1 item, got '[http://a:9200'",
    ]);
    expect(problems.every((p) => p.source === 'env' && p.line === undefined)).toBe(true);
  });

  it('names the variable for a problem inside a mapping it set', () => {
    const [problem] = problemsOf(null, { LOGWHARF_SOURCES_SYSLOG_TLS: '{listen: 0.0.0.0:6514, cert: /c}' });
    expect(formatProblem(problem!)).toBe(
      "LOGWHARF_SOURCES_SYSLOG_TLS: sources.syslog.tls.key: missing required key 'key' (expected a non-empty string)",
    );
  });

  it('reports a flow collection that does not parse', () => {
    const [problem] = problemsOf(null, { LOGWHARF_RETENTION: '[{name: a, keep: 1d]' });
    expect(problem).toMatchObject({ file: 'LOGWHARF_RETENTION', path: 'retention', source: 'env' });
    expect(problem!.message).toMatch(/^cannot parse the value as a YAML flow collection/);
  });
});

describe('rules across keys', () => {
  it('refuses a non-loopback listen address without auth, and says how to fix it', () => {
    const [problem, ...rest] = problemsOf('http:\n  listen: 0.0.0.0:8080\n');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: 'http.listen', line: 2, column: 11 });
    expect(problem!.message).toContain('http.auth.tokens');
    expect(problem!.message).toContain("'auth: none'");
    const [fromEnv] = problemsOf(null, { LOGWHARF_HTTP_LISTEN: '[::]:8080' });
    expect(fromEnv).toMatchObject({ path: 'http.listen', file: 'LOGWHARF_HTTP_LISTEN', source: 'env' });
  });

  it('accepts a non-loopback listen address with `auth: none` or with tokens', () => {
    expect(configOf('http:\n  listen: 0.0.0.0:8080\n  auth: none\n').http.auth).toBe('none');
    expect(
      configOf(null, { LOGWHARF_HTTP_LISTEN: '10.0.0.5:80', LOGWHARF_HTTP_AUTH: 'none' }).http.auth,
    ).toBe('none');
    const tokens =
      'http:\n  listen: 0.0.0.0:8080\n  auth:\n    tokens: [{ token: 0123456789abcdef, role: admin }]\n';
    expect(configOf(tokens).http.auth).toEqual({ tokens: [{ token: '0123456789abcdef', role: 'admin' }] });
  });

  it('accepts every loopback address without auth', () => {
    for (const listen of ['127.0.0.1:8080', '127.1.2.3:1', 'localhost:8080', '"[::1]:8080"', '127.0.0.1:0']) {
      expect(problemsOf(`http:\n  listen: ${listen}\n`)).toEqual([]);
    }
    expect(problemsOf('http:\n  listen: null\n')).toEqual([]);
  });

  it('requires elasticsearch nodes when the store is elasticsearch, as URLs', () => {
    const [problem] = problemsOf('store:\n  kind: elasticsearch\n');
    expect(problem).toMatchObject({ path: 'store.kind', line: 2, column: 9 });
    expect(problem!.message).toContain('store.elasticsearch.nodes');
    const [bad] = problemsOf('store:\n  kind: elasticsearch\n  elasticsearch:\n    nodes: [es:9200x]\n');
    expect(bad).toMatchObject({ path: 'store.elasticsearch.nodes[0]', line: 4, column: 13 });
    const [secret] = problemsOf('store:\n  elasticsearch:\n    nodes: ["ftp://elastic:s3cret@es:9200"]\n');
    expect(secret!.message).toBe(
      "expected an http:// or https:// URL such as http://127.0.0.1:9200, got 'ftp://***@es:9200'",
    );
  });

  it('requires unique retention names', () => {
    const [problem] = problemsOf('retention:\n  - { name: a, keep: 1d }\n  - { name: a, keep: 2d }\n');
    expect(problem).toMatchObject({ path: 'retention[1].name', line: 3, column: 13 });
    expect(problem!.message).toBe("duplicate retention name 'a' (also retention[0]); names must be unique");
  });

  it('requires a known scheme for the Docker host', () => {
    for (const host of [
      'unix:///var/run/docker.sock',
      'tcp://10.0.0.1:2376',
      'https://d:2376',
      'npipe:////./pipe/docker_engine',
    ]) {
      expect(problemsOf(`sources:\n  docker:\n    host: ${host}\n`)).toEqual([]);
    }
    const [problem] = problemsOf('sources:\n  docker:\n    host: /var/run/docker.sock\n');
    expect(problem).toMatchObject({ path: 'sources.docker.host', line: 3, column: 11 });
    expect(problem!.message).toContain('unix:///var/run/docker.sock');
  });

  it('refuses drop_newest on a memory buffer, for the store and for each forwarding target', () => {
    const [store] = problemsOf('store:\n  buffer: { kind: memory, when_full: drop_newest }\n');
    expect(store).toMatchObject({ path: 'store.buffer.when_full', line: 2 });
    expect(store!.message).toContain('drop_newest needs kind: disk');
    const [target] = problemsOf(
      'forward:\n  syslog:\n    - { target: "h:514", buffer: { kind: memory, when_full: drop_newest } }\n',
    );
    expect(target).toMatchObject({ path: 'forward.syslog[0].buffer.when_full', line: 3 });
    expect(
      problemsOf('store:\n  buffer: { kind: disk, when_full: drop_newest, max_bytes: 1048576 }\n'),
    ).toEqual([]);
  });

  it('checks the sender-clock window: durations, their size, and no other keys', () => {
    expect(problemsOf('transforms:\n  sender_time: { max_age: 30d, max_ahead: 1h30m }\n')).toEqual([]);
    const [soon] = problemsOf('transforms:\n  sender_time:\n    max_age: a week\n');
    expect(soon).toMatchObject({ path: 'transforms.sender_time.max_age', line: 3 });
    expect(soon!.message).toContain('expected a duration such as 500ms');
    const [huge] = problemsOf('transforms:\n  sender_time:\n    max_ahead: 99999999999999999w\n');
    expect(huge).toMatchObject({ path: 'transforms.sender_time.max_ahead', line: 3 });
    expect(huge!.message).toContain('more than a duration can hold');
    const [typo] = problemsOf('transforms:\n  sender_time:\n    max_behind: 7d\n');
    expect(typo).toMatchObject({ path: 'transforms.sender_time.max_behind', line: 3 });
    expect(typo!.message).toContain('max_age, max_ahead');
  });

  it('takes sources.syslog.idle_timeout as a duration of at least 1s, or null for never', () => {
    const [problem] = problemsOf('sources:\n  syslog:\n    idle_timeout: 500ms\n');
    expect(problem).toMatchObject({
      path: 'sources.syslog.idle_timeout',
      line: 3,
      message: 'must be at least 1s, got 500ms (null never closes idle connections)',
    });
    expect(problemsOf('sources:\n  syslog:\n    idle_timeout: soon\n')[0]).toMatchObject({
      path: 'sources.syslog.idle_timeout',
    });
    expect(problemsOf('sources:\n  syslog:\n    idle_timeout: 1s\n')).toEqual([]);
    expect(configOf('sources:\n  syslog:\n    idle_timeout: null\n').sources.syslog.idle_timeout).toBeNull();
  });

  it('rejects a port above 65535', () => {
    const [problem] = problemsOf('sources:\n  syslog:\n    udp: 127.0.0.1:70000\n');
    expect(problem).toMatchObject({
      path: 'sources.syslog.udp',
      message: 'port 70000 is out of range (0 to 65535)',
    });
  });
});

describe('shipped configs', () => {
  it('config/logwharf.yaml validates: embedded store, Docker on, HTTP on loopback, ./data', () => {
    const config = loadConfig({ file: 'config/logwharf.yaml', env: {}, cwd: process.cwd() });
    expect(config.store.kind).toBe('embedded');
    expect(config.sources.docker).toMatchObject({ enabled: true, project: null });
    expect(config.http.listen).toBe('127.0.0.1:8080');
    expect(config.data_dir).toBe(join(process.cwd(), 'data'));
  });

  it('config/example.yaml validates, to the defaults, and names every key', () => {
    const config = loadConfig({ file: join(process.cwd(), 'config/example.yaml'), env: {}, cwd: root });
    expect(config).toEqual(DEFAULTS);
    const text = readFileSync('config/example.yaml', 'utf8');
    for (const path of propertyPaths(ConfigSchema)) expect(text).toContain(`${path[path.length - 1]}:`);
  });
});

describe('check-config command', () => {
  function capture() {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: { stdout: (s: string) => (out.stdout += s), stderr: (s: string) => (out.stderr += s) },
    };
  }

  it('prints OK and a summary, exit 0', async () => {
    const file = yamlFile('sources:\n  docker:\n    project: shop\n');
    const { out, io } = capture();
    expect(await checkConfigCommand({ config: file }, io, { env: {}, cwd: root })).toBe(0);
    const [ok, summary] = out.stdout.trimEnd().split('\n');
    expect(ok).toBe(`config OK: ${file}`);
    expect(summary).toContain("docker: project 'shop'");
    expect(summary).toContain('HTTP 127.0.0.1:8080');
    expect(out.stderr).toBe('');
  });

  it('prints every problem as FILE:LINE:COL: KEY: MESSAGE, exit 2', async () => {
    const file = yamlFile('sorces: {}\nhttp:\n  listen: 0.0.0.0:1\n');
    const { out, io } = capture();
    expect(await checkConfigCommand({ config: file }, io, { env: {}, cwd: root })).toBe(2);
    const lines = out.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`${file}:1:1: sorces: unknown key 'sorces'; did you mean 'sources'?`);
    expect(lines[1]).toMatch(new RegExp(`^${file}:3:11: http\\.listen: refusing`));
    expect(lines[2]).toBe(`config invalid: 2 problems (${file})`);
  });

  it('answers JSON with --json, without token values', async () => {
    const file = yamlFile('http:\n  auth:\n    tokens: [{ token: 0123456789abcdef }]\n');
    const { out, io } = capture();
    expect(await checkConfigCommand({ config: file, json: true }, io, { env: {}, cwd: root })).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ ok: true, file, problems: [] });
    expect(out.stdout).not.toContain('0123456789abcdef');
  });

  it('answers JSON without Elasticsearch passwords, API keys or bearer tokens', async () => {
    for (const auth of [
      '{ username: lw, password: s3cr3t-pass }',
      '{ api_key: s3cr3t-key }',
      '{ bearer: s3cr3t-tok }',
    ]) {
      const file = yamlFile(
        `store:\n  kind: elasticsearch\n  elasticsearch:\n    nodes: ["http://es:9200"]\n    auth: ${auth}\n`,
      );
      const { out, io } = capture();
      expect(await checkConfigCommand({ config: file, json: true }, io, { env: {}, cwd: root })).toBe(0);
      expect(out.stdout).not.toContain('s3cr3t');
      expect(out.stdout).toContain('<redacted>');
    }
  });

  it('uses LOGWHARF_CONFIG, else config/logwharf.yaml under the working directory, else no file', async () => {
    const dir = join(root, 'default-lookup');
    mkdirSync(join(dir, 'config'), { recursive: true });
    let run = capture();
    expect(await checkConfigCommand({}, run.io, { env: {}, cwd: dir })).toBe(0);
    expect(run.out.stdout).toMatch(/^config OK: \(no file/);
    writeFileSync(join(dir, 'config', 'logwharf.yaml'), 'data_dir: ./d\n');
    run = capture();
    expect(await checkConfigCommand({}, run.io, { env: {}, cwd: dir })).toBe(0);
    expect(run.out.stdout).toMatch(/^config OK: config\/logwharf\.yaml\n/);
    const other = yamlFile('data_dir: ./e\n');
    run = capture();
    expect(await checkConfigCommand({}, run.io, { env: { LOGWHARF_CONFIG: other }, cwd: dir })).toBe(0);
    expect(run.out.stdout).toMatch(new RegExp(`^config OK: ${other}\n`));
  });
});
