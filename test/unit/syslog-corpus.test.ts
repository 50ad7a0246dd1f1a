/**
 * The peers' syslog test vectors (test/fixtures/syslog/, see its README.md) run through
 * `parseSyslog`. Every case either gives what the peer states, or is on the reviewed list in
 * deviations.json with its reason; a listed case that starts to pass fails too, so the list
 * stays honest. Pass counts must not fall below those in docs/syslog.md's compatibility section.
 *
 * How expectations are compared (the normalisations are deliberate, documented deviations):
 * - Timestamps as instants. go-syslog's RFC 3164 cases have no year (0000) or one set by a
 *   peer option: month, day and time (UTC) only. rsyslog keeps microseconds: ours are cut
 *   to six digits first. rsyslog's `%timestamp%` (`Mar  6 16:57:54`) is the sender's wall
 *   time: compared with ours shifted by the offset in the input.
 * - go-syslog's `null` message is our empty message; a leading BOM in its expected message
 *   is dropped (we remove it). rsyslog's 3164 `%msg%` keeps the space after the tag: one
 *   leading space is dropped from it (we drop it) unless the case ran with
 *   remove.msgFirstSpace=on (then rsyslog dropped it already).
 * - rsyslog's `${RS_HOSTNAME}` and empty fields are our absent fields; its `%syslogtag%`
 *   gives app-name (before `[` or `:`) and procid (inside a final `[...]`) when the case
 *   states no `%programname%`.
 * - go-syslog's invalid cases: we are lenient, so the check is that nothing is lost (the
 *   message is not empty for a non-empty input) and the result says it is not a clean
 *   message of that format (`problem` set, or another format).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toCanonicalTimestamp } from '../../src/core/timestamp.js';
import { parseSyslog, type SyslogMessage } from '../../src/sources/syslog/parse.js';

const FIXTURES = new URL('../fixtures/syslog/', import.meta.url);
const DOCS = new URL('../../docs/syslog.md', import.meta.url);
/** Fixed, so that year choices are reproducible (only month/day/time of yearless times are compared). */
const NOW = new Date('2026-11-27T02:00:00Z');
const SETS = [
  'rfc5424.jsonl',
  'rfc3164.jsonl',
  'rsyslog_parsertests.jsonl',
  'format_detection.jsonl',
] as const;
type SetName = (typeof SETS)[number];

type Json = Record<string, unknown>;
interface Vector {
  /** `source`, plus `@line N` when several cases share one source. */
  id: string;
  input: string;
  record: Json;
}
interface Deviations {
  categories: Record<string, string>;
  cases: Record<SetName, Record<string, string>>;
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const fromBase64 = (b64: string): string => utf8.decode(Buffer.from(b64, 'base64'));

function load(set: SetName): Vector[] {
  const records = readFileSync(new URL(set, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Json);
  const seen = new Map<string, number>();
  for (const r of records) seen.set(String(r.source), (seen.get(String(r.source)) ?? 0) + 1);
  return records.map((record, i) => {
    const source = String(record.source);
    const input = typeof record.input === 'string' ? record.input : fromBase64(String(record.input_base64));
    return { id: (seen.get(source) ?? 0) > 1 ? `${source} @line ${i + 1}` : source, input, record };
  });
}

const deviations = JSON.parse(readFileSync(new URL('deviations.json', FIXTURES), 'utf8')) as Deviations;

function show(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}

/** A stated field: `null` and `''` mean absent; an unstated one (undefined) is not compared. */
function field(out: string[], name: string, expected: unknown, got: string | undefined): void {
  if (expected === undefined) return;
  const want = expected === null || expected === '' ? undefined : String(expected);
  if (want !== got) out.push(`${name}: expected ${show(want)}, got ${show(got)}`);
}

/** go-syslog states `null` for no PRI; rsyslog states the 13 it assigns then (as do we, with `hasPri` false). */
function pri(out: string[], e: Json, got: SyslogMessage, assigned = false): void {
  if (e.priority === null) {
    if (got.hasPri) out.push('expected no PRI');
    return;
  }
  const value = got.hasPri || assigned ? got.facility * 8 + got.severity : 'none';
  if (typeof e.priority === 'number' && value !== e.priority)
    out.push(`priority: expected ${e.priority}, got ${value}`);
  if (typeof e.facility === 'number' && e.facility !== got.facility) out.push(`facility: ${got.facility}`);
  if (typeof e.severity === 'number' && e.severity !== got.severity) out.push(`severity: ${got.severity}`);
}

/** Plain objects with sorted keys, so that maps compare by content (our SD maps have no prototype). */
function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sorted((value as Json)[k])]),
  );
}

function goSyslogValid(v: Vector, got: SyslogMessage, format: 'rfc5424' | 'rfc3164'): string[] {
  const e = v.record.expect as Json;
  const out: string[] = [];
  if (got.format !== format) out.push(`format: ${got.format}`);
  if (got.problem !== undefined) out.push(`problem: ${got.problem}`);
  pri(out, e, got);
  if (e.timestamp !== undefined) {
    const want = e.timestamp === null ? undefined : toCanonicalTimestamp(String(e.timestamp));
    const options = (v.record.options as string[] | undefined) ?? [];
    const yearless =
      format === 'rfc3164' && (want?.startsWith('0000') || options.some((o) => o.startsWith('year')));
    const same = yearless ? want?.slice(5) === got.timestamp?.slice(5) : want === got.timestamp;
    if (!same)
      out.push(
        `timestamp: expected ${show(want)}${yearless ? ' (any year)' : ''}, got ${show(got.timestamp)}`,
      );
  }
  field(out, 'hostname', e.hostname, got.hostname);
  field(out, 'appname', e.appname, got.appname);
  field(out, 'procid', e.procid, got.procid);
  field(out, 'msgid', e.msgid, got.msgid);
  if (e.structured_data !== undefined) {
    const want = e.structured_data === null ? undefined : JSON.stringify(sorted(e.structured_data));
    const have = got.structuredData === undefined ? undefined : JSON.stringify(sorted(got.structuredData));
    if (want !== have) out.push(`structured data: expected ${want}, got ${have}`);
  }
  if (e.message !== undefined || e.message_base64 !== undefined) {
    const raw =
      typeof e.message_base64 === 'string' ? fromBase64(e.message_base64) : ((e.message as string) ?? '');
    const want = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    if (want !== got.message) out.push(`message: expected ${show(want)}, got ${show(got.message)}`);
  }
  return out;
}

function goSyslogInvalid(v: Vector, got: SyslogMessage, format: 'rfc5424' | 'rfc3164'): string[] {
  const out: string[] = [];
  if (v.input.replace(/[\0\r\n]+$/, '') !== '' && got.message === '') out.push('message empty');
  if (got.format === format && got.problem === undefined) {
    out.push(`accepted as a clean ${format} message; go-syslog: ${String(v.record.error ?? 'an error')}`);
  }
  return out;
}

/** rsyslog's placeholder for its own hostname: the message carried none. */
const RS_HOSTNAME = ['$', '{RS_HOSTNAME}'].join('');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Minutes east of UTC of the RFC 3339 timestamp in `input`, 0 when it has none (BSD: we assume UTC). */
function inputOffsetMinutes(input: string): number {
  const m = /\d\d:\d\d:\d\d(?:\.\d+)?([+-])(\d\d):(\d\d)/.exec(input);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

function rsyslog(v: Vector, got: SyslogMessage): string[] | null {
  if (v.record.valid === null) return null;
  const e = v.record.expect as Json;
  const out: string[] = [];
  pri(out, e, got, true);
  field(out, 'hostname', e.hostname === RS_HOSTNAME ? null : e.hostname, got.hostname);
  const tag = typeof e.tag === 'string' ? e.tag.replace(/:$/, '') : undefined;
  const tagPid = tag === undefined ? undefined : /\[([^\]]*)\]$/.exec(tag);
  const tagApp =
    tag === undefined || tag === '-' ? (tag === undefined ? undefined : null) : tag.split('[')[0];
  field(out, 'appname', e.appname ?? tagApp, got.appname);
  field(out, 'procid', e.procid ?? (tag === undefined ? undefined : (tagPid?.[1] ?? null)), got.procid);
  if (typeof e.message === 'string') {
    const options = (v.record.options as string[] | null) ?? [];
    const kept = got.format === 'rfc3164' && !options.includes('pmrfc3164 remove.msgFirstSpace=on');
    const want = kept && e.message.startsWith(' ') ? e.message.slice(1) : e.message;
    if (want !== got.message) out.push(`message: expected ${show(want)}, got ${show(got.message)}`);
  }
  if (typeof e.timestamp === 'string') {
    const m = /^(\w{3}) ([ \d]\d) (\d\d:\d\d:\d\d)$/.exec(e.timestamp);
    const want = m
      ? `${String(MONTHS.indexOf(m[1] ?? '') + 1).padStart(2, '0')}-${m[2]?.trim().padStart(2, '0')}T${m[3]}`
      : '?';
    const local =
      got.timestamp === undefined
        ? undefined
        : new Date(Date.parse(got.timestamp) + inputOffsetMinutes(v.input) * 60_000)
            .toISOString()
            .slice(5, 19);
    if (want !== local) out.push(`timestamp: expected ${want} (wall time), got ${show(local)}`);
  }
  if (typeof e.timestamp_rfc3339 === 'string') {
    const zoneless = e.timestamp_rfc3339.length === 19;
    const want = zoneless ? e.timestamp_rfc3339 : toCanonicalTimestamp(e.timestamp_rfc3339);
    const have = zoneless
      ? got.timestamp?.slice(0, 19)
      : got.timestamp && `${got.timestamp.slice(0, 26)}000Z`;
    if (want !== have) out.push(`timestamp: expected ${show(want)}, got ${show(have)} (microseconds)`);
  }
  return out;
}

function detection(v: Vector, got: SyslogMessage): string[] {
  const want = String(v.record.expect_format);
  if (want === 'error') {
    return got.format === 'unparsed' || got.problem !== undefined
      ? []
      : [`accepted as a clean ${got.format} message`];
  }
  return got.format === want ? [] : [`format: expected ${want}, got ${got.format}`];
}

/** What differs from the peer's statement; null when the case states nothing to compare. */
function check(set: SetName, v: Vector): string[] | null {
  const got = parseSyslog(v.input, { now: NOW });
  switch (set) {
    case 'rfc5424.jsonl':
    case 'rfc3164.jsonl': {
      const format = set === 'rfc5424.jsonl' ? 'rfc5424' : 'rfc3164';
      return v.record.valid === true ? goSyslogValid(v, got, format) : goSyslogInvalid(v, got, format);
    }
    case 'rsyslog_parsertests.jsonl':
      return rsyslog(v, got);
    case 'format_detection.jsonl':
      return detection(v, got);
  }
}

/** `| \`set\` | ... | cases | passed (rate) | ...` rows of the pass-rate table in the docs. */
function recordedPasses(): Map<string, { cases: number; passed: number }> {
  const rows = new Map<string, { cases: number; passed: number }>();
  for (const m of readFileSync(DOCS, 'utf8').matchAll(
    /^\|\s*`([\w.]+\.jsonl)`\s*\|[^|\n]*\|\s*(\d+)\s*\|\s*(\d+)\b/gm,
  )) {
    rows.set(m[1] ?? '', { cases: Number(m[2]), passed: Number(m[3]) });
  }
  return rows;
}

describe.each(SETS)('syslog vectors %s', (set) => {
  const vectors = load(set);
  const listed = deviations.cases[set] ?? {};

  for (const v of vectors) {
    it(v.id, () => {
      const mismatches = check(set, v);
      const category = listed[v.id];
      if (category === undefined) {
        expect(mismatches ?? [], `input ${JSON.stringify(v.input)}`).toEqual([]);
      } else {
        expect(deviations.categories[category], `unknown category ${category}`).toBeTypeOf('string');
        expect(
          mismatches?.length ?? 0,
          `listed as ${category} but passes now: take it off the list`,
        ).toBeGreaterThan(0);
      }
    });
  }

  it('lists only cases that exist', () => {
    const ids = new Set(vectors.map((v) => v.id));
    expect(Object.keys(listed).filter((id) => !ids.has(id))).toEqual([]);
  });

  it("passes at least as many cases as docs/syslog.md's compatibility section records", () => {
    const stated = vectors.map((v) => check(set, v)).filter((m): m is string[] => m !== null);
    const passed = stated.filter((m) => m.length === 0).length;
    const recorded = recordedPasses().get(set);
    expect(recorded, `no row for ${set} in the docs table`).toBeDefined();
    expect(stated.length).toBe(recorded?.cases);
    expect(passed).toBeGreaterThanOrEqual(recorded?.passed ?? Number.POSITIVE_INFINITY);
  });
});

describe('deviations.json', () => {
  it('uses each category, and the docs explain each one', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const used = new Set(Object.values(deviations.cases).flatMap((c) => Object.values(c)));
    for (const name of Object.keys(deviations.categories)) {
      expect(used.has(name), `category ${name} is not used`).toBe(true);
      expect(
        docs.includes(`\`${name}\``),
        `docs/syslog.md (compatibility section) does not explain ${name}`,
      ).toBe(true);
    }
  });
});
