import { describe, expect, it } from 'vitest';
import type { ContainerInfo, LogEvent, Position } from '../../src/core/event.js';
import {
  isBefore,
  Joiner,
  type JoinerOptions,
  joinLines,
  justBefore,
  MAX_MAYBE_LINES,
  type MultilineConfig,
  multilineSettingsFor,
} from '../../src/transforms/multiline.js';
import {
  classifyHead,
  isGoFunction,
  isIndentedHead,
  K,
  kindOf,
  nextStep,
  quickBreak,
  S,
  step,
} from '../../src/transforms/multiline-rules.js';

const T = (i: number): string => `2024-05-01T12:00:00.${String(i).padStart(9, '0')}Z`;

/** The i-th line of container c1: distinct, increasing positions. */
function line(message: string, i: number, extra: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: T(i),
    id: `c1-${i}`,
    dataset: 'docker',
    ingested: '2024-05-01T12:00:01.000Z',
    message,
    severity: 6,
    facility: 3,
    stream: 'stdout',
    host: 'h',
    sourceKey: 'c1',
    seq: 0,
    ...extra,
  };
}

const OPTS: JoinerOptions = { maxLines: 1000, maxBytes: 1024 * 1024 };

/** Feeds the lines, then flushes; returns every event in order. */
function join(texts: string[], opts: JoinerOptions = OPTS): LogEvent[] {
  const j = new Joiner(opts);
  const out: LogEvent[] = [];
  for (const [i, t] of texts.entries()) j.push(line(t, i), out);
  j.flush(out);
  return out;
}

const messages = (texts: string[], opts?: JoinerOptions): string[] => join(texts, opts).map((e) => e.message);

describe('line kinds', () => {
  it.each([
    ['', K.BLANK],
    ['   ', K.BLANK],
    ['\t \t', K.BLANK],
    ['\r', K.BLANK],
    [' \r', K.BLANK],
    ['  at x', K.INDENTED],
    ['\tat x', K.INDENTED],
    ['x', K.OTHER],
    ['\rx', K.OTHER],
  ])('%j is %i', (text, kind) => {
    expect(kindOf(text)).toBe(kind);
  });
});

describe('quickBreak: a plain line followed by a line that cannot continue it', () => {
  it.each([
    ['2024-05-01 INFO started', '2024-05-01 INFO next'],
    ['plain', '{"level":"info"}'],
    ['plain', 'Starting worker'],
    ['plain', '[2024-05-01] INFO x'],
    ['plain', 'Connected'],
    ['plain', 'go away'],
    ['plain', '-- comment'],
    ['Unhappy', 'next'],
  ])('%j then %j: decided without classifying', (head, next) => {
    expect(quickBreak(head, next)).toBe(true);
  });

  it.each([
    ['plain', '  indented'],
    ['plain', '\tindented'],
    ['plain', ''],
    ['plain', 'Stack trace:'],
    ['plain', 'goroutine 1 [running]:'],
    ['plain', '[signal SIGSEGV: segmentation violation]'],
    ['plain', '[stacktrace]'],
    ['plain', 'Caused by: java.io.IOException: x'],
    ['plain', '--- End of stack trace from previous location ---'],
    ['Unhandled exception:', 'Bad state: oops'],
  ])('%j then %j: needs a look at the head', (head, next) => {
    expect(quickBreak(head, next)).toBe(false);
  });
});

describe('classifyHead', () => {
  it.each([
    ['', S.BLANK],
    ['  ', S.BLANK],
    ['Traceback (most recent call last):', S.PY],
    ['panic: my panic', S.GO_HEAD],
    ['fatal error: all goroutines are asleep - deadlock!', S.GO_HEAD],
    ['2019/01/15 07:48:05 http: panic serving [::1]:54143: test panic', S.GO_HEAD],
    ['Unhandled exception:', S.DART_HEAD],
    ["exception 'Exception' with message 'Custom exception' in /x/test.php:5", S.PHP_HEAD],
    ['PHP Fatal error:  Uncaught Exception: boom in /app/x.php:3', S.PHP_HEAD],
    [
      '[2024-01-01 00:00:00] local.ERROR: boom {"exception":"[object] (Exception(code: 0): boom at /x.php:3)',
      S.LARAVEL_HEAD,
    ],
    ["app.rb:3:in 'divide': divided by 0 (ZeroDivisionError)", S.RUBY],
    ["app.rb:3:in `divide': divided by 0 (ZeroDivisionError)", S.RUBY],
    [" NoMethodError (undefined method `x' for nil):", S.RUBY],
    ["ActiveRecord::RecordNotFound (Couldn't find User with 'id'=1):", S.RUBY],
    ['java.lang.IllegalStateException: boom', S.EXC],
    ['Exception in thread "main" java.lang.NullPointerException', S.EXC],
    ['javax.servlet.ServletException: Something bad happened', S.EXC],
    ['Error', S.EXC],
    ['TypeError: x is not a function', S.EXC],
    ['V8 errors stack trace', S.EXC],
    ['System.InvalidOperationException: This is an exception', S.EXC],
    ['Unhandled exception. System.Exception: boom', S.EXC],
    ['/app/index.js:3', S.NODE_SOURCE],
    ['file:///app/index.mjs:12', S.NODE_SOURCE],
    [
      '2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 37.118 ms  statement: SELECT',
      S.PLAIN,
    ],
    ['No errors today', S.PLAIN],
    ['ErrorCount=0', S.PLAIN],
  ])('%j -> %i', (text, state) => {
    expect(classifyHead(text)).toBe(state);
  });
});

describe('nextStep', () => {
  const cont = (s: (typeof S)[keyof typeof S]) => step('cont', s);
  const maybe = (s: (typeof S)[keyof typeof S]) => step('maybe', s);
  const end = (s: (typeof S)[keyof typeof S]) => step('end', s);

  it.each([
    // Indented lines continue everything but a blank head...
    [S.PLAIN, '\tFROM pg_catalog.pg_database d', cont(S.PLAIN)],
    [S.EXC, '    at com.example.A.b(A.java:1)', cont(S.EXC)],
    [S.EXC, '  nested exception is:', cont(S.EXC_NESTED)],
    [S.EXC_NESTED, 'com.sun.mail.smtp.SMTPAddressFailedException: 550 denied', cont(S.EXC)],
    [S.EXC, 'Caused by: java.io.IOException: x', cont(S.EXC)],
    [S.EXC, 'Suppressed: java.io.IOException: x', cont(S.EXC)],
    [S.EXC, '... 27 common frames omitted', cont(S.EXC)],
    [S.EXC, '--- End of stack trace from previous location where exception was thrown ---', cont(S.EXC)],
    [S.EXC, '', maybe(S.EXC)],
    [S.EXC, 'Node.js v20.11.0', end(S.EXC)],
    [S.EXC, '}', end(S.EXC)],
    [S.PY, '  File "x.py", line 1, in <module>', cont(S.PY)],
    [S.PY, "Exception: ('spam', 'eggs')", end(S.PY)],
    [S.PY, 'KeyboardInterrupt', end(S.PY)],
    [S.PY, 'requests.exceptions.ConnectionError: refused', end(S.PY)],
    [S.GO_HEAD, '', maybe(S.GO_HEAD)],
    [S.GO_HEAD, '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x7fd34f]', cont(S.GO_HEAD)],
    [S.GO_HEAD, 'goroutine 4 [running]:', cont(S.GO)],
    [S.GO, 'main.main()', cont(S.GO)],
    [S.GO, '\t/app/main.go:9 +0x1d', cont(S.GO)],
    [S.GO, 'created by main.main', cont(S.GO)],
    [S.GO, '', maybe(S.GO)],
    [S.GO, 'exit status 2', end(S.GO)],
    [S.DART_HEAD, 'Bad state: oops', maybe(S.DART_HEAD)],
    [S.DART_HEAD, '#0      main (file:///x.dart:1:1)', cont(S.DART)],
    [S.DART, '<asynchronous suspension>', cont(S.DART)],
    [S.PHP_HEAD, 'Stack trace:', cont(S.PHP)],
    [S.LARAVEL_HEAD, '[stacktrace]', cont(S.PHP)],
    [S.PHP, '#0 /x/test.php(9): func1()', cont(S.PHP)],
    [S.PHP, '  thrown in /x/errors.php on line 60', end(S.PHP)],
    [S.PHP, '"} ', end(S.PHP)],
    [S.RUBY, '  ', maybe(S.RUBY)],
    [S.RUBY, "\tfrom app.rb:7:in '<main>'", cont(S.RUBY)],
    [S.NODE_SOURCE, '    throw new Error("boom");', cont(S.NODE_SOURCE)],
    [S.NODE_SOURCE, '', maybe(S.NODE_SOURCE)],
    [S.NODE_SOURCE, 'Error: boom', cont(S.EXC)],
  ])('state %i, %j -> %o', (state, text, expected) => {
    expect(nextStep(state, text)).toBe(expected);
  });

  it.each([
    [S.PLAIN, ''],
    [S.PLAIN, 'next line'],
    [S.PLAIN, ' ActionController::RoutingError (No route matches [GET] "/x"):'],
    [S.BLANK, '  indented after a blank line'],
    [S.BLANK, ''],
    [S.EXC, 'java.lang.IllegalStateException: the next trace'],
    [S.EXC, 'This is not an exception.'],
    [S.EXC_NESTED, 'not an exception line'],
    [S.PY, ''],
    [S.PY, 'not the end (of a traceback)'],
    [S.GO_HEAD, 'main.main()'],
    [S.GO, 'panic: my panic'],
    [S.GO, 'main.go finished (ok)'],
    [S.DART, 'Unhandled exception:'],
    [S.DART, ''],
    [S.PHP_HEAD, '#0 {main}'],
    [S.PHP, "exception 'Exception' with message 'next'"],
    [S.PHP, ''],
    [S.RUBY, 'Started GET "/" for 127.0.0.1'],
    [S.RUBY, " NoMethodError (undefined method `x' for nil):"],
    [S.NODE_SOURCE, 'plain'],
  ])('state %i, %j breaks', (state, text) => {
    expect(nextStep(state, text).action).toBe('break');
  });

  it('takes a step without allocating: the same frozen step every time', () => {
    const a = nextStep(S.EXC, '  at x');
    expect(nextStep(S.EXC, '\tat y')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('ignores the CR of a TTY line', () => {
    expect(nextStep(S.GO, 'exit status 2\r')).toBe(end(S.GO));
    expect(nextStep(S.EXC, '\r')).toBe(maybe(S.EXC));
    expect(isGoFunction('main.main()\r')).toBe(true);
    expect(isIndentedHead(' NoMethodError (x):\r')).toBe(true);
  });
});

describe('isGoFunction', () => {
  it.each([
    'main.main()',
    'panic(0x45cb40, 0x47ad70)',
    'net/http.(*conn).serve.func1(0xc00007eaa0)',
    'panic({0x4a1c40?, 0x51e7d0?})',
    'main.F[...](...)',
    'reflect.Value.call(0x1243fe0, 0x15819b0, 0x113, 0x12c8a20, 0x4, 0xc010485f78, 0x3, 0x3, 0x0, 0x0, ...)',
  ])('%j is a frame', (text) => expect(isGoFunction(text)).toBe(true));

  it.each(['main.go finished (ok)', '(x)', 'main.main', '', '1.f()', 'a b(c)'])('%j is not', (text) =>
    expect(isGoFunction(text)).toBe(false),
  );

  it('takes linear time on a long line of parentheses', () => {
    const long = `a${'('.repeat(200_000)}`;
    const t = performance.now();
    expect(isGoFunction(long)).toBe(false);
    expect(performance.now() - t).toBeLessThan(100);
  });
});

describe('Joiner: plain lines', () => {
  it('holds each line until the next shows it is complete, and hands over the same objects', () => {
    const j = new Joiner(OPTS);
    const out: LogEvent[] = [];
    const a = line('first', 0);
    const b = line('second', 1);
    j.push(a, out);
    expect(out).toEqual([]);
    expect(j.pending).toBe(1);
    j.push(b, out);
    expect(out).toEqual([a]);
    expect(out[0]).toBe(a);
    j.flush(out);
    expect(out[1]).toBe(b);
    expect(j.pending).toBe(0);
    expect(a.flags).toBeUndefined();
    expect(a.checkpoint).toBeUndefined();
  });

  it('keeps a blank line as its own event, and does not let it take an indented line', () => {
    expect(messages(['a', '', '  b', 'c'])).toEqual(['a', '', '  b', 'c']);
  });

  it('keeps text that merely mentions errors as single lines', () => {
    expect(messages(['No errors found', 'Error count: 0', 'an Exception: none', 'done'])).toEqual([
      'No errors found',
      'Error count: 0',
      'an Exception: none',
      'done',
    ]);
  });
});

describe('Joiner: joined events', () => {
  const pg = [
    '2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 37.118 ms  statement: SELECT d.datname as "Name",',
    '\t       d.datctype as "Ctype"',
    '\tFROM pg_catalog.pg_database d',
    '\tORDER BY 1;',
    '2017-07-31 13:39:16.249 CEST [5407] postgres@users FATAL:  database "users" does not exist',
  ];

  it('joins indented continuation lines with \\n onto the line before', () => {
    expect(messages(pg)).toEqual([pg.slice(0, 4).join('\n'), pg[4]]);
  });

  it("keeps the first line's identity and flags it multiline, with the last line as checkpoint", () => {
    const [joined] = join(pg);
    expect(joined).toMatchObject({
      timestamp: T(0),
      id: 'c1-0',
      seq: 0,
      sourceKey: 'c1',
      stream: 'stdout',
      flags: ['multiline'],
      checkpoint: { timestamp: T(3), seq: 0 },
    });
  });

  it("takes the last line's own checkpoint when it has one", () => {
    const j = new Joiner(OPTS);
    const out: LogEvent[] = [];
    j.push(line('a', 0), out);
    j.push(line('  b', 1, { checkpoint: { timestamp: T(0), seq: 7 } }), out);
    j.flush(out);
    expect(out[0]?.checkpoint).toEqual({ timestamp: T(0), seq: 7 });
  });

  it('does not let a line without a position (no sourceKey) move the checkpoint', () => {
    const lines = [line('a', 0), line('  b', 1), line('  c', 2, { sourceKey: undefined })];
    expect(joinLines(lines, 3, false).checkpoint).toEqual({ timestamp: T(1), seq: 0 });
    const untimedFirst = [line('a', 0, { sourceKey: undefined }), line('  b', 1)];
    expect(joinLines(untimedFirst, 2, false).checkpoint).toBeUndefined();
  });

  it("unites the lines' flags", () => {
    const lines = [line('a', 0), line('  b', 1, { flags: ['truncated'] })];
    expect(joinLines(lines, 2, false).flags).toEqual(['truncated', 'multiline']);
  });

  it('releases a Python traceback on its last line, without waiting', () => {
    const j = new Joiner(OPTS);
    const out: LogEvent[] = [];
    for (const [i, t] of [
      'Traceback (most recent call last):',
      '  File "x.py", line 1',
      'KeyError: 1',
    ].entries()) {
      j.push(line(t, i), out);
    }
    expect(out.map((e) => e.message)).toEqual([
      'Traceback (most recent call last):\n  File "x.py", line 1\nKeyError: 1',
    ]);
    expect(j.pending).toBe(0);
  });

  it('splits a trace followed directly by another trace', () => {
    const trace = ['java.lang.IllegalStateException: boom', '\tat a.B.c(B.java:1)', '\tat a.B.d(B.java:2)'];
    expect(messages([...trace, ...trace])).toEqual([trace.join('\n'), trace.join('\n')]);
  });

  it('keeps a blank line inside a trace only when the trace goes on after it', () => {
    const go = ['panic: boom', '', 'goroutine 1 [running]:', 'main.main()', '\t/app/main.go:5 +0x1d'];
    expect(messages([...go, 'exit status 2', 'next'])).toEqual([[...go, 'exit status 2'].join('\n'), 'next']);
    expect(messages([...go, '', 'next'])).toEqual([go.join('\n'), '', 'next']);
    expect(messages(['panic: boom', '', 'plain'])).toEqual(['panic: boom', '', 'plain']);
  });

  it('joins the whole Node.js crash output', () => {
    const crash = [
      '/app/index.js:3',
      "    throw new Error('boom');",
      '    ^',
      '',
      'Error: boom',
      '    at Object.<anonymous> (/app/index.js:3:11)',
      '',
      'Node.js v20.11.0',
    ];
    expect(messages([...crash, 'next'])).toEqual([crash.join('\n'), 'next']);
  });

  it('joins a Laravel/Monolog exception', () => {
    const laravel = [
      '[2024-01-01 00:00:00] local.ERROR: boom {"exception":"[object] (Exception(code: 0): boom at /var/www/x.php:3)',
      '[stacktrace]',
      '#0 /var/www/y.php(10): f()',
      '#1 {main}',
      '"} ',
    ];
    const j = new Joiner(OPTS);
    const out: LogEvent[] = [];
    for (const [i, t] of laravel.entries()) j.push(line(t, i), out);
    expect(out.map((e) => e.message)).toEqual([laravel.join('\n')]);
  });

  it('gives up on held "maybe" lines after MAX_MAYBE_LINES and releases each on its own', () => {
    const free = Array.from({ length: MAX_MAYBE_LINES + 1 }, (_, i) => `message line ${i}`);
    expect(messages(['Unhandled exception:', ...free])).toEqual(['Unhandled exception:', ...free]);
  });

  it('releases held "maybe" lines on their own when flushed', () => {
    expect(messages(['java.lang.Error: x', '\tat a.b(c)', ''])).toEqual([
      'java.lang.Error: x\n\tat a.b(c)',
      '',
    ]);
  });
});

describe('Joiner: limits', () => {
  it('cuts an event at maxLines, flags the cut parts truncated, and keeps joining the rest', () => {
    const texts = ['head', ...Array.from({ length: 11 }, (_, i) => `  line ${i}`)];
    const out = join(texts, { maxLines: 5, maxBytes: 1 << 20 });
    expect(out.map((e) => e.message.split('\n').length)).toEqual([5, 5, 2]);
    expect(out.map((e) => e.flags)).toEqual([
      ['multiline', 'truncated'],
      ['multiline', 'truncated'],
      ['multiline'],
    ]);
    expect(out.map((e) => e.message).join('\n')).toBe(texts.join('\n'));
    expect(out[1]?.id).toBe('c1-5');
  });

  it('cuts an event before it passes maxBytes, counting UTF-8 bytes and newlines', () => {
    // Each line is 1 + 2 * 3 = 7 bytes ('€' is 3 bytes): 2 lines = 15 bytes, 3 lines = 23 bytes.
    const out = join(['x€€', ' €€', ' €€', ' €€'], { maxLines: 1000, maxBytes: 20 });
    expect(out.map((e) => e.message)).toEqual(['x€€\n €€', ' €€\n €€']);
    expect(out[0]?.flags).toContain('truncated');
    const fits = join(['x€€', ' €€', ' €€'], { maxLines: 1000, maxBytes: 23 });
    expect(fits).toHaveLength(1);
  });
});

describe('Joiner: custom start pattern', () => {
  it('starts an event on each matching line; every other line continues it', () => {
    const slow = ['# Time: 1', '# User@Host: root', 'select 1;', '# Time: 2', 'select 2;'];
    expect(messages(slow, { ...OPTS, start: /^# Time:/ })).toEqual([
      '# Time: 1\n# User@Host: root\nselect 1;',
      '# Time: 2\nselect 2;',
    ]);
  });

  it('joins the lines before the first match into one event', () => {
    expect(messages(['tail of a record', 'more', '# Time: 1'], { ...OPTS, start: /^# Time:/ })).toEqual([
      'tail of a record\nmore',
      '# Time: 1',
    ]);
  });

  it('does not apply the automatic rules', () => {
    expect(messages(['a', '  b'], { ...OPTS, start: /^\S/ })).toEqual(['a\n  b']);
    expect(messages(['java.lang.Error: x', '\tat a'], { ...OPTS, start: /./ })).toEqual([
      'java.lang.Error: x',
      '\tat a',
    ]);
  });
});

describe('positions', () => {
  it('orders by timestamp, then seq', () => {
    expect(isBefore({ timestamp: T(1), seq: 5 }, { timestamp: T(2), seq: 0 })).toBe(true);
    expect(isBefore({ timestamp: T(2), seq: 0 }, { timestamp: T(2), seq: 1 })).toBe(true);
    expect(isBefore({ timestamp: T(2), seq: 1 }, { timestamp: T(2), seq: 1 })).toBe(false);
  });

  it.each<[Position, Position]>([
    [
      { timestamp: '2024-05-01T12:00:00.123456789Z', seq: 3 },
      { timestamp: '2024-05-01T12:00:00.123456789Z', seq: 2 },
    ],
    [
      { timestamp: '2024-05-01T12:00:00.123456789Z', seq: 0 },
      { timestamp: '2024-05-01T12:00:00.123456788Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-05-01T12:00:00.100000000Z', seq: 0 },
      { timestamp: '2024-05-01T12:00:00.099999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-05-01T12:00:00.000000001Z', seq: 0 },
      { timestamp: '2024-05-01T12:00:00.000000000Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-05-01T12:00:00.000000000Z', seq: 0 },
      { timestamp: '2024-05-01T11:59:59.999999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-05-01T00:00:00.000000000Z', seq: 0 },
      { timestamp: '2024-04-30T23:59:59.999999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-03-01T00:00:00.000000000Z', seq: 0 },
      { timestamp: '2024-02-29T23:59:59.999999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '2024-01-01T00:00:00.000000000Z', seq: 0 },
      { timestamp: '2023-12-31T23:59:59.999999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '1970-01-01T00:00:00.000000000Z', seq: 0 },
      { timestamp: '1969-12-31T23:59:59.999999999Z', seq: Number.MAX_SAFE_INTEGER },
    ],
    [
      { timestamp: '0000-01-01T00:00:00.000000000Z', seq: 0 },
      { timestamp: '0000-01-01T00:00:00.000000000Z', seq: 0 },
    ],
  ])('justBefore(%o) is %o', (p, expected) => {
    expect(justBefore(p)).toEqual(expected);
  });

  it('is the nanosecond before, by integer arithmetic, for random instants', () => {
    const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
    const toNs = (ts: string): bigint =>
      BigInt(Date.parse(`${ts.slice(0, 19)}Z`)) * 1_000_000n + BigInt(ts.slice(20, 29));
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const ms = rand(2 ** 30) * 1000 + (i % 3 === 0 ? 0 : rand(1000)) * 1000;
      const nanos = i % 2 === 0 ? 0 : rand(1_000_000_000);
      const ts = `${new Date(ms).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
      const p = { timestamp: ts, seq: 0 };
      const b = justBefore(p);
      expect(b.timestamp).toMatch(CANONICAL);
      expect(toNs(ts) - toNs(b.timestamp)).toBe(1n);
      expect(isBefore(b, p)).toBe(true);
    }
  });
});

describe('multilineSettingsFor', () => {
  const config: MultilineConfig = {
    enabled: true,
    flushAfterMs: 1000,
    maxLines: 1000,
    maxBytes: 1 << 20,
    rules: [
      { services: ['db*'], start: '^# Time:' },
      { services: ['broken'], start: '(' },
    ],
  };
  const c = (labels: Record<string, string>, composeService?: string): ContainerInfo => ({
    id: 'c1',
    name: 'x',
    imageName: 'img',
    labels,
    tty: false,
    ...(composeService !== undefined ? { composeService } : {}),
  });

  it('detects automatically by default', () => {
    expect(multilineSettingsFor(c({}), config)).toEqual({
      mode: 'auto',
      origin: 'transforms.multiline.enabled',
    });
    expect(multilineSettingsFor(undefined, config).mode).toBe('auto');
  });

  it('is off when config disables detection and nothing else says otherwise', () => {
    expect(multilineSettingsFor(c({}), { ...config, enabled: false }).mode).toBe('off');
  });

  it('is off with logwharf.multiline=false, whatever else is set', () => {
    const s = multilineSettingsFor(
      c({ 'logwharf.multiline': 'false', 'logwharf.multiline.start': '^x' }, 'db'),
      config,
    );
    expect(s.mode).toBe('off');
  });

  it('is on with logwharf.multiline=true even when config disables detection', () => {
    const s = multilineSettingsFor(c({ 'logwharf.multiline': 'true' }), { ...config, enabled: false });
    expect(s).toEqual({ mode: 'auto', origin: 'label logwharf.multiline=true' });
  });

  it('takes a start pattern from logwharf.multiline.start, before config rules', () => {
    const s = multilineSettingsFor(c({ 'logwharf.multiline.start': '^\\d{4}-' }, 'db'), config);
    expect(s.mode).toBe('custom');
    expect(s.start?.test('2024-05-01 x')).toBe(true);
    expect(s.origin).toBe('label logwharf.multiline.start');
  });

  it('takes a start pattern from the first config rule whose globs match the compose service', () => {
    const s = multilineSettingsFor(c({}, 'db-replica'), config);
    expect(s.mode).toBe('custom');
    expect(s.start?.source).toBe('^# Time:');
    expect(s.origin).toBe('transforms.multiline.rules[0]');
    expect(multilineSettingsFor(c({}, 'web'), config).mode).toBe('auto');
  });

  it('applies config rules even when automatic detection is off', () => {
    expect(multilineSettingsFor(c({}, 'db'), { ...config, enabled: false }).mode).toBe('custom');
  });

  it('falls back to automatic detection on an invalid regex, and says why', () => {
    const s = multilineSettingsFor(c({ 'logwharf.multiline.start': '([a-' }), config);
    expect(s.mode).toBe('auto');
    expect(s.problem).toMatch(/logwharf\.multiline\.start: invalid regular expression "\(\[a-"/);
    const r = multilineSettingsFor(c({}, 'broken'), config);
    expect(r.mode).toBe('auto');
    expect(r.problem).toMatch(/rules\[1\]\.start: invalid regular expression/);
  });

  it('reports a logwharf.multiline value that is neither true nor false, and ignores it', () => {
    const s = multilineSettingsFor(c({ 'logwharf.multiline': 'yes' }), config);
    expect(s.mode).toBe('auto');
    expect(s.problem).toMatch(/not true or false/);
  });
});
