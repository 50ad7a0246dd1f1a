/**
 * Inputs for the fuzz targets: the real fixtures and the literals of the unit tests as seeds,
 * mutated the way broken senders and attackers mutate them (byte flips, inserted delimiters,
 * quotes, backslashes, NUL, CR/LF, invalid UTF-8, huge repetitions, pieces of other seeds),
 * plus plain random bytes and a soup of the tokens the parsers care about.
 *
 * Positions in a mutation are drawn independently of the input's length and taken modulo it,
 * so mutations stay meaningful while fast-check shrinks the seed or the other mutations.
 */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const UNIT_TESTS = new URL('../unit/', import.meta.url);

/** Bytes that delimit, quote or escape something in at least one of the parsers. */
const TOKENS: readonly Buffer[] = [
  ...['<', '>', '[', ']', '{', '}', '(', ')', '"', "'", '\\', '=', ':', ';', ',', '.', '-', '*', '@', '/'],
  ...[' ', '  ', '\t', '\0', '\r', '\n', '\r\n', '\x1b[31m', '\x1b]0;t\x07', '\x7f'],
  ...['0', '9', '13', '191', '192', '999', '2024-05-01T12:00:00.123456789Z ', 'Oct 11 22:14:15 '],
  ...['\u00e9', '\u20ac', '\u{1f600}', '\ufeff', '\u2028', '\u00a0'],
].map((s) => Buffer.from(s, 'utf8'));

/** Invalid UTF-8: a stray continuation, a cut sequence, an encoded surrogate, past U+10FFFF, overlong. */
const INVALID_UTF8: readonly Buffer[] = [
  [0x80],
  [0xff],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0xaf],
].map((b) => Buffer.from(b));

/** The UTF-8 bytes of each string: a target's delimiters for MutateOptions.tokens. */
export function tokens(...list: string[]): Buffer[] {
  return list.map((t) => Buffer.from(t, 'utf8'));
}

/** Repetitions never make an input longer than this (the largest inputs, for the time bound). */
export const MAX_INPUT_BYTES = 64 * 1024;

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Buffer }
  | { op: 'delete'; at: number; len: number }
  | { op: 'repeat'; at: number; len: number; times: number }
  | { op: 'splice'; at: number; donor: number; from: number; len: number }
  | { op: 'truncate'; at: number };

const position = fc.nat({ max: 0x7fffffff });

function mutationArb(extraTokens: readonly Buffer[], donors: number): fc.Arbitrary<Mutation> {
  const tokens = [...TOKENS, ...extraTokens];
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('byte' as const), at: position, value: fc.nat({ max: 255 }) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        at: position,
        bytes: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...tokens) },
          { weight: 2, arbitrary: fc.constantFrom(...INVALID_UTF8) },
          { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Buffer.from(a)) },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('delete' as const),
        at: position,
        len: fc.integer({ min: 1, max: 16 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('repeat' as const),
        at: position,
        len: fc.integer({ min: 1, max: 32 }),
        // Mostly a few, sometimes thousands: the huge repetitions that find quadratic loops.
        times: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 2, max: 8 }) },
          { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }) },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('splice' as const),
        at: position,
        donor: fc.nat({ max: Math.max(0, donors - 1) }),
        from: position,
        len: fc.integer({ min: 1, max: 64 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  );
}

function applyMutation(input: Buffer, m: Mutation, donors: readonly Buffer[]): Buffer {
  const n = input.length;
  switch (m.op) {
    case 'flip':
    case 'byte': {
      if (n === 0) return input;
      const out = Buffer.from(input);
      const i = m.at % n;
      out[i] = m.op === 'flip' ? out[i]! ^ (1 << m.bit) : m.value;
      return out;
    }
    case 'insert': {
      const i = m.at % (n + 1);
      return Buffer.concat([input.subarray(0, i), m.bytes, input.subarray(i)]);
    }
    case 'delete': {
      if (n === 0) return input;
      const i = m.at % n;
      return Buffer.concat([input.subarray(0, i), input.subarray(i + m.len)]);
    }
    case 'repeat': {
      if (n === 0) return input;
      const i = m.at % n;
      const piece = input.subarray(i, i + m.len);
      const times = Math.min(m.times, Math.floor((MAX_INPUT_BYTES - n) / piece.length));
      if (times < 2) return input;
      return Buffer.concat([
        input.subarray(0, i),
        Buffer.alloc(piece.length * times, piece),
        input.subarray(i),
      ]);
    }
    case 'splice': {
      const donor = donors[m.donor % donors.length];
      if (donor === undefined || donor.length === 0) return input;
      const from = m.from % donor.length;
      const i = m.at % (n + 1);
      return Buffer.concat([input.subarray(0, i), donor.subarray(from, from + m.len), input.subarray(i)]);
    }
    case 'truncate':
      return input.subarray(0, m.at % (n + 1));
  }
}

export interface MutateOptions {
  /** Delimiters of this target's grammar, inserted besides the common ones. */
  tokens?: readonly Buffer[];
  /** At most this many mutations per input (default 6). */
  maxMutations?: number;
}

export type Mutations = readonly Mutation[];

/** A list of mutations for any input; `donors` is how many inputs a splice may take a piece of. */
export function mutations(opts: MutateOptions = {}, donors = 1): fc.Arbitrary<Mutations> {
  return fc.array(mutationArb(opts.tokens ?? [], donors), { maxLength: opts.maxMutations ?? 6 });
}

/** `input` with the mutations applied in order; splices take pieces of `donors`. */
export function applyMutations(input: Buffer, ms: Mutations, donors: readonly Buffer[]): Buffer {
  return ms.reduce((b, m) => applyMutation(b, m, donors), input);
}

/**
 * Seeds, mutated (most inputs), plus random bytes and token soups. The seeds are never empty
 * in practice; an empty list still gives random inputs.
 */
export function mutatedBytes(seeds: readonly Buffer[], opts: MutateOptions = {}): fc.Arbitrary<Buffer> {
  const tokens = [...TOKENS, ...(opts.tokens ?? [])];
  const pool = seeds.length > 0 ? seeds : [Buffer.alloc(0)];
  const mutated = fc
    .tuple(fc.constantFrom(...pool), mutations(opts, pool.length))
    .map(([seed, ms]) => applyMutations(seed, ms, pool));
  const soup = fc
    .array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...tokens) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8) },
        {
          weight: 2,
          arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).map((s) => Buffer.from(s)),
        },
      ),
      { maxLength: 40 },
    )
    .map((parts) => Buffer.concat(parts));
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: soup },
  );
}

/**
 * Text as the parsers get it: mutated bytes decoded as UTF-8 (invalid sequences become U+FFFD,
 * as in the receivers), and sometimes strings no decoder makes (lone surrogates, any code point)
 * for the parsers that take text from JSON or an API call.
 */
export function mutatedText(seeds: readonly string[], opts: MutateOptions = {}): fc.Arbitrary<string> {
  const bytes = mutatedBytes(
    seeds.map((s) => Buffer.from(s, 'utf8')),
    opts,
  ).map((b) => b.toString('utf8'));
  const loneSurrogate = fc
    .tuple(bytes, position, fc.integer({ min: 0xd800, max: 0xdfff }))
    .map(([s, at, code]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + String.fromCharCode(code) + s.slice(i);
    });
  return fc.oneof(
    { weight: 10, arbitrary: bytes },
    { weight: 1, arbitrary: loneSurrogate },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  );
}

// ---- seeds --------------------------------------------------------------------------------

/** The lines of a fixture file (test/fixtures/<path>), blank ones left out. */
export function fixtureLines(path: string): string[] {
  return readFileSync(new URL(path, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** The records of a JSON Lines fixture. */
export function fixtureRecords<T>(path: string): T[] {
  return fixtureLines(path).map((l) => JSON.parse(l) as T);
}

/** A syslog vector's input bytes (`input`, or `input_base64` for what is not UTF-8). */
export function vectorInput(v: { input?: string; input_base64?: string }): Buffer {
  return v.input_base64 !== undefined
    ? Buffer.from(v.input_base64, 'base64')
    : Buffer.from(v.input ?? '', 'utf8');
}

/** Every syslog message of the corpus (RFC 5424, RFC 3164, detection, rsyslog vectors). */
export function syslogSeeds(): Buffer[] {
  const files = ['rfc5424.jsonl', 'rfc3164.jsonl', 'format_detection.jsonl', 'rsyslog_parsertests.jsonl'];
  return files.flatMap((f) =>
    fixtureRecords<{ input?: string; input_base64?: string }>(`syslog/${f}`).map(vectorInput),
  );
}

/**
 * The string literals of a unit test file ('...', "..." and `...` without `${`): the cases
 * its author thought of, read from the source so that new tests seed the fuzzer too.
 */
export function unitTestStrings(file: string): string[] {
  const source = readFileSync(new URL(file, UNIT_TESTS), 'utf8');
  const out = new Set<string>();
  const literal = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\$]|\\.|\$(?!\{))*)`/g;
  for (const m of source.matchAll(literal)) {
    const raw = m[1] ?? m[2] ?? m[3] ?? '';
    try {
      // Read the escapes as JavaScript would: the quote style differs, the escapes do not.
      out.add(
        JSON.parse(
          `"${raw
            .replace(/\\'/g, "'")
            .replace(/\\`/g, '`')
            .replace(/(?<!\\)"/g, '\\"')}"`,
        ) as string,
      );
    } catch {
      out.add(raw);
    }
  }
  return [...out].filter((s) => s.length > 0);
}

/** Lines of the Beats sample logs (access logs, JSON logs, error logs). */
export function beatsLines(): string[] {
  const files = [
    'apache-access.log',
    'apache-error.log',
    'elasticsearch-8-json.log',
    'kafka-server.log',
    'mysql-8.0.15-error.log',
    'nginx-access.log',
    'nginx-error.log',
  ];
  return files.flatMap((f) => fixtureLines(`beats/${f}`));
}

/** Lines of the multiline fixtures (stack traces of many languages). */
export function multilineLines(): string[] {
  const dir = new URL('multiline/', FIXTURES);
  const files = [
    'java_java_exc.log',
    'python_python_exc.log',
    'go_go_exc.log',
    'nodejs_node_js_exc.log',
    'syslog-iso8601-multiline.log',
    'ruby_rails_exc.log',
  ];
  return files.flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n')).filter((l) => l !== '');
}

/** Splits `total` bytes at cut points drawn by the arbitrary (sizes of 1 to `max` bytes). */
export function chunkSizes(max = 64): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max }), { minLength: 1, maxLength: 32 });
}

/** `bytes` cut into chunks of the given sizes, cycled until the end. */
export function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length] ?? bytes.length;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}
