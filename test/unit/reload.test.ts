import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { type CheckResult, checkConfig, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { LogwharfError } from '../../src/core/errors.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import type { Intake } from '../../src/core/intake.js';
import {
  applyReload,
  changedPaths,
  multilineConfigOf,
  planReload,
  type ReloadParts,
} from '../../src/reload.js';
import type { DockerSource } from '../../src/sources/docker/source.js';
import type { SyslogSource } from '../../src/sources/syslog/source.js';
import { DEFAULT_MULTILINE_CONFIG, type MultilineConfig } from '../../src/transforms/multiline.js';
import { MultilineStage } from '../../src/transforms/multiline-stage.js';
import { yamlFiles } from '../helpers/yaml-files.js';

const { root, yamlFile } = yamlFiles('logwharf-reload-');

function configOf(text: string): Config {
  return loadConfig({ file: yamlFile(text), env: {}, cwd: root });
}

const BASE = configOf('');

describe('planReload', () => {
  it('finds nothing to do when nothing changed', () => {
    const plan = planReload(BASE, configOf(''));
    expect(plan.live).toEqual({
      docker: false,
      syslog: false,
      transform: false,
      multiline: false,
      retention: false,
    });
    expect(plan.restartNeeded).toEqual([]);
    expect(plan.effective).toEqual(BASE);
  });

  it('rebuilds the transform for a changed redaction rule, parser, tag or sender-time window, and nothing else', () => {
    for (const text of [
      'transforms: { redact: { rules: [ { name: order, pattern: "ord-[0-9]+" } ] } }',
      'transforms: { redact: { builtin: [bearer] } }',
      'transforms: { parser: json }',
      'transforms: { tag: "{{.Name}}" }',
      'transforms: { sender_time: { max_age: 30d } }',
    ]) {
      const plan = planReload(BASE, configOf(text));
      expect(plan.live, text).toEqual({
        docker: false,
        syslog: false,
        transform: true,
        multiline: false,
        retention: false,
      });
      expect(plan.restartNeeded, text).toEqual([]);
    }
  });

  it('reconfigures multiline for its own keys and for max_line_bytes (the joined event limit)', () => {
    expect(planReload(BASE, configOf('transforms: { multiline: { flush_after: 3s } }')).live).toMatchObject({
      multiline: true,
      transform: false,
      docker: false,
    });
    expect(
      planReload(
        BASE,
        configOf('transforms: { multiline: { rules: [ { services: [web], start: "^\\\\[" } ] } }'),
      ).live.multiline,
    ).toBe(true);
    expect(planReload(BASE, configOf('sources: { docker: { max_line_bytes: 4096 } }')).live).toMatchObject({
      multiline: true,
      docker: true,
    });
  });

  it("applies the Docker source's selection live", () => {
    for (const text of [
      'sources: { docker: { enabled: false } }',
      'sources: { docker: { project: shop } }',
      'sources: { docker: { exclude: { services: [db] } } }',
      'sources: { docker: { include: { labels: ["team=ops"] } } }',
    ]) {
      const plan = planReload(BASE, configOf(text));
      expect(plan.live, text).toMatchObject({ docker: true, syslog: false, transform: false });
      expect(plan.restartNeeded, text).toEqual([]);
    }
  });

  it("keeps the Docker host for a restart, and the rest of the Docker source's changes live", () => {
    const next = configOf('sources: { docker: { host: "tcp://10.0.0.1:2375", project: shop } }');
    const plan = planReload(BASE, next);
    expect(plan.restartNeeded).toEqual(['sources.docker.host']);
    expect(plan.live.docker).toBe(true);
    expect(plan.effective.sources.docker).toEqual({ ...next.sources.docker, host: null });
  });

  it('a change of the Docker host alone changes nothing live', () => {
    const plan = planReload(BASE, configOf('sources: { docker: { host: "unix:///run/other.sock" } }'));
    expect(plan.live.docker).toBe(false);
    expect(plan.restartNeeded).toEqual(['sources.docker.host']);
  });

  it('applies syslog changes live: enabling it, its addresses, its limits', () => {
    for (const text of [
      'sources: { syslog: { enabled: true } }',
      'sources: { syslog: { tcp: "127.0.0.1:6000" } }',
      'sources: { syslog: { udp: null } }',
      'sources: { syslog: { max_connections: 5 } }',
      'sources: { syslog: { idle_timeout: 30s } }',
      'sources: { syslog: { idle_timeout: null } }',
    ]) {
      const plan = planReload(BASE, configOf(text));
      expect(plan.live, text).toMatchObject({ syslog: true, docker: false, transform: false });
      expect(plan.restartNeeded, text).toEqual([]);
    }
  });

  it('names every changed key that waits for a restart, in config order, and still applies the rest', () => {
    const next = configOf(`
data_dir: ./elsewhere
shutdown_timeout: 30s
http:
  listen: 127.0.0.1:9999
  auth: { tokens: [ { token: "0123456789abcdef0123" } ] }
store:
  kind: elasticsearch
  elasticsearch: { nodes: ["http://127.0.0.1:9200"] }
forward:
  syslog: [ { target: "127.0.0.1:6514" } ]
pipeline: { batch_size: 10 }
transforms: { redact: { builtin: false } }
`);
    const plan = planReload(BASE, next);
    expect(plan.restartNeeded).toEqual([
      'data_dir',
      'shutdown_timeout',
      'http.listen',
      'http.auth',
      'forward.syslog',
      'store.kind',
      'store.elasticsearch',
      'pipeline.batch_size',
    ]);
    expect(plan.live.transform).toBe(true);
    // In force: the new transforms, the old everything-that-waits.
    expect(plan.effective.transforms).toEqual(next.transforms);
    for (const key of ['data_dir', 'shutdown_timeout', 'http', 'store', 'forward', 'pipeline'] as const) {
      expect(plan.effective[key], key).toEqual(BASE[key]);
    }
  });

  it('keeps the new retention rules (not applied anywhere yet) without a restart', () => {
    const plan = planReload(BASE, configOf('retention: [ { name: short, keep: 1d } ]'));
    expect(plan.live.retention).toBe(true);
    expect(plan.restartNeeded).toEqual([]);
    expect(plan.effective.retention).toEqual([{ name: 'short', keep: '1d' }]);
  });

  it('compares against the configuration in force, so a change that waits is named at every reload', () => {
    const next = configOf(
      'store: { kind: elasticsearch, elasticsearch: { nodes: ["http://127.0.0.1:9200"] } }',
    );
    const first = planReload(BASE, next);
    const second = planReload(first.effective, next);
    expect(second.restartNeeded).toEqual(['store.kind', 'store.elasticsearch']);
    expect(Object.isFrozen(first.effective)).toBe(true);
    expect(Object.isFrozen(first.effective.sources.docker)).toBe(true);
  });
});

describe('changedPaths', () => {
  it('goes as deep as both sides are mappings; a list or a change of shape is one key', () => {
    expect(changedPaths({ a: { b: 1, c: [1] } }, { a: { b: 2, c: [1, 2] } }, [])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(changedPaths({ auth: 'none' }, { auth: { tokens: [] } }, [])).toEqual([['auth']]);
    expect(changedPaths({ a: 1 }, { a: 1, b: undefined, c: 2 }, [])).toEqual([['c']]);
    expect(changedPaths({ x: { y: 1 } }, {}, ['root'])).toEqual([['root', 'x']]);
  });
});

describe('multilineConfigOf', () => {
  it('takes the multiline keys and the Docker line limit', () => {
    const c = configOf(
      'transforms: { multiline: { flush_after: 2s, max_lines: 7, enabled: false } }\nsources: { docker: { max_line_bytes: 2048 } }',
    );
    expect(multilineConfigOf(c)).toEqual({
      enabled: false,
      flushAfterMs: 2000,
      maxLines: 7,
      maxBytes: 2048,
      rules: [],
    });
  });
});

/** A pino-like logger that keeps what it was told. */
function recordingLog() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown> | string, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, obj: {}, msg: obj });
      else lines.push({ level, obj, msg: msg ?? '' });
    };
  const log = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { lines, log: log as unknown as Logger };
}

function fakeParts(opts: { syslogFails?: Error } = {}) {
  const calls: string[] = [];
  const syslogSettings = { current: BASE.sources.syslog };
  const fakeSyslog = (config: Config['sources']['syslog']) => {
    syslogSettings.current = config;
    return {
      get settings() {
        return syslogSettings.current;
      },
      async start() {
        calls.push('syslog.start');
        if (opts.syslogFails) throw opts.syslogFails;
        return { tcp: '127.0.0.1:5514' };
      },
      async stop() {
        calls.push('syslog.stop');
      },
      async reconfigure(next: Config['sources']['syslog']) {
        calls.push('syslog.reconfigure');
        if (opts.syslogFails) throw opts.syslogFails;
        syslogSettings.current = next;
        return { tcp: next.tcp ?? '' };
      },
    } as unknown as SyslogSource;
  };
  const fakeDocker = () =>
    ({
      start() {
        calls.push('docker.start');
      },
      async stop() {
        calls.push('docker.stop');
      },
      async reconfigure() {
        calls.push('docker.reconfigure');
      },
    }) as unknown as DockerSource;
  const parts: ReloadParts = {
    docker: fakeDocker(),
    syslog: null,
    syslogAddresses: {},
    pipeline: { setTransform: () => calls.push('setTransform') },
    newTransform: () => {
      calls.push('newTransform');
      return () => {};
    },
    multiline: { reconfigure: () => calls.push('multiline.reconfigure') },
    newDocker: () => {
      calls.push('newDocker');
      return fakeDocker();
    },
    newSyslog: (config) => {
      calls.push('newSyslog');
      return fakeSyslog(config);
    },
  };
  return { parts, calls };
}

function checked(text: string): CheckResult {
  return checkConfig({ file: yamlFile(text), env: {}, cwd: root });
}

describe('applyReload', () => {
  it('rejects a bad configuration whole, logging every problem as check-config prints it', async () => {
    const { parts, calls } = fakeParts();
    const { lines, log } = recordingLog();
    const next = checked('transforms:\n  parser: jsonn\nsources:\n  docker:\n    max_line_bytes: lots\n');
    const { config, result } = await applyReload(parts, BASE, next, log);
    expect(config).toBe(BASE);
    expect(calls).toEqual([]);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(/logwharf\.yaml:2:\d+: transforms\.parser: /);
    expect(result.problems[1]).toMatch(/logwharf\.yaml:5:\d+: sources\.docker\.max_line_bytes: /);
    const error = lines.find((l) => l.level === 'error')!;
    expect(error.msg).toContain('configuration reload rejected (2 problems)');
    expect(error.msg).toContain('the configuration in force stays');
    expect(error.obj.problems).toEqual(result.problems);
  });

  it('rejects a YAML syntax error with its line', async () => {
    const { parts } = fakeParts();
    const { log } = recordingLog();
    const { result } = await applyReload(parts, BASE, checked('transforms:\n  parser: [json\n'), log);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(/logwharf\.yaml:\d+:\d+: /);
  });

  it('warns per key that waits for a restart and still applies the rest', async () => {
    const { parts, calls } = fakeParts();
    const { lines, log } = recordingLog();
    const next = checked(
      'store: { kind: elasticsearch, elasticsearch: { nodes: ["http://127.0.0.1:9200"] } }\n' +
        'transforms: { redact: { rules: [ { name: order, pattern: "ord-[0-9]+" } ] } }\n' +
        'sources: { docker: { exclude: { services: [db] } } }\n',
    );
    const { config, result } = await applyReload(parts, BASE, next, log);
    expect(result).toEqual({
      ok: true,
      problems: [],
      applied: ['transforms', 'sources.docker'],
      restartNeeded: ['store.kind', 'store.elasticsearch'],
      failed: [],
    });
    expect(calls).toEqual(['newTransform', 'setTransform', 'docker.reconfigure']);
    expect(config.store).toEqual(BASE.store);
    expect(config.sources.docker.exclude).toEqual({ labels: [], services: ['db'], containers: [] });
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings).toEqual([
      'store.kind changed: takes effect at the next restart',
      'store.elasticsearch changed: takes effect at the next restart',
    ]);
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'configuration reloaded' });
  });

  it('starts and stops sources that are switched on and off', async () => {
    const { parts, calls } = fakeParts();
    const { log } = recordingLog();
    const on = checked('sources: { docker: { enabled: false }, syslog: { enabled: true, udp: null } }');
    const first = await applyReload(parts, BASE, on, log);
    expect(calls).toEqual(['docker.stop', 'newSyslog', 'syslog.start']);
    expect(parts.docker).toBeNull();
    expect(parts.syslog).not.toBeNull();
    expect(parts.syslogAddresses).toEqual({ tcp: '127.0.0.1:5514' });
    calls.length = 0;
    await applyReload(parts, first.config, checked(''), log);
    expect(calls).toEqual(['newDocker', 'docker.start', 'syslog.stop']);
    expect(parts.syslog).toBeNull();
    expect(parts.syslogAddresses).toEqual({});
  });

  it('keeps syslog as it was when its part fails, applies the others, and reports it', async () => {
    const busy = new LogwharfError(
      'LOGWHARF_ERR_LISTEN',
      'sources.syslog.tcp: cannot listen on 127.0.0.1:1 (EACCES)',
    );
    const { parts, calls } = fakeParts({ syslogFails: busy });
    const { lines, log } = recordingLog();
    const next = checked('sources: { syslog: { enabled: true } }\ntransforms: { parser: none }');
    const { config, result } = await applyReload(parts, BASE, next, log);
    expect(calls).toEqual(['newTransform', 'setTransform', 'newSyslog', 'syslog.start', 'syslog.stop']);
    expect(result.ok).toBe(false);
    expect(result.failed).toEqual([
      { part: 'sources.syslog', error: expect.stringContaining('[LOGWHARF_ERR_LISTEN]') },
    ]);
    expect(parts.syslog).toBeNull();
    // Still off in the configuration in force, so the next reload tries again; parser applied.
    expect(config.sources.syslog.enabled).toBe(false);
    expect(config.transforms.parser).toBe('none');
    expect(lines.some((l) => l.level === 'error' && l.msg.includes('cannot listen on 127.0.0.1:1'))).toBe(
      true,
    );
    expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'configuration reloaded in part' });
  });

  it('says so when nothing changed', async () => {
    const { parts, calls } = fakeParts();
    const { lines, log } = recordingLog();
    const { result } = await applyReload(parts, BASE, checked(''), log);
    expect(result).toMatchObject({ ok: true, applied: [], restartNeeded: [] });
    expect(calls).toEqual([]);
    expect(lines.at(-1)?.msg).toBe('configuration reloaded: nothing changed');
  });
});

// ---- MultilineStage.reconfigure ----

const T = (i: number): string => `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`;

function container(id: string, service: string): ContainerInfo {
  return { id, name: `${id}-name`, imageName: 'img', labels: {}, composeService: service, tty: false };
}

function line(c: ContainerInfo, i: number, message: string): LogEvent {
  return {
    timestamp: T(i),
    id: `${c.id}-${i}`,
    dataset: 'docker',
    ingested: T(0),
    message,
    severity: 6,
    facility: 3,
    stream: 'stdout',
    container: c,
    host: 'h',
    sourceKey: c.id,
    seq: 0,
  };
}

function stage(config: Partial<MultilineConfig> = {}) {
  const out: LogEvent[] = [];
  const next: Intake = {
    push: (events) => {
      out.push(...events);
      return true;
    },
    onDrain: () => () => {},
  };
  const s = new MultilineStage({
    next,
    config: { ...DEFAULT_MULTILINE_CONFIG, ...config },
    log: { warn: () => {} },
  });
  return { s, out };
}

describe('MultilineStage.reconfigure', () => {
  const WEB = container('w', 'web');
  const DB = container('d', 'db');

  it('keeps what a container holds when its settings stay the same', () => {
    const { s, out } = stage();
    s.push([line(WEB, 1, 'java.lang.Error: boom')]);
    s.reconfigure({ ...DEFAULT_MULTILINE_CONFIG, rules: [{ services: ['db'], start: '^START' }] });
    expect(out).toEqual([]);
    s.push([line(WEB, 2, '\tat A.b(A.java:1)'), line(WEB, 3, 'next')]);
    expect(out.map((e) => e.message)).toEqual(['java.lang.Error: boom\n\tat A.b(A.java:1)']);
  });

  it('releases, joined under the old rules, what a container holds when its settings change', () => {
    const { s, out } = stage();
    s.push([line(DB, 1, 'java.lang.Error: boom'), line(DB, 2, '\tat A.b(A.java:1)')]);
    s.reconfigure({ ...DEFAULT_MULTILINE_CONFIG, rules: [{ services: ['db'], start: '^START' }] });
    expect(out.map((e) => e.message)).toEqual(['java.lang.Error: boom\n\tat A.b(A.java:1)']);
    // From now on a line that does not match ^START continues the event.
    s.push([line(DB, 3, 'START one'), line(DB, 4, 'more of one'), line(DB, 5, 'START two')]);
    expect(out.map((e) => e.message).slice(1)).toEqual(['START one\nmore of one']);
    s.close();
    expect(out.map((e) => e.message).slice(2)).toEqual(['START two']);
    // Every line once.
    expect(out.map((e) => e.id)).toEqual(['d-1', 'd-3', 'd-5']);
  });

  it('releases everything held when the limits change, and turns joining off', () => {
    const { s, out } = stage();
    s.push([line(WEB, 1, 'java.lang.Error: boom'), line(DB, 2, 'plain')]);
    s.reconfigure({ ...DEFAULT_MULTILINE_CONFIG, enabled: false, maxLines: 10 });
    expect(out.map((e) => e.message).sort()).toEqual(['java.lang.Error: boom', 'plain']);
    s.push([line(WEB, 3, 'java.lang.Error: again'), line(WEB, 4, '\tat A.b(A.java:1)')]);
    expect(out.map((e) => e.message).slice(2)).toEqual(['java.lang.Error: again', '\tat A.b(A.java:1)']);
  });
});
