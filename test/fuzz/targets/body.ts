/**
 * The body parsers (src/transforms/body.ts: JSON, logfmt, a leading PRI or level word;
 * src/transforms/access-log.ts: nginx/Apache access lines) on mutated real lines.
 *
 * Invariants: no throw; deterministic; what they find is in range (severity 0..7, facility
 * 0..23, an access status of three digits and a byte count) and can be stored: `fields`
 * survives JSON.stringify (a value JSON cannot hold, or nesting too deep for it, would make
 * every store and the disk buffer throw on the event); logfmt and access fields are strings
 * (numbers for status, bytes and vhost_port) cut from the line; a PRI message is the line's tail.
 */

import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { parseAccessLog } from '../../../src/transforms/access-log.js';
import { type ParsedBody, parseBody, parseJsonBody, parseLogfmtBody } from '../../../src/transforms/body.js';
import { inRange, invariant, jsonTarget } from '../harness.js';
import { beatsLines, multilineLines, mutatedText, tokens, unitTestStrings } from '../mutate.js';

/** Stringifies `value` as the stores do; throws when JSON cannot hold it. */
export function storedJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new Error(`${what} cannot be stored as JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  invariant(json !== undefined, `${what} stringifies to nothing`);
  JSON.parse(json);
  return json;
}

function checkParsed(text: string, p: ParsedBody | undefined, what: string): void {
  if (p === undefined) return;
  if (p.severity !== undefined) inRange(`${what}: severity`, p.severity, 0, 7);
  if (p.facility !== undefined) inRange(`${what}: facility`, p.facility, 0, 23);
  invariant(p.message === undefined || typeof p.message === 'string', `${what}: message not a string`);
  invariant(p.timestamp === undefined || typeof p.timestamp === 'string', `${what}: timestamp not a string`);
  if (p.fields !== undefined) storedJson(p.fields, `${what} fields`);
  if (p.format === 'logfmt') {
    for (const [k, v] of Object.entries(p.fields ?? {})) {
      invariant(typeof v === 'string', () => `${what}: logfmt value of ${k} is not a string`);
      invariant(text.includes(`${k}=`), () => `${what}: logfmt key ${JSON.stringify(k)} is not in the line`);
    }
  }
  if (p.format === 'pri')
    invariant(
      p.message !== undefined && text.endsWith(p.message),
      `${what}: the PRI message is not the line's tail`,
    );
}

export function checkBody(text: string): void {
  const parsed = parseBody(text);
  checkParsed(text, parsed, 'parseBody');
  // Compared as JSON (checked storable above): a recursive deep-equal would overflow first.
  invariant(JSON.stringify(parseBody(text)) === JSON.stringify(parsed), 'parseBody is not deterministic');
  checkParsed(text, parseJsonBody(text), 'parseJsonBody');
  checkParsed(text, parseLogfmtBody(text), 'parseLogfmtBody');

  const access = parseAccessLog(text);
  if (access !== undefined) {
    const a = access.access;
    invariant(text.includes(access.timestamp), 'access timestamp is not a slice of the line');
    inRange('access status', a.status, 0, 999);
    invariant(Number.isSafeInteger(a.bytes) && a.bytes >= 0, () => `access bytes ${a.bytes}`);
    invariant(a.client.length > 0, 'access line without a client');
    for (const [k, v] of Object.entries(a)) {
      if (k === 'status' || k === 'bytes') continue;
      invariant(typeof v === 'string', () => `access fact ${k} is not text`);
    }
    const x = access.extras ?? {};
    if (x.vhost_port !== undefined) inRange('vhost_port', x.vhost_port, 0, 65535);
    for (const [k, v] of Object.entries(x)) {
      if (k === 'vhost_port') continue;
      const values = Array.isArray(v) ? v : [v];
      invariant(
        values.every((s) => typeof s === 'string'),
        () => `access extra ${k} is not text`,
      );
    }
    deepStrictEqual(JSON.parse(storedJson(a, 'access facts')), a, 'access facts do not survive JSON');
    deepStrictEqual(JSON.parse(storedJson(x, 'access extras')), x, 'access extras do not survive JSON');
  }
}

/** JSON lines as programs write them, with nesting up to a depth no program writes. */
function jsonLine(): fc.Arbitrary<string> {
  const deep = fc
    .tuple(
      fc.integer({ min: 1, max: 20_000 }),
      fc.constantFrom('[', '{"a":'),
      fc.constantFrom('1', '"x"', '{}', '[]'),
    )
    .map(([depth, open, leaf]) => {
      const close = open === '[' ? ']' : '}';
      return `{"msg":"deep","v":${open.repeat(depth)}${leaf}${close.repeat(depth)}}`;
    });
  return fc.oneof(
    { weight: 4, arbitrary: fc.json({ depthSize: 'medium' }).filter((j) => j.startsWith('{')) },
    { weight: 1, arbitrary: deep },
  );
}

export const bodySeeds = (): string[] => [
  ...beatsLines(),
  ...multilineLines(),
  ...unitTestStrings('body.test.ts'),
  ...unitTestStrings('access-log.test.ts'),
];

const BODY_TOKENS = tokens(
  '{"',
  '":',
  '"}',
  'level=',
  ' msg="',
  '\\"',
  '\\u00e9',
  '\\ud800',
  ' - - [',
  '07/Dec/2016:11:05:07 +0100]',
  '" 200 ',
  '<3>',
  'ERROR ',
);

export const body = jsonTarget<string>({
  name: 'body',
  arbitrary: fc.oneof(
    { weight: 6, arbitrary: mutatedText(bodySeeds(), { tokens: BODY_TOKENS }) },
    { weight: 1, arbitrary: jsonLine() },
  ),
  check: checkBody,
});
