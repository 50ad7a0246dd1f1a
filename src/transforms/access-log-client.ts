/**
 * The addresses at the start of an access line when there is more than one: a proxy chain
 * (`10.0.0.2, 10.0.0.1, 127.0.0.1`, or a quoted X-Forwarded-For then the peer) and a virtual
 * host in front (Apache `vhost_combined`, nginx formats that start with `$host`). Which of the
 * chain is the client is decided here too. Pure; access-log.ts handles the one-address line
 * without coming here.
 */

const SPACE = 0x20;
const QUOTE = 0x22;

export interface Addresses {
  /** The client: for a chain, the first public IP address in it, else its first entry. */
  client: string;
  /** Every address of the chain in order (one entry when there is no chain). */
  chain: string[];
  vhost: string | undefined;
  vhostPort: number | undefined;
}

/**
 * `text[0, end)` is one of:
 *   `addr`                               the usual case, an IP or a host name (`::1`, `monitoring-server`)
 *   `addr, addr, addr`                   a chain, as nginx logs it behind proxies
 *   `"addr, addr" addr`                  a quoted X-Forwarded-For, then the peer
 *   `vhost[:port] <any of the above>`    a virtual host first
 * Groups are the comma-joined runs and the quoted lists. A first group that is a single bare
 * entry followed by more is the virtual host (the same reading Filebeat's nginx module makes).
 */
export function readAddresses(text: string, end: number): Addresses | undefined {
  const groups: { entries: string[]; bare: boolean }[] = [];
  let i = 0;
  let open: string[] | undefined; // a bare group whose last entry ended with a comma
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === SPACE) {
      i++;
      continue;
    }
    if (c === QUOTE && open === undefined) {
      const close = text.indexOf('"', i + 1);
      if (close < 0 || close > end) return undefined;
      const entries = text
        .slice(i + 1, close)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (entries.length === 0) return undefined;
      groups.push({ entries, bare: false });
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < end && text.charCodeAt(j) !== SPACE) j++;
    const comma = text.charCodeAt(j - 1) === 0x2c;
    const entry = text.slice(i, comma ? j - 1 : j);
    if (entry.includes('"') || entry.includes(',')) return undefined;
    if (open === undefined) {
      open = [];
      groups.push({ entries: open, bare: true });
    }
    if (entry !== '') open.push(entry);
    if (!comma) open = undefined;
    i = j;
  }
  const first = groups[0];
  if (first === undefined || first.entries.length === 0) return undefined;

  let chainFrom = 0;
  let vhost: string | undefined;
  let vhostPort: number | undefined;
  if (groups.length > 1 && first.bare && first.entries.length === 1) {
    chainFrom = 1;
    [vhost, vhostPort] = splitHostPort(first.entries[0]!);
  }
  const chain: string[] = [];
  for (let g = chainFrom; g < groups.length; g++) chain.push(...groups[g]!.entries);
  if (chain.length === 0) return undefined;
  return { client: chooseClient(chain), chain, vhost, vhostPort };
}

/**
 * The client of a chain: the first public IP address (the entries before it are the client's
 * own network, the ones after are proxies), else the first entry. This is how Filebeat's nginx
 * module picks `source.ip`, extended to IPv6. Host names and `unknown` never count as public.
 */
export function chooseClient(chain: readonly string[]): string {
  if (chain.length === 1) return chain[0]!;
  for (const a of chain) if (isPublicIp(a)) return a;
  return chain[0] ?? '';
}

/** An IPv4 or IPv6 literal outside loopback, private (RFC 1918), unique-local and link-local ranges. */
export function isPublicIp(a: string): boolean {
  const v4 = ipv4(a);
  if (v4 >= 0) {
    const x = v4 >>> 24;
    const y = (v4 >>> 16) & 0xff;
    return !(x === 10 || x === 127 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168));
  }
  if (!/^[0-9a-fA-F:.]+$/.test(a) || a.indexOf(':') === a.lastIndexOf(':')) return false;
  const lower = a.toLowerCase();
  if (/^(0{0,4}:){2,7}0{0,3}1$/.test(lower) || lower === '::') return false; // ::1 written any way
  return !/^f[cd]|^fe[89ab]/.test(lower); // fc00::/7 unique-local, fe80::/10 link-local
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1. */
function ipv4(a: string): number {
  let value = 0;
  let octets = 0;
  let i = 0;
  const n = a.length;
  while (octets < 4) {
    const start = i;
    let octet = 0;
    while (i < n && i - start < 3 && isDigit(a.charCodeAt(i)))
      octet = octet * 10 + (a.charCodeAt(i++) - 0x30);
    if (i === start || octet > 255) return -1;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (a.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
  }
  return i === n ? value : -1;
}

/** `host:port` (or `[v6]:port`) split; an IPv6 literal without brackets has no port. */
function splitHostPort(entry: string): [string, number | undefined] {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0 || colon === entry.length - 1 || !isDigits(entry, colon + 1, entry.length - colon - 1)) {
    return [entry, undefined];
  }
  const port = Number(entry.slice(colon + 1));
  if (port > 65535) return [entry, undefined];
  if (entry.charCodeAt(0) === 0x5b && entry.charCodeAt(colon - 1) === 0x5d) {
    return [entry.slice(1, colon - 1), port];
  }
  if (entry.indexOf(':') !== colon) return [entry, undefined];
  return [entry.slice(0, colon), port];
}

export function isDigits(text: string, from: number, count: number): boolean {
  if (count <= 0) return false;
  for (let i = from; i < from + count; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
