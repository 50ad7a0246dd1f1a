import { describe, expect, it } from 'vitest';
import { toEcs } from '../../src/core/ecs.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import { bulkBody, encodeBatch, encodeEvent } from '../../src/sinks/elasticsearch/encode.js';
import {
  indexName,
  indexTemplate,
  isValidClass,
  MAPPINGS,
  templatePriority,
} from '../../src/sinks/elasticsearch/template.js';

const web: ContainerInfo = {
  id: 'c0ffee'.padEnd(64, '0'),
  name: 'demo-web-1',
  imageName: 'nginx:1.27',
  labels: { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'web' },
  composeProject: 'demo',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

function event(over: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: '2024-05-01T23:59:59.123456789Z',
    id: 'id-1',
    dataset: 'docker',
    ingested: '2024-05-02T00:00:01.000000000Z',
    message: 'hello',
    severity: 6,
    facility: 3,
    stream: 'stdout',
    container: web,
    service: 'web',
    host: 'box',
    ...over,
  };
}

const opts = { prefix: 'logwharf', classOf: () => 'default' };

/** The two lines of an encoded event, parsed. */
function parse(lines: string): [unknown, unknown] {
  const parts = lines.split('\n');
  expect(parts).toHaveLength(3);
  expect(parts[2]).toBe('');
  return [JSON.parse(parts[0]!), JSON.parse(parts[1]!)];
}

describe('index names', () => {
  it('are <prefix>-<class>-YYYY.MM.DD of the UTC date of @timestamp', () => {
    expect(indexName('logwharf', 'default', '2024-05-01T23:59:59.999999999Z')).toBe(
      'logwharf-default-2024.05.01',
    );
    expect(indexName('lw', 'audit', '2025-12-31T00:00:00.000000000Z')).toBe('lw-audit-2025.12.31');
  });

  it('take retention classes that Elasticsearch accepts in an index name', () => {
    for (const ok of ['default', 'audit-90d', 'a_b', '0']) expect(isValidClass(ok), ok).toBe(true);
    for (const bad of ['', 'Audit', '-x', '_x', 'a b', 'a/b', 'a*', 'a,b', 'x'.repeat(65)])
      expect(isValidClass(bad), bad).toBe(false);
  });
});

describe('encodeEvent', () => {
  it('writes a create action with the event id as _id, then exactly toEcs(e)', () => {
    const e = event();
    const r = encodeEvent(e, 7, opts);
    if (!('lines' in r)) throw new Error(r.reason);
    expect(r.at).toBe(7);
    expect(r.index).toBe('logwharf-default-2024.05.01');
    const [action, doc] = parse(r.lines);
    expect(action).toEqual({ create: { _index: 'logwharf-default-2024.05.01', _id: 'id-1' } });
    expect(doc).toEqual(toEcs(e));
  });

  it('counts bytes in UTF-8, as they go on the wire', () => {
    const r = encodeEvent(event({ message: 'grüße 🚢 "quoted"\nnext' }), 0, opts);
    if (!('lines' in r)) throw new Error(r.reason);
    expect(r.bytes).toBe(Buffer.byteLength(r.lines));
    expect(r.bytes).toBeGreaterThan(r.lines.length);
  });

  it('escapes ids and keeps dotted label keys and arbitrary fields as they are', () => {
    const e = event({ id: 'a"b\\c', fields: { 'a.b': 1, nested: { x: [1, 'y', null] } } });
    const r = encodeEvent(e, 0, opts);
    if (!('lines' in r)) throw new Error(r.reason);
    const [action, doc] = parse(r.lines);
    expect(action).toEqual({ create: { _index: 'logwharf-default-2024.05.01', _id: 'a"b\\c' } });
    expect(doc).toEqual(toEcs(e));
  });

  it('uses the retention class of the event', () => {
    const r = encodeEvent(event(), 0, {
      prefix: 'p',
      classOf: (e) => (e.service === 'web' ? 'web-7d' : 'default'),
    });
    expect('index' in r && r.index).toBe('p-web-7d-2024.05.01');
  });

  it.each([
    ['no id', event({ id: '' }), /without an id/],
    ['an id over 512 bytes', event({ id: 'é'.repeat(257) }), /512 bytes/],
    ['a timestamp not canonical', event({ timestamp: '2024-05-01T12:00:00Z' }), /not RFC 3339 UTC with 9/],
    ['a BigInt in fields', event({ fields: { n: 1n } }), /not serializable/],
  ])('refuses an event with %s, with the reason', (_what, e, reason) => {
    const r = encodeEvent(e, 3, opts);
    expect(r).toEqual({ at: 3, reason: expect.stringMatching(reason) });
  });

  it('refuses a retention class that is no index name, or one that throws', () => {
    expect(encodeEvent(event(), 0, { prefix: 'p', classOf: () => 'Bad Class' })).toMatchObject({
      reason: expect.stringMatching(/retention class "Bad Class"/),
    });
    const throwing = () => {
      throw new Error('no rule');
    };
    expect(encodeEvent(event(), 0, { prefix: 'p', classOf: throwing })).toMatchObject({
      reason: expect.stringMatching(/retention class: no rule/),
    });
  });
});

describe('encodeBatch', () => {
  it('keeps batch positions, separates what cannot be sent, and skips settled positions', () => {
    const batch = [event({ id: 'a' }), event({ id: '' }), event({ id: 'c' }), event({ id: 'd' })];
    const { encoded, invalid } = encodeBatch(batch, opts, new Set([3]));
    expect(encoded.map((e) => e.at)).toEqual([0, 2]);
    expect(invalid).toEqual([{ at: 1, reason: 'event without an id' }]);
  });

  it('concatenates events into one NDJSON body that ends in a newline', () => {
    const { encoded } = encodeBatch([event({ id: 'a' }), event({ id: 'b' })], opts);
    const body = bulkBody(encoded);
    expect(body.split('\n')).toHaveLength(5);
    expect(body.endsWith('\n')).toBe(true);
    expect(Buffer.byteLength(body)).toBe(encoded[0]!.bytes + encoded[1]!.bytes);
  });
});

describe('the index template', () => {
  const t = indexTemplate('lw', { replicas: 0 });

  it('matches <prefix>-* and is named for the prefix', () => {
    expect(t.name).toBe('lw');
    expect(t.index_patterns).toEqual(['lw-*']);
  });

  it('leaves replicas to the cluster unless told', () => {
    expect(t.template?.settings).toMatchObject({ number_of_shards: 1, number_of_replicas: 0 });
    expect(indexTemplate('lw').template?.settings).not.toHaveProperty('number_of_replicas');
  });

  it('outranks the built-in logs-*-* template, and a longer prefix outranks a shorter one', () => {
    expect(templatePriority('logs')).toBeGreaterThan(100);
    expect(templatePriority('app-x')).toBeGreaterThan(templatePriority('app'));
  });

  it('maps unknown keys to nothing and the free-form objects as flattened', () => {
    expect(MAPPINGS.dynamic).toBe(false);
    const p = MAPPINGS.properties as Record<string, { type?: string; properties?: Record<string, unknown> }>;
    expect(p['@timestamp']?.type).toBe('date_nanos');
    expect(p.fields?.type).toBe('flattened');
    expect(p.message?.type).toBe('text');
    expect(p.container?.properties?.labels).toMatchObject({ type: 'flattened' });
    expect(p.event?.properties?.original).toEqual({ type: 'keyword', index: false, doc_values: false });
  });

  it('maps every leaf of a full document', () => {
    const doc = toEcs(
      event({
        original: '{"msg":"hello"}',
        flags: ['multiline'],
        fields: { a: 1 },
        syslog: {
          hostname: 'h',
          appname: 'a',
          procid: '1',
          msgid: 'm',
          structuredData: { 'x@1': { k: 'v' } },
        },
      }),
    );
    const missing: string[] = [];
    const walk = (
      value: unknown,
      mapping: { properties?: Record<string, unknown> } | undefined,
      at: string,
    ) => {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const m = mapping?.properties?.[key] as
          | { type?: string; properties?: Record<string, unknown> }
          | undefined;
        if (!m) missing.push(`${at}${key}`);
        else if (!m.type && v && typeof v === 'object' && !Array.isArray(v)) walk(v, m, `${at}${key}.`);
      }
    };
    walk(doc, MAPPINGS, '');
    expect(missing).toEqual([]);
  });
});
