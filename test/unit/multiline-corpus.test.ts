import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import { Joiner, type JoinerOptions } from '../../src/transforms/multiline.js';

/**
 * Real stack traces of eleven languages and real service logs (test/fixtures/multiline,
 * see its README.md), line by line through the joiner with its defaults.
 *
 * Expectations come from stacktraces.jsonl (the peer's, fluent-plugin-detect-exceptions):
 * each trace is `expect_events` events (1 for every trace there), and where
 * `end_detected_on_last_line` is set the event is complete on its last line.
 *
 * Deliberate deviations from the peer: none in these cases. Beyond them logwharf also joins
 * any indented line onto the line before it (the peer does not); the service logs below
 * check what that does to real logs.
 */

interface Case {
  file: string;
  language: string | null;
  lines: number;
  expect_events: number | null;
  end_detected_on_last_line?: boolean;
}

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/multiline/${name}`, import.meta.url), 'utf8');

/** A file's lines: every file ends with a newline, which ends its last line. */
const linesOf = (name: string): string[] => {
  const text = fixture(name);
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
};

const cases: Case[] = fixture('stacktraces.jsonl')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Case);
const traces = cases.filter((c) => c.language !== null);

const DEFAULTS: JoinerOptions = { maxLines: 1000, maxBytes: 1024 * 1024 };

function feed(texts: string[], opts: JoinerOptions = DEFAULTS): { out: LogEvent[]; heldAtEnd: number } {
  const j = new Joiner(opts);
  const out: LogEvent[] = [];
  texts.forEach((message, i) => {
    j.push(
      {
        timestamp: `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`,
        id: `c-${i}`,
        dataset: 'docker',
        ingested: '2024-05-01T12:00:01.000Z',
        message,
        severity: 6,
        facility: 3,
        host: 'h',
        sourceKey: 'c',
        seq: 0,
      },
      out,
    );
  });
  const heldAtEnd = j.pending;
  j.flush(out);
  return { out, heldAtEnd };
}

const PLAIN_LINES = [
  'This is not an exception.',
  '2024-05-01 12:00:00,123 INFO  [main] c.e.App - request handled in 12ms',
  '{"level":"info","msg":"request completed","status":200}',
];

describe('stack traces (fluent-plugin-detect-exceptions test cases)', () => {
  it('covers every file listed', () => {
    expect(cases).toHaveLength(39);
    expect(new Set(traces.map((c) => c.language))).toEqual(
      new Set(['java', 'nodejs', 'javascript', 'csharp', 'python', 'php', 'go', 'ruby', 'dart']),
    );
    for (const c of cases) expect(linesOf(c.file)).toHaveLength(c.lines);
  });

  describe.each(traces)('$language: $file', (c) => {
    const trace = linesOf(c.file);
    const events = c.expect_events ?? 1;

    it.each(PLAIN_LINES)('between plain lines (%j): the trace is kept whole, byte for byte', (plain) => {
      const { out } = feed([plain, ...trace, plain]);
      expect(out).toHaveLength(events + 2);
      expect(out[0]?.message).toBe(plain);
      expect(out.at(-1)?.message).toBe(plain);
      if (events === 1) {
        expect(out[1]?.message).toBe(trace.join('\n'));
        expect(out[1]?.id).toBe('c-1');
        expect(out[1]?.flags).toEqual(['multiline']);
        expect(out[1]?.checkpoint?.timestamp).toBe(
          `2024-05-01T12:00:00.${String(trace.length).padStart(9, '0')}Z`,
        );
      }
    });

    it('directly followed by the same trace: two traces', () => {
      const { out } = feed([PLAIN_LINES[0]!, ...trace, ...trace]);
      expect(out).toHaveLength(1 + 2 * events);
      if (events === 1)
        expect(out.slice(1).map((e) => e.message)).toEqual([trace.join('\n'), trace.join('\n')]);
    });

    if (c.end_detected_on_last_line) {
      it('is complete on its last line: nothing is held', () => {
        const { out, heldAtEnd } = feed([PLAIN_LINES[0]!, ...trace]);
        expect(heldAtEnd).toBe(0);
        expect(out.map((e) => e.message)).toEqual([PLAIN_LINES[0], trace.join('\n')]);
      });
    }
  });

  it('keeps arbitrary text one event per line, the blank line included', () => {
    const text = linesOf('arbitrary_text_not_a_trace.log');
    expect(text).toContain('');
    expect(feed(text).out.map((e) => e.message)).toEqual(text);
  });

  it('splits every pair of different traces', () => {
    // Each trace followed directly by each other one: a start must always end the trace before.
    const all = traces.map((c) => linesOf(c.file));
    for (const a of all) {
      for (const b of all) {
        const { out } = feed([...a, ...b]);
        expect(out.map((e) => e.message)).toEqual([a.join('\n'), b.join('\n')]);
      }
    }
  });
});

describe('service logs (elastic/beats test logs)', () => {
  it('PostgreSQL: tab-indented statement lines join the line that starts the statement', () => {
    const pg = linesOf('postgresql-9.6-debian-with-slowlog.log');
    const { out } = feed(pg);
    const starts = pg.filter((l) => !l.startsWith('\t'));
    expect(out.map((e) => e.message.split('\n')[0])).toEqual(starts);
    expect(out.map((e) => e.message).join('\n')).toBe(pg.join('\n'));
    expect(out.filter((e) => e.flags?.includes('multiline'))).toHaveLength(5);
  });

  it('syslog file line with tab-indented continuation lines: one event', () => {
    const lines = linesOf('syslog-iso8601-multiline.log');
    expect(feed(lines).out.map((e) => e.message)).toEqual([lines.join('\n')]);
  });

  it('Kafka (log4j, bracketed timestamps): one event per line', () => {
    const lines = linesOf('kafka-server.log');
    expect(feed(lines).out.map((e) => e.message)).toEqual(lines);
  });

  it('nginx error log: unindented FastCGI continuation lines need a start pattern', () => {
    const lines = linesOf('nginx_error.log');
    // Automatic rules cannot know `PHP message: ...` continues the line before: 6 events.
    expect(feed(lines).out).toHaveLength(6);
    const custom = feed(lines, { ...DEFAULTS, start: /^\d{4}\/\d{2}\/\d{2} / }).out;
    expect(custom).toHaveLength(4);
    expect(custom[2]?.message.split('\n')).toHaveLength(3);
  });

  it('MySQL slow log: indented SQL joins automatically; whole records take `^# Time:`', () => {
    const lines = linesOf('mysql-5.7.22-slow.log');
    expect(feed(lines).out).toHaveLength(lines.filter((l) => !l.startsWith(' ')).length);
    const records = feed(lines, { ...DEFAULTS, start: /^# Time:/ }).out;
    expect(records).toHaveLength(4);
    expect(records.every((e) => e.message.startsWith('# Time:'))).toBe(true);
    expect(records.map((e) => e.message).join('\n')).toBe(lines.join('\n'));
  });
});
