import dgram from 'node:dgram';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsDoc } from '../helpers/api-client.js';
import { deleteIndices, esClient, esUrl, uniqueIndexPrefix } from '../helpers/elasticsearch.js';
import { type SyslogLogwharf, startSyslogLogwharf } from '../helpers/syslog-logwharf.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

/**
 * Syslog peers with broken clocks (issue 10 §2): senders over TCP and UDP stamp their messages
 * years in the past and the future (the ends of what a timestamp can spell included), one
 * month back in a BSD header (no year), and one correctly. logwharf runs in-process with the
 * real listeners and stores. What must hold: every out-of-line event is stored under its
 * receive time, with the claimed time in sender_timestamp and the flag clock_skew; the one
 * in line keeps its time; the store gets day files (or daily indices) for the days the test
 * ran on only, not one per claimed day; /metrics counts them by direction.
 *
 * The senders are raw sockets writing well-formed RFC 5424 and RFC 3164 lines: util-linux
 * `logger` always stamps its own clock's time and has no option to set another.
 */

const DAY_MS = 86_400_000;

interface Sent {
  tag: string;
  line: string;
  /** The canonical time the line claims; undefined for the BSD line (its year is inferred). */
  claimed?: string;
  direction: 'past' | 'future' | 'kept';
}

/** The lines of one run; `tag` makes each findable (`clk<run><n>`). */
function lines(run: string): Sent[] {
  const inLine = new Date(Date.now() - 60_000).toISOString(); // a minute ago: believed
  const month = new Date(Date.now() - 30 * DAY_MS);
  const bsdDate = `${month.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })} ${String(month.getUTCDate()).padStart(2, ' ')}`;
  const rfc5424 = (n: number, ts: string, host: string) =>
    `<14>1 ${ts} ${host} clockapp - - - clk${run}${n} says its clock is ${ts}`;
  return [
    {
      tag: `clk${run}1`,
      line: rfc5424(1, '1999-12-31T23:59:59Z', 'y2k-box'),
      claimed: '1999-12-31T23:59:59.000000000Z',
      direction: 'past',
    },
    {
      tag: `clk${run}2`,
      line: rfc5424(2, '1970-01-01T00:00:00Z', 'no-rtc'),
      claimed: '1970-01-01T00:00:00.000000000Z',
      direction: 'past',
    },
    {
      tag: `clk${run}3`,
      line: rfc5424(3, '0000-01-01T00:00:00Z', 'year-zero'),
      claimed: '0000-01-01T00:00:00.000000000Z',
      direction: 'past',
    },
    {
      tag: `clk${run}4`,
      line: rfc5424(4, '2999-06-15T12:00:00Z', 'far-ahead'),
      claimed: '2999-06-15T12:00:00.000000000Z',
      direction: 'future',
    },
    {
      tag: `clk${run}5`,
      line: rfc5424(5, '9999-12-31T23:59:59.999999Z', 'end-of-time'),
      claimed: '9999-12-31T23:59:59.999999000Z',
      direction: 'future',
    },
    {
      tag: `clk${run}6`,
      line: `<14>${bsdDate} 10:00:00 bsd-box clockapp: clk${run}6 a month behind`,
      direction: 'past',
    },
    {
      tag: `clk${run}7`,
      line: rfc5424(7, inLine, 'good-clock'),
      claimed: `${inLine.slice(0, 23)}000000Z`,
      direction: 'kept',
    },
  ];
}

/** Sends half the lines over TCP (octet-counted), the rest as UDP datagrams. */
async function send(sent: Sent[], tcpPort: number, udpPort: number): Promise<void> {
  const tcp = sent.filter((_, i) => i % 2 === 0);
  const udp = sent.filter((_, i) => i % 2 === 1);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(tcpPort, '127.0.0.1', () => {
      for (const s of tcp) socket.write(`${Buffer.byteLength(s.line)} ${s.line}`);
      socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  const socket = dgram.createSocket('udp4');
  try {
    for (const s of udp) {
      await new Promise<void>((resolve, reject) =>
        socket.send(s.line, udpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    socket.close();
  }
}

/** The UTC days from `from` to `to` (ms), inclusive. */
function daysBetween(from: number, to: number): string[] {
  const out: string[] = [];
  for (let t = Math.floor(from / DAY_MS) * DAY_MS; t <= to; t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** What every stored event must show, whichever store. */
function expectStoredUnderReceiveTime(sent: Sent[], events: EcsDoc[]): void {
  expect(events).toHaveLength(sent.length);
  for (const s of sent) {
    const e = events.find((x) => String(x.message).includes(s.tag));
    expect(e, s.tag).toBeDefined();
    const flags: string[] = e!.log.flags ?? [];
    if (s.direction === 'kept') {
      expect(e!['@timestamp'], s.tag).toBe(s.claimed);
      expect(e!.sender_timestamp, s.tag).toBeUndefined();
      expect(flags, s.tag).not.toContain('clock_skew');
      continue;
    }
    expect(e!['@timestamp'], s.tag).toBe(e!.event.ingested);
    expect(flags, s.tag).toContain('clock_skew');
    if (s.claimed !== undefined) expect(e!.sender_timestamp, s.tag).toBe(s.claimed);
    else expect(e!.sender_timestamp < e!.event.ingested, s.tag).toBe(true);
    expect(e!.log.source.address, s.tag).toBe('127.0.0.1');
  }
}

async function replacedCounts(baseUrl: string): Promise<{ past: number; future: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const value = (direction: string) => {
    const m = new RegExp(
      `^logwharf_events_timestamp_replaced_total\\{dataset="syslog",direction="${direction}"\\} (\\d+)$`,
      'm',
    ).exec(text);
    if (!m) throw new Error(`no ${direction} sample in /metrics:\n${text}`);
    return Number(m[1]);
  };
  return { past: value('past'), future: value('future') };
}

const expectedCounts = (sent: Sent[]) => ({
  past: sent.filter((s) => s.direction === 'past').length,
  future: sent.filter((s) => s.direction === 'future').length,
});

describe('the embedded store', () => {
  let dir: string;
  let lw: SyslogLogwharf;

  beforeAll(async () => {
    dir = await tempDir('lw-clock-');
    lw = await startSyslogLogwharf(dir);
  });

  afterAll(async () => {
    await lw?.service.stop();
    if (dir) await removeTempDir(dir);
  });

  it('stores skewed senders under the receive time, in the day files of the days the test ran on only', async () => {
    const sent = lines('e');
    const started = Date.now();
    await send(sent, lw.tcpPort!, lw.udpPort!);
    const events = await lw.api.waitForEvents('app:clockapp', sent.length, 30_000);
    const ended = Date.now();
    expectStoredUnderReceiveTime(sent, events);

    const files = (await readdir(join(lw.dataDir, 'store', 'default'))).filter((f) => f.endsWith('.sqlite'));
    // Normally exactly one: today's (two only if the test ran across a UTC midnight).
    expect(files.sort()).toEqual(
      [...new Set(events.map((e) => String(e['@timestamp']).slice(0, 10)))].sort().map((d) => `${d}.sqlite`),
    );
    for (const f of files) expect(daysBetween(started - 60_000, ended)).toContain(f.slice(0, 10));

    expect(await replacedCounts(lw.api.baseUrl)).toEqual(expectedCounts(sent));
    // The peers' last line times are the times stored, not the claims.
    const peers = (await lw.api.sources()).filter((p) => p.kind === 'syslog');
    expect(peers.length).toBeGreaterThan(0);
    for (const p of peers) {
      expect(
        p.last_line_time! >= new Date(started - 60_000).toISOString().slice(0, 19),
        JSON.stringify(p),
      ).toBe(true);
      expect(p.last_line_time! <= new Date(ended + 1000).toISOString(), JSON.stringify(p)).toBe(true);
    }
    // The claim stays searchable, and so does the flag.
    expect(await lw.api.searchAll('sender_timestamp<2000-01-01T00:00:00Z')).toHaveLength(3);
    expect(await lw.api.searchAll('log.flags:clock_skew')).toHaveLength(6);
  });
});

describe('Elasticsearch', () => {
  let dir: string;
  let prefix: string;
  let lw: SyslogLogwharf;

  beforeAll(async () => {
    dir = await tempDir('lw-clock-es-');
    prefix = uniqueIndexPrefix();
    lw = await startSyslogLogwharf(dir, {
      more: `store:
  kind: elasticsearch
  elasticsearch:
    nodes: [ "${esUrl()}" ]
    index_prefix: ${prefix}
  buffer:
    kind: memory
`,
    });
  });

  afterAll(async () => {
    await lw?.service.stop();
    if (prefix) await deleteIndices(prefix);
    if (dir) await removeTempDir(dir);
  });

  it('makes no daily index for a claimed day: only the days the test ran on', async () => {
    const sent = lines('s');
    const started = Date.now();
    await send(sent, lw.tcpPort!, lw.udpPort!);
    const events = await lw.api.waitForEvents('app:clockapp', sent.length, 30_000);
    const ended = Date.now();
    // Years 0000, 2999 and 9999 are outside what date_nanos holds (1970..2262): had they reached
    // Elasticsearch as @timestamp, they would be dead letters, not events.
    expectStoredUnderReceiveTime(sent, events);

    const rows = await esClient().cat.indices({ index: `${prefix}-*`, h: 'index', format: 'json' });
    const indices = rows.map((r) => r.index ?? '').sort();
    expect(indices).toEqual(
      [...new Set(events.map((e) => String(e['@timestamp']).slice(0, 10).replaceAll('-', '.')))]
        .sort()
        .map((d) => `${prefix}-default-${d}`),
    );
    for (const index of indices) {
      expect(daysBetween(started - 60_000, ended).map((d) => d.replaceAll('-', '.'))).toContain(
        index.slice(-10),
      );
    }
    expect(await replacedCounts(lw.api.baseUrl)).toEqual(expectedCounts(sent));
    expect(await lw.api.searchAll('sender_timestamp>9000-01-01T00:00:00Z')).toHaveLength(1);
  });
});
