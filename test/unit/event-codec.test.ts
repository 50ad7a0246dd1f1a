import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, PREFIX_BYTES, readPrefix } from '../../src/buffer/event-codec.js';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';

const WEB: ContainerInfo = {
  id: 'a'.repeat(64),
  name: 'shop-web-1',
  imageName: 'nginx:1.27',
  labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', team: 'ßüñ' },
  composeProject: 'shop',
  composeService: 'web',
  composeNumber: 1,
  tty: false,
};

const DB: ContainerInfo = { id: 'b'.repeat(64), name: 'db', imageName: 'postgres:16', labels: {}, tty: true };

function dockerEvent(i: number, container: ContainerInfo = WEB): LogEvent {
  return {
    timestamp: `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`,
    id: `id-${i}`,
    dataset: 'docker',
    ingested: '2024-05-01T12:00:01.000000000Z',
    message: `GET /items/${i} 200`,
    original: `{"msg":"GET /items/${i} 200","status":200}`,
    severity: 6,
    facility: 3,
    stream: i % 2 === 0 ? 'stdout' : 'stderr',
    container,
    host: 'box',
    ...(container.composeService === undefined ? {} : { service: container.composeService }),
    fields: { status: 200, path: `/items/${i}`, nested: { a: [1, 'two', null, true, { b: -0.5 }] } },
    flags: ['multiline'],
    sourceKey: container.id,
    seq: i,
    checkpoint: { timestamp: '2024-05-01T12:00:00.000000009Z', seq: 3 },
  };
}

function roundTrip(events: LogEvent[], appendedAt = 1_714_564_800_123): LogEvent[] {
  const buf = encodeBatch(events, appendedAt);
  const out = decodeBatch(buf, 0, buf.length);
  expect(out.appendedAt).toBe(appendedAt);
  return out.events;
}

describe('event codec', () => {
  it('round-trips every field of a docker event exactly', () => {
    const events = [dockerEvent(1), dockerEvent(2)];
    expect(roundTrip(events)).toStrictEqual(events);
  });

  it('round-trips a syslog event with its header and structured data', () => {
    const e: LogEvent = {
      timestamp: '2024-05-01T12:00:00.000000000Z',
      id: 'sys-1',
      dataset: 'syslog',
      ingested: '2024-05-01T12:00:00.500000000Z',
      message: 'disk almost full',
      severity: 4,
      facility: 16,
      host: 'router',
      service: 'smartd',
      syslog: {
        hostname: 'router',
        appname: 'smartd',
        procid: '42',
        msgid: 'ID47',
        structuredData: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application' }, origin: {} },
      },
    };
    expect(roundTrip([e])).toStrictEqual([e]);
  });

  it('round-trips an access line (its ECS facts), the sender address and a replaced sender time', () => {
    const e: LogEvent = {
      ...dockerEvent(1),
      access: {
        client: '203.0.113.9',
        user: 'alice',
        method: 'POST',
        url: '/api/v1/login?next=%2F',
        version: '2.0',
        status: 302,
        bytes: 0,
        referrer: 'https://example.com/',
        agent: 'curl/8.4.0',
      },
      fields: { vhost: 'shop.example.com' },
    };
    const bare: LogEvent = { ...dockerEvent(2), access: { client: '::1', status: 408, bytes: 0 } };
    delete bare.fields;
    const agentOnly: LogEvent = {
      ...dockerEvent(3),
      access: { client: '10.0.0.1', status: 200, bytes: 5, agent: 'ua' },
    };
    const sys: LogEvent = {
      timestamp: '2026-11-27T02:00:00.000000000Z',
      id: 'sys-2',
      dataset: 'syslog',
      ingested: '2026-11-27T02:00:00.000000000Z',
      message: 'm',
      severity: 6,
      facility: 1,
      host: 'router',
      senderAddress: '192.0.2.7',
      senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      flags: ['clock_skew'],
    };
    const back = roundTrip([e, bare, agentOnly, sys]);
    expect(back).toStrictEqual([e, bare, agentOnly, sys]);
    expect(Object.keys(back[1]!.access!)).toEqual(['client', 'status', 'bytes']);
  });

  it('decodes a record written by the previous version (18 fields; access facts in fields)', () => {
    // Exactly what the encoder wrote before access, senderAddress and senderTimestamp existed: a
    // buffer can hold such records across an upgrade.
    const rows = [
      [
        '2024-05-01T12:00:00.000000001Z',
        'old-1',
        'docker',
        '2024-05-01T12:00:01.000000000Z',
        '10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5',
        6,
        3,
        'box',
        null,
        'stdout',
        0,
        'web',
        null,
        { client: '10.0.0.1', method: 'GET', path: '/', protocol: 'HTTP/1.1', status: 200, bytes: 5 },
        null,
        1,
        0,
        { timestamp: '2024-05-01T12:00:00.000000001Z', seq: 0 },
      ],
      ['2024-05-01T12:00:02.000000000Z', 'old-2', 'syslog', '2024-05-01T12:00:02.000000000Z', 'm', 5, 1, 'h'],
    ];
    const json = Buffer.from(JSON.stringify([[WEB], rows]));
    const prefix = Buffer.alloc(PREFIX_BYTES);
    prefix[0] = 1;
    prefix.writeUInt32LE(rows.length, 4);
    prefix.writeDoubleLE(1234, 8);
    const buf = Buffer.concat([prefix, json]);
    const [docker, sys] = decodeBatch(buf, 0, buf.length).events;
    expect(docker).toStrictEqual({
      timestamp: '2024-05-01T12:00:00.000000001Z',
      id: 'old-1',
      dataset: 'docker',
      ingested: '2024-05-01T12:00:01.000000000Z',
      message: '10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5',
      severity: 6,
      facility: 3,
      host: 'box',
      stream: 'stdout',
      container: WEB,
      service: 'web',
      fields: { client: '10.0.0.1', method: 'GET', path: '/', protocol: 'HTTP/1.1', status: 200, bytes: 5 },
      sourceKey: WEB.id,
      seq: 0,
      checkpoint: { timestamp: '2024-05-01T12:00:00.000000001Z', seq: 0 },
    });
    expect(sys).toStrictEqual({
      timestamp: '2024-05-01T12:00:02.000000000Z',
      id: 'old-2',
      dataset: 'syslog',
      ingested: '2024-05-01T12:00:02.000000000Z',
      message: 'm',
      severity: 5,
      facility: 1,
      host: 'h',
    });
  });

  it('leaves absent optional fields absent, and keeps falsy values that are present', () => {
    const bare: LogEvent = {
      timestamp: '2024-05-01T12:00:00.000000000Z',
      id: 'x',
      dataset: 'docker',
      ingested: '2024-05-01T12:00:00.000000000Z',
      message: '',
      severity: 0,
      facility: 0,
      host: '',
    };
    const [back] = roundTrip([bare, { ...bare, original: undefined, container: undefined, seq: undefined }]);
    expect(back).toStrictEqual(bare);
    for (const key of [
      'original',
      'stream',
      'container',
      'service',
      'syslog',
      'fields',
      'flags',
      'seq',
      'access',
      'senderAddress',
      'senderTimestamp',
    ]) {
      expect(key in back!).toBe(false);
    }
    const falsy: LogEvent = {
      ...bare,
      original: '',
      seq: 0,
      fields: {},
      flags: [],
      sourceKey: '',
      service: '',
    };
    expect(roundTrip([falsy])).toStrictEqual([falsy]);
  });

  it('writes each container once per record and shares it among the decoded events', () => {
    const events = [dockerEvent(1), dockerEvent(2, DB), dockerEvent(3), dockerEvent(4, DB), dockerEvent(5)];
    const buf = encodeBatch(events, 0);
    const text = buf.toString('utf8', PREFIX_BYTES);
    // Once each, though every event's sourceKey is its container's id too.
    expect(text.split(WEB.id).length - 1).toBe(1);
    expect(text.split(DB.id).length - 1).toBe(1);
    const back = decodeBatch(buf, 0, buf.length).events;
    expect(back).toStrictEqual(events);
    expect(back[0]!.container).toBe(back[2]!.container);
    expect(back[0]!.container).toBe(back[4]!.container);
    expect(back[1]!.container).toBe(back[3]!.container);
    expect(back[0]!.container).not.toBe(back[1]!.container);
    expect(back[0]!.container).not.toBe(WEB); // a copy, not the writer's object
  });

  it('keeps a sourceKey that is not its container id, or has no container', () => {
    const events = [
      { ...dockerEvent(1), sourceKey: 'syslog:udp' },
      { ...dockerEvent(2), container: undefined, sourceKey: WEB.id },
      { ...dockerEvent(3), sourceKey: undefined },
    ];
    delete events[1]!.container;
    delete events[2]!.sourceKey;
    expect(roundTrip(events)).toStrictEqual(events);
  });

  it('keeps lone surrogates unchanged, and still writes valid UTF-8', () => {
    const e: LogEvent = {
      ...dockerEvent(1),
      message: 'cut \ud83d in half, and \udc00 alone, and 😀 whole',
      fields: { '\ud800key': 'value \udfff', emoji: '😀' },
      container: { ...WEB, labels: { odd: '\ud801' } },
    };
    const buf = encodeBatch([e], 0);
    expect(isUtf8(buf.subarray(PREFIX_BYTES))).toBe(true);
    const [back] = decodeBatch(buf, 0, buf.length).events;
    expect(back!.message).toBe(e.message);
    expect(back).toStrictEqual(e);
  });

  it('round-trips arbitrary JSON in fields, including keys that mean something to JavaScript', () => {
    const fields = JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":"c","0":"zero","n":[1.5,-2,1e21,0],"deep":{"x":{"y":{"z":[[],{}]}}},"nul":null,"t":true,"s":"tab\\tnewline\\n\\"quote\\" \\\\ \\u0000"}',
    );
    const e = { ...dockerEvent(1), fields };
    const [back] = roundTrip([e]);
    expect(back!.fields).toStrictEqual(fields);
    expect(Object.keys(back!.fields!)).toEqual(Object.keys(fields));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips an empty batch', () => {
    expect(roundTrip([])).toEqual([]);
  });

  it('puts the event count and appendedAt in a fixed prefix after the headroom', () => {
    const buf = encodeBatch([dockerEvent(1), dockerEvent(2), dockerEvent(3)], 1234.5, 8);
    expect(buf.subarray(0, 8)).toEqual(Buffer.alloc(8));
    expect(readPrefix(buf, 8, buf.length)).toEqual({ eventCount: 3, appendedAt: 1234.5 });
    expect(decodeBatch(buf, 8, buf.length).events).toHaveLength(3);
  });

  it('refuses payloads it did not write', () => {
    const good = encodeBatch([dockerEvent(1)], 0);
    const wrongVersion = Buffer.from(good);
    wrongVersion[0] = 9;
    expect(readPrefix(wrongVersion, 0, wrongVersion.length)).toBeNull();
    expect(() => decodeBatch(wrongVersion, 0, wrongVersion.length)).toThrow(/version/);
    const wrongCount = Buffer.from(good);
    wrongCount.writeUInt32LE(2, 4);
    expect(() => decodeBatch(wrongCount, 0, wrongCount.length)).toThrow(/2/);
    expect(() => decodeBatch(good, 0, PREFIX_BYTES - 1)).toThrow();
    const row = [
      '2024-05-01T12:00:00.000000000Z',
      'i',
      'docker',
      '2024-05-01T12:00:00.000000000Z',
      'm',
      6,
      3,
      'h',
    ];
    const forged = Buffer.concat([
      good.subarray(0, PREFIX_BYTES),
      Buffer.from(JSON.stringify([[], [[...row, null, null, 7]]])),
    ]);
    expect(() => decodeBatch(forged, 0, forged.length)).toThrow(/container 7/);
    const shortRow = Buffer.concat([
      good.subarray(0, PREFIX_BYTES),
      Buffer.from(JSON.stringify([[], [row.slice(0, 5)]])),
    ]);
    expect(() => decodeBatch(shortRow, 0, shortRow.length)).toThrow(/row/);
    const badAccess = Buffer.concat([
      good.subarray(0, PREFIX_BYTES),
      Buffer.from(JSON.stringify([[], [[...row, ...new Array(10).fill(null), ['10.0.0.1']]]])),
    ]);
    expect(() => decodeBatch(badAccess, 0, badAccess.length)).toThrow(/access/);
    const notJson = Buffer.concat([good.subarray(0, PREFIX_BYTES), Buffer.from('[[],[{')]);
    expect(() => decodeBatch(notJson, 0, notJson.length)).toThrow();
  });
});
