import type { Logger } from 'pino';
import { backoffMs } from '../core/backoff.js';
import type { Health } from '../core/health.js';
import type { PositionStore } from './positions.js';

/** The health component of positions.json. */
export const POSITIONS_COMPONENT = 'positions';

/**
 * Saves the positions after every batch the sinks took, and keeps at it when a save fails (a
 * full disk, EIO): the failure is counted by code and shown as failing (`positions`), and the
 * save is tried again with backoff, without waiting for the next batch, which may never come
 * while the sources are paused. Meanwhile nothing is lost: the positions only lag, so a crash
 * would re-read lines the stores then skip by id.
 */
export class PositionSaver {
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly positions: PositionStore,
    private readonly health: Health,
    private readonly log: Logger,
  ) {}

  /** Saves now (coalesced with a save under way); never rejects. */
  save(): void {
    if (this.closed) return;
    this.positions.flush().then(
      () => this.saved(),
      (err: unknown) => this.failed(err),
    );
  }

  /** Stops retrying and makes the last save; rejects if it fails (a restart re-reads those lines). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.positions.flush();
  }

  private saved(): void {
    if (this.failures === 0) return;
    this.health.ok(POSITIONS_COMPONENT, 'save');
    this.log.info({ failures: this.failures }, 'positions saved again');
    this.failures = 0;
  }

  private failed(err: unknown): void {
    this.failures++;
    const code = this.health.fail(POSITIONS_COMPONENT, 'save', err);
    // Every batch tries again while it fails: one error line per run of failures, the rest debug.
    this.log[this.failures === 1 ? 'error' : 'debug'](
      { code, err: String(err), attempt: this.failures },
      'could not save positions; retrying (nothing is lost: a restart would re-read lines, and the stores skip them)',
    );
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.save();
    }, backoffMs(this.failures));
  }
}
