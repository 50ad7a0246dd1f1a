import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSyslog, type SyslogMessage } from '../../src/sources/syslog/parse.js';
import { ZONE_ABBREVIATIONS } from '../../src/sources/syslog/time-zones.js';

/**
 * BSD (RFC 3164) messages as devices and daemons really send them, one table per family of
 * variant (docs/syslog.md, "Syslog message compatibility", has a section for each). Every
 * case states the header fields and the message it must give, and also goes through the
 * invariant that nothing is dropped: the message is a tail of the input, and what comes
 * before it is the header's fields, in order, and separators, nothing else.
 */

const NOW = new Date('2026-11-27T02:00:00Z');
const parse = (text: string): SyslogMessage => parseSyslog(text, { now: NOW });

interface Case {
  input: string;
  /** The timestamp as written in the input (the invariant removes it from the header). */
  time?: string;
  /** Canonical UTC. */
  timestamp?: string;
  hostname?: string;
  appname?: string;
  procid?: string;
  message: string;
}

/** Separators between header fields: whitespace, the tag's `:` and `[...]`, a BOM, Cisco's `*`. */
const SEPARATORS = /^[\s:[\]\uFEFF*]*$/;

/**
 * Nothing dropped: the message is a tail of the input (less the framing's trailing NUL/CR/LF),
 * and the header before it holds, in order, only the PRI, the timestamp as written, the
 * hostname, the app-name and the procid, with separators between them (and Cisco counters).
 */
function expectOnlyHeaderRemoved(c: Case, msg: SyslogMessage): void {
  const text = c.input.replace(/[\0\r\n]+$/, '');
  expect(text.endsWith(msg.message), 'the message is a tail of the input').toBe(true);
  const header = text.slice(0, text.length - msg.message.length);
  // Cisco IOS counters and sequence numbers (`643: `) are read past, not stored (docs: deliberate deviations).
  const pri = /^\uFEFF?\s*(<\d{1,3}>)?(\d+: )*/.exec(header)?.[0] ?? '';
  let at = pri.length;
  for (const field of [c.time, msg.hostname, msg.appname, msg.procid]) {
    if (field === undefined) continue;
    const found = header.indexOf(field, at);
    expect(found, `${JSON.stringify(field)} in the header ${JSON.stringify(header)}`).toBeGreaterThanOrEqual(
      at,
    );
    expect(header.slice(at, found), `only separators before ${JSON.stringify(field)}`).toMatch(SEPARATORS);
    at = found + field.length;
  }
  expect(header.slice(at), 'only separators after the last header field').toMatch(SEPARATORS);
}

/** One family: each case gives its fields, and keeps everything that is not a header field. */
function family(cases: Case[]): void {
  it.each(cases)('$input', (c) => {
    const msg = parse(c.input);
    expect(msg.format).not.toBe('unparsed');
    expect({
      timestamp: msg.timestamp,
      hostname: msg.hostname,
      appname: msg.appname,
      procid: msg.procid,
      message: msg.message,
    }).toEqual({
      timestamp: c.timestamp,
      hostname: c.hostname,
      appname: c.appname,
      procid: c.procid,
      message: c.message,
    });
    expectOnlyHeaderRemoved(c, msg);
  });
}

describe('ISO 8601 timestamps in the BSD header', () => {
  const iso = (time: string, timestamp: string, rest = 'host app: m'): Case => ({
    input: `<13>${time} ${rest}`,
    time,
    timestamp,
    hostname: 'host',
    appname: 'app',
    message: 'm',
  });
  family([
    iso('2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000000000Z'),
    iso('2024-05-01T12:00:00+00', '2024-05-01T12:00:00.000000000Z'),
    iso('2024-05-01T12:00:00-07', '2024-05-01T19:00:00.000000000Z'),
    iso('2024-05-01T12:00:00+0000', '2024-05-01T12:00:00.000000000Z'),
    iso('2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00.000000000Z'),
    iso('2024-05-01T12:00:00-00:00', '2024-05-01T12:00:00.000000000Z'),
    iso('2024-05-01T12:00:00+05:30', '2024-05-01T06:30:00.000000000Z'),
    iso('2024-05-01T12:00:00-0330', '2024-05-01T15:30:00.000000000Z'),
    iso('2024-05-01t12:00:00z', '2024-05-01T12:00:00.000000000Z'),
    // A space instead of the T, after a PRI (syslog-ng accepts it too).
    iso('2024-05-01 12:00:00+02:00', '2024-05-01T10:00:00.000000000Z'),
    iso('2024-05-01 12:00:00 +0200', '2024-05-01T10:00:00.000000000Z'),
    // Fractions of any length; nine digits are kept.
    iso('2024-05-01T12:00:00.1-0700', '2024-05-01T19:00:00.100000000Z'),
    iso('2024-05-01T12:00:00.123456Z', '2024-05-01T12:00:00.123456000Z'),
    iso('2024-05-01 12:00:00.123456789123Z', '2024-05-01T12:00:00.123456789Z'),
    iso('2024-05-01T12:00:00,250+01', '2024-05-01T11:00:00.250000000Z'),
    // Odd combinations: an offset and the zone's name as Go's time.String() writes them, a name alone.
    iso('2024-05-01 12:00:00.5 +0000 UTC', '2024-05-01T12:00:00.500000000Z'),
    iso('2024-05-01 12:00:00 -0700 MST', '2024-05-01T19:00:00.000000000Z'),
    iso('2024-05-01 12:00:00 +0300 +03', '2024-05-01T09:00:00.000000000Z'),
    iso('2024-05-01T12:00:00 CET', '2024-05-01T11:00:00.000000000Z'),
    iso('2024-05-01T23:30:00-01:00', '2024-05-02T00:30:00.000000000Z'),
    iso('0050-05-01T00:30:00+01:00', '0050-04-30T23:30:00.000000000Z'),
    iso('2024-02-29T23:59:59.999-00:30', '2024-03-01T00:29:59.999000000Z'),
    {
      input: '<30>2024-05-01T12:00:00.000+02:00 web-1 nginx[812]: GET / 200',
      time: '2024-05-01T12:00:00.000+02:00',
      timestamp: '2024-05-01T10:00:00.000000000Z',
      hostname: 'web-1',
      appname: 'nginx',
      procid: '812',
      message: 'GET / 200',
    },
    {
      // ZScaler: a zone-less date, a space, then spaces before key=value text (no hostname, no tag).
      input: '<134>2022-01-27 10:32:35      reason=Allowed event_id=7',
      time: '2022-01-27 10:32:35',
      timestamp: '2022-01-27T10:32:35.000000000Z',
      message: 'reason=Allowed event_id=7',
    },
  ]);

  it('takes an ISO time without a zone as UTC, and says so', () => {
    const msg = parse('<13>2024-05-01 12:00:00 host app: m');
    expect(msg.timestamp).toBe('2024-05-01T12:00:00.000000000Z');
    expect(msg.problem).toMatch(/no time zone offset \(taken as UTC\)/);
  });

  it.each([
    '2024-05-01T12:00:00Z',
    '2024-05-01T12:00:00+0000',
    '2024-05-01 12:00:00-07',
    '2024-05-01T12:00:00.1234567891+00',
  ])('reads %s without calling it a repair: no standard defines an ISO time in a BSD header', (time) => {
    expect(parse(`<13>${time} host app: m`).problem).toBeUndefined();
  });

  it.each([
    ['2024-02-30T12:00:00Z', '"2024-02-30T12:00:00Z"'],
    ['2024-05-01T24:00:00+01', '"2024-05-01T24:00:00+01"'],
    ['2024-05-01T12:00:00+25:00', '"2024-05-01T12:00:00+25:00"'],
    ['2024-05-01T12:00:00junk', '"2024-05-01T12:00:00junk"'],
    ['9999-12-31T23:00:00-02:00', '"9999-12-31T23:00:00-02:00"'],
  ])('keeps the header but leaves out the unusable time %s', (time, quoted) => {
    const msg = parse(`<13>${time} host app: m`);
    expect(msg).toMatchObject({ timestamp: undefined, hostname: 'host', appname: 'app', message: 'm' });
    expect(msg.problem).toBe(`rfc3164: unusable timestamp ${quoted}`);
  });

  it('reads a date with a space before the time only after a PRI: without one it is text', () => {
    expect(parse('2024-05-01 12:00:00 host app: m').format).toBe('unparsed');
    expect(parse('2024-05-01T12:00:00Z host app: m').format).toBe('rfc3164');
  });

  it('does not take a date without a time as a timestamp', () => {
    expect(parse('<13>2024-05-01 started').message).toBe('2024-05-01 started');
  });
});

describe('device timestamps: year first, full month names, zone names', () => {
  family([
    {
      // Cisco NX-OS: a bare `: ` after the PRI, the year first, a zone name and a colon.
      input:
        '<187>: 2017 Mar 06 09:22:34 CET: %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down',
      time: '2017 Mar 06 09:22:34 CET',
      timestamp: '2017-03-06T08:22:34.000000000Z',
      appname: '%ETHPORT-5-IF_DOWN_LINK_FAILURE',
      message: 'Interface Ethernet1/1 is down',
    },
    {
      input:
        '<189>: 2019 Jun 10 10:49:31 UTC: %ETHPORT-5-SPEED: Interface Ethernet1/2, operational speed changed',
      time: '2019 Jun 10 10:49:31 UTC',
      timestamp: '2019-06-10T10:49:31.000000000Z',
      appname: '%ETHPORT-5-SPEED',
      message: 'Interface Ethernet1/2, operational speed changed',
    },
    {
      input: '<189>2017 Mar  6 09:22:34 switch01 %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up',
      time: '2017 Mar  6 09:22:34',
      timestamp: '2017-03-06T09:22:34.000000000Z',
      hostname: 'switch01',
      appname: '%ETHPORT-5-IF_UP',
      message: 'Interface Ethernet1/1 is up',
    },
    {
      // Cisco IOS with `service timestamps log datetime msec show-timezone`.
      input: '<189>*Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from console by vty0',
      time: 'Mar  1 18:48:50.483 UTC',
      timestamp: '2026-03-01T18:48:50.483000000Z',
      appname: '%SYS-5-CONFIG_I',
      message: 'Configured from console by vty0',
    },
    {
      input: '<189>123: Mar  1 18:48:50.483 CEST: %SYS-5-CONFIG_I: Configured',
      time: 'Mar  1 18:48:50.483 CEST',
      timestamp: '2026-03-01T16:48:50.483000000Z',
      appname: '%SYS-5-CONFIG_I',
      message: 'Configured',
    },
    {
      input: '<13>Oct 11 22:14:15 +0200 host app: m',
      time: 'Oct 11 22:14:15 +0200',
      timestamp: '2026-10-11T20:14:15.000000000Z',
      hostname: 'host',
      appname: 'app',
      message: 'm',
    },
    {
      input: '<13>September 01 02:03:04 host app: m',
      time: 'September 01 02:03:04',
      timestamp: '2026-09-01T02:03:04.000000000Z',
      hostname: 'host',
      appname: 'app',
      message: 'm',
    },
    {
      // More than a day ahead of now (2026-11-27): last year's.
      input: '<13>DECEMBER 24 23:00:00 host app: m',
      time: 'DECEMBER 24 23:00:00',
      timestamp: '2025-12-24T23:00:00.000000000Z',
      hostname: 'host',
      appname: 'app',
      message: 'm',
    },
    {
      input: '<13>June  3 2019 08:00:00 host app: m',
      time: 'June  3 2019 08:00:00',
      timestamp: '2019-06-03T08:00:00.000000000Z',
      hostname: 'host',
      appname: 'app',
      message: 'm',
    },
    {
      // A zone shifts the instant; the nearest year is chosen for the instant, not the wall time.
      input: '<13>Nov 28 00:30:00 JST host app: m',
      time: 'Nov 28 00:30:00 JST',
      timestamp: '2026-11-27T15:30:00.000000000Z',
      hostname: 'host',
      appname: 'app',
      message: 'm',
    },
  ]);

  it('recognises an ambiguous zone name (CST, IST, ...) as a zone, but takes the time as UTC and says so', () => {
    const msg = parse('<189>Mar  1 18:48:50 CST: %SYS-5-CONFIG_I: Configured');
    expect(msg).toMatchObject({
      timestamp: '2026-03-01T18:48:50.000000000Z',
      hostname: undefined,
      appname: '%SYS-5-CONFIG_I',
      message: 'Configured',
    });
    expect(msg.problem).toBe('rfc3164: time zone CST has more than one meaning (taken as UTC)');
  });

  it('does not take a word outside the zone table as a zone: it is the hostname', () => {
    expect(parse('<13>Oct 11 22:14:15 XYZ app: m')).toMatchObject({
      timestamp: '2026-10-11T22:14:15.000000000Z',
      hostname: 'XYZ',
      appname: 'app',
    });
  });

  it('reads a year first only after a PRI', () => {
    expect(parse('2017 Mar 06 09:22:34 host app: m').format).toBe('unparsed');
  });

  it('refuses a second year', () => {
    expect(parse('<13>2017 Mar 06 2017 09:22:34 host app: m')).toMatchObject({
      timestamp: undefined,
      message: '2017 Mar 06 2017 09:22:34 host app: m',
    });
  });

  it('has offsets within a day for every zone it names, and the docs list each with its offset', () => {
    const docs = readFileSync(new URL('../../docs/syslog.md', import.meta.url), 'utf8');
    for (const [name, minutes] of ZONE_ABBREVIATIONS) {
      expect(name).toMatch(/^[A-Z]{2,4}$/);
      if (minutes === null) {
        expect(docs, `docs/syslog.md lists ${name}`).toContain(`\`${name}\``);
        continue;
      }
      expect(Math.abs(minutes)).toBeLessThan(24 * 60);
      const hours = Math.abs(minutes) / 60;
      const offset =
        minutes === 0
          ? ''
          : ` ${minutes < 0 ? '\u2212' : '+'}${Math.floor(hours)}${minutes % 60 ? `:${Math.abs(minutes % 60)}` : ''}`;
      expect(docs, `docs/syslog.md lists ${name} with its offset`).toContain(`\`${name}\`${offset}`);
    }
  });
});

describe('whitespace and newlines before <PRI>', () => {
  const classic = { time: 'Sep 01 02:03:04', timestamp: '2026-09-01T02:03:04.000000000Z', hostname: 'host' };
  family([
    { input: '  <13>Sep 01 02:03:04 host app: m', ...classic, appname: 'app', message: 'm' },
    { input: '\n<13>Sep 01 02:03:04 host app: m', ...classic, appname: 'app', message: 'm' },
    {
      input: '\r\n<13>Sep 01 02:03:04 host app[9]: m',
      ...classic,
      appname: 'app',
      procid: '9',
      message: 'm',
    },
    { input: '\t \n\n<13>Sep 01 02:03:04 host app: m\n', ...classic, appname: 'app', message: 'm' },
    { input: '\uFEFF\n<13>Sep 01 02:03:04 host app: m', ...classic, appname: 'app', message: 'm' },
  ]);

  it('reads an RFC 5424 message after a newline too', () => {
    expect(parse('\n<13>1 2024-05-01T12:00:00Z host app 42 ID1 - m')).toMatchObject({
      format: 'rfc5424',
      hostname: 'host',
      msgid: 'ID1',
      message: 'm',
    });
  });

  it('keeps the PRI after whitespace (facility, severity)', () => {
    expect(parse('\n<34>Oct 11 22:14:15 mymachine su: hi')).toMatchObject({
      facility: 4,
      severity: 2,
      hasPri: true,
    });
  });

  it('keeps whitespace before anything but a PRI as part of the text', () => {
    expect(parse('  Oct 11 22:14:15 host app: m')).toMatchObject({ format: 'rfc3164', hasPri: false });
    expect(parse('\n  <abc> x')).toMatchObject({ format: 'unparsed', message: '\n  <abc> x' });
  });
});

describe('a one-word body after the hostname, a JSON body without a tag', () => {
  const head = { time: 'Sep 01 02:03:04', timestamp: '2026-09-01T02:03:04.000000000Z' };
  family([
    { input: '<13>Sep 01 02:03:04 host message', ...head, hostname: 'host', message: 'message' },
    { input: '<13>Sep 01 02:03:04 host message  ', ...head, hostname: 'host', message: 'message  ' },
    { input: '<13>Sep 01 02:03:04 host 42', ...head, hostname: 'host', message: '42' },
    { input: '<13>Sep 01 02:03:04 ::1 restarted', ...head, hostname: '::1', message: 'restarted' },
    { input: '<13>Sep 01 02:03:04 host {"a":1}', ...head, hostname: 'host', message: '{"a":1}' },
    {
      input: '<13>Sep 01 02:03:04 host {"level":"info", "msg":"started"}',
      ...head,
      hostname: 'host',
      message: '{"level":"info", "msg":"started"}',
    },
    { input: '<13>Sep 01 02:03:04 {"a": 1}', ...head, message: '{"a": 1}' },
    { input: '<13>Sep 01 02:03:04 host [{"a": 1}]', ...head, hostname: 'host', message: '[{"a": 1}]' },
    { input: '<13>{"a": 1, "b": "c"}', message: '{"a": 1, "b": "c"}' },
    { input: '<13>  {"a": 1}', message: '  {"a": 1}' },
    // rsyslog's colonless tag stays wherever text follows the word (RFC 3164 section 4.1.3).
    {
      input: '<13>Sep 01 02:03:04 host app message text',
      ...head,
      hostname: 'host',
      appname: 'app',
      message: 'message text',
    },
    {
      input: '<13>Sep 01 02:03:04 host app[12] m',
      ...head,
      hostname: 'host',
      appname: 'app',
      procid: '12',
      message: 'm',
    },
    { input: '<13>Sep 01 02:03:04 host tag:', ...head, hostname: 'host', appname: 'tag', message: '' },
    {
      input: '<13>Sep 01 02:03:04 host tag: {"a": 1}',
      ...head,
      hostname: 'host',
      appname: 'tag',
      message: '{"a": 1}',
    },
  ]);
});

describe("syslogd's own 'last message repeated N times'", () => {
  const head = { time: 'Sep 01 02:03:04', timestamp: '2026-09-01T02:03:04.000000000Z' };
  family([
    {
      input: '<13>Sep 01 02:03:04 host --- last message repeated 3 times ---',
      ...head,
      hostname: 'host',
      message: '--- last message repeated 3 times ---',
    },
    {
      input: '<13>Sep 01 02:03:04 --- last message repeated 1 time ---',
      ...head,
      message: '--- last message repeated 1 time ---',
    },
    {
      input: '<13>Sep 01 02:03:04 host last message repeated 12 times',
      ...head,
      hostname: 'host',
      message: 'last message repeated 12 times',
    },
    {
      input: '<13>Sep 01 02:03:04 last message repeated 2 times',
      ...head,
      message: 'last message repeated 2 times',
    },
    {
      input: 'Sep 01 02:03:04 host --- last message repeated 3 times ---',
      ...head,
      hostname: 'host',
      message: '--- last message repeated 3 times ---',
    },
    // Not the notice: an ordinary tag.
    {
      input: '<13>Sep 01 02:03:04 host last: message',
      ...head,
      hostname: 'host',
      appname: 'last',
      message: 'message',
    },
  ]);
});

describe('an empty tag, IPv6 addresses as the hostname', () => {
  const head = { time: 'Sep 01 02:03:04', timestamp: '2026-09-01T02:03:04.000000000Z' };
  family([
    { input: '<13>Sep 01 02:03:04 host : text', ...head, hostname: 'host', message: 'text' },
    { input: '<13>Sep 01 02:03:04 : text', ...head, message: 'text' },
    { input: '<13>Sep 01 02:03:04 host :', ...head, hostname: 'host', message: '' },
    { input: '<13>Sep 01 02:03:04 host :  two', ...head, hostname: 'host', message: ' two' },
    { input: '<13>Sep 01 02:03:04 host :text', ...head, hostname: 'host', message: ':text' },
    {
      input: '<13>Sep 01 02:03:04 2001:db8::1 app[5]: text',
      ...head,
      hostname: '2001:db8::1',
      appname: 'app',
      procid: '5',
      message: 'text',
    },
    {
      input: '<13>Sep 01 02:03:04 fe80::1%eth0 app: text',
      ...head,
      hostname: 'fe80::1%eth0',
      appname: 'app',
      message: 'text',
    },
    {
      input: '<13>Sep 01 02:03:04 ::ffff:192.0.2.1 app: text',
      ...head,
      hostname: '::ffff:192.0.2.1',
      appname: 'app',
      message: 'text',
    },
    { input: '<13>Sep 01 02:03:04 2001:db8::1 : text', ...head, hostname: '2001:db8::1', message: 'text' },
    { input: '<13>Sep 01 02:03:04 ::1 su: x', ...head, hostname: '::1', appname: 'su', message: 'x' },
    {
      input: '<13>2024-05-01T12:00:00Z 2001:db8::7 sshd[42]: ok',
      time: '2024-05-01T12:00:00Z',
      timestamp: '2024-05-01T12:00:00.000000000Z',
      hostname: '2001:db8::7',
      appname: 'sshd',
      procid: '42',
      message: 'ok',
    },
  ]);

  it('does not take a tag ending in a colon for an IPv6 address', () => {
    expect(parse('<13>Sep 01 02:03:04 dead:beef: text')).toMatchObject({
      hostname: undefined,
      message: 'beef: text',
    });
  });
});

// The invariant itself must be able to fail, or it proves nothing.
describe('the nothing-dropped invariant', () => {
  it('fails when text outside the header fields is missing from the message', () => {
    const c: Case = {
      input: '<13>Sep 01 02:03:04 host app: lost words m',
      time: 'Sep 01 02:03:04',
      message: 'm',
    };
    const msg = { ...parse(c.input), message: 'm' };
    expect(() => expectOnlyHeaderRemoved(c, msg)).toThrow();
  });

  it('fails when the message is not a tail of the input', () => {
    const c: Case = { input: '<13>Sep 01 02:03:04 host app: m', time: 'Sep 01 02:03:04', message: 'x' };
    expect(() => expectOnlyHeaderRemoved(c, { ...parse(c.input), message: 'x' })).toThrow();
  });
});
