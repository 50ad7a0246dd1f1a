import type { ContainerInfo, LogEvent, Position } from '../core/event.js';
import { globMatch } from '../sources/docker/select.js';
import { classifyHead, nextStep, quickBreak, S, type State, type Step, step } from './multiline-rules.js';

/**
 * Joins the lines of one (container, stream) into events: stack traces and indented
 * continuation lines become one event whose message is the lines joined with `\n`.
 * Pure: no timers, no I/O; the stage (multiline-stage.ts) owns the clock and the routing.
 *
 * Every line is held until the next line of its stream shows whether it continues it (or the
 * stage releases it after a quiet time): an indented line can follow any line. The common
 * plain line costs a pointer swap and `quickBreak`'s look at its first character.
 *
 * The joined event is the first line's event (timestamp, id, seq, container, stream,
 * sourceKey: ids stay deterministic on replay) with the joined text as `message`, the union of
 * the lines' flags plus `multiline` (and `truncated` when a limit cut it), and as `checkpoint`
 * the position of its last line: committing it commits every line it holds.
 */

export interface MultilineConfig {
  /** Automatic detection for containers that neither a label nor a rule configures. */
  enabled: boolean;
  /** Quiet time on a (container, stream) after which its pending lines are released. */
  flushAfterMs: number;
  /** A longer event is released, flagged `truncated`, and the next line starts a new one. */
  maxLines: number;
  /** Same, for the joined message's size in UTF-8 bytes (newlines included). */
  maxBytes: number;
  /** A start regex per compose service (globs): a matching line starts an event, others continue it. */
  rules: { services: string[]; start: string }[];
}

export const DEFAULT_MULTILINE_CONFIG: Readonly<MultilineConfig> = Object.freeze({
  enabled: true,
  flushAfterMs: 1000,
  maxLines: 1000,
  maxBytes: 1024 * 1024,
  rules: [],
});

export const MULTILINE_LABEL = 'logwharf.multiline';
export const MULTILINE_START_LABEL = 'logwharf.multiline.start';

export interface MultilineSettings {
  /** `off`: lines pass through; `auto`: the built-in rules; `custom`: `start` decides. */
  mode: 'off' | 'auto' | 'custom';
  start?: RegExp;
  /** What decided, for logs: a label, a config rule, or the config default. */
  origin: string;
  /** A label or rule that was ignored, and why (to be logged once per container). */
  problem?: string;
}

/**
 * The multiline settings of one container. Labels win over config: `logwharf.multiline=false`
 * turns joining off, `logwharf.multiline.start=<regex>` sets a start pattern, `=true` turns
 * automatic detection on even when config turns it off. Then the first config rule whose
 * service globs match the compose service, then `enabled`. An invalid regex is reported in
 * `problem` and automatic detection applies instead: a typo in a label must not stop logging.
 */
export function multilineSettingsFor(
  container: ContainerInfo | undefined,
  config: MultilineConfig,
): MultilineSettings {
  const labels = container?.labels ?? {};
  const problems: string[] = [];
  const onOff = labels[MULTILINE_LABEL];
  if (onOff !== undefined && onOff !== 'true' && onOff !== 'false') {
    problems.push(`label ${MULTILINE_LABEL}=${JSON.stringify(onOff)} is not true or false; ignored`);
  }
  const done = (s: MultilineSettings): MultilineSettings =>
    problems.length > 0 ? { ...s, problem: problems.join('; ') } : s;

  if (onOff === 'false') return done({ mode: 'off', origin: `label ${MULTILINE_LABEL}=false` });
  const fromLabel = labels[MULTILINE_START_LABEL];
  if (fromLabel !== undefined) {
    const re = compile(fromLabel);
    if (re instanceof RegExp)
      return done({ mode: 'custom', start: re, origin: `label ${MULTILINE_START_LABEL}` });
    problems.push(`label ${MULTILINE_START_LABEL}: ${re}; automatic detection is used instead`);
    return done({ mode: 'auto', origin: 'fallback' });
  }
  const service = container?.composeService;
  if (service !== undefined) {
    const i = config.rules.findIndex((r) => r.services.some((g) => globMatch(g, service)));
    const rule = config.rules[i];
    if (rule) {
      const re = compile(rule.start);
      if (re instanceof RegExp)
        return done({ mode: 'custom', start: re, origin: `transforms.multiline.rules[${i}]` });
      problems.push(`transforms.multiline.rules[${i}].start: ${re}; automatic detection is used instead`);
      return done({ mode: 'auto', origin: 'fallback' });
    }
  }
  if (onOff === 'true') return done({ mode: 'auto', origin: `label ${MULTILINE_LABEL}=true` });
  return done(
    config.enabled
      ? { mode: 'auto', origin: 'transforms.multiline.enabled' }
      : { mode: 'off', origin: 'transforms.multiline.enabled' },
  );
}

function compile(source: string): RegExp | string {
  if (source === '') return 'empty pattern';
  try {
    return new RegExp(source);
  } catch (err) {
    return `invalid regular expression ${JSON.stringify(source)} (${(err as Error).message})`;
  }
}

/** Whether position `a` is before `b`. Timestamps are canonical, so text order is time order. */
export function isBefore(a: Position, b: Position): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

/**
 * The last possible position before `p`: the same timestamp with seq - 1, or, at seq 0, the
 * nanosecond before with the largest seq (every line stamped then is before `p`). Works on
 * the canonical text (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`) so no precision is lost to a Date.
 */
export function justBefore(p: Position): Position {
  if (p.seq > 0) return { timestamp: p.timestamp, seq: p.seq - 1 };
  const nanos = Number(p.timestamp.slice(20, 29));
  if (nanos > 0) {
    return {
      timestamp: `${p.timestamp.slice(0, 20)}${String(nanos - 1).padStart(9, '0')}Z`,
      seq: Number.MAX_SAFE_INTEGER,
    };
  }
  // The second before, across minute, day, month and year boundaries: Date handles the calendar.
  const second = new Date(Date.parse(`${p.timestamp.slice(0, 19)}Z`) - 1000).toISOString();
  // Years before 0000 have no canonical form; nothing is stamped there anyway.
  if (!/^\d{4}-/.test(second)) return { timestamp: '0000-01-01T00:00:00.000000000Z', seq: 0 };
  return { timestamp: `${second.slice(0, 19)}.999999999Z`, seq: Number.MAX_SAFE_INTEGER };
}

/** Lines held on condition (`maybe`) at most; one more and they are released as they are. */
export const MAX_MAYBE_LINES = 10;

export interface JoinerOptions {
  maxLines: number;
  maxBytes: number;
  /** A custom start pattern: a matching line starts an event, every other line continues it. */
  start?: RegExp;
}

const BREAK = step('break', S.PLAIN);
const CUSTOM = step('cont', S.CUSTOM);

export class Joiner {
  /** When the last line came in, on the stage's clock: the stage releases after quiet. */
  lastAt = 0;
  private readonly opts: JoinerOptions;
  private readonly lines: LogEvent[] = [];
  /** lines[0, committed) surely belong together; the rest were `maybe` lines. */
  private committed = 0;
  private state: State = S.UNKNOWN;
  /** Size of the joined text: UTF-16 units (an upper bound of bytes / 3) until near maxBytes, then bytes. */
  private size = 0;
  private exact = false;

  constructor(opts: JoinerOptions) {
    this.opts = opts;
  }

  /** How many lines are held. */
  get pending(): number {
    return this.lines.length;
  }

  /** The first held line that has a position (it is the earliest: a stream's lines come in order). */
  pendingFrom(): LogEvent | undefined {
    for (const e of this.lines) if (e.sourceKey !== undefined) return e;
    return undefined;
  }

  /** Takes the next line of this stream; appends to `out` whatever that completes. */
  push(e: LogEvent, out: LogEvent[]): void {
    const lines = this.lines;
    const head = lines[0];
    if (head === undefined) {
      this.begin(e, this.opts.start ? S.CUSTOM : S.UNKNOWN);
      return;
    }
    let next: Step;
    if (this.opts.start) {
      next = this.opts.start.test(e.message) ? BREAK : CUSTOM;
    } else {
      let state = this.state;
      if (state === S.UNKNOWN) {
        if (quickBreak(head.message, e.message)) {
          // The common case: a plain line followed by a line that cannot continue it.
          out.push(head);
          lines[0] = e;
          this.size = e.message.length;
          return;
        }
        state = classifyHead(head.message);
        this.state = state;
      }
      next = nextStep(state, e.message);
      if (next.action === 'maybe' && lines.length - this.committed >= MAX_MAYBE_LINES) next = BREAK;
    }
    if (next.action === 'break') {
      this.breakBefore(e, out);
      return;
    }
    if (lines.length >= this.opts.maxLines || !this.fits(e.message)) {
      // Too long: release what is held, flagged, and go on with this line in the same state,
      // so the rest of the trace still stays together.
      this.release(out, lines.length, true);
      this.begin(e, next.state);
      if (next.action === 'end') this.release(out, 1, false);
      return;
    }
    lines.push(e);
    this.size += this.exact ? 1 + Buffer.byteLength(e.message) : 1 + e.message.length;
    if (next.action !== 'maybe') this.committed = lines.length;
    this.state = next.state;
    if (next.action === 'end') this.release(out, lines.length, false);
  }

  /** Releases everything held (quiet time, container gone, shutdown). */
  flush(out: LogEvent[]): void {
    while (this.lines.length > 0) {
      if (this.committed === this.lines.length) {
        this.release(out, this.lines.length, false);
        return;
      }
      // `maybe` lines never continued: they are released as what they are on their own.
      const rest = this.lines.slice(this.committed);
      this.release(out, this.committed, false);
      for (const r of rest) this.push(r, out);
    }
  }

  private begin(e: LogEvent, state: State): void {
    this.lines.push(e);
    this.committed = 1;
    this.state = state;
    this.size = e.message.length;
    this.exact = false;
  }

  /** `e` does not belong: release what surely belongs, then feed the `maybe` lines and `e` again. */
  private breakBefore(e: LogEvent, out: LogEvent[]): void {
    if (this.committed === this.lines.length) {
      this.release(out, this.lines.length, false);
      this.begin(e, this.opts.start ? S.CUSTOM : S.UNKNOWN);
      return;
    }
    const rest = this.lines.slice(this.committed);
    this.release(out, this.committed, false);
    for (const r of rest) this.push(r, out);
    this.push(e, out);
  }

  private fits(text: string): boolean {
    const max = this.opts.maxBytes;
    if (!this.exact) {
      // A UTF-16 unit is at most 3 bytes of UTF-8: far from the limit, lengths are enough.
      if ((this.size + 1 + text.length) * 3 <= max) return true;
      let bytes = -1;
      for (const l of this.lines) bytes += 1 + Buffer.byteLength(l.message);
      this.size = bytes;
      this.exact = true;
    }
    return this.size + 1 + Buffer.byteLength(text) <= max;
  }

  /** Emits lines[0, n) as one event and forgets every held line (the caller re-feeds any rest). */
  private release(out: LogEvent[], n: number, truncated: boolean): void {
    out.push(joinLines(this.lines, n, truncated));
    this.lines.length = 0;
    this.committed = 0;
    this.state = S.UNKNOWN;
    this.size = 0;
    this.exact = false;
  }
}

/** One event from lines[0, n): see the module comment for which fields come from where. */
export function joinLines(lines: readonly LogEvent[], n: number, truncated: boolean): LogEvent {
  const first = lines[0]!;
  if (n === 1 && !truncated) return first;
  const texts: string[] = [];
  const flags = new Set(first.flags);
  // The checkpoint may only cover lines that have a position: an untimed line (no sourceKey)
  // must not move one (see the follower).
  let last: LogEvent | undefined;
  for (let i = 0; i < n; i++) {
    const l = lines[i]!;
    texts.push(l.message);
    if (l.flags) for (const f of l.flags) flags.add(f);
    if (l.sourceKey !== undefined) last = l;
  }
  if (n > 1) flags.add('multiline');
  if (truncated) flags.add('truncated');
  const joined: LogEvent = { ...first, message: texts.join('\n'), flags: [...flags] };
  if (last !== undefined && first.sourceKey !== undefined) {
    joined.checkpoint = last.checkpoint ?? { timestamp: last.timestamp, seq: last.seq ?? 0 };
  }
  return joined;
}
