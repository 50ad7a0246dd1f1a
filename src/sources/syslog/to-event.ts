import type { LogEvent } from '../../core/event.js';
import type { SyslogMessage } from './message.js';

/** Who sent a message, as the receiver saw it. */
export interface SyslogPeer {
  transport: 'udp' | 'tcp' | 'tls';
  /** The sender's IP address (IPv4-mapped IPv6 shown as IPv4). */
  address: string;
}

/**
 * Turns one parsed syslog message into a pipeline event. Pure.
 *
 * - `@timestamp` is the time the message carries, else the time it was received.
 * - `host.name` is the header's hostname, else the sender's address (as rsyslog's %fromhost%).
 * - `log.source.address` is always the sender's address: the header's hostname is the sender's
 *   claim, the address is what the socket saw (a relay's, when one forwarded the message).
 * - `service.name` is the app-name, as DESIGN.md says for syslog.
 * - `event.original` keeps the whole received text, header included, whenever the stored message
 *   is not all of it (kept for audit, like every other source's raw line).
 * - A message neither grammar parsed is kept whole and flagged `unparsed` (`log.flags`), so it is
 *   searchable and countable, never dropped. One that parsed only after a repair (an RFC 5424
 *   header read as BSD, an impossible date, lenient structured data) is flagged `repaired`:
 *   `log.flags:repaired` finds the senders worth fixing.
 */
export function syslogEvent(
  msg: SyslogMessage,
  raw: string,
  peer: SyslogPeer,
  received: { timestamp: string; id: string },
  truncated: boolean,
): LogEvent {
  const e: LogEvent = {
    timestamp: msg.timestamp ?? received.timestamp,
    id: received.id,
    dataset: 'syslog',
    ingested: received.timestamp,
    message: msg.message,
    severity: msg.severity,
    facility: msg.facility,
    host: msg.hostname ?? peer.address,
    senderAddress: peer.address,
  };
  if (raw !== msg.message) e.original = raw;
  if (msg.appname !== undefined) e.service = msg.appname;
  if (msg.format !== 'unparsed') {
    e.syslog = {};
    if (msg.hostname !== undefined) e.syslog.hostname = msg.hostname;
    if (msg.appname !== undefined) e.syslog.appname = msg.appname;
    if (msg.procid !== undefined) e.syslog.procid = msg.procid;
    if (msg.msgid !== undefined) e.syslog.msgid = msg.msgid;
    if (msg.structuredData !== undefined) e.syslog.structuredData = msg.structuredData;
  }
  const repaired = msg.format !== 'unparsed' && msg.problem !== undefined;
  if (msg.format === 'unparsed' || repaired || truncated) {
    e.flags = [];
    if (msg.format === 'unparsed') e.flags.push('unparsed');
    if (repaired) e.flags.push('repaired');
    if (truncated) e.flags.push('truncated');
  }
  return e;
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`: the form people write and search for. */
export function peerAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
