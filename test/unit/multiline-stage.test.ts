import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerInfo, LogEvent, Position, Stream } from '../../src/core/event.js';
import type { Intake } from '../../src/core/intake.js';
import {
  DEFAULT_MULTILINE_CONFIG,
  isBefore,
  justBefore,
  type MultilineConfig,
} from '../../src/transforms/multiline.js';
import { MultilineStage } from '../../src/transforms/multiline-stage.js';

const T = (i: number): string => `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`;

function container(id: string, labels: Record<string, string> = {}): ContainerInfo {
  return { id, name: `${id}-name`, imageName: 'img', labels, composeService: 'web', tty: false };
}

const C1 = container('c1');
const C2 = container('c2');

/** A container line at position (T(i), seq). */
function line(c: ContainerInfo, stream: Stream, i: number, message: string, seq = 0): LogEvent {
  return {
    timestamp: T(i),
    id: `${c.id}-${i}-${seq}`,
    dataset: 'docker',
    ingested: '2024-05-01T12:00:01.000Z',
    message,
    severity: stream === 'stderr' ? 3 : 6,
    facility: 3,
    stream,
    container: c,
    host: 'h',
    sourceKey: c.id,
    seq,
  };
}

function syslog(message: string): LogEvent {
  return {
    timestamp: T(0),
    id: `s-${message}`,
    dataset: 'syslog',
    ingested: '2024-05-01T12:00:01.000Z',
    message,
    severity: 6,
    facility: 1,
    host: 'peer',
  };
}

class FakeNext implements Intake {
  calls: LogEvent[][] = [];
  accept = true;
  readonly drains = new Set<() => void>();
  push(events: LogEvent[]): boolean {
    this.calls.push(events);
    return this.accept;
  }
  onDrain(listener: () => void): () => void {
    this.drains.add(listener);
    return () => this.drains.delete(listener);
  }
  get events(): LogEvent[] {
    return this.calls.flat();
  }
  get messages(): string[] {
    return this.events.map((e) => e.message);
  }
}

function setup(config: Partial<MultilineConfig> = {}) {
  const next = new FakeNext();
  const warnings: { obj: object; msg: string }[] = [];
  const stage = new MultilineStage({
    next,
    config: { ...DEFAULT_MULTILINE_CONFIG, ...config },
    log: { warn: (obj, msg) => warnings.push({ obj, msg }) },
  });
  return { next, stage, warnings };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('MultilineStage: routing', () => {
  it('passes events without a container through, in order, in the same call as what they complete', () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stdout', 1, 'a'), syslog('s1'), line(C1, 'stdout', 2, 'b'), syslog('s2')]);
    expect(next.calls).toHaveLength(1);
    expect(next.messages).toEqual(['s1', 'a', 's2']);
  });

  it('joins per container and stream, keeping each stream in order', () => {
    const { next, stage } = setup();
    stage.push([
      line(C1, 'stdout', 1, 'java.lang.Error: out'),
      line(C1, 'stderr', 2, 'java.lang.Error: err'),
      line(C2, 'stdout', 3, 'other container'),
      line(C1, 'stdout', 4, '\tat out.A(A.java:1)'),
      line(C1, 'stderr', 5, '\tat err.A(A.java:1)'),
      line(C2, 'stdout', 6, '  continues other container'),
      line(C1, 'stdout', 7, 'plain out'),
      line(C1, 'stderr', 8, 'plain err'),
    ]);
    stage.close();
    const byStream = (c: string, s: Stream) =>
      next.events.filter((e) => e.container?.id === c && e.stream === s).map((e) => e.message);
    expect(byStream('c1', 'stdout')).toEqual(['java.lang.Error: out\n\tat out.A(A.java:1)', 'plain out']);
    expect(byStream('c1', 'stderr')).toEqual(['java.lang.Error: err\n\tat err.A(A.java:1)', 'plain err']);
    expect(byStream('c2', 'stdout')).toEqual(['other container\n  continues other container']);
  });

  it("returns next's answer, and asks next when nothing completes", () => {
    const { next, stage } = setup();
    next.accept = false;
    expect(stage.push([line(C1, 'stdout', 1, 'held')])).toBe(false);
    expect(next.calls).toEqual([[]]);
    next.accept = true;
    expect(stage.push([line(C1, 'stdout', 2, 'releases the first')])).toBe(true);
    expect(next.calls[1]?.map((e) => e.message)).toEqual(['held']);
  });

  it("hands drain listeners to next's", () => {
    const { next, stage } = setup();
    const off = stage.onDrain(() => {});
    expect(next.drains.size).toBe(1);
    off();
    expect(next.drains.size).toBe(0);
  });
});

describe('MultilineStage: releasing held lines', () => {
  it('releases a stream after flushAfterMs of quiet, not before', () => {
    const { next, stage } = setup({ flushAfterMs: 1000 });
    stage.push([line(C1, 'stdout', 1, 'last line')]);
    vi.advanceTimersByTime(900);
    expect(next.messages).toEqual([]);
    vi.advanceTimersByTime(350);
    expect(next.messages).toEqual(['last line']);
  });

  it('measures quiet from the last line of that stream', () => {
    const { next, stage } = setup({ flushAfterMs: 1000 });
    stage.push([line(C1, 'stdout', 1, 'java.lang.Error: x')]);
    vi.advanceTimersByTime(800);
    stage.push([line(C1, 'stdout', 2, '\tat a.B(B.java:1)')]);
    vi.advanceTimersByTime(800);
    expect(next.messages).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(next.messages).toEqual(['java.lang.Error: x\n\tat a.B(B.java:1)']);
  });

  it('runs one timer for all streams, and none when nothing is held', () => {
    const { stage } = setup();
    expect(vi.getTimerCount()).toBe(0);
    for (let i = 0; i < 10; i++) {
      stage.push([line(container(`c${i}`), 'stdout', i, 'x'), line(container(`c${i}`), 'stderr', i, 'y', 1)]);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1500);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() releases everything in one call, stops the timer, and is idempotent', () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stdout', 1, 'a'), line(C2, 'stderr', 2, 'b')]);
    next.calls = [];
    stage.close();
    expect(next.calls).toHaveLength(1);
    expect(next.messages.sort()).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
    stage.close();
    expect(next.calls).toHaveLength(1);
    // Afterwards lines are not held any more.
    stage.push([line(C1, 'stdout', 3, 'late')]);
    expect(next.calls[1]?.map((e) => e.message)).toEqual(['late']);
  });

  it("forget() releases that container's lines only", () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stdout', 1, 'a'), line(C1, 'stderr', 2, 'b'), line(C2, 'stdout', 3, 'c')]);
    next.calls = [];
    stage.forget('c1');
    expect(next.messages.sort()).toEqual(['a', 'b']);
    stage.forget('c1');
    stage.forget('unknown');
    expect(next.calls).toHaveLength(1);
    stage.close();
    expect(next.messages).toContain('c');
  });
});

describe('MultilineStage: per-container settings', () => {
  it('passes lines through at once for a container labelled logwharf.multiline=false', () => {
    const { next, stage } = setup();
    const off = container('off', { 'logwharf.multiline': 'false' });
    stage.push([line(off, 'stdout', 1, 'a'), line(off, 'stdout', 2, '  b')]);
    expect(next.messages).toEqual(['a', '  b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is off for every container when disabled in config', () => {
    const { next, stage } = setup({ enabled: false });
    stage.push([line(C1, 'stdout', 1, 'java.lang.Error: x'), line(C1, 'stdout', 2, '\tat a')]);
    expect(next.messages).toEqual(['java.lang.Error: x', '\tat a']);
  });

  it('uses a start pattern from a label', () => {
    const { next, stage } = setup();
    const c = container('db', { 'logwharf.multiline.start': '^# Time:' });
    stage.push(['# Time: 1', 'select 1;', '# Time: 2'].map((t, i) => line(c, 'stdout', i, t)));
    expect(next.messages).toEqual(['# Time: 1\nselect 1;']);
  });

  it('uses a start pattern from a config rule for the compose service', () => {
    const { next, stage } = setup({ rules: [{ services: ['w*'], start: '^\\d{4}/' }] });
    stage.push(['2024/05/01 a', 'PHP message: b', '2024/05/01 c'].map((t, i) => line(C1, 'stdout', i, t)));
    expect(next.messages).toEqual(['2024/05/01 a\nPHP message: b']);
  });

  it('warns once per container about an invalid label regex and detects automatically', () => {
    const { next, stage, warnings } = setup();
    const bad = container('bad', { 'logwharf.multiline.start': '([' });
    for (let i = 0; i < 5; i++)
      stage.push([line(bad, 'stdout', 2 * i, `line ${i}`), line(bad, 'stdout', 2 * i + 1, '  more')]);
    stage.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.obj).toMatchObject({ container: 'bad-name', id: 'bad', using: 'auto' });
    expect(next.messages[0]).toBe('line 0\n  more');
  });
});

describe('MultilineStage: checkpoints', () => {
  const cp = (e: LogEvent | undefined): Position | undefined => e?.checkpoint;

  it('caps an event of one stream to just before the lines another stream holds', () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stderr', 5, 'java.lang.Error: held')]);
    stage.push([line(C1, 'stdout', 6, 'out 1'), line(C1, 'stdout', 7, 'out 2')]);
    expect(next.events.map((e) => e.message)).toEqual(['out 1']);
    expect(cp(next.events[0])).toEqual(justBefore({ timestamp: T(5), seq: 0 }));
    expect(cp(next.events[0])).toEqual({ timestamp: T(4), seq: Number.MAX_SAFE_INTEGER });
  });

  it('caps to seq - 1 when the held line has a seq above 0', () => {
    const { next, stage } = setup();
    stage.push([
      line(C1, 'stderr', 5, 'held', 3),
      line(C1, 'stdout', 5, 'out', 4),
      line(C1, 'stdout', 6, 'x'),
    ]);
    expect(cp(next.events[0])).toEqual({ timestamp: T(5), seq: 2 });
  });

  it('leaves events alone once the other stream has released its lines', () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stderr', 1, 'err'), line(C1, 'stdout', 2, 'out 1')]);
    vi.advanceTimersByTime(1500); // both released
    next.calls = [];
    stage.push([line(C1, 'stdout', 3, 'out 2'), line(C1, 'stdout', 4, 'out 3')]);
    expect(next.messages).toEqual(['out 2']);
    expect(cp(next.events[0])).toBeUndefined();
  });

  it('caps within one hand-over: an event handed over before an earlier line of the same container', () => {
    const { next, stage } = setup();
    // 'd' releases stdout's 'c' (position 3); 'e' then releases stderr's 'b' (position 2): one call
    // hands over [c, b]. The pipeline may commit a batch that ends between them, so c must not
    // carry position 3. Nothing is held before position 4 by then: only the order shows it.
    stage.push([
      line(C1, 'stderr', 2, 'b'),
      line(C1, 'stdout', 3, 'c'),
      line(C1, 'stdout', 4, 'd'),
      line(C1, 'stderr', 5, 'e'),
    ]);
    expect(next.calls).toHaveLength(1);
    const [c, b] = next.calls[0]!;
    expect([c?.message, b?.message]).toEqual(['c', 'b']);
    expect(cp(c)).toEqual({ timestamp: T(1), seq: Number.MAX_SAFE_INTEGER });
    expect(cp(b)).toBeUndefined();
  });

  it("caps a joined event's checkpoint (its last line) by the other stream's held lines", () => {
    const { next, stage } = setup();
    stage.push([
      line(C1, 'stdout', 1, 'java.lang.Error: x'),
      line(C1, 'stderr', 2, 'held on stderr'),
      line(C1, 'stdout', 3, '\tat a.B(B.java:1)'),
      line(C1, 'stdout', 4, 'next'),
    ]);
    const joined = next.events.find((e) => e.flags?.includes('multiline'));
    expect(joined?.checkpoint).toEqual({ timestamp: T(1), seq: Number.MAX_SAFE_INTEGER });
  });

  it('gives a joined event its last line as checkpoint when nothing else is held', () => {
    const { next, stage } = setup();
    stage.push([line(C1, 'stdout', 1, 'java.lang.Error: x'), line(C1, 'stdout', 2, '\tat a.B(B.java:1)')]);
    stage.close();
    expect(next.events[0]).toMatchObject({
      timestamp: T(1),
      id: 'c1-1-0',
      checkpoint: { timestamp: T(2), seq: 0 },
    });
  });

  it('caps what forget() and close() release: one stream goes ahead of the other', () => {
    for (const release of ['forget', 'close'] as const) {
      const { next, stage } = setup();
      stage.push([
        line(C1, 'stderr', 1, 'held on stderr'),
        line(C1, 'stdout', 2, 'java.lang.Error: x'),
        line(C1, 'stdout', 3, '\tat a.B(B.java:1)'),
      ]);
      if (release === 'forget') stage.forget('c1');
      else stage.close();
      const [trace, held] = next.events;
      expect([trace?.message, held?.message]).toEqual([
        'java.lang.Error: x\n\tat a.B(B.java:1)',
        'held on stderr',
      ]);
      expect(trace?.checkpoint).toEqual({ timestamp: T(0), seq: Number.MAX_SAFE_INTEGER });
    }
  });

  it("does not cap by another container's held lines", () => {
    const { next, stage } = setup();
    stage.push([line(C2, 'stderr', 1, 'held in c2'), line(C1, 'stdout', 2, 'a'), line(C1, 'stdout', 3, 'b')]);
    expect(next.events.map((e) => [e.message, e.checkpoint])).toEqual([['a', undefined]]);
  });
});

describe('MultilineStage: never loses a line, never passes one in a checkpoint (random traffic)', () => {
  const TEXTS = [
    'plain',
    'plain',
    'plain',
    '  indented',
    '',
    'java.lang.IllegalStateException: boom',
    '\tat a.B.c(B.java:1)',
    'Caused by: java.io.IOException: x',
    'Traceback (most recent call last):',
    '  File "x.py", line 1',
    'KeyError: 1',
    'panic: boom',
    'goroutine 1 [running]:',
    'main.main()',
    'exit status 2',
    'Unhandled exception:',
    '#0      main (file:///x.dart:1:1)',
    'Stack trace:',
    '#0 {main}',
    '# Time: 1',
  ];

  function run(seed: number, config: Partial<MultilineConfig>, labels: Record<string, string> = {}): void {
    let s = seed;
    const rand = (n: number): number => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s % n;
    };
    const c = container('c1', labels);
    const { next, stage } = setup(config);
    const input: LogEvent[] = [];
    // Positions increase in reading order; several lines share a timestamp (seq counts them).
    for (let i = 0; i < 3000; i++) {
      input.push(
        line(c, rand(10) < 7 ? 'stdout' : 'stderr', Math.floor(i / 3), TEXTS[rand(TEXTS.length)]!, i % 3),
      );
    }
    for (let i = 0; i < input.length; ) {
      const n = 1 + rand(40);
      stage.push(input.slice(i, i + n));
      i += n;
      if (rand(4) === 0) vi.advanceTimersByTime(rand(1600));
      if (rand(30) === 0) stage.forget('c1');
    }
    stage.close();
    const out = next.events;

    // Every line comes out once, in its stream's order; note which event holds it.
    const holder = new Map<LogEvent, number>();
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = input.filter((e) => e.stream === stream);
      let k = 0;
      out.forEach((e, index) => {
        if (e.stream !== stream) return;
        for (const text of e.message.split('\n')) {
          expect(text).toBe(lines[k]?.message);
          holder.set(lines[k]!, index);
          k++;
        }
      });
      expect(k).toBe(lines.length);
    }

    // The saved position after any prefix of the output (the pipeline may end a batch
    // anywhere; positions only move forward) must be before every line not yet in that prefix.
    const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
    const savedBefore: (Position | undefined)[] = [undefined];
    for (const e of out) {
      const p = e.checkpoint ?? { timestamp: e.timestamp, seq: e.seq ?? 0 };
      expect(p.timestamp).toMatch(CANONICAL);
      expect(Number.isSafeInteger(p.seq) && p.seq >= 0).toBe(true);
      const prev = savedBefore.at(-1);
      savedBefore.push(prev === undefined || isBefore(prev, p) ? p : prev);
    }
    for (const l of input) {
      const saved = savedBefore[holder.get(l)!];
      if (saved !== undefined)
        expect(isBefore(saved, { timestamp: l.timestamp, seq: l.seq ?? 0 })).toBe(true);
    }
  }

  it.each([1, 2, 3, 4, 5])('automatic rules, seed %i', (seed) => run(seed, {}));
  it.each([6, 7])('short limits, seed %i', (seed) => run(seed, { maxLines: 3, maxBytes: 60 }));
  it.each([8, 9])('start pattern, seed %i', (seed) =>
    run(seed, {}, { 'logwharf.multiline.start': '^# Time:' }),
  );
});
