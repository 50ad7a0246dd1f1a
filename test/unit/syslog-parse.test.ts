import { describe, expect, it } from 'vitest';
import { parseSyslog, type SyslogMessage } from '../../src/sources/syslog/parse.js';

const NOW = new Date('2026-11-27T02:00:00Z');
const parse = (text: string, now: Date = NOW): SyslogMessage => parseSyslog(text, { now });
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

describe('format detection', () => {
  it('reads <PRI> then VERSION SP as RFC 5424', () => {
    expect(parse('<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi').format).toBe('rfc5424');
  });

  it('accepts any version 1..999, as go-syslog does (only 1 is defined)', () => {
    const msg = parse('<165>222 2003-08-24T05:14:15.000002-01:00 - - - - - ');
    expect(msg.format).toBe('rfc5424');
    expect(msg.problem).toBeUndefined();
  });

  it('reads <PRI> then anything else as BSD (RFC 3164)', () => {
    expect(parse('<34>Oct 11 22:14:15 mymachine su: hi').format).toBe('rfc3164');
    expect(parse('<34>0123: counter').format).toBe('rfc3164');
    expect(parse('<189>1234: Jan  8 msg').format).toBe('rfc3164');
  });

  it('reads a BSD message without PRI as user.notice with hasPri false', () => {
    expect(parse('Oct 11 22:14:15 host app: msg')).toMatchObject({
      format: 'rfc3164',
      hasPri: false,
      facility: 1,
      severity: 5,
      hostname: 'host',
      appname: 'app',
      message: 'msg',
    });
  });

  it('reads a clean RFC 5424 header without PRI, and says the PRI is missing', () => {
    const msg = parse('1 2025-01-03T14:07:15Z host app - - - msg');
    expect(msg).toMatchObject({ format: 'rfc5424', hasPri: false, facility: 1, severity: 5, message: 'msg' });
    expect(msg.problem).toBe('rfc5424: no PRI (user.notice assumed)');
  });

  it('keeps a text with neither PRI nor timestamp whole, as unparsed', () => {
    const msg = parse('   { "c2":2 }');
    expect(msg).toMatchObject({
      format: 'unparsed',
      hasPri: false,
      facility: 1,
      severity: 5,
      message: '   { "c2":2 }',
    });
    expect(msg.problem).toBe('no PRI and no timestamp at offset 0');
  });

  it.each([
    '<192>Oct 11 22:14:15 host app: x',
    '<abc>Oct 11 msg',
    '<>1 rest',
    '<1234>Oct 11 22:14:15 h a: x',
    '<34',
  ])('keeps %j (malformed PRI) whole, as unparsed', (text) => {
    const msg = parse(text);
    expect(msg.format).toBe('unparsed');
    expect(msg.message).toBe(text);
    expect(msg.problem).toMatch(/PRI/);
  });

  it('reads an empty text as unparsed with an empty message', () => {
    expect(parse('')).toMatchObject({ format: 'unparsed', message: '', problem: 'empty message' });
    expect(parse('\r\n\0')).toMatchObject({ format: 'unparsed', message: '' });
  });
});

describe('PRI', () => {
  it.each([
    ['<0>', 0, 0],
    ['<13>', 1, 5],
    ['<34>', 4, 2],
    ['<165>', 20, 5],
    ['<191>', 23, 7],
  ])('%s is facility %i, severity %i', (pri, facility, severity) => {
    expect(parse(`${pri}Oct 11 22:14:15 host app: x`)).toMatchObject({ facility, severity, hasPri: true });
  });

  it('accepts leading zeros (<013>): the value is unambiguous', () => {
    expect(parse('<013>Oct 11 22:14:15 host app: x')).toMatchObject({
      facility: 1,
      severity: 5,
      hasPri: true,
    });
  });
});

describe('framing leftovers, BOM', () => {
  it('trims a trailing NUL, CR, LF run and nothing else', () => {
    expect(parse('<13>Oct 11 22:14:15 host app: msg \n').message).toBe('msg ');
    expect(parse('<13>Oct 11 22:14:15 host app: msg\r\n').message).toBe('msg');
    expect(parse('<13>Oct 11 22:14:15 host app: msg\0').message).toBe('msg');
    expect(parse('<13>Oct 11 22:14:15 host app: msg\n\0\r\n').message).toBe('msg');
  });

  it('keeps newlines inside the message', () => {
    expect(parse('<1>1 - - - - - - x\ny').message).toBe('x\ny');
  });

  it('removes a BOM at the start of an RFC 5424 MSG', () => {
    expect(parse('<13>1 2024-05-01T12:00:00Z host app - - - \uFEFFhello').message).toBe('hello');
    expect(parse('<1>1 - - - - - - \uFEFF').message).toBe('');
  });

  it('removes a BOM at the start of a BSD message', () => {
    expect(parse('<13>Oct 11 22:14:15 host app: \uFEFFhello').message).toBe('hello');
  });

  it('keeps a BOM that is not at the start of the message', () => {
    expect(parse('<1>1 - - - - - - a\uFEFFb').message).toBe('a\uFEFFb');
  });

  it('skips a BOM before the PRI (a sender marking the whole frame)', () => {
    expect(parse('\uFEFF<13>Oct 11 22:14:15 host app: x')).toMatchObject({ hasPri: true, hostname: 'host' });
  });

  it('names invalid UTF-8 (U+FFFD from the decoder) after a BOM, keeping the text', () => {
    const msg = parse('<1>1 - - - - - - \uFEFFch\uFFFD\uFFFDs');
    expect(msg.message).toBe('ch\uFFFD\uFFFDs');
    expect(msg.problem).toMatch(/BOM but is not valid UTF-8/);
  });
});

describe('RFC 5424 header', () => {
  it('reads the RFC 5424 section 6.5 example with structured data and a BOM', () => {
    const msg = parse(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ' +
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
    );
    expect(msg).toEqual({
      format: 'rfc5424',
      facility: 20,
      severity: 5,
      hasPri: true,
      timestamp: '2003-10-11T22:14:15.003000000Z',
      hostname: 'mymachine.example.com',
      appname: 'evntslog',
      procid: undefined,
      msgid: 'ID47',
      structuredData: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' } },
      message: 'An application event log entry...',
      problem: undefined,
    });
  });

  it('leaves NILVALUE fields absent', () => {
    const msg = parse('<10>1 - - - - - -');
    expect(msg.format).toBe('rfc5424');
    for (const key of ['timestamp', 'hostname', 'appname', 'procid', 'msgid', 'structuredData'] as const) {
      expect(msg[key]).toBeUndefined();
    }
    expect(msg.message).toBe('');
  });

  it('reads docker rfc5424 and rfc5424micro', () => {
    const expected = { format: 'rfc5424', facility: 3, severity: 6, hostname: 'myhost', appname: 'mytag' };
    expect(parse('<30>1 2026-11-27T02:00:00Z myhost mytag 1234 mytag - text')).toMatchObject({
      ...expected,
      timestamp: '2026-11-27T02:00:00.000000000Z',
      procid: '1234',
      msgid: 'mytag',
      message: 'text',
    });
    expect(parse('<30>1 2026-11-27T02:00:00.123456Z myhost mytag 1234 mytag - text').timestamp).toBe(
      '2026-11-27T02:00:00.123456000Z',
    );
  });

  it("reads util-linux logger's default (RFC 5424 with timeQuality)", () => {
    expect(
      parse(
        '<13>1 2026-11-27T02:00:00.123456+00:00 host user - - [timeQuality tzKnown="1" isSynced="0"] msg',
      ),
    ).toMatchObject({
      format: 'rfc5424',
      timestamp: '2026-11-27T02:00:00.123456000Z',
      hostname: 'host',
      appname: 'user',
      procid: undefined,
      msgid: undefined,
      structuredData: { timeQuality: { tzKnown: '1', isSynced: '0' } },
      message: 'msg',
      problem: undefined,
    });
  });

  it('removes exactly the one SP before MSG; further spaces are message', () => {
    expect(parse('<13>1 2019-05-15T11:21:57+03:00 domain.tld tag - - -  nosd-sp').message).toBe(' nosd-sp');
    expect(parse('<13>1 2019-05-15T11:21:57+03:00 domain.tld tag - - [a@1 a="b"]  sd-sp').message).toBe(
      ' sd-sp',
    );
  });
});

describe('RFC 5424 timestamps', () => {
  it.each([
    ['2003-08-24T05:14:15.000003-07:00', '2003-08-24T12:14:15.000003000Z'],
    ['2018-12-31T23:59:59.999999-23:59', '2019-01-01T23:58:59.999999000Z'],
    ['2003-11-11T22:04:05.003+01:30', '2003-11-11T20:34:05.003000000Z'],
    ['2026-04-27T15:46:41.0300000Z', '2026-04-27T15:46:41.030000000Z'],
    ['2026-04-27T15:46:41.000006930Z', '2026-04-27T15:46:41.000006930Z'],
    ['2016-01-15T00:04:01+00:00', '2016-01-15T00:04:01.000000000Z'],
  ])('converts %s to %s (UTC, nine digits, up to nine accepted)', (time, expected) => {
    const msg = parse(`<13>1 ${time} h a - - - m`);
    expect(msg.timestamp).toBe(expected);
    expect(msg.problem).toBeUndefined();
  });

  it('takes a timestamp without offset as UTC and says so', () => {
    const msg = parse('<13>1 2024-05-01T12:00:00.5 h a - - - m');
    expect(msg.timestamp).toBe('2024-05-01T12:00:00.500000000Z');
    expect(msg.problem).toMatch(/no time zone offset \(taken as UTC\)/);
  });

  it('cuts more than nine fraction digits and says so', () => {
    const msg = parse('<13>1 2024-05-01T12:00:00.1234567891Z h a - - - m');
    expect(msg.timestamp).toBe('2024-05-01T12:00:00.123456789Z');
    expect(msg.problem).toMatch(/fraction cut to nine digits/);
  });

  it("accepts lower-case 't'/'z' (RFC 5424 forbids them) and says so", () => {
    const msg = parse('<29>1 2006-01-02t15:04:05z - - - - - m');
    expect(msg.timestamp).toBe('2006-01-02T15:04:05.000000000Z');
    expect(msg.problem).toMatch(/lower-case/);
  });

  it.each([
    '2003-09-31T22:14:15Z',
    '2018-02-29T22:14:16+01:00',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:00:60Z',
  ])('leaves out the timestamp %s, which names no real time, and keeps the header', (time) => {
    const msg = parse(`<13>1 ${time} host app - - - m`);
    expect(msg).toMatchObject({ format: 'rfc5424', timestamp: undefined, hostname: 'host', message: 'm' });
    expect(msg.problem).toMatch(/unusable timestamp/);
  });
});

describe('RFC 5424 headers that cannot be read fall back to BSD', () => {
  it('names the field that failed, with its offset', () => {
    const msg = parse('<34>1 not-valid-anything');
    expect(msg).toMatchObject({
      format: 'rfc3164',
      facility: 4,
      severity: 2,
      message: '1 not-valid-anything',
    });
    expect(msg.problem).toBe('rfc5424: expecting a timestamp at offset 6');
  });

  it.each([
    ['a hostname over 255 characters', `<1>1 - ${'h'.repeat(256)} - - - -`, 'hostname'],
    ['an app-name over 255 characters', `<1>1 - host ${'a'.repeat(256)} - - -`, 'app-name'],
    ['a procid over 128 characters', `<1>1 - - - ${'p'.repeat(129)} - -`, 'procid'],
    ['a msgid over 255 characters', `<1>1 - - - - ${'m'.repeat(256)} -`, 'msgid'],
    ['a newline in a header field', '<1>1 - host\nname - - - -', 'hostname'],
    ['two spaces between fields', '<1>1 - -   - - -', 'app-name'],
    ['the text ending before structured data', '<1>1 - - - - -', 'app-name|procid|msgid|structured data'],
  ])('on %s', (_, text, field) => {
    const msg = parse(text);
    expect(msg.format).toBe('rfc3164');
    expect(msg.message).toBe(text.slice(text.indexOf('>') + 1));
    expect(msg.problem).toMatch(new RegExp(`^rfc5424: expecting (a|an) (${field})`));
  });
});

describe("RFC 5424 from Docker's syslog driver", () => {
  it('keeps an app-name over 48 and a msgid over 32 characters (the tag is written into both), noting it', () => {
    const tag = 'lwtest-syslog-drvrfc5424-13274/e05fd38403af';
    const msg = parse(`<30>1 2026-11-27T02:14:15Z vm ${tag} 2894 ${tag} - out 1`);
    expect(msg).toMatchObject({
      format: 'rfc5424',
      hostname: 'vm',
      appname: tag,
      procid: '2894',
      msgid: tag,
    });
    expect(msg.message).toBe('out 1');
    expect(msg.problem).toMatch(/msgid longer than 32/);
  });
});

describe('RFC 5424 structured data', () => {
  const sd = (text: string): SyslogMessage => parse(`<13>1 2024-05-01T12:00:00Z h a - - ${text}`);

  it('resolves the escapes \\" \\\\ \\] in values', () => {
    const msg = sd('[ex@32473 a="q\\"uote" b="back\\\\slash" c="br\\]acket"] m');
    expect(msg.structuredData).toEqual({ 'ex@32473': { a: 'q"uote', b: 'back\\slash', c: 'br]acket' } });
    expect(msg.message).toBe('m');
    expect(msg.problem).toBeUndefined();
  });

  it('keeps any other backslash as an ordinary character (RFC 5424 section 6.3.3)', () => {
    const msg = sd('[meta escape="\\n" u="hey \\\\u2318 hey"] m');
    expect(msg.structuredData).toEqual({ meta: { escape: '\\n', u: 'hey \\u2318 hey' } });
    expect(msg.problem).toBeUndefined();
  });

  it('reads several elements, empty ones and empty values', () => {
    expect(sd('[a x="1"][b][c y=""] m').structuredData).toEqual({ a: { x: '1' }, b: {}, c: { y: '' } });
  });

  it('keeps the last value of a repeated parameter', () => {
    expect(sd('[a x="1" x="2"] m').structuredData).toEqual({ a: { x: '2' } });
  });

  it('merges a repeated SD-ID and says so', () => {
    const msg = sd('[dupe e="1"][id1][dupe class="l"] m');
    expect(msg.structuredData).toEqual({ dupe: { e: '1', class: 'l' }, id1: {} });
    expect(msg.problem).toMatch(/SD-ID "dupe" repeated/);
  });

  it("accepts spaces around '=' (rsyslog's tests send them) and says so", () => {
    const msg = sd('[exampleSDID@32473 iut="3" eventSource= "Application"] m');
    expect(msg.structuredData).toEqual({ 'exampleSDID@32473': { iut: '3', eventSource: 'Application' } });
    expect(msg.problem).toMatch(/space around '='/);
  });

  it("accepts an unescaped ']' inside a quoted value and says so", () => {
    const msg = sd('[meta escape="]q"] 127.0.0.1');
    expect(msg.structuredData).toEqual({ meta: { escape: ']q' } });
    expect(msg.message).toBe('127.0.0.1');
    expect(msg.problem).toMatch(/unescaped '\]'/);
  });

  it('keeps values with any Unicode text, tabs included', () => {
    expect(sd('[meta gr="κόσμε" t="a\tb"][beta pr="₡"] 𐌼').structuredData).toEqual({
      meta: { gr: 'κόσμε', t: 'a\tb' },
      beta: { pr: '₡' },
    });
  });

  it('keeps an unreadable element, and what follows, as message text; earlier elements stay', () => {
    const msg = sd('[ok a="1"][bad x=""" ] rest');
    expect(msg).toMatchObject({
      format: 'rfc5424',
      structuredData: { ok: { a: '1' } },
      message: '[bad x=""" ] rest',
    });
    expect(msg.problem).toMatch(/expecting ' ' or '\]'.*kept as message text/);
  });

  it.each([
    '[]',
    '[ ]',
    '[=]',
    '["]',
    `[${'x'.repeat(33)}]`,
    `[id ${'k'.repeat(33)}="v"]`,
    '[id a="unclosed',
  ])('keeps %s as message text', (text) => {
    const msg = sd(text);
    expect(msg).toMatchObject({ format: 'rfc5424', structuredData: undefined, message: text });
    expect(msg.problem).toMatch(/^rfc5424: /);
  });

  it("keeps text that is neither '-' nor '[' where structured data belongs as message", () => {
    expect(sd('X rest')).toMatchObject({ format: 'rfc5424', message: 'X rest', structuredData: undefined });
    expect(sd('-x').message).toBe('-x');
  });

  it('keeps junk right after structured data as message text', () => {
    const msg = sd('[a x="1"]junk');
    expect(msg).toMatchObject({ structuredData: { a: { x: '1' } }, message: 'junk' });
    expect(msg.problem).toMatch(/expecting a space after structured data/);
  });

  it('stores __proto__ as data, not as a prototype', () => {
    const msg = sd('[__proto__ __proto__="x" constructor="y"] m');
    const entries = Object.entries(msg.structuredData ?? {}).map(([id, params]) => [
      id,
      Object.entries(params),
    ]);
    expect(entries).toEqual([
      [
        '__proto__',
        [
          ['__proto__', 'x'],
          ['constructor', 'y'],
        ],
      ],
    ]);
    expect(Object.getPrototypeOf(msg.structuredData)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(msg.structuredData))).toEqual(
      JSON.parse('{"__proto__":{"__proto__":"x","constructor":"y"}}'),
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('stores SD-IDs named like Object.prototype members as new elements, touching no global', () => {
    const msg = sd('[constructor a="1"][toString b="2"][constructor c="3"] m');
    expect(Object.entries(msg.structuredData ?? {})).toEqual([
      ['constructor', { a: '1', c: '3' }],
      ['toString', { b: '2' }],
    ]);
    expect((Object as unknown as Record<string, unknown>).a).toBeUndefined();
  });
});

describe('RFC 3164 (BSD) header', () => {
  it('reads the classic form', () => {
    expect(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")).toEqual({
      format: 'rfc3164',
      facility: 4,
      severity: 2,
      hasPri: true,
      timestamp: '2026-10-11T22:14:15.000000000Z',
      hostname: 'mymachine',
      appname: 'su',
      procid: undefined,
      msgid: undefined,
      structuredData: undefined,
      message: "'su root' failed for lonvick on /dev/pts/8",
      problem: undefined,
    });
  });

  it('reads a message without hostname (the tag in its place)', () => {
    expect(parse('<13>Oct 11 22:14:15 su: msg')).toMatchObject({
      hostname: undefined,
      appname: 'su',
      message: 'msg',
    });
  });

  it('reads app[pid]: in the hostname slot as the tag', () => {
    expect(parse('<13>Oct 11 22:14:15 sshd[42]: msg')).toMatchObject({
      hostname: undefined,
      appname: 'sshd',
      procid: '42',
      message: 'msg',
    });
  });

  it('reads an RFC 3339 timestamp, converted to UTC', () => {
    expect(parse('<13>2024-05-01T12:00:00.123+02:00 host app[12]: msg')).toMatchObject({
      format: 'rfc3164',
      timestamp: '2024-05-01T10:00:00.123000000Z',
      hostname: 'host',
      appname: 'app',
      procid: '12',
      message: 'msg',
    });
  });

  it('reads a space-padded day, a one-digit day and an upper-case month', () => {
    expect(parse('<13>Oct  1 02:03:04 host app: m').timestamp).toBe('2026-10-01T02:03:04.000000000Z');
    expect(parse('<13>Mar 7 19:06:53 host app: m').timestamp).toBe('2026-03-07T19:06:53.000000000Z');
    expect(parse('<167>AUG 10 22:18:24 host tag msg').timestamp).toBe('2026-08-10T22:18:24.000000000Z');
  });

  it('uses a year written before the time, and a colon after it', () => {
    expect(parse('<167>Mar 7 2008 19:06:53: example tag: m')).toMatchObject({
      timestamp: '2008-03-07T19:06:53.000000000Z',
      hostname: 'example',
      appname: 'tag',
      message: 'm',
    });
  });

  it('skips spaces between PRI and timestamp', () => {
    expect(parse('<132> Apr  4 19:32:33 ix2105  IP6[015]: Beyond scope for packet')).toMatchObject({
      timestamp: '2026-04-04T19:32:33.000000000Z',
      hostname: 'ix2105',
      appname: 'IP6',
      procid: '015',
      message: 'Beyond scope for packet',
    });
  });

  it.each([
    ['app[123]: m', 'app', '123', 'm'],
    ['app: m', 'app', undefined, 'm'],
    ['app m', 'app', undefined, 'm'],
    ['app[123] m', 'app', '123', 'm'],
    ['app:m', 'app', undefined, 'm'],
    ['monit[2340:0]: subsvc[12345]: m', 'monit', '2340:0', 'subsvc[12345]: m'],
    ['postfix/smtpd[123]: m', 'postfix/smtpd', '123', 'm'],
    ['sshd(pam_unix)[12750]: m', 'sshd(pam_unix)', '12750', 'm'],
    ['%ASA-6-302013: Built inbound', '%ASA-6-302013', undefined, 'Built inbound'],
    ['tag4:', 'tag4', undefined, ''],
    ['app', undefined, undefined, 'app'],
  ])('reads the tag in "host %s"', (rest, appname, procid, message) => {
    expect(parse(`<13>Oct 11 22:14:15 host ${rest}`)).toMatchObject({
      hostname: 'host',
      appname,
      procid,
      message,
    });
  });

  it('removes only the one space after the tag', () => {
    expect(parse('<13>Oct 11 22:14:15 host tag:  two').message).toBe(' two');
  });

  it("keeps text starting with '[' or a lone '-' as message, not as tag", () => {
    expect(parse('<13>Oct 11 22:14:15 host [audit] user=x')).toMatchObject({
      appname: undefined,
      message: '[audit] user=x',
    });
    expect(parse('<13>Dec  2 16:31:03 -')).toMatchObject({ appname: undefined, message: '-' });
  });

  it('after two spaces, takes only a tag ending in a colon (a plain word stays message)', () => {
    expect(parse('<6>AUG 10 22:18:24 2009  netips-warden2-p [audit] x')).toMatchObject({
      hostname: '2009',
      appname: undefined,
      message: 'netips-warden2-p [audit] x',
    });
  });

  it('reads an IPv6 address as the hostname', () => {
    expect(parse('<13>Oct 11 22:14:15 2001:db8::1 app: m')).toMatchObject({
      hostname: '2001:db8::1',
      appname: 'app',
    });
  });

  it('reads a header that ends after the hostname or after the timestamp', () => {
    expect(parse('<14>Aug 30 23:00:05 X4711')).toMatchObject({
      hostname: 'X4711',
      appname: undefined,
      message: '',
    });
    expect(parse('<14>Aug 30 23:00:05 ')).toMatchObject({
      hostname: undefined,
      appname: undefined,
      message: '',
    });
  });

  it('reads docker rfc3164 and docker default (no hostname)', () => {
    expect(parse('<30>Nov 27 02:00:00 myhost mytag[1234]: text')).toMatchObject({
      format: 'rfc3164',
      facility: 3,
      severity: 6,
      timestamp: '2026-11-27T02:00:00.000000000Z',
      hostname: 'myhost',
      appname: 'mytag',
      procid: '1234',
      message: 'text',
    });
    expect(parse('<30>Nov 27 02:00:00 mytag[1234]: text')).toMatchObject({
      hostname: undefined,
      appname: 'mytag',
      procid: '1234',
      message: 'text',
    });
  });

  it('reads util-linux logger --rfc3164', () => {
    expect(parse('<13>Nov 27 02:00:00 host user: msg')).toMatchObject({
      hostname: 'host',
      appname: 'user',
      message: 'msg',
      problem: undefined,
    });
  });

  it('reads Cisco IOS counters, sequence numbers, clock marks and msec', () => {
    expect(parse('<189>643: *Jan  8 19:46:03.295: %LINEPROTO-5-UPDOWN: Line protocol up')).toMatchObject({
      timestamp: '2026-01-08T19:46:03.295000000Z',
      hostname: undefined,
      appname: '%LINEPROTO-5-UPDOWN',
      message: 'Line protocol up',
    });
    expect(parse('<189>105: 000104: Mar 12 07:12:10: %SYS-5-CONFIG_I: x').appname).toBe('%SYS-5-CONFIG_I');
    expect(parse('<189>: Mar 12 07:10:10: %SYS-5-CONFIG_I: x').appname).toBe('%SYS-5-CONFIG_I');
  });

  it('reads a Cisco IOS hostname prefix as the hostname', () => {
    expect(parse('<189>269614: myhostname: Apr 11 10:02:08: %LINK-3-UPDOWN: down')).toMatchObject({
      hostname: 'myhostname',
      appname: '%LINK-3-UPDOWN',
      message: 'down',
    });
  });

  it('does not take Cisco prefixes without a PRI', () => {
    expect(parse("123: Oct 11 22:14:15 mymachine su: 'su root' failed").format).toBe('unparsed');
  });
});

describe('RFC 3164 without a timestamp', () => {
  it('takes all after the PRI as the message (RFC 3164 section 4.3.2), guessing no hostname', () => {
    expect(parse('<14>hello big world')).toMatchObject({
      format: 'rfc3164',
      hostname: undefined,
      appname: undefined,
      timestamp: undefined,
      message: 'hello big world',
      problem: undefined,
    });
  });

  it('still reads a leading `tag: ` (rsyslog reads <27>xapi: ... so)', () => {
    expect(parse('<27>xapi: [error|xen3|15] Connection died')).toMatchObject({
      hostname: undefined,
      appname: 'xapi',
      message: '[error|xen3|15] Connection died',
    });
    expect(parse('<166>%ASA-6-302013: Built').appname).toBe('%ASA-6-302013');
  });

  it('does not take `word:` without a following space as a tag', () => {
    expect(parse('<13>http://example.com is down')).toMatchObject({
      appname: undefined,
      message: 'http://example.com is down',
    });
  });

  it('keeps the text after the PRI as is, leading spaces included', () => {
    expect(parse('<13>   { "a": 1 }').message).toBe('   { "a": 1 }');
  });

  it('reads a PRI alone as an empty message', () => {
    expect(parse('<34>')).toMatchObject({ format: 'rfc3164', facility: 4, severity: 2, message: '' });
  });
});

describe('RFC 3164 timestamps', () => {
  const at = (stamp: string, now: string): string | undefined =>
    parse(`<13>${stamp} host app: m`, new Date(now)).timestamp;

  it('takes the year that puts the time nearest to now', () => {
    expect(at('Oct 11 22:14:15', '2026-11-27T02:00:00Z')).toBe('2026-10-11T22:14:15.000000000Z');
  });

  it('puts a time more than a day ahead in the previous year', () => {
    expect(at('Nov 29 00:00:00', '2026-11-27T02:00:00Z')).toBe('2025-11-29T00:00:00.000000000Z');
    expect(at('Dec 31 23:59:59', '2027-01-01T00:10:00Z')).toBe('2026-12-31T23:59:59.000000000Z');
  });

  it('keeps a time up to a day ahead in the current (or next) year: clock skew', () => {
    expect(at('Nov 27 12:00:00', '2026-11-27T02:00:00Z')).toBe('2026-11-27T12:00:00.000000000Z');
    expect(at('Jan  1 00:01:00', '2026-12-31T23:59:00Z')).toBe('2027-01-01T00:01:00.000000000Z');
  });

  it('finds the leap year for Feb 29', () => {
    expect(at('Feb 29 12:00:00', '2026-11-27T02:00:00Z')).toBe('2024-02-29T12:00:00.000000000Z');
  });

  it.each([
    'Feb 30 12:00:00',
    'Oct 11 24:00:00',
    'Oct 32 12:00:00',
    'Oct 11 12:60:00',
    'Feb 29 2023 12:00:00',
  ])('leaves out %s, which names no real time, and says so', (stamp) => {
    const msg = parse(`<13>${stamp} host app: m`);
    expect(msg).toMatchObject({ format: 'rfc3164', timestamp: undefined, hostname: 'host', message: 'm' });
    expect(msg.problem).toMatch(/^rfc3164: unusable timestamp at offset 4/);
  });

  it('leaves out the time when now is not a valid date, without throwing', () => {
    expect(parse('<13>Oct 11 22:14:15 host app: m', new Date(Number.NaN)).timestamp).toBeUndefined();
  });

  it('takes a zone-less RFC 3339 time as UTC and says so', () => {
    const msg = parse('<13>2024-05-01T12:00:00 host app: m');
    expect(msg.timestamp).toBe('2024-05-01T12:00:00.000000000Z');
    expect(msg.problem).toMatch(/taken as UTC/);
  });

  it('takes a date with a space before the time as a timestamp only after a PRI', () => {
    expect(parse('<13>2024-05-01 12:00:00 INFO start')).toMatchObject({
      timestamp: '2024-05-01T12:00:00.000000000Z',
      hostname: 'INFO',
      message: 'start',
    });
    // Without a PRI, a line starting so is far more likely an application's own log line.
    expect(parse('2024-05-01 12:00:00 INFO start')).toMatchObject({
      format: 'unparsed',
      message: '2024-05-01 12:00:00 INFO start',
    });
  });
});

/** A small deterministic PRNG (mulberry32), so that a failing fuzz case can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The parser's promises, for any input: a well-formed result that loses no text. */
function expectWellFormed(text: string): void {
  const msg = parseSyslog(text, { now: NOW });
  const trimmed = text.replace(/[\0\r\n]+$/, '');
  expect(['rfc5424', 'rfc3164', 'unparsed']).toContain(msg.format);
  expect(msg.facility).toBeGreaterThanOrEqual(0);
  expect(msg.facility).toBeLessThanOrEqual(23);
  expect(msg.severity).toBeGreaterThanOrEqual(0);
  expect(msg.severity).toBeLessThanOrEqual(7);
  if (msg.timestamp !== undefined) expect(msg.timestamp).toMatch(CANONICAL);
  // The message is always the tail of the text: whatever is not a header field is in it.
  expect(trimmed.endsWith(msg.message)).toBe(true);
  if (msg.format === 'unparsed') {
    expect(msg.message).toBe(trimmed);
    expect(msg.problem).toBeTypeOf('string');
  }
}

describe('never throws, never loses text', () => {
  const ALPHABET = '<>0123456789 -[]="\\:.TZtz+*@/\n\r\0\t\uFEFFabcJanOctDecxyz%κ😀\uFFFD';

  it('on random strings of syslog-ish characters', () => {
    const next = random(42);
    for (let n = 0; n < 5000; n++) {
      let text = next() < 0.5 ? `<${Math.floor(next() * 200)}>` : '';
      const length = Math.floor(next() * 80);
      for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
      expectWellFormed(text);
    }
  });

  it('on random bytes decoded as UTF-8 and as Latin-1', () => {
    const next = random(7);
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.alloc(Math.floor(next() * 120));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      expectWellFormed(bytes.toString('utf8'));
      expectWellFormed(bytes.toString('latin1'));
    }
  });

  it('on every prefix and every one-character change of real messages', () => {
    const samples = [
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" a="q\\"x\\]"][b@1] \uFEFFmsg',
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
      '<189>269614: myhostname: *Apr 11 10:02:08.123: %LINK-3-UPDOWN: down',
      '<13>2024-05-01T12:00:00.123+02:00 host app[12]: msg',
    ];
    const next = random(3);
    for (const sample of samples) {
      for (let i = 0; i <= sample.length; i++) {
        expectWellFormed(sample.slice(0, i));
        const c = ALPHABET[Math.floor(next() * ALPHABET.length)] ?? 'x';
        expectWellFormed(sample.slice(0, i) + c + sample.slice(i + 1));
      }
    }
  });
});
