/**
 * LogEvent -> RFC 5424 message text, and RFC 6587 octet-counted framing. Pure.
 *
 * Every header field is made valid rather than refused: a forwarder that rejected events for a
 * hostname with a space in it would drop logs over cosmetics. Characters a field may not hold
 * become `_`, over-long fields are cut to the RFC's limit, and empty ones become the NILVALUE.
 */
import type { LogEvent } from '../../core/event.js';

/**
 * The SD-ID under which container facts travel. 32473 is the example Private Enterprise Number
 * of RFC 5612, reserved for documentation: a placeholder until logwharf registers a PEN of its own.
 */
export const LOGWHARF_SD_ID = 'logwharf@32473';

const NIL = '-';
/** RFC 5424 section 6: HOSTNAME 1*255, APP-NAME 1*48, PROCID 1*128, MSGID 1*32 PRINTUSASCII; SD-NAME 1*32. */
const MAX = { hostname: 255, appname: 48, procid: 128, msgid: 32, sdName: 32 } as const;

/**
 * The whole syslog message (HEADER SP STRUCTURED-DATA [SP MSG]), without framing.
 *
 * MSG is UTF-8 without the BOM that RFC 5424 section 6.4 would put before it: rsyslog,
 * syslog-ng and most SIEMs keep a BOM as three bytes of message text, so it would show up in
 * searches and displays downstream. Newlines stay as they are: octet counting frames them safely.
 */
export function encodeRfc5424(e: LogEvent): string {
  const header = [
    `<${pri(e.facility, e.severity)}>1`,
    timestamp(e.timestamp),
    headerField(e.syslog?.hostname ?? e.host, MAX.hostname),
    headerField(e.syslog?.appname ?? e.service ?? e.container?.name, MAX.appname),
    headerField(e.syslog?.procid, MAX.procid),
    headerField(e.syslog?.msgid, MAX.msgid),
    structuredData(e),
  ].join(' ');
  return e.message === '' ? header : `${header} ${e.message}`;
}

/** RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 encoding. */
export function frameOctetCounted(msg: string): Buffer {
  const bodyLength = Buffer.byteLength(msg, 'utf8');
  const prefix = `${bodyLength} `;
  const out = Buffer.allocUnsafe(prefix.length + bodyLength);
  out.write(prefix, 0, 'latin1');
  out.write(msg, prefix.length, 'utf8');
  return out;
}

/** Out-of-range codes fall back to user.notice, the PRI RFC 3164 section 4.3.3 assumes when none is given. */
function pri(facility: number, severity: number): number {
  const f = Number.isInteger(facility) && facility >= 0 && facility <= 23 ? facility : 1;
  const s = Number.isInteger(severity) && severity >= 0 && severity <= 7 ? severity : 5;
  return f * 8 + s;
}

const CANONICAL_TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/**
 * RFC 5424 TIME-SECFRAC allows 6 digits; the event has 9. The extra digits are cut, not rounded,
 * so a time never moves into the next second (or past a later event's). A timestamp that is not
 * canonical is re-read once; one that is not a time at all is sent as NILVALUE, and the receiver
 * stamps its own time (what rsyslog does for a message without one).
 */
function timestamp(ts: string): string {
  const m = CANONICAL_TS.exec(ts);
  if (m) return m[2] ? `${m[1]}.${m[2].slice(0, 6)}Z` : `${m[1]}Z`;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? NIL : new Date(ms).toISOString();
}

/** PRINTUSASCII (33..126) only, each other character (per code point) replaced by `_`; cut to `max`. */
function headerField(value: string | undefined, max: number): string {
  if (value === undefined || value === '') return NIL;
  return printable(value, max, false);
}

function printable(value: string, max: number, sdName: boolean): string {
  let out = '';
  let n = 0;
  for (const ch of value) {
    if (n === max) break;
    const c = ch.codePointAt(0)!;
    // SD-NAME additionally excludes '=', SP, ']' and '"' (RFC 5424 section 6.3.2/6.3.3).
    const ok = c >= 33 && c <= 126 && !(sdName && (c === 0x3d || c === 0x5d || c === 0x22));
    out += ok ? ch : '_';
    n++;
  }
  return out;
}

function sdName(name: string): string {
  return name === '' ? '_' : printable(name, MAX.sdName, true);
}

/** PARAM-VALUE: UTF-8, with '"', '\' and ']' escaped by a backslash (RFC 5424 section 6.3.3). */
function escapeValue(value: string): string {
  return value.replace(/["\\\]]/g, '\\$&');
}

/**
 * The event's own structured data re-emitted, plus a `logwharf@32473` element with what the
 * header cannot say: a container's facts; for a syslog event, the address it came from
 * (`source_address`: the header's HOSTNAME is the sender's claim) and, when its time was out of
 * line and replaced by the receive time (the TIMESTAMP sent), the time it claimed
 * (`sender_timestamp`). Two SD-IDs that sanitise to the same name are merged into one
 * element (an SD-ID may occur only once per message, section 6.3.2) rather than dropping either.
 */
function structuredData(e: LogEvent): string {
  const elements = new Map<string, string[]>();
  const add = (id: string, name: string, value: string) => {
    const key = sdName(id);
    let params = elements.get(key);
    if (!params) {
      params = [];
      elements.set(key, params);
    }
    params.push(`${sdName(name)}="${escapeValue(value)}"`);
  };
  const sd = e.syslog?.structuredData;
  if (sd) {
    for (const [id, params] of Object.entries(sd)) {
      const key = sdName(id);
      if (!elements.has(key)) elements.set(key, []);
      for (const [name, value] of Object.entries(params)) add(id, name, value);
    }
  }
  const c = e.container;
  if (c) {
    add(LOGWHARF_SD_ID, 'container', c.name);
    add(LOGWHARF_SD_ID, 'id', c.id);
    if (c.imageName) add(LOGWHARF_SD_ID, 'image', c.imageName);
    if (e.stream) add(LOGWHARF_SD_ID, 'stream', e.stream);
    const service = c.composeService ?? e.service;
    if (service) add(LOGWHARF_SD_ID, 'service', service);
    if (c.composeProject) add(LOGWHARF_SD_ID, 'project', c.composeProject);
  }
  if (e.senderAddress !== undefined) add(LOGWHARF_SD_ID, 'source_address', e.senderAddress);
  if (e.senderTimestamp !== undefined) add(LOGWHARF_SD_ID, 'sender_timestamp', e.senderTimestamp);
  if (elements.size === 0) return NIL;
  let out = '';
  for (const [id, params] of elements) out += params.length === 0 ? `[${id}]` : `[${id} ${params.join(' ')}]`;
  return out;
}
