/**
 * The Docker log stream decoder (src/sources/docker/frames.ts): multiplexed frames and raw TTY
 * streams, 16 KiB partial-line reassembly, timestamps, in random chunkings.
 *
 * Two kinds of input:
 * - engine streams: lines generated with their stream and (non-decreasing) timestamps, encoded
 *   as the engine's log copier does (16 KiB pieces with the same timestamp, stdout and stderr
 *   pieces interleaved, stdin/daemon-error/empty frames between), cut into random chunks. The
 *   decoder must give back exactly those lines, per stream in order, with their timestamps,
 *   cut to maxLineBytes on a character boundary with the truncated flag, and report no lost
 *   line bytes;
 * - mutated streams: the same streams with bytes flipped, inserted, deleted, and random bytes.
 *
 * Invariants for all: no throw; chunking does not change the lines nor the garbage reports;
 * held bytes never exceed maxLineBytes per stream; a line is never longer than maxLineBytes;
 * timestamps are canonical; a line without timestamp is announced by a garbage report (so its
 * "now" stamp is known as such), and garbage is reported with a byte count, never silently.
 */

import fc from 'fast-check';
import type { Stream } from '../../../src/core/event.js';
import { utf8Boundary } from '../../../src/sources/docker/bytes.js';
import { DOCKER_PIECE_BYTES, DockerLogDecoder } from '../../../src/sources/docker/frames.js';
import { type FuzzTarget, invariant } from '../harness.js';
import { applyMutations, chunkSizes, cut, mutations } from '../mutate.js';

const NOW = '2099-01-01T00:00:00.000000000Z';
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

interface Line {
  stream: Stream;
  ts: string;
  text: string;
  truncated: boolean;
}

interface Garbage {
  reason: string;
  bytes: number;
  losesLineBytes: boolean;
  /** Index of the next line: a "without timestamp" report must come right before its line. */
  beforeLine: number;
}

interface Decoded {
  lines: Line[];
  garbage: Garbage[];
  peak: number;
}

function decode(chunks: readonly Buffer[], tty: boolean, maxLineBytes: number): Decoded {
  const lines: Line[] = [];
  const garbage: Garbage[] = [];
  const d = new DockerLogDecoder({
    tty,
    maxLineBytes,
    onLine: (stream, ts, text, truncated) => lines.push({ stream, ts, text, truncated }),
    onGarbage: (reason, bytes, losesLineBytes) =>
      garbage.push({ reason, bytes, losesLineBytes, beforeLine: lines.length }),
    now: () => NOW,
  });
  let peak = 0;
  for (const c of chunks) {
    d.push(c);
    peak = Math.max(peak, d.bufferedBytes);
  }
  d.end();
  return { lines, garbage, peak };
}

// ---- engine streams -----------------------------------------------------------------------

interface EngineLine {
  stream: Stream;
  /** Nanoseconds since 2000-01-01, non-decreasing per stream. */
  ns: bigint;
  /** How the engine writes the timestamp: canonical, or a shorter RFC 3339 form. */
  style: 'canonical' | 'trimmed' | 'offset';
  /** The line's bytes (no LF; for a TTY no CR at its end either). */
  body: Buffer;
}

/** Frames of another type between the log frames: stdin (0), daemon error (3), empty log frames. */
interface Extra {
  after: number;
  type: 0 | 1 | 2 | 3;
  payload: Buffer;
}

export interface DockerInput {
  tty: boolean;
  maxLineBytes: number;
  /** Set for an engine stream: the lines it encodes (and the expected output). */
  lines: EngineLine[] | null;
  bytes: Buffer;
  chunks: number[];
}

const EPOCH_2000_MS = 946_684_800_000n;

function formatTs(ns: bigint, style: EngineLine['style']): { written: string; canonical: string } {
  const ms = Number(EPOCH_2000_MS + ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const base = new Date(ms).toISOString().slice(0, 19);
  const canonical = `${base}.${frac}Z`;
  if (style === 'trimmed') {
    const t = frac.replace(/0+$/, '');
    return { written: t === '' ? `${base}Z` : `${base}.${t}Z`, canonical };
  }
  if (style === 'offset') {
    // The same instant written at +02:00.
    const local = new Date(ms + 2 * 3600_000).toISOString().slice(0, 19);
    return { written: `${local}.${frac}+02:00`, canonical };
  }
  return { written: canonical, canonical };
}

function frame(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** The engine's pieces of one line: 16 KiB each but the last, which ends with LF. */
function pieces(line: EngineLine, tty: boolean): Buffer[] {
  const content = tty ? Buffer.concat([line.body, Buffer.from('\r')]) : line.body;
  const prefix = Buffer.from(`${formatTs(line.ns, line.style).written} `);
  const out: Buffer[] = [];
  let at = 0;
  do {
    const piece = content.subarray(at, at + DOCKER_PIECE_BYTES);
    at += piece.length;
    const last = at >= content.length && piece.length < DOCKER_PIECE_BYTES;
    out.push(Buffer.concat([prefix, piece, last ? Buffer.from('\n') : Buffer.alloc(0)]));
    if (!last && at >= content.length) {
      // A content of exactly k x 16 KiB: the LF comes in an empty last piece.
      out.push(Buffer.concat([prefix, Buffer.from('\n')]));
      break;
    }
  } while (at < content.length);
  return out;
}

/** Encodes the lines; `order` interleaves the pieces of stdout and stderr (multiplexed only). */
function encode(lines: EngineLine[], tty: boolean, order: boolean[], extras: Extra[]): Buffer {
  if (tty) return Buffer.concat(lines.flatMap((l) => pieces(l, true)));
  const queues: Record<Stream, Buffer[]> = {
    stdout: lines.filter((l) => l.stream === 'stdout').flatMap((l) => pieces(l, false)),
    stderr: lines.filter((l) => l.stream === 'stderr').flatMap((l) => pieces(l, false)),
  };
  const frames: Buffer[] = [];
  let k = 0;
  while (queues.stdout.length > 0 || queues.stderr.length > 0) {
    const pick: Stream =
      queues.stderr.length === 0
        ? 'stdout'
        : queues.stdout.length === 0
          ? 'stderr'
          : order[k % Math.max(1, order.length)]
            ? 'stderr'
            : 'stdout';
    frames.push(frame(pick === 'stdout' ? 1 : 2, queues[pick].shift()!));
    k++;
  }
  for (const x of [...extras].sort((a, b) => b.after - a.after)) {
    frames.splice(Math.min(x.after, frames.length), 0, frame(x.type, x.payload));
  }
  return Buffer.concat(frames);
}

/** What the decoder must hand over for an engine line. */
function expected(line: EngineLine, cap: number): Line {
  const body = line.body;
  const truncated = body.length > cap;
  const end = truncated ? utf8Boundary(body, 0, cap) : body.length;
  return {
    stream: line.stream,
    ts: formatTs(line.ns, line.style).canonical,
    text: body.toString('utf8', 0, end),
    truncated,
  };
}

/** Headers to splice in: an empty frame, a stderr header promising 9 bytes, one promising 4 GiB. */
const DOCKER_TOKENS = [
  frame(1, Buffer.alloc(0)),
  Buffer.from([2, 0, 0, 0, 0, 0, 0, 9]),
  Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
];

const lineBody = (tty: boolean) =>
  fc
    .oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => Buffer.from(s)) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)) },
      {
        weight: 1,
        // Around the 16 KiB piece size and beyond: 16383, 16384, 16385, 40 KiB lines.
        arbitrary: fc
          .tuple(
            fc.constantFrom(16383, 16384, 16385, 32768, 40000),
            fc.integer({ min: -2, max: 2 }),
            fc.constantFrom('a', 'é', '€', '😀'),
          )
          .map(([n, d, ch]) => {
            const unit = Buffer.from(ch);
            return Buffer.alloc(n + d, unit);
          }),
      },
    )
    // LF ends a line; on a TTY a CR at the end would be taken for the terminal's CRLF.
    .map((b) => {
      const noLf = b.includes(0x0a) ? Buffer.from(b.filter((c) => c !== 0x0a)) : b;
      return tty && noLf.length > 0 && noLf[noLf.length - 1] === 0x0d ? noLf.subarray(0, -1) : noLf;
    });

/** Engine streams of a TTY or a multiplexed container (two arbitraries built once: a chain on tty rebuilt them per input). */
const engineStreamOf = (tty: boolean) =>
  fc
    .record({
      tty: fc.constant(tty),
      maxLineBytes: fc.oneof(
        fc.constantFrom(1, 4, 16, 100, 16384, 16385, 1024 * 1024),
        fc.integer({ min: 1, max: 200 }),
      ),
      lines: fc.array(
        fc.record({
          stream: tty ? fc.constant<Stream>('stdout') : fc.constantFrom<Stream>('stdout', 'stderr'),
          step: fc.bigInt({ min: 0n, max: 10n ** 12n }),
          style: fc.constantFrom<EngineLine['style']>('canonical', 'canonical', 'trimmed', 'offset'),
          body: lineBody(tty),
        }),
        { maxLength: 12 },
      ),
      order: fc.array(fc.boolean(), { maxLength: 16 }),
      extras: tty
        ? fc.constant<Extra[]>([])
        : fc.array(
            fc.record({
              after: fc.nat({ max: 40 }),
              type: fc.constantFrom<Extra['type']>(0, 1, 2, 3),
              payload: fc.oneof(
                fc.constant(Buffer.alloc(0)),
                fc.string({ maxLength: 20 }).map((s) => Buffer.from(s)),
              ),
            }),
            { maxLength: 3 },
          ),
      chunks: chunkSizes(20000),
    })
    .map(({ tty, maxLineBytes, lines, order, extras, chunks }) => {
      let ns = 0n;
      // At most two long lines (enough for the pieces of stdout and stderr to interleave): the
      // stream stays under ~80 KiB, which keeps the check well inside the time bound.
      let long = 0;
      const engine: EngineLine[] = lines.map((l) => {
        ns += l.step;
        const body = l.body.length > 1000 && ++long > 2 ? l.body.subarray(0, 1000) : l.body;
        return { stream: l.stream, ns, style: l.style, body };
      });
      // Type 1/2 frames between the others would be log lines: keep only empty ones.
      const others = extras.map((x) =>
        x.type === 1 || x.type === 2 ? { ...x, payload: Buffer.alloc(0) } : x,
      );
      return { tty, maxLineBytes, lines: engine, bytes: encode(engine, tty, order, others), chunks };
    });

const engineStream = fc.oneof(engineStreamOf(false), engineStreamOf(true));

/**
 * An engine stream (its first 4 KiB), mutated. Built with map, not chain: a chain would build
 * the mutation arbitrary anew for every input, which cost more than the check.
 */
const mutatedStream = fc
  .tuple(
    engineStream,
    mutations({ tokens: DOCKER_TOKENS }),
    fc.uint8Array({ maxLength: 300 }),
    fc.nat({ max: 9 }),
  )
  .map(([s, ms, random, pick]) => {
    const seed = s.bytes.length > 4096 ? s.bytes.subarray(0, 4096) : s.bytes;
    // One in ten: random bytes instead, for the decoder to find its way through.
    const bytes = pick === 0 ? Buffer.from(random) : applyMutations(seed, ms, [seed]);
    return {
      tty: s.tty,
      maxLineBytes: s.maxLineBytes,
      lines: null,
      bytes,
      chunks: s.chunks.map((n) => Math.min(n, 97)),
    };
  });

// ---- the check ----------------------------------------------------------------------------

function sameOutput(a: Decoded, b: Decoded, what: string): void {
  invariant(
    a.lines.length === b.lines.length,
    () => `${what}: ${a.lines.length} lines against ${b.lines.length}`,
  );
  a.lines.forEach((l, k) => {
    const o = b.lines[k]!;
    invariant(
      l.stream === o.stream && l.ts === o.ts && l.text === o.text && l.truncated === o.truncated,
      () =>
        `${what}: line ${k} differs: ${JSON.stringify(l).slice(0, 300)} against ${JSON.stringify(o).slice(0, 300)}`,
    );
  });
  // Compared one by one: a stream of 40,000 one-byte lines without timestamps has as many
  // reports, and stringifying them all cost the check more than the decoding.
  invariant(
    a.garbage.length === b.garbage.length,
    () => `${what}: ${a.garbage.length} garbage reports against ${b.garbage.length}`,
  );
  a.garbage.forEach((g, k) => {
    const o = b.garbage[k]!;
    invariant(
      g.reason === o.reason &&
        g.bytes === o.bytes &&
        g.losesLineBytes === o.losesLineBytes &&
        g.beforeLine === o.beforeLine,
      () => `${what}: garbage report ${k} differs: ${JSON.stringify(g)} against ${JSON.stringify(o)}`,
    );
  });
}

export function checkDocker(input: DockerInput): void {
  const { tty, maxLineBytes: cap, bytes } = input;
  const whole = decode([bytes], tty, cap);
  const split = decode(cut(bytes, input.chunks), tty, cap);
  sameOutput(split, whole, `chunks ${JSON.stringify(input.chunks.slice(0, 8))}... against one chunk`);
  if (bytes.length <= 1024)
    sameOutput(decode(cut(bytes, [1]), tty, cap), whole, 'one byte at a time against one chunk');

  for (const run of [whole, split]) {
    invariant(run.peak <= 2 * cap, () => `held ${run.peak} bytes for maxLineBytes ${cap}`);
  }
  let garbageLines = 0;
  const announcedBefore = new Set(
    whole.garbage.filter((g) => g.reason.includes('without timestamp')).map((g) => g.beforeLine),
  );
  whole.lines.forEach((l, k) => {
    invariant(
      l.text.length <= cap,
      () => `line ${k} has ${l.text.length} characters, more than maxLineBytes ${cap}`,
    );
    invariant(CANONICAL.test(l.ts), () => `line ${k}: timestamp ${l.ts} is not canonical`);
    invariant(!tty || l.stream === 'stdout', 'a TTY line not on stdout');
    if (l.ts === NOW) {
      garbageLines++;
      invariant(
        announcedBefore.has(k),
        () => `line ${k} stamped "now" without a garbage report right before it`,
      );
    }
  });
  for (const g of whole.garbage) {
    invariant(Number.isInteger(g.bytes) && g.bytes >= 0, () => `garbage of ${g.bytes} bytes`);
    invariant(g.reason.length > 0, 'garbage without a reason');
  }
  const announcements = whole.garbage.filter((g) => g.reason.includes('without timestamp')).length;
  invariant(
    announcements === garbageLines,
    () => `${announcements} "without timestamp" reports for ${garbageLines} such lines`,
  );

  if (input.lines === null) return;
  // An engine stream: exactly its lines, in order per stream, and nothing lost.
  for (const stream of ['stdout', 'stderr'] as const) {
    const want = input.lines.filter((l) => l.stream === stream).map((l) => expected(l, cap));
    const got = whole.lines.filter((l) => l.stream === stream);
    invariant(
      got.length === want.length,
      () => `${stream}: ${got.length} lines, the engine sent ${want.length}`,
    );
    want.forEach((w, k) => {
      const g = got[k]!;
      invariant(
        g.ts === w.ts && g.text === w.text && g.truncated === w.truncated,
        () =>
          `${stream} line ${k}: got ${JSON.stringify({ ...g, text: g.text.slice(0, 80) })}, want ${JSON.stringify({ ...w, text: w.text.slice(0, 80) })}`,
      );
    });
  }
  invariant(
    !whole.garbage.some((g) => g.losesLineBytes),
    () => `a clean stream lost line bytes: ${JSON.stringify(whole.garbage)}`,
  );
}

export const dockerFrames: FuzzTarget<DockerInput> = {
  name: 'docker-frames',
  arbitrary: fc.oneof({ weight: 1, arbitrary: engineStream }, { weight: 2, arbitrary: mutatedStream }),
  check: checkDocker,
  toJson: (x) => ({
    tty: x.tty,
    maxLineBytes: x.maxLineBytes,
    lines: x.lines?.map((l) => ({ ...l, ns: l.ns.toString(), body: l.body.toString('base64') })) ?? null,
    bytes: x.bytes.toString('base64'),
    chunks: x.chunks,
  }),
  fromJson: (j) => {
    const x = j as Omit<DockerInput, 'lines' | 'bytes'> & {
      lines: Array<Omit<EngineLine, 'ns' | 'body'> & { ns: string; body: string }> | null;
      bytes: string;
    };
    return {
      ...x,
      lines: x.lines?.map((l) => ({ ...l, ns: BigInt(l.ns), body: Buffer.from(l.body, 'base64') })) ?? null,
      bytes: Buffer.from(x.bytes, 'base64'),
    };
  },
};
