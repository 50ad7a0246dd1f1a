/**
 * RFC 6587 framing (src/sources/syslog/framing.ts): random and mutated byte streams, cut into
 * random chunks, against a reference model written in another style (the whole stream at once).
 *
 * Invariants: no throw; bounded memory (held bytes never over maxFrameBytes + 1, no frame over
 * maxFrameBytes); chunking does not change the frames (one chunk, random chunks and, for short
 * streams, one byte at a time give the same frames, flags and counters); the frames, flags and
 * counters are the model's, and the model accounts for every input byte: each is in a frame, a
 * framing byte (length prefix, trailer, CR of CRLF, blank line), or a drop that a counter
 * (truncated, lostAtClose) reports. Nothing is lost silently.
 */

import fc from 'fast-check';
import { type FrameCounters, SyslogFrameDecoder } from '../../../src/sources/syslog/framing.js';
import { type FuzzTarget, invariant } from '../harness.js';
import {
  chunkSizes,
  cut,
  fixtureRecords,
  mutatedBytes,
  syslogSeeds,
  tokens,
  vectorInput,
} from '../mutate.js';

export interface FramingInput {
  bytes: Buffer;
  chunks: number[];
  maxFrameBytes: number;
}

interface Framed {
  frames: Buffer[];
  truncated: boolean[];
  counters: FrameCounters;
}

function decode(chunks: readonly Buffer[], max: number): Framed & { peak: number } {
  const frames: Buffer[] = [];
  const truncated: boolean[] = [];
  let peak = 0;
  const d = new SyslogFrameDecoder({
    maxFrameBytes: max,
    onFrame: (f, t) => {
      // A copy: a frame is a view of the caller's chunk, which may be reused after push().
      frames.push(Buffer.from(f));
      truncated.push(t);
    },
  });
  for (const c of chunks) {
    d.push(c);
    peak = Math.max(peak, d.bufferedBytes);
  }
  d.end();
  return { frames, truncated, counters: { ...d.counters }, peak };
}

// ---- the reference model ------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

interface Model extends Framed {
  /** Bytes in frames, framing bytes, and dropped bytes: the three add up to the input. */
  inFrames: number;
  framing: number;
  dropped: number;
}

/**
 * What the decoder's contract says the stream is: a digit first means octet counting
 * (`1*9DIGIT SP` then that many bytes, LF/CR/NUL between frames ignored), anything else, and
 * the rest of a stream after a bad length prefix (prefix bytes included), LF/NUL-terminated
 * messages (CR of CRLF dropped, empty ones skipped). Messages over `max` are cut to `max` and
 * flagged; an octet-counted frame or prefix cut short by the end is lost and counted.
 */
export function modelFrames(s: Buffer, max: number): Model {
  const m: Model = {
    frames: [],
    truncated: [],
    counters: { frames: 0, truncated: 0, lostAtClose: 0, framingErrors: 0 },
    inFrames: 0,
    framing: 0,
    dropped: 0,
  };
  const deliver = (frame: Buffer, truncated: boolean) => {
    m.frames.push(frame);
    m.truncated.push(truncated);
    m.counters.frames++;
    if (truncated) m.counters.truncated++;
    m.inFrames += frame.length;
  };
  let i = 0;
  if (s.length > 0 && isDigit(s[0]!)) {
    for (;;) {
      while (i < s.length && (s[i] === LF || s[i] === CR || s[i] === NUL)) {
        i++;
        m.framing++;
      }
      if (i >= s.length) return m;
      let j = i;
      let len = 0;
      while (j < s.length && j - i < 9 && isDigit(s[j]!)) len = len * 10 + (s[j++]! - 0x30);
      if (j >= s.length) {
        // A prefix (all digits so far) cut short by the end.
        m.counters.lostAtClose++;
        m.dropped += s.length - i;
        return m;
      }
      if (!(s[j] === SP && j > i && len > 0)) {
        m.counters.framingErrors++;
        break; // the rest, from this prefix on, is non-transparent
      }
      const body = j + 1;
      const kept = Math.min(len, max);
      if (body + kept > s.length) {
        m.counters.lostAtClose++;
        m.framing += body - i;
        m.dropped += s.length - body;
        return m;
      }
      m.framing += body - i;
      deliver(s.subarray(body, body + kept), len > max);
      const end = Math.min(body + len, s.length);
      m.dropped += end - (body + kept);
      i = end;
      if (i >= s.length) return m;
    }
  }
  // Non-transparent from `i`.
  while (i < s.length) {
    let end = i;
    while (end < s.length && s[end] !== LF && s[end] !== NUL) end++;
    const trailer = end < s.length;
    let msg = s.subarray(i, end);
    if (trailer) m.framing++;
    if (trailer && s[end] === LF && msg.length > 0 && msg[msg.length - 1] === CR) {
      msg = msg.subarray(0, msg.length - 1);
      m.framing++;
    }
    if (msg.length > max) {
      deliver(msg.subarray(0, max), true);
      m.dropped += msg.length - max;
    } else if (msg.length > 0) {
      deliver(msg, false);
    }
    i = end + 1;
  }
  return m;
}

// ---- the target ---------------------------------------------------------------------------

function sameFrames(a: Framed, b: Framed, what: string): void {
  invariant(
    a.frames.length === b.frames.length,
    () => `${what}: ${a.frames.length} frames against ${b.frames.length}`,
  );
  a.frames.forEach((f, k) => {
    invariant(
      f.equals(b.frames[k]!),
      () =>
        `${what}: frame ${k} differs: ${JSON.stringify(f.toString('latin1'))} against ${JSON.stringify(b.frames[k]!.toString('latin1'))}`,
    );
    invariant(a.truncated[k] === b.truncated[k], () => `${what}: truncated flag of frame ${k} differs`);
  });
  invariant(
    JSON.stringify(a.counters) === JSON.stringify(b.counters),
    () => `${what}: counters ${JSON.stringify(a.counters)} against ${JSON.stringify(b.counters)}`,
  );
}

export function checkFraming({ bytes, chunks, maxFrameBytes: max }: FramingInput): void {
  const model = modelFrames(bytes, max);
  invariant(
    model.inFrames + model.framing + model.dropped === bytes.length,
    () => `model accounts for ${model.inFrames}+${model.framing}+${model.dropped} of ${bytes.length} bytes`,
  );
  invariant(
    model.dropped === 0 || model.counters.truncated + model.counters.lostAtClose > 0,
    'bytes dropped without a counted reason',
  );

  const whole = decode([bytes], max);
  sameFrames(whole, model, 'one chunk against the model');
  const split = decode(cut(bytes, chunks), max);
  sameFrames(split, whole, `chunks ${JSON.stringify(chunks)} against one chunk`);
  if (bytes.length <= 2048) {
    sameFrames(decode(cut(bytes, [1]), max), whole, 'one byte at a time against one chunk');
  }
  for (const run of [whole, split]) {
    invariant(run.peak <= max + 1, () => `held ${run.peak} bytes, more than maxFrameBytes + 1 = ${max + 1}`);
    invariant(
      run.frames.every((f) => f.length <= max && f.length > 0),
      'a frame is empty or longer than maxFrameBytes',
    );
  }
}

/** Streams as senders write them: the corpus messages, octet-counted or LF/NUL/CRLF-terminated. */
function framingSeeds(): Buffer[] {
  const vectors = fixtureRecords<{ input?: string; input_base64?: string }>(
    'syslog/rfc6587_framing.jsonl',
  ).map(vectorInput);
  const messages = syslogSeeds().filter((m) => m.length > 0);
  const streams: Buffer[] = [];
  for (let k = 0; k + 3 <= messages.length; k += 3) {
    const group = messages.slice(k, k + 3);
    streams.push(Buffer.concat(group.flatMap((m) => [Buffer.from(`${m.length} `), m])));
    const trailer = ['\n', '\0', '\r\n'][k % 3]!;
    streams.push(Buffer.concat(group.flatMap((m) => [m, Buffer.from(trailer)])));
  }
  return [...vectors, ...streams];
}

const FRAMING_TOKENS = tokens(
  '1 ',
  '\r\n\r\n',
  'a\r\n\r\n',
  '12 ',
  '999999999 ',
  '000000003 ',
  '0 ',
  '1234567890 ',
  '\n\n',
  '\r\r\n',
  '\0\n',
);

export const syslogFraming: FuzzTarget<FramingInput> = {
  name: 'syslog-framing',
  arbitrary: fc.record({
    bytes: mutatedBytes(framingSeeds(), { tokens: FRAMING_TOKENS }),
    chunks: chunkSizes(300),
    maxFrameBytes: fc.oneof(
      fc.constantFrom(1, 2, 3, 8, 16, 64, 480, 2048, 8192),
      fc.integer({ min: 1, max: 400 }),
    ),
  }),
  check: checkFraming,
  toJson: (x) => ({ bytes: x.bytes.toString('base64'), chunks: x.chunks, maxFrameBytes: x.maxFrameBytes }),
  fromJson: (j) => {
    const x = j as { bytes: string; chunks: number[]; maxFrameBytes: number };
    return { bytes: Buffer.from(x.bytes, 'base64'), chunks: x.chunks, maxFrameBytes: x.maxFrameBytes };
  },
};
