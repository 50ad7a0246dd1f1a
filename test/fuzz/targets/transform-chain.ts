/**
 * The whole transform chain (src/transforms/chain.ts createTransform) on one LogEvent: sanitize,
 * parse by container profile (auto, json, logfmt, syslog, none) or a syslog message's body, tag,
 * redact, with each redaction setting.
 *
 * Invariants: no throw; no event dropped or added; `event.original` as chain.ts promises: when
 * the stored message is not the raw line (redacted as the message is), `original` holds the raw
 * line, redacted, and `original` is never set otherwise; the event can be stored: its ECS
 * document survives JSON, the disk buffer codec round-trips it, the embedded store encodes it;
 * severity and facility stay in range.
 */

import fc from 'fast-check';
import { decodeBatch, encodeBatch } from '../../../src/buffer/event-codec.js';
import type { TransformsConfig } from '../../../src/config/schema.js';
import { toEcs } from '../../../src/core/ecs.js';
import type { ContainerInfo, LogEvent } from '../../../src/core/event.js';
import { eventParams } from '../../../src/sinks/embedded/codec.js';
import { createTransform } from '../../../src/transforms/chain.js';
import { compileRedactor, type RedactConfig } from '../../../src/transforms/redact.js';
import { inRange, invariant, jsonTarget } from '../harness.js';
import { mutatedText, syslogSeeds, unitTestStrings } from '../mutate.js';
import { bodySeeds, storedJson } from './body.js';

export interface ChainInput {
  raw: string;
  dataset: 'docker' | 'syslog';
  /** The container's `logwharf.parser` label (docker only); undefined: none. */
  parser: string | undefined;
  redact: keyof typeof REDACT;
  stream: 'stdout' | 'stderr';
}

const REDACT = {
  off: { builtin: false, rules: [] },
  builtin: { builtin: true, rules: [] },
  custom: {
    builtin: true,
    rules: [
      { name: 'token', pattern: 'tok_[a-z0-9]{4,}' },
      { name: 'quote', pattern: '"[^"]{3}"', replacement: '<$&>' },
    ],
  },
} satisfies Record<string, RedactConfig>;

function config(redact: RedactConfig): TransformsConfig {
  return {
    parser: 'auto',
    tag: '{{.Name}}',
    multiline: { enabled: false, flush_after: '1s', max_lines: 1000, rules: [] },
    redact,
    sender_time: { max_age: '7d', max_ahead: '1d' },
  };
}

/** One compiled chain per redaction setting, as the pipeline keeps one for its lifetime. */
const chains = new Map<string, (events: LogEvent[]) => void>();
const quiet = { warn: () => {} };

function chainFor(redact: ChainInput['redact']): (events: LogEvent[]) => void {
  let chain = chains.get(redact);
  if (chain === undefined) {
    chain = createTransform({ config: config(REDACT[redact]), log: quiet });
    chains.set(redact, chain);
  }
  return chain;
}

function event(input: ChainInput): LogEvent {
  const container: ContainerInfo | undefined =
    input.dataset === 'docker'
      ? {
          id: 'c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
          name: 'shop_web_1',
          imageName: 'nginx:1.25',
          labels: input.parser === undefined ? {} : { 'logwharf.parser': input.parser },
          tty: false,
        }
      : undefined;
  return {
    timestamp: '2026-11-27T02:00:00.000000001Z',
    id: 'fuzz',
    dataset: input.dataset,
    ingested: '2026-11-27T02:00:00.000000001Z',
    message: input.raw,
    severity: input.stream === 'stdout' ? 6 : 3,
    facility: input.dataset === 'docker' ? 3 : 1,
    ...(input.dataset === 'docker' ? { stream: input.stream, container } : {}),
    host: 'dockerhost',
  };
}

export function checkChain(input: ChainInput): void {
  const e = event(input);
  const events = [e];
  chainFor(input.redact)(events);
  invariant(events.length === 1 && events[0] === e, 'the chain dropped, added or replaced an event');

  const redactor = compileRedactor(REDACT[input.redact]);
  const raw = redactor === null ? input.raw : redactor.redactText(input.raw);
  if (e.original !== undefined) {
    invariant(
      e.original === raw,
      () =>
        `original ${JSON.stringify(e.original).slice(0, 200)} is not the raw line ${JSON.stringify(raw).slice(0, 200)}`,
    );
  } else {
    invariant(
      e.message === raw,
      () =>
        `message ${JSON.stringify(e.message).slice(0, 200)} differs from the raw line ${JSON.stringify(raw).slice(0, 200)} but original is not set`,
    );
  }
  invariant(typeof e.message === 'string', 'message is not a string');
  inRange('severity', e.severity, 0, 7);
  inRange('facility', e.facility, 0, 23);
  invariant(e.flags === undefined || e.flags.every((f) => typeof f === 'string'), 'a flag is not a string');

  // Storable everywhere an event goes.
  const doc = storedJson(toEcs(e), 'the ECS document');
  invariant(doc.length > 0, 'empty ECS document');
  const record = encodeBatch([e], 0);
  const decoded = decodeBatch(record, 0, record.length).events[0];
  invariant(decoded !== undefined, 'the disk buffer codec lost the event');
  invariant(
    decoded.message === e.message && decoded.original === e.original,
    'the disk buffer codec changed the message or original',
  );
  invariant(
    JSON.stringify(decoded.fields) === JSON.stringify(e.fields),
    'the disk buffer codec changed fields',
  );
  eventParams(e, null);
}

const REDACT_SEEDS = () => [
  ...unitTestStrings('redact.test.ts'),
  ...unitTestStrings('sanitize.test.ts'),
  ...unitTestStrings('transform-chain.test.ts'),
];

export const transformChain = jsonTarget<ChainInput>({
  name: 'transform-chain',
  arbitrary: fc.record({
    raw: mutatedText([...bodySeeds(), ...REDACT_SEEDS(), ...syslogSeeds().map((b) => b.toString('utf8'))]),
    dataset: fc.constantFrom('docker', 'docker', 'syslog'),
    parser: fc.constantFrom(undefined, 'auto', 'json', 'logfmt', 'syslog', 'none', 'bogus'),
    redact: fc.constantFrom<ChainInput['redact']>('off', 'builtin', 'custom'),
    stream: fc.constantFrom('stdout', 'stderr'),
  }),
  check: checkChain,
});
