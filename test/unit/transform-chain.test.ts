import { describe, expect, it } from 'vitest';
import type { TransformsConfig } from '../../src/config/schema.js';
import { type ContainerInfo, type LogEvent, SEVERITY } from '../../src/core/event.js';
import { createTransform } from '../../src/transforms/chain.js';
import { newSenderTimeCounters } from '../../src/transforms/sender-time.js';

/** The per-event transforms as the pipeline runs them: labels, parser modes, tags, redaction. */

const { err, warning, info } = SEVERITY;

function config(over: Partial<TransformsConfig> = {}): TransformsConfig {
  return {
    parser: 'auto',
    tag: null,
    multiline: { enabled: true, flush_after: '1s', max_lines: 1000, rules: [] },
    redact: { builtin: true, rules: [] },
    sender_time: { max_age: '7d', max_ahead: '1d' },
    ...over,
  };
}

function container(labels: Record<string, string> = {}): ContainerInfo {
  return {
    id: 'c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
    name: 'shop_web_1',
    imageName: 'nginx:1.25',
    labels,
    composeProject: 'shop',
    composeService: 'web',
    composeNumber: 1,
    tty: false,
  };
}

function dockerLine(message: string, c: ContainerInfo, stream: 'stdout' | 'stderr' = 'stdout'): LogEvent {
  return {
    timestamp: '2026-11-27T02:00:00.000000001Z',
    id: 'x',
    dataset: 'docker',
    ingested: '2026-11-27T02:00:00.000000001Z',
    message,
    severity: stream === 'stdout' ? info : err,
    facility: 3,
    stream,
    container: c,
    host: 'dockerhost',
    service: 'web',
  };
}

const warnings: string[] = [];
const log = { warn: (_: object, msg: string) => void warnings.push(msg) };

function run(e: LogEvent, cfg = config()): LogEvent {
  createTransform({ config: cfg, log })([e]);
  return e;
}

describe('logwharf.parser label', () => {
  const json = '{"level":"warn","msg":"slow","ms":812}';
  const logfmt = 'level=warn msg=slow ms=812';

  it('auto (the default) finds JSON, logfmt and access logs', () => {
    expect(run(dockerLine(json, container()))).toMatchObject({ message: 'slow', severity: warning });
    expect(run(dockerLine(logfmt, container())).fields).toEqual({ level: 'warn', msg: 'slow', ms: '812' });
    const access = run(
      dockerLine(
        '10.0.0.1 - - [27/Nov/2026:02:00:00 +0000] "GET /cart HTTP/1.1" 502 12 "-" "curl/8.0"',
        container(),
      ),
    );
    expect(access.access).toEqual({
      client: '10.0.0.1',
      method: 'GET',
      url: '/cart',
      version: '1.1',
      status: 502,
      bytes: 12,
      agent: 'curl/8.0',
    });
    expect(access.fields).toBeUndefined();
  });

  it('json: only JSON is parsed', () => {
    const c = container({ 'logwharf.parser': 'json' });
    expect(run(dockerLine(json, c)).fields).toMatchObject({ ms: 812 });
    const e = run(dockerLine(logfmt, c));
    expect(e.fields).toBeUndefined();
    expect(e.message).toBe(logfmt);
  });

  it('logfmt: only logfmt is parsed', () => {
    const c = container({ 'logwharf.parser': 'logfmt' });
    expect(run(dockerLine(logfmt, c)).fields).toMatchObject({ ms: '812' });
    expect(run(dockerLine(json, c)).fields).toBeUndefined();
  });

  it('none: the line is kept as written, with the stream default level', () => {
    const e = run(dockerLine(json, container({ 'logwharf.parser': 'none' }), 'stderr'));
    expect(e).toMatchObject({ message: json, severity: err });
    expect(e.fields).toBeUndefined();
    expect(e.original).toBeUndefined();
  });

  it('syslog: the header goes to log.syslog.*, the PRI to the level; the container keeps its facts', () => {
    const e = run(
      dockerLine(
        '<11>1 2026-11-27T01:59:59Z relay postfix 812 SMTP [meta x="1"] {"msg":"queue full","q":7}',
        container({ 'logwharf.parser': 'syslog' }),
      ),
    );
    expect(e.severity).toBe(err);
    expect(e.facility).toBe(1);
    expect(e.syslog).toEqual({
      hostname: 'relay',
      appname: 'postfix',
      procid: '812',
      msgid: 'SMTP',
      structuredData: { meta: { x: '1' } },
    });
    expect(e.message).toBe('queue full');
    expect(e.fields).toMatchObject({ q: 7 });
    expect(e.timestamp).toBe('2026-11-27T02:00:00.000000001Z'); // Docker's time stays
    expect(e.service).toBe('web');
    expect(e.host).toBe('dockerhost');
  });

  it('syslog: a line that is not syslog is kept whole and flagged', () => {
    const e = run(dockerLine('just text', container({ 'logwharf.parser': 'syslog' })));
    expect(e.message).toBe('just text');
    expect(e.flags).toContain('unparsed');
  });

  it('an unknown value warns and falls back to the configured parser', () => {
    warnings.length = 0;
    const e = run(dockerLine(json, container({ 'logwharf.parser': 'xml' })), config({ parser: 'none' }));
    expect(e.message).toBe(json);
    expect(warnings.some((w) => w.includes('unknown parser'))).toBe(true);
  });
});

describe('tags', () => {
  it('the logwharf.tag label renders Docker template fields into log.syslog.appname', () => {
    const e = run(dockerLine('hi', container({ 'logwharf.tag': '{{.ImageName}}/{{.Name}}/{{.ID}}' })));
    expect(e.syslog?.appname).toBe('nginx:1.25/shop_web_1/c0ffee012345');
  });

  it('the config default applies without a label; none by default', () => {
    expect(run(dockerLine('hi', container()), config({ tag: '{{.Service}}' })).syslog?.appname).toBe('web');
    expect(run(dockerLine('hi', container())).syslog).toBeUndefined();
  });
});

function syslogEvent(message: string, timestamp = '2026-11-27T02:00:00.000000000Z'): LogEvent {
  return {
    timestamp,
    id: 's1',
    dataset: 'syslog',
    ingested: '2026-11-27T02:00:00.000000000Z',
    message,
    original: `<14>Nov 27 02:00:00 h app: ${message}`,
    severity: info,
    facility: 1,
    host: 'h',
  };
}

describe('syslog messages', () => {
  it('keep the PRI severity over level words in the text, and parse a JSON body', () => {
    const e = run(syslogEvent('ERROR this word does not override the PRI'));
    expect(e.severity).toBe(info);
    const j = run(syslogEvent('{"msg":"m","level":"error","k":1}'));
    expect(j).toMatchObject({ message: 'm', severity: info, fields: { k: 1 } });
    expect(j.original).toBe('<14>Nov 27 02:00:00 h app: {"msg":"m","level":"error","k":1}');
  });

  it('an access line sent over syslog (nginx access_log syslog:) gives its ECS facts', () => {
    const e = run(syslogEvent('192.0.2.4 - - [27/Nov/2026:02:00:00 +0000] "DELETE /cart/7 HTTP/1.1" 204 0'));
    expect(e.access).toEqual({
      client: '192.0.2.4',
      method: 'DELETE',
      url: '/cart/7',
      version: '1.1',
      status: 204,
      bytes: 0,
    });
    expect(e.fields).toBeUndefined();
  });
});

describe('the sender-clock window (transforms.sender_time)', () => {
  it('stores a syslog time out of line under the receive time, counted in the counters given', () => {
    const counters = newSenderTimeCounters();
    const transform = createTransform({ config: config(), log, senderTime: counters });
    const past = syslogEvent('m', '1999-12-31T23:59:59.000000000Z');
    const future = syslogEvent('m', '2999-01-01T00:00:00.000000000Z');
    const kept = syslogEvent('m', '2026-11-26T02:00:00.000000000Z');
    transform([past, future, kept]);
    expect(past).toMatchObject({
      timestamp: '2026-11-27T02:00:00.000000000Z',
      senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      flags: ['clock_skew'],
    });
    expect(future.senderTimestamp).toBe('2999-01-01T00:00:00.000000000Z');
    expect(kept.timestamp).toBe('2026-11-26T02:00:00.000000000Z');
    expect(kept.flags).toBeUndefined();
    expect(counters).toEqual({ syslog: { past: 1, future: 1 } });
    // A transform built again (a reload) counts on in the same counters.
    createTransform({ config: config(), log, senderTime: counters })([
      syslogEvent('m', '1970-01-01T00:00:00.000000000Z'),
    ]);
    expect(counters.syslog).toEqual({ past: 2, future: 1 });
  });

  it('takes the configured window', () => {
    const narrow = config({ sender_time: { max_age: '1h30m', max_ahead: '1m' } });
    expect(run(syslogEvent('m', '2026-11-27T00:30:00.000000000Z'), narrow).senderTimestamp).toBeUndefined();
    expect(run(syslogEvent('m', '2026-11-27T00:29:59.999999999Z'), narrow).senderTimestamp).toBeDefined();
    expect(run(syslogEvent('m', '2026-11-27T02:01:00.000000001Z'), narrow).flags).toEqual(['clock_skew']);
  });

  it("leaves Docker's own timestamps alone, however old", () => {
    const e = run({ ...dockerLine('backlog', container()), timestamp: '2020-01-01T00:00:00.000000000Z' });
    expect(e.timestamp).toBe('2020-01-01T00:00:00.000000000Z');
    expect(e.senderTimestamp).toBeUndefined();
  });
});

describe('redaction runs last, on the message and the raw line', () => {
  it('replaces a bearer token in both', () => {
    const e = run(dockerLine('{"msg":"call with Authorization: Bearer abc.def.ghi failed"}', container()));
    expect(e.message).not.toContain('abc.def.ghi');
    expect(e.original).not.toContain('abc.def.ghi');
    expect(e.message).toContain('failed');
  });

  it('is off with builtin: false and no rules', () => {
    const e = run(
      dockerLine('Authorization: Bearer abc.def.ghi', container()),
      config({ redact: { builtin: false, rules: [] } }),
    );
    expect(e.message).toContain('abc.def.ghi');
  });
});
