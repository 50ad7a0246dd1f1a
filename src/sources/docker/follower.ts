import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { backoffMs } from '../../core/backoff.js';
import type { ContainerInfo, LogEvent, Position, Stream } from '../../core/event.js';
import { FACILITY_DAEMON, SEVERITY } from '../../core/event.js';
import type { Intake } from '../../core/intake.js';
import type { SourceStatus } from '../../core/status.js';
import { lagSeconds, PendingLines } from '../../telemetry/lag.js';
import { DockerLogDecoder } from './frames.js';
import { RecentIds } from './recent-ids.js';
import { dockerEventId, marginBefore, sinceParam } from './since.js';

export interface FollowerOptions {
  docker: Docker;
  container: ContainerInfo;
  intake: Intake;
  /** `host.name`: the Docker host's name. */
  hostName: () => string;
  maxLineBytes: number;
  /** The last committed position from an earlier run, if any. */
  resumeFrom: Position | undefined;
  /** The committed position now (the checkpoint store), to forget committed lines as reading goes on. */
  committed?: () => Position | undefined;
  log: Logger;
}

type State = SourceStatus['state'];

/**
 * Follows one container's log stream for as long as the container exists.
 *
 * The logs endpoint can end while the container still runs (engine restart, a proxy, a
 * daemon-side rotation): the follower then asks the engine whether the container is running
 * and re-attaches, instead of silently stopping as some collectors do. Every (re-)attach reads
 * from the last line read in this process, or from the committed position of an earlier run,
 * or from the container's very beginning, never from "now", so a restart (same container id)
 * does not read the whole history again and a short-lived container is still read.
 */
export class ContainerFollower {
  readonly container: ContainerInfo;
  private readonly opts: FollowerOptions;
  private state: State = 'detached';
  private lastRead: Position | undefined;
  /** The newest timestamp read in this process: only lines up to it can be re-reads. */
  private newestRead = '';
  private linesRead = 0;
  /** Lines read and not yet committed, for the lag (telemetry/lag.ts). */
  private readonly pending = new PendingLines();
  private reconnects = 0;
  /** The next attach is a re-attach (the stream was lost while the container ran, or the engine went away). */
  private reattach = false;
  /** Stream bytes that could not be decoded into lines and were skipped (each loses part of a line at least). */
  private undecodable = 0;
  private stream: NodeJS.ReadableStream | null = null;
  private running = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private paused = false;
  private unsubscribeDrain: (() => void) | null = null;
  /**
   * Ids of the lines read within the resume margin before `lastRead` (id -> timestamp, in read
   * order). A re-attach re-reads that margin (see since.ts); these lines are recognised here and
   * not handed over, nor counted, a second time.
   */
  private readonly recent = new RecentIds();
  /** The second of `lastRead` and the cut-off computed for it (computed once per second, not per chunk). */
  private cutoffSecond = '';
  private cutoff = '';

  constructor(opts: FollowerOptions) {
    this.opts = opts;
    this.container = opts.container;
    this.lastRead = opts.resumeFrom;
  }

  status(committed: Position | undefined, now = Date.now()): SourceStatus {
    const c = this.container;
    return {
      kind: 'docker',
      id: c.id,
      name: c.name,
      state: this.state,
      linesRead: this.linesRead,
      lastLineTime: this.lastRead?.timestamp ?? null,
      committedTime: committed?.timestamp ?? null,
      lagSeconds: lagSeconds(now, this.pending.oldest(committed)),
      reconnects: this.reconnects,
      dropped: { undecodable: this.undecodable },
      paused: this.paused,
      ...(c.composeProject !== undefined
        ? { compose: { project: c.composeProject, service: c.composeService, number: c.composeNumber } }
        : {}),
    };
  }

  /** Starts the follow loop if it is not running; wakes it if it waits for the container to start. */
  poke(): void {
    if (this.stopped) return;
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    if (!this.running) {
      this.running = true;
      this.loop()
        // The loop handles what it expects; a bug must not become an unhandled rejection
        // (which ends the process): it is logged, and the container is shown stopped.
        .catch((err: unknown) => {
          this.state = 'stopped';
          this.opts.log.error({ container: this.container.name, err }, 'BUG: the follow loop failed');
        })
        .finally(() => {
          this.running = false;
        });
    }
  }

  /** Stops reading; what was already handed to the pipeline stays there. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.state = 'stopped';
    this.unsubscribeDrain?.();
    this.unsubscribeDrain = null;
    this.destroyStream();
    this.poke();
  }

  private destroyStream(): void {
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    this.stream = null;
    s?.destroy?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let ended: 'end' | 'error';
      const attachedAt = Date.now();
      const readBefore = this.linesRead;
      try {
        ended = await this.readOnce();
      } catch (err) {
        ended = 'error';
        if (isStatus(err, 501)) {
          // The container's logging driver cannot be read back (e.g. syslog, fluentd): nothing to follow.
          this.opts.log.warn(
            { container: this.container.name, err: errText(err) },
            'logging driver does not support reading; not followed',
          );
          this.state = 'stopped';
          return;
        }
        if (isStatus(err, 404)) {
          this.state = 'stopped';
          return;
        }
        this.opts.log.debug({ container: this.container.name, err: errText(err) }, 'log stream failed');
      }
      if (this.stopped) return;
      // The stream is over: find out why before deciding to re-attach.
      let running: boolean;
      let restarting = false;
      try {
        const info = await this.opts.docker.getContainer(this.container.id).inspect();
        running = info.State.Running || info.State.Restarting;
        restarting = info.State.Restarting;
        failures = 0;
      } catch (err) {
        if (isStatus(err, 404)) {
          this.state = 'stopped';
          return;
        }
        // Engine unreachable: keep trying with backoff; discovery pokes us when it is back.
        this.state = 'reconnecting';
        this.reattach = true;
        failures++;
        await this.pause(backoffMs(failures));
        continue;
      }
      if (running) {
        // A stream that errors, or ends at once although the container runs, must not
        // turn into a tight re-attach loop: back off until a stream lasts.
        if (ended === 'error' || Date.now() - attachedAt < 1000) failures++;
        else failures = 0;
        this.state = 'reconnecting';
        // A stream lost under a running container; a restart policy restarting it is its own doing.
        this.reattach = !restarting;
        if (failures > 0) await this.pause(backoffMs(failures));
        continue;
      }
      // Exited. The engine can end a stream, normally, well before the last line of a
      // container that exited while we read: Docker 20.10 here ended a follow stream after
      // 26,608 of 500,000 lines (bench:ingest), and a cut connection looks the same. So a
      // stream counts as complete only when an attach reads nothing new; otherwise attach
      // again from the position (re-read lines are recognised by id), with backoff on errors.
      // It costs one more, empty, attach per exited container.
      if (ended === 'error' || this.linesRead > readBefore) {
        if (ended === 'error') failures++;
        this.state = 'reconnecting';
        if (failures > 0) await this.pause(backoffMs(failures));
        continue;
      }
      // Read to the end: wait until discovery sees it start again (same id, so we resume).
      // The attach after that start is the container's, not a reconnect.
      this.state = 'detached';
      this.reattach = false;
      await this.pause(Number.POSITIVE_INFINITY);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : null;
      const done = () => {
        if (timer) clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      this.wake = done;
    });
  }

  /** Remembers a hand-over's first and last timed line until the store commits them (the lag). */
  private trackPending(events: readonly LogEvent[]): void {
    let i = 0;
    while (i < events.length && events[i]!.sourceKey === undefined) i++;
    let j = events.length - 1;
    while (j > i && events[j]!.sourceKey === undefined) j--;
    const first = events[i];
    const last = events[j];
    if (first === undefined || last === undefined || first.sourceKey === undefined) return;
    this.pending.add(
      { timestamp: first.timestamp, seq: first.seq ?? 0 },
      { timestamp: last.timestamp, seq: last.seq ?? 0 },
      this.opts.committed?.(),
    );
  }

  private forgetOutsideMargin(): void {
    if (!this.lastRead) return;
    const second = this.lastRead.timestamp.slice(0, 19);
    if (second !== this.cutoffSecond) {
      // From the start of the second: keeps a little more than the margin, never less.
      this.cutoffSecond = second;
      this.cutoff = marginBefore(`${second}.000000000Z`);
    }
    this.recent.forgetBefore(this.cutoff, MAX_REMEMBERED_IDS);
  }

  /** One attach: resolves when the engine ends the stream. */
  private async readOnce(): Promise<'end' | 'error'> {
    const c = this.container;
    const opts: Docker.ContainerLogsOptions & { follow: true } = {
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
    };
    if (this.lastRead) opts.since = sinceParam(this.lastRead.timestamp) as unknown as number;
    const stream = await this.opts.docker.getContainer(c.id).logs(opts);
    if (this.stopped) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return 'end';
    }
    this.stream = stream;
    this.state = 'attached';
    if (this.reattach) {
      this.reattach = false;
      this.reconnects++;
    }

    const host = this.opts.hostName();
    const service = c.composeService ?? c.name;
    let batch: LogEvent[] = [];
    let ingested = new Date().toISOString();
    // Lines newer than anything read before this attach cannot be re-reads: skip the lookup.
    const replayUntil = this.newestRead;
    let runTs = '';
    let runSeq = 0;
    // A line the decoder could not find a timestamp for is stamped "now": it must not move
    // the read position (a re-attach from "now" could skip real lines), nor a checkpoint.
    let untimed = false;
    const decoder = new DockerLogDecoder({
      tty: c.tty,
      maxLineBytes: this.opts.maxLineBytes,
      onLine: (streamName: Stream, timestamp: string, text: string, truncated: boolean) => {
        // seq numbers the lines that share one timestamp, in the engine's order; with the
        // timestamp it makes the deterministic id, so a re-read yields the same ids.
        if (timestamp === runTs) runSeq++;
        else {
          runTs = timestamp;
          runSeq = 0;
        }
        const id = dockerEventId(c.id, timestamp, runSeq);
        if (timestamp <= replayUntil && this.recent.has(id)) return;
        const e: LogEvent = {
          timestamp,
          id,
          dataset: 'docker',
          ingested,
          message: text,
          severity: streamName === 'stderr' ? SEVERITY.err : SEVERITY.info,
          facility: FACILITY_DAEMON,
          stream: streamName,
          container: c,
          host,
          service,
          sourceKey: c.id,
          seq: runSeq,
        };
        if (truncated) e.flags = ['truncated'];
        if (untimed) {
          untimed = false;
          e.sourceKey = undefined;
        } else {
          this.lastRead = { timestamp, seq: runSeq };
          this.recent.add(id, timestamp);
          if (timestamp > this.newestRead) this.newestRead = timestamp;
        }
        batch.push(e);
      },
      onGarbage: (reason: string, bytes: number, losesLineBytes: boolean) => {
        untimed = true;
        // Counted as a drop: bytes of log lines skipped (a stream out of sync, or cut inside a
        // frame). Not a line without its timestamp (kept, stamped now), nor stdin or
        // daemon-error frames (no log lines in them).
        if (losesLineBytes) this.undecodable++;
        this.opts.log.warn({ container: c.name, reason, bytes }, 'unexpected bytes in the log stream');
      },
    });

    const handOver = () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      this.linesRead += events.length;
      this.trackPending(events);
      this.forgetOutsideMargin();
      if (!this.opts.intake.push(events) && !this.paused) {
        // Backpressure: stop reading; Docker keeps the lines in its log file meanwhile.
        this.paused = true;
        stream.pause();
        this.unsubscribeDrain?.();
        this.unsubscribeDrain = this.opts.intake.onDrain(() => {
          this.paused = false;
          this.unsubscribeDrain?.();
          this.unsubscribeDrain = null;
          stream.resume();
        });
      }
    };

    return await new Promise<'end' | 'error'>((resolve) => {
      let settled = false;
      const finish = (how: 'end' | 'error') => {
        if (settled) return;
        settled = true;
        try {
          decoder.end();
          handOver();
        } catch (err) {
          this.opts.log.error(
            { container: c.name, err: errText(err) },
            'could not decode the end of the log stream',
          );
        }
        if (this.stream === stream) this.stream = null;
        resolve(how);
      };
      stream.on('data', (chunk: Buffer) => {
        ingested = new Date().toISOString();
        decoder.push(chunk);
        handOver();
      });
      stream.on('end', () => finish('end'));
      stream.on('close', () => finish('end'));
      stream.on('error', () => finish('error'));
    });
  }
}

const MAX_REMEMBERED_IDS = 500_000;

function isStatus(err: unknown, status: number): boolean {
  return (err as { statusCode?: number })?.statusCode === status;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
