import { describe, expect, it } from 'vitest';
import { toCanonicalTimestamp } from '../../src/core/timestamp.js';
import { DOCKER_PIECE_BYTES, DockerLogDecoder } from '../../src/sources/docker/frames.js';

const TS = '2024-05-01T12:00:00.123456789Z';
const TS2 = '2024-05-01T12:00:01.000000001Z';
const NOW = '2030-01-01T00:00:00.000000000Z';

interface Line {
  stream: string;
  ts: string;
  text: string;
  truncated: boolean;
}

function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

const out = (text: string, ts = TS) => frame(1, `${ts} ${text}\n`);
const err = (text: string, ts = TS) => frame(2, `${ts} ${text}\n`);

function run(
  chunks: Buffer[],
  opts: { tty?: boolean; maxLineBytes?: number } = {},
): { lines: Line[]; garbage: Array<{ reason: string; bytes: number }> } {
  const lines: Line[] = [];
  const garbage: Array<{ reason: string; bytes: number }> = [];
  const d = new DockerLogDecoder({
    tty: opts.tty ?? false,
    maxLineBytes: opts.maxLineBytes ?? 1024 * 1024,
    onLine: (stream, ts, text, truncated) => lines.push({ stream, ts, text, truncated }),
    onGarbage: (reason, bytes) => garbage.push({ reason, bytes }),
    now: () => NOW,
  });
  for (const c of chunks) d.push(c);
  d.end();
  return { lines, garbage };
}

/** Splits one buffer into pieces of `size` bytes. */
function split(buf: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return parts;
}

/** Deterministic pseudo-random cut points. */
function randomSplit(buf: Buffer, seed: number): Buffer[] {
  let s = seed;
  const parts: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const n = 1 + (s % 97);
    parts.push(buf.subarray(i, i + n));
    i += n;
  }
  return parts;
}

const texts = (lines: Line[]) => lines.map((l) => l.text);

describe('DockerLogDecoder, multiplexed stream', () => {
  it('decodes one frame into one line with its stream and timestamp', () => {
    const { lines, garbage } = run([out('hello world')]);
    expect(lines).toEqual([{ stream: 'stdout', ts: TS, text: 'hello world', truncated: false }]);
    expect(garbage).toEqual([]);
  });

  it('decodes several frames of both streams in one chunk, in order', () => {
    const chunk = Buffer.concat([out('one'), err('two'), out('three', TS2), err('four', TS2)]);
    const { lines } = run([chunk]);
    expect(lines.map((l) => [l.stream, l.ts, l.text])).toEqual([
      ['stdout', TS, 'one'],
      ['stderr', TS, 'two'],
      ['stdout', TS2, 'three'],
      ['stderr', TS2, 'four'],
    ]);
  });

  it('gives the same lines when fed byte by byte (headers and timestamps split anywhere)', () => {
    const all = Buffer.concat([out('alpha'), err('beta'), out(''), out('gamma €uro ünïcode'), err('delta')]);
    const whole = run([all]).lines;
    expect(texts(whole)).toEqual(['alpha', 'beta', '', 'gamma €uro ünïcode', 'delta']);
    expect(run(split(all, 1)).lines).toEqual(whole);
    expect(run(split(all, 7)).lines).toEqual(whole);
    for (let seed = 1; seed <= 20; seed++) expect(run(randomSplit(all, seed)).lines).toEqual(whole);
  });

  it('joins a 40 KiB line that the engine sent as 16384 + 16384 + rest', () => {
    const line = Buffer.alloc(40 * 1024);
    for (let i = 0; i < line.length; i++) line[i] = 0x61 + (i % 26);
    const pieces = [
      line.subarray(0, DOCKER_PIECE_BYTES),
      line.subarray(DOCKER_PIECE_BYTES, 2 * DOCKER_PIECE_BYTES),
      line.subarray(2 * DOCKER_PIECE_BYTES),
    ];
    const all = Buffer.concat([
      frame(1, Buffer.concat([Buffer.from(`${TS} `), pieces[0]!])),
      frame(1, Buffer.concat([Buffer.from(`${TS} `), pieces[1]!])),
      frame(1, Buffer.concat([Buffer.from(`${TS} `), pieces[2]!, Buffer.from('\n')])),
      out('next'),
    ]);
    for (const chunks of [[all], split(all, 1000), split(all, 16384 + 39), randomSplit(all, 3)]) {
      const { lines, garbage } = run(chunks);
      expect(garbage).toEqual([]);
      expect(lines).toHaveLength(2);
      expect(lines[0]!.text).toBe(line.toString('latin1'));
      expect(lines[0]!.truncated).toBe(false);
      expect(lines[0]!.ts).toBe(TS);
      expect(lines[1]!.text).toBe('next');
    }
  });

  it('joins a character that the 16 KiB cut split between two pieces', () => {
    const line = Buffer.concat([Buffer.alloc(DOCKER_PIECE_BYTES - 1, 0x61), Buffer.from('€ after')]);
    const all = Buffer.concat([
      frame(1, Buffer.concat([Buffer.from(`${TS} `), line.subarray(0, DOCKER_PIECE_BYTES)])),
      frame(1, Buffer.concat([Buffer.from(`${TS} `), line.subarray(DOCKER_PIECE_BYTES), Buffer.from('\n')])),
    ]);
    const { lines } = run([all]);
    expect(lines[0]!.text).toBe(`${'a'.repeat(DOCKER_PIECE_BYTES - 1)}€ after`);
  });

  it('reads a line of exactly 16384 bytes (a full piece, then an empty last piece)', () => {
    const body = 'x'.repeat(DOCKER_PIECE_BYTES);
    const all = Buffer.concat([frame(1, `${TS} ${body}`), frame(1, `${TS} \n`)]);
    const { lines } = run([all]);
    expect(texts(lines)).toEqual([body]);
  });

  it('keeps the pieces of stdout and stderr apart when they interleave', () => {
    const a = 'A'.repeat(DOCKER_PIECE_BYTES);
    const b = 'B'.repeat(DOCKER_PIECE_BYTES);
    const all = Buffer.concat([
      frame(1, `${TS} ${a}`),
      err('short error'),
      frame(2, `${TS2} ${b}`),
      frame(1, `${TS} a-end\n`),
      frame(2, `${TS2} b-end\n`),
    ]);
    const { lines, garbage } = run(randomSplit(all, 11));
    expect(garbage).toEqual([]);
    expect(lines.map((l) => [l.stream, l.ts, l.text])).toEqual([
      ['stderr', TS, 'short error'],
      ['stdout', TS, `${a}a-end`],
      ['stderr', TS2, `${b}b-end`],
    ]);
  });

  it('keeps `\\r` on a non-TTY stream (sanitizeMessage removes it later)', () => {
    expect(texts(run([out('dos line\r')]).lines)).toEqual(['dos line\r']);
  });

  it('decodes UTF-8, split across chunks, and turns invalid bytes into U+FFFD without throwing', () => {
    const bad = frame(
      1,
      Buffer.concat([Buffer.from(`${TS} bad `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end\n')]),
    );
    const good = out('naïve café ☕ 😀');
    const { lines } = run(split(Buffer.concat([bad, good]), 1));
    expect(texts(lines)).toEqual(['bad \uFFFD\uFFFD\uFFFD end', 'naïve café ☕ 😀']);
  });

  it('passes NUL and other control bytes through (sanitizing is not its job)', () => {
    const { lines } = run([
      frame(1, Buffer.concat([Buffer.from(`${TS} a`), Buffer.from([0, 7]), Buffer.from('b\n')])),
    ]);
    expect(lines[0]!.text).toBe('a\u0000\u0007b');
  });

  it('hands over a last line without a newline when the stream ends', () => {
    const { lines, garbage } = run([out('first'), frame(2, `${TS2} last words`)]);
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'first'],
      ['stderr', 'last words'],
    ]);
    expect(garbage).toEqual([]);
  });

  it('reads timestamps with fewer fraction digits or an offset, as canonical UTC', () => {
    const all = Buffer.concat([
      frame(1, '2024-05-01T12:00:00Z no fraction\n'),
      frame(1, '2024-05-01T12:00:00.5Z half\n'),
      frame(1, '2024-05-01T14:30:00.123+02:30 offset\n'),
      frame(1, '2023-12-31T23:30:00.000000001-01:00 across a year\n'),
    ]);
    for (const chunks of [[all], split(all, 1)]) {
      expect(run(chunks).lines.map((l) => [l.ts, l.text])).toEqual([
        ['2024-05-01T12:00:00.000000000Z', 'no fraction'],
        ['2024-05-01T12:00:00.500000000Z', 'half'],
        ['2024-05-01T12:00:00.123000000Z', 'offset'],
        ['2024-01-01T00:30:00.000000001Z', 'across a year'],
      ]);
    }
  });

  it('carries more than one message in one frame (older engines, attach streams)', () => {
    const { lines } = run([frame(1, `${TS} one\n${TS2} two\n`)]);
    expect(lines.map((l) => [l.ts, l.text])).toEqual([
      [TS, 'one'],
      [TS2, 'two'],
    ]);
  });

  it('ignores frames of size zero', () => {
    expect(texts(run([Buffer.concat([frame(1, ''), out('x'), frame(2, '')])]).lines)).toEqual(['x']);
  });
});

describe('DockerLogDecoder, raw TTY stream', () => {
  const tty = { tty: true };

  it('strips the `\\r` of `\\r\\n` and reads every line as stdout', () => {
    const raw = Buffer.from(`${TS} one\r\n${TS2} two\r\n${TS} three\n`);
    const { lines } = run([raw], tty);
    expect(lines.map((l) => [l.stream, l.ts, l.text])).toEqual([
      ['stdout', TS, 'one'],
      ['stdout', TS2, 'two'],
      ['stdout', TS, 'three'],
    ]);
    expect(run(split(raw, 1), tty).lines).toEqual(lines);
  });

  it('joins a 40 KiB line: a 16384-byte piece runs straight into the next timestamp', () => {
    let line = '';
    for (let i = 0; line.length < 40 * 1024; i++) line += `${i},`;
    line = line.slice(0, 40 * 1024);
    const p = DOCKER_PIECE_BYTES;
    const raw = Buffer.from(
      `${TS} ${line.slice(0, p)}${TS} ${line.slice(p, 2 * p)}${TS} ${line.slice(2 * p)}\r\n${TS2} after\r\n`,
    );
    for (const chunks of [[raw], split(raw, 1), split(raw, 4096), randomSplit(raw, 5)]) {
      const { lines, garbage } = run(chunks, tty);
      expect(garbage).toEqual([]);
      expect(lines.map((l) => [l.ts, l.text.length, l.truncated])).toEqual([
        [TS, line.length, false],
        [TS2, 5, false],
      ]);
      expect(lines[0]!.text).toBe(line);
    }
  });

  it('reads a line of exactly 16384 bytes plus `\\r\\n`', () => {
    // The copier cuts at 16384 bytes: the line's bytes fill a piece, `\r` and `\n` follow in the next.
    const body = 'y'.repeat(DOCKER_PIECE_BYTES);
    const { lines } = run([Buffer.from(`${TS} ${body}${TS} \r\n${TS2} z\r\n`)], tty);
    expect(texts(lines)).toEqual([body, 'z']);
  });

  it('goes on with the text when a full piece is not followed by a timestamp', () => {
    const body = 'q'.repeat(DOCKER_PIECE_BYTES);
    const { lines, garbage } = run([Buffer.from(`${TS} ${body}and more\r\n${TS2} next\r\n`)], tty);
    expect(texts(lines)).toEqual([`${body}and more`, 'next']);
    expect(garbage).toEqual([]);
  });

  it('hands over a last line without a newline when the stream ends', () => {
    expect(texts(run([Buffer.from(`${TS} a\r\n${TS} prompt> `)], tty).lines)).toEqual(['a', 'prompt> ']);
  });
});

describe('DockerLogDecoder, maxLineBytes', () => {
  it('cuts a long line on a character boundary, flags it, and reads the next line whole', () => {
    // 9 ASCII bytes, then € (3 bytes) across the 10-byte cap.
    const all = Buffer.concat([out('aaaaaaaaa€bbbb'), out('ok')]);
    for (const chunks of [[all], split(all, 1)]) {
      const { lines } = run(chunks, { maxLineBytes: 10 });
      expect(lines.map((l) => [l.text, l.truncated])).toEqual([
        ['aaaaaaaaa', true],
        ['ok', false],
      ]);
    }
  });

  it('keeps a character that ends exactly at the cap', () => {
    const { lines } = run([out('aaaaaaa€b')], { maxLineBytes: 10 });
    expect(lines.map((l) => [l.text, l.truncated])).toEqual([['aaaaaaa€', true]]);
  });

  it('does not flag a line of exactly the cap, nor one whose `\\r\\n` lies past it', () => {
    expect(run([out('0123456789')], { maxLineBytes: 10 }).lines[0]!.truncated).toBe(false);
    const raw = Buffer.from(`${TS} 0123456789\r\n`);
    for (const chunks of [[raw], split(raw, 1)]) {
      const { lines } = run(chunks, { tty: true, maxLineBytes: 10 });
      expect(lines.map((l) => [l.text, l.truncated])).toEqual([['0123456789', false]]);
    }
  });

  it('caps a line joined from 16 KiB pieces and drops the rest of it', () => {
    const a = 'a'.repeat(DOCKER_PIECE_BYTES);
    const all = Buffer.concat([
      frame(1, `${TS} ${a}`),
      frame(1, `${TS} ${a}`),
      frame(1, `${TS} tail\n`),
      out('next'),
    ]);
    for (const chunks of [[all], randomSplit(all, 9)]) {
      const { lines } = run(chunks, { maxLineBytes: 20000 });
      expect(lines.map((l) => [l.text.length, l.truncated])).toEqual([
        [20000, true],
        [4, false],
      ]);
    }
  });

  it('caps on a character boundary when the line was joined from chunks', () => {
    const raw = Buffer.from(`${TS} ${'é'.repeat(10)}\n`); // 2 bytes each
    const { lines } = run(split(raw, 3), { tty: true, maxLineBytes: 7 });
    expect(lines.map((l) => [l.text, l.truncated])).toEqual([['ééé', true]]);
  });
});

describe('DockerLogDecoder, garbage', () => {
  it('emits a payload without timestamp as a line stamped "now", reports it, and reads on', () => {
    const all = Buffer.concat([
      out('before'),
      frame(1, 'Error grabbing logs: unexpected EOF\n'),
      out('after'),
    ]);
    for (const chunks of [[all], split(all, 1)]) {
      const { lines, garbage } = run(chunks);
      expect(lines.map((l) => [l.ts, l.text])).toEqual([
        [TS, 'before'],
        [NOW, 'Error grabbing logs: unexpected EOF'],
        [TS, 'after'],
      ]);
      expect(garbage).toEqual([{ reason: expect.stringContaining('without timestamp'), bytes: 35 }]);
    }
  });

  it('does not let a payload without timestamp swallow the following frames', () => {
    const { lines } = run([Buffer.concat([frame(1, 'no newline and no time'), out('next')])]);
    expect(lines.map((l) => [l.ts, l.text])).toEqual([
      [NOW, 'no newline and no time'],
      [TS, 'next'],
    ]);
  });

  it('reads a canonical-looking prefix that names no date as text, whatever the chunking', () => {
    // Found by the fuzzer: the one-chunk fast path checked the shape only and took 2000-01-00.
    for (const bad of [
      '2000-01-00T00:39:50.970556766Z',
      '2024-13-01T00:00:00.000000000Z',
      '2023-02-29T24:00:00.000000000Z',
    ]) {
      const all = Buffer.concat([frame(1, `${bad} text\n`), out('next')]);
      for (const chunks of [[all], split(all, 1)]) {
        const { lines, garbage } = run(chunks);
        expect(lines.map((l) => [l.ts, l.text])).toEqual([
          [NOW, `${bad} text`],
          [TS, 'next'],
        ]);
        expect(garbage).toEqual([
          { reason: expect.stringContaining('without timestamp'), bytes: bad.length + 5 },
        ]);
      }
    }
  });

  it('treats digits that are not a timestamp as text', () => {
    const { lines, garbage } = run([frame(1, '2024 was a year\n'), frame(1, '12345')]);
    expect(texts(lines)).toEqual(['2024 was a year', '12345']);
    expect(garbage).toHaveLength(2);
  });

  it('ends a partial line whose next piece lacks its timestamp, then reads that piece as its own line', () => {
    const { lines } = run([Buffer.concat([frame(1, `${TS} partial`), frame(1, 'stray\n'), out('ok')])]);
    expect(lines.map((l) => [l.ts, l.text])).toEqual([
      [TS, 'partial'],
      [NOW, 'stray'],
      [TS, 'ok'],
    ]);
  });

  it('reports a raw line without timestamp and reads on', () => {
    const { lines, garbage } = run([Buffer.from(`${TS} a\r\nplain text\r\n${TS2} b\r\n`)], { tty: true });
    expect(lines.map((l) => [l.ts, l.text])).toEqual([
      [TS, 'a'],
      [NOW, 'plain text'],
      [TS2, 'b'],
    ]);
    expect(garbage).toHaveLength(1);
  });

  it('skips stdin and daemon-error frames, quoting the daemon error', () => {
    const all = Buffer.concat([frame(0, 'typed input'), frame(3, 'logs are unavailable\n'), out('x')]);
    const { lines, garbage } = run(split(all, 3));
    expect(texts(lines)).toEqual(['x']);
    expect(garbage).toEqual([
      { reason: 'stdin frame (stream type 0)', bytes: 11 },
      { reason: 'daemon error frame (stream type 3): logs are unavailable', bytes: 21 },
    ]);
  });

  it('quotes a daemon error whole when a character of it is split between chunks', () => {
    // Found by the fuzzer: each chunk's part was decoded on its own, giving U+FFFD.
    const all = Buffer.concat([frame(3, 'größe € 😀 failed'), out('x')]);
    for (const chunks of [[all], split(all, 1)]) {
      expect(run(chunks).garbage).toEqual([
        { reason: 'daemon error frame (stream type 3): größe € 😀 failed', bytes: 23 },
      ]);
    }
  });

  it('finds the next frame after a bogus header', () => {
    const junk = Buffer.from('JUNK JUNK JUNK');
    for (const chunks of [
      [Buffer.concat([out('a'), junk, out('b')])],
      split(Buffer.concat([out('a'), junk, out('b')]), 1),
    ]) {
      const { lines, garbage } = run(chunks);
      expect(texts(lines)).toEqual(['a', 'b']);
      expect(garbage).toEqual([{ reason: expect.stringContaining('out of sync'), bytes: junk.length }]);
    }
  });

  it('reports a stream that is not multiplexed at all without emitting anything', () => {
    const { lines, garbage } = run([Buffer.from(`${TS} this is a TTY stream read as multiplexed\n`)]);
    expect(lines).toEqual([]);
    expect(garbage).toHaveLength(1);
  });

  it('reports an end inside a header, and inside a frame (whose text is still handed over)', () => {
    expect(run([out('a'), Buffer.from([1, 0, 0])]).garbage).toEqual([
      { reason: 'stream ended inside a frame header', bytes: 3 },
    ]);
    const cut = out('cut short here').subarray(0, 8 + 31 + 9);
    const { lines, garbage } = run([cut]);
    expect(texts(lines)).toEqual(['cut short']);
    expect(garbage).toEqual([{ reason: 'stream ended inside a frame', bytes: 6 }]);
  });

  it('says which skipped bytes belonged to log lines (the follower counts those as dropped)', () => {
    const flags = (chunks: Buffer[]) => {
      const seen: Array<[string, boolean]> = [];
      const d = new DockerLogDecoder({
        tty: false,
        maxLineBytes: 1024,
        onLine: () => {},
        onGarbage: (reason, _bytes, losesLineBytes) => seen.push([reason, losesLineBytes]),
        now: () => NOW,
      });
      for (const c of chunks) d.push(c);
      d.end();
      return seen;
    };
    expect(flags([frame(0, 'typed'), frame(3, 'gone\n'), frame(1, 'no timestamp here\n')])).toEqual([
      ['stdin frame (stream type 0)', false],
      ['daemon error frame (stream type 3): gone', false],
      [expect.stringContaining('without timestamp'), false],
    ]);
    expect(flags([out('a'), Buffer.from('JUNK JUNK JUNK'), out('b')])).toEqual([
      [expect.stringContaining('out of sync'), true],
    ]);
    expect(flags([out('a'), Buffer.from([1, 0, 0])])).toEqual([['stream ended inside a frame header', true]]);
    expect(flags([out('cut short here').subarray(0, 8 + 31 + 9)])).toEqual([
      ['stream ended inside a frame', true],
    ]);
  });

  it('never throws on random bytes', () => {
    let s = 42;
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      bytes[i] = s >> 16;
    }
    for (const tty of [false, true]) {
      expect(() => run(randomSplit(bytes, 1), { tty, maxLineBytes: 100 })).not.toThrow();
    }
  });
});

describe('timestamps that are not in the canonical form (toCanonicalTimestamp, as the decoder uses it)', () => {
  it('normalises RFC 3339 to UTC with nine fraction digits', () => {
    expect(toCanonicalTimestamp('2024-05-01T12:00:00.123456789Z')).toBe('2024-05-01T12:00:00.123456789Z');
    expect(toCanonicalTimestamp('2024-05-01t12:00:00.1z')).toBe('2024-05-01T12:00:00.100000000Z');
    expect(toCanonicalTimestamp('2024-05-01T00:15:00-00:30')).toBe('2024-05-01T00:45:00.000000000Z');
    expect(toCanonicalTimestamp('2024-03-01T00:00:00+01:00')).toBe('2024-02-29T23:00:00.000000000Z');
  });

  it('rejects what is not one', () => {
    for (const s of [
      '2024-05-01',
      '2024-13-01T00:00:00Z',
      '2024-05-01T12:00:00',
      '2024-05-01T12:00:00.1234567890Z',
      'x',
    ]) {
      expect(toCanonicalTimestamp(s)).toBeNull();
    }
  });
});
