/**
 * parseSyslog (src/sources/syslog/parse.ts, RFC 5424 / RFC 3164 and variants) on mutated corpus
 * messages.
 *
 * Invariants, from the module's contract: never throws, and never hides an internal throw (its
 * safety net's "internal parser error" counts as a failure here); the message is never dropped:
 * it is a tail of the text (less the trailing NUL/CR/LF), the whole text when unparsed, and the
 * header fields are slices of the text before it; deterministic; the values are in range (PRI
 * parts, a canonical timestamp); structured data survives JSON.
 */

import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { parseSyslog, type SyslogMessage } from '../../../src/sources/syslog/parse.js';
import { inRange, invariant, jsonTarget } from '../harness.js';
import { mutatedText, syslogSeeds, tokens, unitTestStrings } from '../mutate.js';

export interface ParseInput {
  text: string;
  /** The receiver's clock, as epoch ms (the BSD year depends on it). */
  now: number;
}

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

function withoutTrailer(text: string): string {
  let end = text.length;
  while (end > 0 && '\n\r\0'.includes(text[end - 1]!)) end--;
  return text.slice(0, end);
}

export function checkParse({ text, now }: ParseInput): void {
  const opts = { now: new Date(now) };
  const msg: SyslogMessage = parseSyslog(text, opts);
  invariant(!msg.problem?.includes('internal parser error'), () => `the parser threw: ${msg.problem}`);
  deepStrictEqual(parseSyslog(text, opts), msg, 'not deterministic');

  const body = withoutTrailer(text);
  invariant(
    body.endsWith(msg.message),
    () => `message ${JSON.stringify(msg.message)} is not a tail of the text`,
  );
  const header = body.slice(0, body.length - msg.message.length);
  if (msg.format === 'unparsed') invariant(msg.message === body, 'an unparsed message is not the whole text');
  for (const key of ['hostname', 'appname', 'procid', 'msgid'] as const) {
    const v = msg[key];
    invariant(
      v === undefined || (v.length > 0 && header.includes(v)),
      () => `${key} ${JSON.stringify(v)} is not a slice of the header`,
    );
  }
  invariant(['rfc5424', 'rfc3164', 'unparsed'].includes(msg.format), () => `format ${msg.format}`);
  inRange('facility', msg.facility, 0, 23);
  inRange('severity', msg.severity, 0, 7);
  invariant(msg.hasPri || (msg.facility === 1 && msg.severity === 5), 'no PRI but not user.notice');
  invariant(
    msg.timestamp === undefined || CANONICAL.test(msg.timestamp),
    () => `timestamp ${msg.timestamp} is not canonical`,
  );
  if (msg.structuredData !== undefined) {
    invariant(msg.format === 'rfc5424', 'structured data outside RFC 5424');
    for (const params of Object.values(msg.structuredData)) {
      for (const v of Object.values(params))
        invariant(typeof v === 'string', 'a structured-data value is not a string');
    }
    deepStrictEqual(
      JSON.parse(JSON.stringify(msg.structuredData)),
      msg.structuredData,
      'structured data does not survive JSON',
    );
  }
}

const SYSLOG_TOKENS = tokens(
  '<13>',
  '<191>',
  '<0>',
  '<013>',
  '1 ',
  '- ',
  '[id a="b"]',
  '[x@1 k="v\\"]"]',
  ' - - - ',
  'Oct  1 ',
  '2024 ',
  '643: ',
  '*',
  'tag[12]: ',
  '\\]',
  '::1 ',
);

/** Epoch ms of reference clocks: an ordinary day, a new year's morning (BSD years roll back), Feb 29. */
const NOWS = [
  Date.UTC(2026, 4, 1, 12),
  Date.UTC(2026, 0, 1, 0, 30),
  Date.UTC(2024, 1, 29, 23, 59),
  Date.UTC(1999, 11, 31, 23, 59, 59),
];

export const syslogParse = jsonTarget<ParseInput>({
  name: 'syslog-parse',
  arbitrary: fc.record({
    text: mutatedText(
      [...syslogSeeds().map((b) => b.toString('utf8')), ...unitTestStrings('syslog-parse.test.ts')],
      { tokens: SYSLOG_TOKENS },
    ),
    now: fc.constantFrom(...NOWS),
  }),
  check: checkParse,
});
