import type { ContainerInfo, LogEvent, Position } from '../core/event.js';
import type { Intake } from '../core/intake.js';
import {
  isBefore,
  Joiner,
  justBefore,
  type MultilineConfig,
  type MultilineSettings,
  multilineSettingsFor,
} from './multiline.js';

export interface MultilineStageOptions {
  /** Where completed events go (the pipeline). */
  next: Intake;
  config: MultilineConfig;
  log: { warn(obj: object, msg: string): void };
  /** The clock for quiet times (tests); Date.now by default. */
  now?: () => number;
}

interface PerContainer {
  /** The container these settings were worked out for (reconfigure works them out again). */
  container: ContainerInfo;
  settings: MultilineSettings;
  /** null when joining is off for this container. */
  stdout: Joiner | null;
  stderr: Joiner | null;
  /**
   * Scratch for `capCheckpoints`: the sweep that last visited, the earliest position after the
   * current event (minTs '' = none), and the cap made from it, shared by every event it caps.
   */
  sweep: number;
  minTs: string;
  minSeq: number;
  cap: Position | undefined;
}

/**
 * Sits between the sources and the pipeline and joins multiline events per (container,
 * stream); see multiline.ts. Events without a container (syslog) pass through in order.
 * Everything completed by one `push` goes to `next` in one call, and `next`'s answer is
 * returned, so backpressure reaches the sources unchanged. One interval timer, only while
 * lines are held, releases the lines of a stream that has been quiet for `flushAfterMs`.
 *
 * It joins raw lines, before the per-event transforms (transforms/chain.ts), so sanitizing and
 * body parsing see the joined text: a trace is cleaned and searched as one message, and
 * `event.original` keeps the joined raw text when cleaning changed it. The other order would
 * clean and parse every line of a trace on its own, and parse a JSON line's fields before
 * knowing whether it is part of something larger.
 *
 * Checkpoint safety. A position is per container, not per stream, and only moves forward;
 * committing an event moves its container's position to the event's `checkpoint` (or its own
 * timestamp and seq). While stream A holds lines from position P, an event of stream B that
 * goes ahead of them may carry a later position: if it were committed and logwharf crashed,
 * the restart would resume after P and A's held lines would be lost. So every event handed
 * on carries a checkpoint capped to just before the earliest line of its container that comes
 * after it: a line still held, or a line of an event later in the same hand-over (the pipeline
 * may commit a batch that ends between the two). Capped, a crash re-reads a little (ids are
 * deterministic, the store drops the repeats); never loses a line.
 *
 * This relies on each stream's lines arriving in position order, which holds: Docker stamps a
 * stream's lines one after the other. Across streams Docker's own order may differ slightly from
 * time order; that is what the follower's resume margin is for (since.ts), not this stage.
 */
export class MultilineStage implements Intake {
  private readonly next: Intake;
  private config: MultilineConfig;
  private readonly log: MultilineStageOptions['log'];
  private readonly now: () => number;
  private readonly containers = new Map<string, PerContainer>();
  /** The last container seen: a source hands over one container's lines at a time. */
  private lastInfo: ContainerInfo | undefined;
  private lastEntry: PerContainer | undefined;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private sweeps = 0;

  constructor(opts: MultilineStageOptions) {
    this.next = opts.next;
    this.config = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  push(events: LogEvent[]): boolean {
    if (this.closed) return this.next.push(events);
    const now = this.now();
    const out: LogEvent[] = [];
    let held = false;
    for (const e of events) {
      const c = e.container;
      if (c === undefined) {
        out.push(e);
        continue;
      }
      const entry = c === this.lastInfo ? this.lastEntry! : this.entryFor(c);
      const joiner = e.stream === 'stderr' ? entry.stderr : entry.stdout;
      if (joiner === null) {
        out.push(e);
        continue;
      }
      joiner.push(e, out);
      joiner.lastAt = now;
      held = true;
    }
    if (held) this.startTimer();
    this.capCheckpoints(out);
    return this.next.push(out);
  }

  onDrain(listener: () => void): () => void {
    return this.next.onDrain(listener);
  }

  /** Releases a container's held lines and forgets it (the container is gone). */
  forget(containerId: string): void {
    const entry = this.containers.get(containerId);
    if (!entry) return;
    const out: LogEvent[] = [];
    entry.stdout?.flush(out);
    entry.stderr?.flush(out);
    // Capped while the entry still exists: stdout's lines go ahead of stderr's earlier ones here.
    this.capCheckpoints(out);
    this.containers.delete(containerId);
    if (this.lastInfo?.id === containerId) {
      this.lastInfo = undefined;
      this.lastEntry = undefined;
    }
    if (out.length > 0) this.next.push(out);
  }

  /**
   * Releases everything held into `next` and stops the timer. Later pushes pass straight
   * through. Call it after the sources stopped and before the pipeline closes. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    const out: LogEvent[] = [];
    for (const entry of this.containers.values()) {
      entry.stdout?.flush(out);
      entry.stderr?.flush(out);
    }
    this.handOver(out);
  }

  /**
   * Applies new settings (SIGHUP) to the lines that arrive after it. A container whose settings
   * stay the same (mode, start pattern, limits) keeps what it holds: an event being joined right
   * now is not cut. A container whose settings change has its held lines released first, joined
   * under the old rules: continuing an event under other rules than it began with could join
   * what the new rules would split (or the reverse), and releasing costs at most one event per
   * stream cut in two, never a lost or doubled line. Its next line starts under the new rules.
   */
  reconfigure(config: MultilineConfig): void {
    const old = this.config;
    this.config = config;
    if (this.closed) return;
    const limitsChanged = old.maxLines !== config.maxLines || old.maxBytes !== config.maxBytes;
    const changed: string[] = [];
    for (const [id, entry] of this.containers) {
      const next = multilineSettingsFor(entry.container, config);
      if (limitsChanged || !sameSettings(entry.settings, next)) changed.push(id);
    }
    const out: LogEvent[] = [];
    for (const id of changed) {
      const entry = this.containers.get(id)!;
      entry.stdout?.flush(out);
      entry.stderr?.flush(out);
    }
    // Capped while the entries still exist, as in forget().
    this.capCheckpoints(out);
    for (const id of changed) this.containers.delete(id);
    if (changed.length > 0) {
      this.lastInfo = undefined;
      this.lastEntry = undefined;
    }
    if (old.flushAfterMs !== config.flushAfterMs && this.timer !== null) {
      // The timer's period follows flushAfterMs.
      this.stopTimer();
      this.startTimer();
    }
    if (out.length > 0) this.next.push(out);
  }

  /** Releases the streams that have been quiet for flushAfterMs; the timer calls it. */
  private releaseQuiet(): void {
    const now = this.now();
    const out: LogEvent[] = [];
    let stillHeld = false;
    for (const entry of this.containers.values()) {
      for (const j of [entry.stdout, entry.stderr]) {
        if (j === null || j.pending === 0) continue;
        if (now - j.lastAt >= this.config.flushAfterMs) j.flush(out);
        else stillHeld = true;
      }
    }
    if (!stillHeld) this.stopTimer();
    this.handOver(out);
  }

  private handOver(out: LogEvent[]): void {
    if (out.length === 0) return;
    this.capCheckpoints(out);
    // Released by the clock, not by a source: a false answer is the next source push's to obey.
    this.next.push(out);
  }

  private entryFor(c: ContainerInfo): PerContainer {
    let entry = this.containers.get(c.id);
    if (!entry) {
      const settings = multilineSettingsFor(c, this.config);
      if (settings.problem !== undefined) {
        this.log.warn(
          { container: c.name, id: c.id, problem: settings.problem, using: settings.mode },
          'multiline settings of this container ignored',
        );
      }
      const make = (): Joiner | null =>
        settings.mode === 'off'
          ? null
          : new Joiner({
              maxLines: this.config.maxLines,
              maxBytes: this.config.maxBytes,
              ...(settings.start ? { start: settings.start } : {}),
            });
      entry = {
        container: c,
        settings,
        stdout: make(),
        stderr: make(),
        sweep: 0,
        minTs: '',
        minSeq: 0,
        cap: undefined,
      };
      this.containers.set(c.id, entry);
    }
    this.lastInfo = c;
    this.lastEntry = entry;
    return entry;
  }

  /**
   * See "Checkpoint safety" above: one backward sweep over what is handed over. It runs on
   * every line, so it compares strings in place and allocates only when it caps.
   */
  private capCheckpoints(out: LogEvent[]): void {
    const sweep = ++this.sweeps;
    let lastId = '';
    let entry: PerContainer | undefined;
    for (let i = out.length - 1; i >= 0; i--) {
      const e = out[i]!;
      if (e.sourceKey === undefined || e.container === undefined) continue;
      if (e.container.id !== lastId) {
        lastId = e.container.id;
        entry = this.containers.get(lastId);
      }
      if (entry === undefined || entry.stdout === null) continue; // off: nothing is ever held
      if (entry.sweep !== sweep) startSweep(entry, sweep);
      const ts = e.timestamp;
      const seq = e.seq ?? 0;
      const minTs = entry.minTs;
      if (minTs !== '') {
        const cp = e.checkpoint;
        const cpTs = cp === undefined ? ts : cp.timestamp;
        const cpSeq = cp === undefined ? seq : cp.seq;
        if (cpTs > minTs || (cpTs === minTs && cpSeq >= entry.minSeq)) {
          entry.cap ??= justBefore({ timestamp: minTs, seq: entry.minSeq });
          e.checkpoint = entry.cap;
        }
      }
      // This event's first line is its earliest, and it comes after every event before it.
      if (minTs === '' || ts < minTs || (ts === minTs && seq < entry.minSeq)) {
        entry.minTs = ts;
        entry.minSeq = seq;
        entry.cap = undefined;
      }
    }
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    const every = Math.max(10, Math.min(this.config.flushAfterMs / 4, 250));
    this.timer = setInterval(() => this.releaseQuiet(), every);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}

function sameSettings(a: MultilineSettings, b: MultilineSettings): boolean {
  return a.mode === b.mode && a.start?.source === b.start?.source && a.start?.flags === b.start?.flags;
}

/** Starts a sweep at the earliest line the container still holds, on either stream. */
function startSweep(entry: PerContainer, sweep: number): void {
  entry.sweep = sweep;
  entry.minTs = '';
  entry.minSeq = 0;
  entry.cap = undefined;
  for (const j of [entry.stdout, entry.stderr]) {
    const e = j?.pendingFrom();
    if (e === undefined) continue;
    const seq = e.seq ?? 0;
    if (
      entry.minTs === '' ||
      isBefore({ timestamp: e.timestamp, seq }, { timestamp: entry.minTs, seq: entry.minSeq })
    ) {
      entry.minTs = e.timestamp;
      entry.minSeq = seq;
    }
  }
}
