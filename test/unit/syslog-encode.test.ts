import { describe, expect, it } from 'vitest';
import type { ContainerInfo, LogEvent } from '../../src/core/event.js';
import { encodeRfc5424, frameOctetCounted, LOGWHARF_SD_ID } from '../../src/sinks/syslog/encode.js';

function event(over: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: '2024-05-01T12:00:00.123456789Z',
    id: 'id-1',
    dataset: 'syslog',
    ingested: '2024-05-01T12:00:01.000000000Z',
    message: 'hello',
    severity: 6,
    facility: 1,
    host: 'box',
    ...over,
  };
}

const container: ContainerInfo = {
  id: 'c0ffee',
  name: 'demo-web-1',
  imageName: 'nginx:1.27',
  labels: {},
  composeProject: 'demo',
  composeService: 'web',
  tty: false,
};

/** The header fields, split the simple way (valid only while no field holds a space). */
function fields(msg: string): string[] {
  return msg.split(' ');
}

describe('encodeRfc5424 header', () => {
  it('writes PRI, VERSION, a microsecond UTC timestamp, hostname and NILVALUEs', () => {
    expect(encodeRfc5424(event())).toBe('<14>1 2024-05-01T12:00:00.123456Z box - - - - hello');
  });

  it('computes PRI as facility * 8 + severity', () => {
    expect(encodeRfc5424(event({ facility: 3, severity: 3 }))).toMatch(/^<27>1 /);
    expect(encodeRfc5424(event({ facility: 23, severity: 7 }))).toMatch(/^<191>1 /);
    expect(encodeRfc5424(event({ facility: 0, severity: 0 }))).toMatch(/^<0>1 /);
  });

  it('falls back to user.notice for codes out of range', () => {
    expect(encodeRfc5424(event({ facility: 24, severity: 9 }))).toMatch(/^<13>1 /);
    expect(encodeRfc5424(event({ facility: -1, severity: 1.5 }))).toMatch(/^<13>1 /);
  });

  it('cuts the nine fraction digits to six, never rounding up', () => {
    expect(fields(encodeRfc5424(event({ timestamp: '2024-12-31T23:59:59.999999999Z' })))[1]).toBe(
      '2024-12-31T23:59:59.999999Z',
    );
    expect(fields(encodeRfc5424(event({ timestamp: '2024-05-01T12:00:00.000000000Z' })))[1]).toBe(
      '2024-05-01T12:00:00.000000Z',
    );
  });

  it('re-reads a non-canonical timestamp and sends NILVALUE for one that is no time', () => {
    expect(fields(encodeRfc5424(event({ timestamp: '2024-05-01T14:00:00+02:00' })))[1]).toBe(
      '2024-05-01T12:00:00.000Z',
    );
    expect(fields(encodeRfc5424(event({ timestamp: '2024-05-01T12:00:00Z' })))[1]).toBe(
      '2024-05-01T12:00:00Z',
    );
    expect(fields(encodeRfc5424(event({ timestamp: 'yesterday' })))[1]).toBe('-');
  });

  it('takes the syslog header fields over the event facts', () => {
    const e = event({
      service: 'svc',
      syslog: { hostname: 'sender', appname: 'sshd', procid: '4242', msgid: 'ID47' },
    });
    expect(encodeRfc5424(e)).toBe('<14>1 2024-05-01T12:00:00.123456Z sender sshd 4242 ID47 - hello');
  });

  it('takes APP-NAME from the service, then the container name, else NILVALUE', () => {
    expect(fields(encodeRfc5424(event({ service: 'api' })))[3]).toBe('api');
    expect(fields(encodeRfc5424(event({ container })))[3]).toBe('demo-web-1');
    expect(fields(encodeRfc5424(event()))[3]).toBe('-');
  });

  it('replaces characters outside printable US-ASCII by _ and keeps the field count', () => {
    const e = event({ host: 'my host\tø', syslog: { appname: 'app name', procid: 'p\u00e9', msgid: 'a"b' } });
    expect(fields(encodeRfc5424(e)).slice(2, 6)).toEqual(['my_host__', 'app_name', 'p_', 'a"b']);
  });

  it('replaces an astral character by one _, not two', () => {
    expect(fields(encodeRfc5424(event({ host: 'a😀b' })))[2]).toBe('a_b');
  });

  it('cuts fields to their RFC 5424 limits', () => {
    const e = event({
      host: 'h'.repeat(300),
      syslog: { appname: 'a'.repeat(60), procid: 'p'.repeat(200), msgid: 'm'.repeat(40) },
    });
    const f = fields(encodeRfc5424(e));
    expect(f.slice(2, 6).map((s) => s.length)).toEqual([255, 48, 128, 32]);
  });

  it('sends NILVALUE for an empty hostname', () => {
    expect(fields(encodeRfc5424(event({ host: '' })))[2]).toBe('-');
  });
});

describe('encodeRfc5424 structured data', () => {
  it('re-emits the event SD with ", \\ and ] escaped in values', () => {
    const e = event({
      syslog: { structuredData: { 'exampleSDID@32473': { iut: '3', eventSource: 'App "x" [a\\b]' } } },
    });
    expect(encodeRfc5424(e)).toBe(
      '<14>1 2024-05-01T12:00:00.123456Z box - - - [exampleSDID@32473 iut="3" eventSource="App \\"x\\" [a\\\\b\\]"] hello',
    );
  });

  it('keeps several elements, and an element without params', () => {
    const e = event({ syslog: { structuredData: { a: { x: '1' }, 'b@1': {} } } });
    expect(encodeRfc5424(e)).toContain(' [a x="1"][b@1] hello');
  });

  it('sanitises SD-IDs and param names (no SP, =, ], ", max 32 characters)', () => {
    const e = event({ syslog: { structuredData: { 'my id=]"': { 'a b': 'v', ['n'.repeat(40)]: 'w' } } } });
    expect(encodeRfc5424(e)).toContain(`[my_id___ a_b="v" ${'n'.repeat(32)}="w"]`);
  });

  it('merges SD-IDs that sanitise to the same name instead of repeating the SD-ID', () => {
    const e = event({ syslog: { structuredData: { 'a b': { x: '1' }, a_b: { y: '2' } } } });
    expect(encodeRfc5424(e)).toContain(' [a_b x="1" y="2"] hello');
  });

  it('adds a logwharf@32473 element with the container facts', () => {
    const e = event({
      dataset: 'docker',
      container,
      stream: 'stderr',
      service: 'web',
      facility: 3,
      severity: 3,
    });
    expect(encodeRfc5424(e)).toBe(
      `<27>1 2024-05-01T12:00:00.123456Z box web - - [${LOGWHARF_SD_ID} container="demo-web-1" id="c0ffee" image="nginx:1.27" stream="stderr" service="web" project="demo"] hello`,
    );
  });

  it('leaves out container facts the container does not have', () => {
    const bare: ContainerInfo = { id: 'abc', name: 'solo', imageName: '', labels: {}, tty: true };
    expect(encodeRfc5424(event({ container: bare }))).toContain(
      `[${LOGWHARF_SD_ID} container="solo" id="abc"]`,
    );
  });

  it("adds a syslog event's sender address, and the time it claimed when that was replaced", () => {
    const e = event({
      timestamp: '2024-05-01T12:00:01.000000000Z',
      syslog: { hostname: 'claims-db' },
      senderAddress: '192.0.2.7',
      senderTimestamp: '1999-12-31T23:59:59.000000000Z',
      flags: ['clock_skew'],
    });
    expect(encodeRfc5424(e)).toBe(
      `<14>1 2024-05-01T12:00:01.000000Z claims-db - - - [${LOGWHARF_SD_ID} source_address="192.0.2.7" sender_timestamp="1999-12-31T23:59:59.000000000Z"] hello`,
    );
    expect(encodeRfc5424(event({ senderAddress: '::1' }))).toContain(
      `[${LOGWHARF_SD_ID} source_address="::1"]`,
    );
  });

  it('puts the event SD before the container element', () => {
    const e = event({ container, syslog: { structuredData: { origin: { ip: '10.0.0.1' } } } });
    expect(encodeRfc5424(e)).toMatch(/ \[origin ip="10\.0\.0\.1"\]\[logwharf@32473 container=/);
  });
});

describe('encodeRfc5424 message', () => {
  it('writes UTF-8 text without a BOM', () => {
    const msg = encodeRfc5424(event({ message: 'grüße 😀' }));
    expect(msg.endsWith(' - grüße 😀')).toBe(true);
    expect(Buffer.from(msg).includes(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
  });

  it('keeps newlines and leading spaces in the message', () => {
    expect(encodeRfc5424(event({ message: '  line 1\nline 2' }))).toMatch(/ - {3}line 1\nline 2$/);
  });

  it('omits the SP before an empty message', () => {
    expect(encodeRfc5424(event({ message: '' }))).toBe('<14>1 2024-05-01T12:00:00.123456Z box - - - -');
  });
});

describe('frameOctetCounted', () => {
  it('prefixes the byte length and a space', () => {
    expect(frameOctetCounted('abc').toString()).toBe('3 abc');
  });

  it('counts bytes of UTF-8, not characters', () => {
    const f = frameOctetCounted('ø😀');
    expect(f.toString()).toBe('6 ø😀');
    expect(f.length).toBe(8);
  });

  it('counts a lone surrogate as the three bytes of the U+FFFD it is sent as', () => {
    const f = frameOctetCounted('a\ud800');
    expect(f.subarray(0, 2).toString()).toBe('4 ');
    expect(f.length).toBe(6);
  });

  it('frames a whole encoded event so a decoder gets it back', () => {
    const msg = encodeRfc5424(event({ message: 'multi\nline ✓' }));
    const f = frameOctetCounted(msg);
    const space = f.indexOf(0x20);
    expect(Number(f.subarray(0, space).toString())).toBe(f.length - space - 1);
    expect(f.subarray(space + 1).toString()).toBe(msg);
  });
});
