/**
 * The automatic multiline rules: which lines start a stack trace, and which lines continue
 * the event that is being joined. Pure and allocation-free; the joiner (multiline.ts) owns
 * the buffering.
 *
 * The model is a small state machine per event. The first line of an event (its head) is
 * classified lazily into a state (a Java-style exception, a Python traceback, a Go panic, ...,
 * or a plain line); each following line then gets a step: `cont` (it belongs, and so does
 * everything held so far), `maybe` (it belongs only if a later line continues the event: a blank
 * line inside a Go or Java trace), `end` (it belongs and completes the event: Python's final
 * `XError: msg`) or `break` (it starts something new).
 *
 * Two rules hold in every state but `BLANK`:
 * - a line that starts with a space or a tab continues the event (stack frames of most
 *   languages, PostgreSQL statements, syslog continuation lines), unless it is itself the head
 *   of a Ruby/Rails trace (` NoMethodError (msg):`), which Rails indents;
 * - a blank line never continues a plain line: the blank is its own event, as the line was.
 *
 * Why lazily: most lines are plain and most plain lines are followed by another plain line
 * that cannot continue anything (it starts with a letter or a digit, not with whitespace or
 * one of the few prefixes a trace continuation starts with). `quickBreak` decides that from
 * the first character (and a `startsWith` for five of them), so the common line never meets a
 * regular expression.
 */

export const S = {
  /** The head has not been classified yet (see `quickBreak`). */
  UNKNOWN: 0,
  PLAIN: 1,
  /** The head is a blank line: nothing continues it. */
  BLANK: 2,
  /** Java, Kotlin, Scala, C#, JavaScript/V8: `Xxx(Exception|Error): msg` then indented `at` frames. */
  EXC: 3,
  /** After `  nested exception is:` (Java mail and others): the next line is the nested exception. */
  EXC_NESTED: 4,
  /** Python, after `Traceback (most recent call last):`. */
  PY: 5,
  /** Go, after `panic: ...`, `fatal error: ...` or `http: panic serving ...`. */
  GO_HEAD: 6,
  /** Go, inside the goroutine dumps. */
  GO: 7,
  /** Dart, after `Unhandled exception:`: message lines until the first `#0` frame. */
  DART_HEAD: 8,
  DART: 9,
  /** PHP: a fatal error or uncaught exception, waiting for `Stack trace:`. */
  PHP_HEAD: 10,
  /** Laravel/Monolog: `{"exception":"[object] (...)`, waiting for `[stacktrace]`. */
  LARAVEL_HEAD: 11,
  /** PHP frames `#N ...`, ended by `  thrown in ... on line N` (or Monolog's `"}`). */
  PHP: 12,
  /** Ruby and Rails: `file.rb:NN:in 'm': msg (Cls)` or `Cls (msg):`, then indented frames. */
  RUBY: 13,
  /** Node.js crash output: `/app/x.js:3`, the source line, a caret, a blank line, then the error. */
  NODE_SOURCE: 14,
  /** A custom start pattern (label or config rule): not used by these rules. */
  CUSTOM: 15,
} as const;
export type State = (typeof S)[keyof typeof S];

export type Action = 'cont' | 'maybe' | 'end' | 'break';

export interface Step {
  readonly action: Action;
  /** The state after this line (meaningless for `break`). */
  readonly state: State;
}

const STATE_COUNT = 16;
const ACTIONS: readonly Action[] = ['cont', 'maybe', 'end', 'break'];
/** Every (action, state) pair exists once, frozen: taking a step never allocates. */
const STEPS: ReadonlyArray<ReadonlyArray<Step>> = ACTIONS.map((action) =>
  Array.from({ length: STATE_COUNT }, (_, state) => Object.freeze({ action, state: state as State })),
);

export function step(action: Action, state: State): Step {
  return STEPS[ACTIONS.indexOf(action)]![state]!;
}

const cont = (s: State): Step => STEPS[0]![s]!;
const maybe = (s: State): Step => STEPS[1]![s]!;
const end = (s: State): Step => STEPS[2]![s]!;
const BREAK: Step = STEPS[3]![S.PLAIN]!;

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

/** What kind of line this is, by its leading characters. */
export const K = { BLANK: 0, INDENTED: 1, OTHER: 2 } as const;
export type Kind = (typeof K)[keyof typeof K];

export function kindOf(line: string): Kind {
  const c = line.charCodeAt(0);
  if (c !== SPACE && c !== TAB) {
    // A TTY container ends its lines with CR: a lone CR is a blank line too.
    return line.length === 0 || (c === CR && line.length === 1) ? K.BLANK : K.OTHER;
  }
  for (let i = 1; i < line.length; i++) {
    const d = line.charCodeAt(i);
    if (d !== SPACE && d !== TAB && d !== CR) return K.INDENTED;
  }
  return K.BLANK;
}

/** `U`: Dart's `Unhandled exception:` head takes free text as its next lines. */
const U = 0x55;

/**
 * Whether `line` certainly does not continue an event whose only line so far is `head`, and
 * `head` need not be classified. This is the whole cost of the common plain line: one
 * character, and for a few first characters one `startsWith`.
 *
 * Unindented lines that can follow a head directly: `Stack trace:` (PHP), `goroutine N [`
 * (Go), `[signal ...]` (Go), `[stacktrace]` (Laravel), `Caused by:` (Java), `--- End of ...`
 * (C#), and anything after Dart's `Unhandled exception:`. Indented and blank lines always need
 * a look at the head.
 */
export function quickBreak(head: string, line: string): boolean {
  const c = line.charCodeAt(0);
  // NaN (an empty line) fails the comparison and falls through to "not quick".
  if (!(c > SPACE)) return false;
  switch (c) {
    case 0x53: // S
      if (line.startsWith('Stack trace:')) return false;
      break;
    case 0x67: // g
      if (line.startsWith('goroutine ')) return false;
      break;
    case 0x5b: // [
      if (line.startsWith('[signal ') || line.startsWith('[stacktrace]')) return false;
      break;
    case 0x43: // C
      if (line.startsWith('Caused by: ')) return false;
      break;
    case 0x2d: // -
      if (line.startsWith('--- ')) return false;
      break;
  }
  return head.charCodeAt(0) !== U || !head.startsWith('Unhandled exception:');
}

const PY_HEAD = /^[ \t]*Traceback \(most recent call last\):/;
const GO_HEAD = /^(?:panic: |fatal error: )/;
const DART_HEAD = /^Unhandled exception:/;
const LARAVEL_HEAD = '{"exception":"[object] (';
/** PHP 5 `exception 'E' with message`, PHP 7+ `PHP Fatal error:  Uncaught E: msg`. */
const PHP_HEAD = /\bexception '[^']*' with message '|^PHP (?:Fatal|Parse|Catchable fatal) error: /;
/** `file.rb:12:in 'm': msg (Cls)` (Ruby), ` ActionController::RoutingError (msg):` (Rails). */
const RUBY_HEAD = /\.rb:\d+:in [`']|^[ \t]*(?:[A-Z]\w*::)*[A-Z]\w* \(.*\):\r?$/;
/** An exception class or `Error` with a message or alone at the end of the line; V8's own header. */
const EXC_HEAD = /(?:Exception|Error|Throwable|V8 errors stack trace)(?::|\r?$)/;
/** Node.js prints the throwing source line under `path:line` before the error itself. */
const NODE_SOURCE_HEAD = /^(?:\/|[A-Za-z]:\\|file:\/\/)\S*:\d+\r?$/;

/** The state an event starts in, from its first line. */
export function classifyHead(head: string): State {
  const kind = kindOf(head);
  if (kind === K.BLANK) return S.BLANK;
  if (PY_HEAD.test(head)) return S.PY;
  if (GO_HEAD.test(head) || head.includes('http: panic serving')) return S.GO_HEAD;
  if (DART_HEAD.test(head)) return S.DART_HEAD;
  if (head.includes(LARAVEL_HEAD)) return S.LARAVEL_HEAD;
  if (PHP_HEAD.test(head)) return S.PHP_HEAD;
  if (RUBY_HEAD.test(head)) return S.RUBY;
  if (EXC_HEAD.test(head)) return S.EXC;
  if (NODE_SOURCE_HEAD.test(head)) return S.NODE_SOURCE;
  return S.PLAIN;
}

const RUBY_INDENTED_HEAD = /^[ \t]+(?:[A-Z]\w*::)*[A-Z]\w* \(.*\):\r?$/;

/** An indented line that starts a Rails trace instead of continuing the event before it. */
export function isIndentedHead(line: string): boolean {
  // Cheap filter first: it must end with `):`.
  let n = line.length;
  if (line.charCodeAt(n - 1) === CR) n--;
  if (line.charCodeAt(n - 1) !== 0x3a || line.charCodeAt(n - 2) !== 0x29) return false;
  return RUBY_INDENTED_HEAD.test(line);
}

const NESTED = /^[ \t]+nested exception is:?[ \t]*\r?$/;
const THROWN_IN = /^[ \t]+thrown in /;
const EXC_MORE = /^(?:Caused by: |Suppressed: |--- |\.\.\. \d+ (?:more|common frames omitted))/;
const EXC_LAST = /^(?:Node\.js v\d|\}\r?$)/;
const PY_LAST = /^[A-Za-z_][\w.]*(?::|\r?$)/;
const GOROUTINE = /^goroutine \d+ /;
const EXIT_STATUS = /^exit status \d+\r?$/;
const FRAME_NO = /^#\d+\s/;

/** Whether this state lets a blank line in, on condition that a continuation follows. */
function blankMayContinue(state: State): boolean {
  return (
    state === S.EXC ||
    state === S.EXC_NESTED ||
    state === S.GO_HEAD ||
    state === S.GO ||
    state === S.DART_HEAD ||
    state === S.RUBY ||
    state === S.NODE_SOURCE
  );
}

/** What `line` does to an event in `state` (never `UNKNOWN` or `CUSTOM`: the joiner handles those). */
export function nextStep(state: State, line: string): Step {
  if (state === S.BLANK) return BREAK;
  const kind = kindOf(line);
  if (kind === K.INDENTED) {
    if (isIndentedHead(line)) return BREAK;
    switch (state) {
      case S.EXC:
        return NESTED.test(line) ? cont(S.EXC_NESTED) : cont(S.EXC);
      case S.EXC_NESTED:
        return cont(S.EXC);
      case S.PHP:
        return THROWN_IN.test(line) ? end(S.PHP) : cont(S.PHP);
      default:
        return cont(state);
    }
  }
  if (kind === K.BLANK) return blankMayContinue(state) ? maybe(state) : BREAK;
  switch (state) {
    case S.EXC:
      if (EXC_MORE.test(line)) return cont(S.EXC);
      return EXC_LAST.test(line) ? end(S.EXC) : BREAK;
    case S.EXC_NESTED:
      return EXC_HEAD.test(line) ? cont(S.EXC) : BREAK;
    case S.PY:
      // The exception line ends a traceback: it can be released at once.
      return PY_LAST.test(line) ? end(S.PY) : BREAK;
    case S.GO_HEAD:
      if (GOROUTINE.test(line) || line.startsWith('runtime stack:')) return cont(S.GO);
      return line.startsWith('[signal ') ? cont(S.GO_HEAD) : BREAK;
    case S.GO:
      if (GOROUTINE.test(line) || line.startsWith('created by ') || isGoFunction(line)) return cont(S.GO);
      if (line.startsWith('...additional frames elided...')) return cont(S.GO);
      return EXIT_STATUS.test(line) ? end(S.GO) : BREAK;
    case S.DART_HEAD:
      return FRAME_NO.test(line) ? cont(S.DART) : maybe(S.DART_HEAD);
    case S.DART:
      return FRAME_NO.test(line) || line.startsWith('<asynchronous suspension>') ? cont(S.DART) : BREAK;
    case S.PHP_HEAD:
      return line.startsWith('Stack trace:') ? cont(S.PHP) : BREAK;
    case S.LARAVEL_HEAD:
      return line.startsWith('[stacktrace]') ? cont(S.PHP) : BREAK;
    case S.PHP:
      if (FRAME_NO.test(line)) return cont(S.PHP);
      return line.startsWith('"}') ? end(S.PHP) : BREAK;
    case S.NODE_SOURCE:
      return EXC_HEAD.test(line) ? cont(S.EXC) : BREAK;
    default:
      return BREAK;
  }
}

/**
 * A Go stack frame's function line: `main.main()`, `net/http.(*conn).serve(0xc0000a0000)`,
 * `panic({0x4a1c40?, 0x51e7d0?})`: a name without blanks, then arguments in parentheses that
 * end the line. Written without a regex so that a long line with many `(` costs linear time.
 */
export function isGoFunction(line: string): boolean {
  let n = line.length;
  if (line.charCodeAt(n - 1) === CR) n--;
  if (line.charCodeAt(n - 1) !== 0x29) return false; // ')'
  const c = line.charCodeAt(0);
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  if (!letter) return false;
  for (let i = 1; i < n; i++) {
    const d = line.charCodeAt(i);
    if (d === 0x28) return true; // '(' reached with no blank before it
    if (d === SPACE || d === TAB) return false;
  }
  return false;
}
