import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FrameCounters, SyslogFrameDecoder } from '../../src/sources/syslog/framing.js';

interface Decoded {
  frames: string[];
  truncated: boolean[];
  counters: FrameCounters;
  framing: string | null;
}

function decode(chunks: Buffer[], maxFrameBytes = 8192): Decoded {
  const frames: string[] = [];
  const truncated: boolean[] = [];
  const d = new SyslogFrameDecoder({
    maxFrameBytes,
    onFrame: (f, t) => {
      frames.push(f.toString('utf8'));
      truncated.push(t);
    },
  });
  for (const c of chunks) d.push(c);
  d.end();
  return { frames, truncated, counters: { ...d.counters }, framing: d.framing };
}

const b = (s: string) => Buffer.from(s, 'utf8');
const oc = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;

/** Every way to cut `stream` in two, plus one byte at a time: each must decode like the whole. */
function expectSplitInvariant(stream: Buffer, maxFrameBytes = 8192, stride = 1): void {
  const whole = decode([stream], maxFrameBytes);
  for (let i = 0; i <= stream.length; i += stride) {
    const got = decode([stream.subarray(0, i), stream.subarray(i)], maxFrameBytes);
    expect(got, `split at ${i}`).toEqual(whole);
  }
  const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
  expect(decode(bytes, maxFrameBytes), 'one byte at a time').toEqual(whole);
}

describe('framing detection', () => {
  it('takes a leading digit for octet counting and anything else for non-transparent', () => {
    expect(decode([b(oc('<13>1 - - - - - - hi'))]).framing).toBe('octet-counting');
    expect(decode([b('<13>1 - - - - - - hi\n')]).framing).toBe('non-transparent');
    expect(decode([b('hello\n')]).framing).toBe('non-transparent');
    expect(decode([]).framing).toBeNull();
  });

  it('decides per connection: two decoders, two framings', () => {
    expect(decode([b(oc('a'))]).frames).toEqual(['a']);
    expect(decode([b('a\n')]).frames).toEqual(['a']);
  });
});

describe('octet counting', () => {
  it('yields each frame, counting bytes not characters', () => {
    const msgs = ['<13>1 - h a - - - hellø wörld', '<14>1 - h a - - - line1\nline2', '<15>1 - h a - - -'];
    const got = decode([b(msgs.map(oc).join(''))]);
    expect(got.frames).toEqual(msgs);
    expect(got.counters).toEqual({ frames: 3, truncated: 0, lostAtClose: 0, framingErrors: 0 });
  });

  it('delivers a frame inside one chunk as a view of that chunk, without copying', () => {
    const chunk = b(oc('<13>1 - - - - - - x') + oc('<13>1 - - - - - - y'));
    const seen: Buffer[] = [];
    const d = new SyslogFrameDecoder({ maxFrameBytes: 100, onFrame: (f) => seen.push(f) });
    d.push(chunk);
    expect(seen.map((f) => f.buffer === chunk.buffer)).toEqual([true, true]);
  });

  it('keeps frames that spanned chunks intact after later frames arrive', () => {
    const msgs = Array.from({ length: 50 }, (_, i) => `<13>1 - - - - - - message ${i} ${'x'.repeat(i * 7)}`);
    const stream = b(msgs.map(oc).join(''));
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 13) chunks.push(stream.subarray(i, i + 13));
    expect(decode(chunks).frames).toEqual(msgs);
  });

  it('decodes the same whatever the chunk boundaries', () => {
    expectSplitInvariant(b(oc('<13>1 - h a - - - é') + oc('<14>1 - - - - - - b') + oc('x'.repeat(40))), 30);
  });

  it('cuts a frame longer than maxFrameBytes, flags it, and keeps the next frame', () => {
    const got = decode([b(oc('0123456789ABCDEF') + oc('next'))], 10);
    expect(got.frames).toEqual(['0123456789', 'next']);
    expect(got.truncated).toEqual([true, false]);
    expect(got.counters.truncated).toBe(1);
  });

  it('keeps a frame of exactly maxFrameBytes whole', () => {
    const got = decode([b(oc('0123456789'))], 10);
    expect(got.frames).toEqual(['0123456789']);
    expect(got.truncated).toEqual([false]);
  });

  it('never buffers more than maxFrameBytes for a giant length prefix, and skips the rest by count', () => {
    const max = 1000;
    const d = new SyslogFrameDecoder({ maxFrameBytes: max, onFrame: (f, t) => frames.push([f.length, t]) });
    const frames: Array<[number, boolean]> = [];
    d.push(b('999999999 '));
    let peak = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    while (sent + chunk.length <= 999_999_999 && sent < 20 * 1024 * 1024) {
      d.push(chunk);
      sent += chunk.length;
      peak = Math.max(peak, d.bufferedBytes);
    }
    expect(peak).toBeLessThanOrEqual(max + 1);
    // Delivered as soon as the first max bytes were in, not when the frame ends.
    expect(frames).toEqual([[max, true]]);
  });

  it('tolerates a trailer (LF, CRLF, NUL) after octet-counted frames', () => {
    const got = decode([b(`${oc('a')}\n${oc('b')}\r\n${oc('c')}\0`)]);
    expect(got.frames).toEqual(['a', 'b', 'c']);
    expect(got.counters.framingErrors).toBe(0);
  });

  it('counts a frame cut short by the peer as lost, and a lone length prefix too', () => {
    expect(decode([b('16 <1>1')]).counters).toMatchObject({ frames: 0, lostAtClose: 1 });
    expect(decode([b('12')]).counters).toMatchObject({ frames: 0, lostAtClose: 1 });
    expect(decode([b(`${oc('ok')}5 ab`)]).counters).toMatchObject({ frames: 1, lostAtClose: 1 });
  });

  it('does not count a truncated frame whose skipped tail the peer never sent', () => {
    expect(decode([b('20 0123456789')], 5).counters).toEqual({
      frames: 1,
      truncated: 1,
      lostAtClose: 0,
      framingErrors: 0,
    });
  });
});

describe('a bad octet-count prefix', () => {
  it('counts a framing error and reads the rest of the connection as LF-delimited, prefix included', () => {
    const got = decode([b(`${oc('<1>1 - - - - - - one')}x oops\n<2>1 two\n<3>1 three\n`)]);
    expect(got.frames).toEqual(['<1>1 - - - - - - one', 'x oops', '<2>1 two', '<3>1 three']);
    expect(got.counters.framingErrors).toBe(1);
    expect(got.framing).toBe('non-transparent');
  });

  it('loses nothing of an LF-delimited sender whose messages start with a digit', () => {
    const got = decode([b('2024-05-01 12:00:00 started\n2024-05-01 12:00:01 ready\n')]);
    expect(got.frames).toEqual(['2024-05-01 12:00:00 started', '2024-05-01 12:00:01 ready']);
    expect(got.counters.framingErrors).toBe(1);
  });

  it('rejects a missing space, a zero length and more than nine digits', () => {
    expect(decode([b('16<1>1\n')]).frames).toEqual(['16<1>1']);
    expect(decode([b('0 x\n')]).frames).toEqual(['0 x']);
    expect(decode([b('1234567890 x\n')]).frames).toEqual(['1234567890 x']);
    for (const s of ['16<1>1\n', '0 x\n', '1234567890 x\n'])
      expect(decode([b(s)]).counters.framingErrors).toBe(1);
  });

  it('accepts nine digits', () => {
    const got = decode([b('000000003 abc')]);
    expect(got.frames).toEqual(['abc']);
    expect(got.counters.framingErrors).toBe(0);
  });

  it('recovers the same whatever the chunk boundaries', () => {
    expectSplitInvariant(b(`${oc('one')}123x\nthree\r\nfour`));
  });
});

describe('non-transparent framing', () => {
  it('ends messages at LF, NUL or CRLF', () => {
    expect(decode([b('a\nb\0c\r\nd\n')]).frames).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps a CR that is not followed by LF', () => {
    expect(decode([b('a\rb\n')]).frames).toEqual(['a\rb']);
  });

  it('skips empty messages (blank lines, NUL followed by LF)', () => {
    const got = decode([b('\n\na\0\n\r\nb\n')]);
    expect(got.frames).toEqual(['a', 'b']);
    expect(got.counters.frames).toBe(2);
  });

  it('delivers a last message without its LF when the peer closes', () => {
    expect(decode([b('a\nlast')]).frames).toEqual(['a', 'last']);
    expect(decode([b('a\nlast')]).counters.lostAtClose).toBe(0);
  });

  it('decodes the same whatever the chunk boundaries', () => {
    expectSplitInvariant(b('<13>first ø\r\n\nsecond\0third\nlast one'), 8);
  });

  it('cuts a long message to maxFrameBytes and drops the rest up to the LF', () => {
    const got = decode([b('0123456789ABCDEF\nnext\n')], 10);
    expect(got.frames).toEqual(['0123456789', 'next']);
    expect(got.truncated).toEqual([true, false]);
  });

  it('keeps exactly maxFrameBytes, with LF or CRLF, whole', () => {
    expect(decode([b('0123456789\n')], 10).truncated).toEqual([false]);
    expect(decode([b('0123456789\r\n')], 10)).toMatchObject({ frames: ['0123456789'], truncated: [false] });
    expect(decode([b('0123456789'), b('\r'), b('\n')], 10)).toMatchObject({
      frames: ['0123456789'],
      truncated: [false],
    });
    expect(decode([b('0123456789X\n')], 10)).toMatchObject({ frames: ['0123456789'], truncated: [true] });
  });

  it('cuts and drops consistently across chunk boundaries', () => {
    expectSplitInvariant(b('0123456789ABCDEF\nshort\n0123456789\r\nxx'), 10);
  });

  it('holds at most maxFrameBytes + 1 bytes of an LF-less flood, then recovers at the next LF', () => {
    const max = 4096;
    const frames: Array<[string, boolean]> = [];
    const d = new SyslogFrameDecoder({
      maxFrameBytes: max,
      onFrame: (f, t) => frames.push([f.toString(), t]),
    });
    const chunk = Buffer.alloc(65536, 0x62);
    let peak = 0;
    for (let i = 0; i < 160; i++) {
      d.push(chunk);
      peak = Math.max(peak, d.bufferedBytes);
    }
    d.push(b('tail\nafter\n'));
    d.end();
    expect(peak).toBeLessThanOrEqual(max + 1);
    expect(frames).toEqual([
      ['b'.repeat(max), true],
      ['after', false],
    ]);
    expect(d.counters).toEqual({ frames: 2, truncated: 1, lostAtClose: 0, framingErrors: 0 });
  });

  it('does not deliver the cut message again at close', () => {
    expect(decode([b('0123456789ABC')], 10)).toMatchObject({ frames: ['0123456789'], truncated: [true] });
  });
});

describe('the decoder object', () => {
  it('ignores a second end() and refuses data after end()', () => {
    const d = new SyslogFrameDecoder({ maxFrameBytes: 10, onFrame: () => {} });
    d.push(b('x'));
    d.end();
    d.end();
    expect(d.counters.frames).toBe(1);
    expect(() => d.push(b('y'))).toThrow(/after end/);
  });

  it('refuses a maxFrameBytes that is not a positive integer', () => {
    expect(() => new SyslogFrameDecoder({ maxFrameBytes: 0, onFrame: () => {} })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// The go-syslog framing vectors (test/fixtures/syslog/FRAMING-README.md).
//
// The vectors give each result as parsed RFC 5424 fields, since go-syslog frames and parses in
// one pass. Parsing is another module, so this checks framing only: which frames come out, in
// which order, with which text. Each best-effort result is a frame unless its error is a framing
// error (MSGLEN, WS, too long); a frame's text is rebuilt from its fields when it parsed cleanly,
// and otherwise must start with the PRI and VERSION the peer read and reach the column where the
// peer's parser stopped. Best effort is the reference because strict mode stops the whole
// stream at the first unparseable message, which says nothing about framing.
// ---------------------------------------------------------------------------------------------

interface VectorMessage {
  priority: number;
  version: number;
  timestamp: string | null;
  hostname: string | null;
  appname: string | null;
  procid: string | null;
  msgid: string | null;
  structured_data: unknown;
  message: string | null;
}
interface VectorResult {
  message: VectorMessage | null;
  error: string | null;
}
interface Vector {
  framing: 'octet-counting' | 'non-transparent';
  trailer?: 'LF' | 'NUL';
  input?: string;
  input_base64?: string;
  max_message_length?: number;
  descr: string;
  expect_strict: VectorResult[];
  expect_best_effort: VectorResult[];
}

const FRAMING_ERROR = /expecting a MSGLEN|expecting a WS|message too long|expecting a SYSLOGMSG containing/;

const vectors: Vector[] = readFileSync(
  new URL('../fixtures/syslog/rfc6587_framing.jsonl', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Vector);

const keyOf = (v: Vector) => `${v.framing}${v.trailer ? `/${v.trailer}` : ''}: ${v.descr}`;

/** Where this decoder yields other frames than go-syslog, on purpose. Every entry must be a real difference. */
const DEVIATIONS: Record<string, { frames: string[]; reason: string }> = {
  'octet-counting: 1st ok/2nd ko': {
    frames: ['<1>1 - - - - - -', 'xaaa'],
    reason:
      'a bad length prefix switches the connection to LF framing instead of ending it; ' +
      'the unterminated rest is then the last LF-framed message, delivered at close',
  },
  'octet-counting: 1st ml/2nd ko': {
    frames: ['<1>1 A B C D E -', 'xaaa'],
    reason: 'same resynchronisation as "1st ok/2nd ko"',
  },
  'octet-counting: 1st ko//missing WS found ILLEGAL': {
    frames: ['16<1>1'],
    reason: 'resynchronisation keeps the bytes read as a prefix: nothing the peer sent is dropped',
  },
  'octet-counting: 1st uf/2nd ok//incomplete SYSLOGMSG/notdetectable': {
    frames: ['<1>217 <11>1 - -', ' - - - -'],
    reason: 'same resynchronisation; the leftover after the 16 counted octets becomes an LF-framed message',
  },
  'octet-counting: 1st ko//incomplete SYSLOGMSG': {
    frames: [],
    reason:
      'an octet-counted frame cut short by the close is known to be incomplete: counted lost, not delivered ' +
      '(go-syslog strict mode agrees; its best effort parses the fragment)',
  },
  'octet-counting: MSGLEN gt max message length': {
    frames: ['<1>1 - - -'],
    reason: 'a frame over the maximum is cut and delivered flagged truncated instead of failing the stream',
  },
};

/** Frames and framing problems the peer's results imply. */
function peerView(v: Vector): { frames: Array<{ result: VectorResult }>; problem: boolean } {
  const frames = v.expect_best_effort
    .filter((r) => r.message !== null || (r.error !== null && !FRAMING_ERROR.test(r.error)))
    .map((result) => ({ result }));
  const problem = [...v.expect_strict, ...v.expect_best_effort].some(
    (r) => r.error !== null && FRAMING_ERROR.test(r.error),
  );
  return { frames, problem };
}

function render(m: VectorMessage): string {
  if (m.structured_data !== null) throw new Error('no vector carries structured data; extend render() first');
  const nil = (s: string | null) => s ?? '-';
  const head = `<${m.priority}>${m.version} ${nil(m.timestamp)} ${nil(m.hostname)} ${nil(m.appname)} ${nil(m.procid)} ${nil(m.msgid)} -`;
  return m.message === null ? head : `${head} ${m.message}`;
}

/** Does our frame carry what the peer parsed from its frame? */
function frameMatches(frame: string, r: VectorResult): boolean {
  const m = r.message;
  if (m === null) return false;
  if (r.error === null || r.error === 'unexpected EOF') return frame === render(m);
  const col = /\[col (\d+)\]/.exec(r.error);
  const stop = col ? Number(col[1]) : 0;
  return frame.startsWith(`<${m.priority}>${m.version}`) && Buffer.byteLength(frame) >= stop;
}

function inputOf(v: Vector): Buffer {
  return v.input_base64 !== undefined ? Buffer.from(v.input_base64, 'base64') : b(v.input ?? '');
}

function agrees(v: Vector, got: Decoded): boolean {
  const peer = peerView(v);
  return (
    peer.frames.length === got.frames.length &&
    peer.frames.every((p, i) => frameMatches(got.frames[i]!, p.result))
  );
}

describe('go-syslog RFC 6587 vectors', () => {
  it('loads all 27 vectors', () => {
    expect(vectors).toHaveLength(27);
    expect(new Set(vectors.map(keyOf)).size).toBe(27);
  });

  it.each(vectors.map((v) => [keyOf(v), v] as const))('%s', (_key, v) => {
    const got = decode([inputOf(v)], v.max_message_length ?? 8192);
    const deviation = DEVIATIONS[keyOf(v)];
    if (deviation) {
      expect(got.frames).toEqual(deviation.frames);
      expect(agrees(v, got), 'listed as a deviation but agrees with the peer').toBe(false);
    } else {
      expect(agrees(v, got), `frames ${JSON.stringify(got.frames.map((f) => f.slice(0, 60)))}`).toBe(true);
    }
    // A framing problem the peer reports shows in our counters too; "unexpected EOF" (a last
    // LF-framed message without its trailer) is no problem here, see SyslogFrameDecoder.end().
    const ours = got.counters.framingErrors + got.counters.lostAtClose + got.counters.truncated > 0;
    if (keyOf(v) === 'octet-counting: empty') {
      // go-syslog reports "found EOF, expecting a MSGLEN" for an empty stream; a connection that
      // opens and closes without a byte (a port check) is not a framing problem.
      expect(ours).toBe(false);
    } else {
      expect(ours).toBe(peerView(v).problem);
    }
  });

  it('yields the same frames whatever the chunk boundaries', () => {
    for (const v of vectors) {
      const input = inputOf(v);
      // Every split point for the short streams; a sample for the 8 KiB to 128 KiB ones.
      const stride = input.length > 2000 ? 251 : 1;
      const max = v.max_message_length ?? 8192;
      const whole = decode([input], max);
      for (let i = 0; i <= input.length; i += stride) {
        expect(decode([input.subarray(0, i), input.subarray(i)], max), `${keyOf(v)} split at ${i}`).toEqual(
          whole,
        );
      }
      if (input.length <= 2000) expectSplitInvariant(input, max);
    }
  });

  it('agrees with the peer on 21 of 27 streams; the other 6 are the listed deviations', () => {
    const agreeing = vectors.filter((v) => agrees(v, decode([inputOf(v)], v.max_message_length ?? 8192)));
    expect(agreeing).toHaveLength(21);
    expect(vectors.length - agreeing.length).toBe(Object.keys(DEVIATIONS).length);
  });
});
