import { describe, expect, it } from 'vitest';
import { parseSyslog } from '../../src/sources/syslog/parse.js';
import { peerAddress, syslogEvent } from '../../src/sources/syslog/to-event.js';

/** From a parsed syslog message to the stored event: which field goes where. */

const received = { timestamp: '2026-11-27T02:00:00.000000000Z', id: 'sl-1' };
const tcp = { transport: 'tcp' as const, address: '10.0.0.9' };
const event = (text: string, truncated = false) =>
  syslogEvent(parseSyslog(text, { now: new Date('2026-11-27T02:00:00Z') }), text, tcp, received, truncated);

describe('syslogEvent', () => {
  it('puts the RFC 5424 header in log.syslog.*, the app-name in service, the hostname in host', () => {
    const e = event(
      '<165>1 2026-11-27T01:59:58.5+01:00 mail.example postfix 812 QUEUE [x@32473 k="v"] queued',
    );
    expect(e).toMatchObject({
      timestamp: '2026-11-27T00:59:58.500000000Z',
      id: 'sl-1',
      dataset: 'syslog',
      ingested: received.timestamp,
      message: 'queued',
      severity: 5,
      facility: 20,
      host: 'mail.example',
      service: 'postfix',
      syslog: {
        hostname: 'mail.example',
        appname: 'postfix',
        procid: '812',
        msgid: 'QUEUE',
        structuredData: { 'x@32473': { k: 'v' } },
      },
    });
    expect(e.original).toContain('<165>1');
    expect(e.flags).toBeUndefined();
  });

  it("falls back to the sender's address and the reception time", () => {
    const e = event('<13>su: no hostname, no time');
    expect(e.host).toBe('10.0.0.9');
    expect(e.timestamp).toBe(received.timestamp);
  });

  it('keeps the address the socket saw in log.source.address, whatever host the header names', () => {
    expect(event('<13>1 2026-11-27T02:00:00Z claims-to-be-db app - - - m')).toMatchObject({
      host: 'claims-to-be-db',
      senderAddress: '10.0.0.9',
    });
    expect(event('<13>su: no hostname').senderAddress).toBe('10.0.0.9');
    expect(event('not syslog at all').senderAddress).toBe('10.0.0.9');
  });

  it("keeps the header's time as it is: the sender-clock window is the transforms' job", () => {
    const e = event('<13>1 1999-12-31T23:59:59Z h app - - - m');
    expect(e.timestamp).toBe('1999-12-31T23:59:59.000000000Z');
    expect(e.senderTimestamp).toBeUndefined();
  });

  it('keeps a message that is not syslog whole, flagged unparsed, with no header', () => {
    const e = event('hello there');
    expect(e).toMatchObject({ message: 'hello there', flags: ['unparsed'], severity: 5, facility: 1 });
    expect(e.syslog).toBeUndefined();
    expect(e.original).toBeUndefined();
  });

  it('flags a header read only after a repair, and a cut message', () => {
    expect(event('<13>1 not-a-time host app - - - m').flags).toEqual(['repaired']);
    expect(event('<13>1 - host app - - - cut', true).flags).toEqual(['truncated']);
  });

  it('shows IPv4-mapped addresses as IPv4', () => {
    expect(peerAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(peerAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(peerAddress(undefined)).toBe('unknown');
  });
});
