/**
 * Start-up as a sequence of steps, each with its undo, and stopping as undoing them: the one
 * mechanism behind a failed start and a stop, so neither can forget a part or close parts in
 * the wrong order. A step is recorded only once it succeeded; `unwind()` undoes the recorded
 * steps last first (the data_dir lock, taken first, is released last), running every undo even
 * when one fails.
 */

interface StepsLog {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class Steps {
  private readonly done: Array<{ name: string; undo: () => unknown }> = [];
  private unwinding: Promise<void> | null = null;

  constructor(private readonly log: StepsLog) {}

  /** Runs `start`; once it succeeded, `undo(its result)` is what reverses it. */
  async run<T>(name: string, start: () => T | Promise<T>, undo: (value: T) => unknown): Promise<T> {
    if (this.unwinding) throw new Error(`start-up step '${name}' after the steps were undone`);
    const value = await start();
    this.done.push({ name, undo: () => undo(value) });
    return value;
  }

  /**
   * Undoes every step done, last first. Resolves once all ran; rejects with the first failure
   * after all ran (each failure is logged with its step). Idempotent: later calls share the first.
   */
  unwind(): Promise<void> {
    this.unwinding ??= (async () => {
      let first: { error: unknown } | null = null;
      for (const { name, undo } of this.done.splice(0).reverse()) {
        try {
          await undo();
          this.log.debug({ step: name }, 'undone');
        } catch (error) {
          this.log.error({ step: name, err: String(error) }, 'could not undo a start-up step');
          first ??= { error };
        }
      }
      if (first) throw first.error;
    })();
    return this.unwinding;
  }

  /**
   * Runs `body` (the steps of a start-up); if it throws, undoes what it did and rethrows its
   * error (an undo's failure is logged, the start-up's error is the one that matters).
   */
  async all<T>(body: (steps: Steps) => Promise<T>): Promise<T> {
    try {
      return await body(this);
    } catch (err) {
      this.log.error(
        { err: String(err), undoing: this.done.map((s) => s.name).reverse() },
        'start-up failed; undoing the steps before it',
      );
      await this.unwind().catch(() => undefined);
      throw err;
    }
  }
}
