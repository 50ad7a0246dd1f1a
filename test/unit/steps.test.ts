import { describe, expect, it } from 'vitest';
import { Steps } from '../../src/core/steps.js';

/** Start-up steps and their undo (core/steps.ts), the mechanism behind a failed start and a stop. */

function recorder() {
  const events: string[] = [];
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const log = {
    debug: (obj: object, msg: string) =>
      lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    error: (obj: object, msg: string) =>
      lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
  };
  return { events, lines, steps: new Steps(log) };
}

describe('Steps', () => {
  it('undoes the steps done, last first, with what each start returned', async () => {
    const { events, steps } = recorder();
    await steps.run(
      'lock',
      () => 'L',
      (v) => events.push(`undo lock ${v}`),
    );
    await steps.run(
      'store',
      async () => 'S',
      async (v) => {
        events.push(`undo store ${v}`);
      },
    );
    await steps.run(
      'http',
      () => 'H',
      (v) => events.push(`undo http ${v}`),
    );
    await steps.unwind();
    expect(events).toEqual(['undo http H', 'undo store S', 'undo lock L']);
  });

  it('a failing step undoes the ones before it in reverse order and rethrows its own error', async () => {
    const { events, steps, lines } = recorder();
    const failure = new Error('EADDRINUSE');
    await expect(
      steps.all(async (s) => {
        await s.run(
          'lock',
          () => events.push('lock'),
          () => events.push('undo lock'),
        );
        await s.run(
          'sources',
          () => events.push('sources'),
          () => events.push('undo sources'),
        );
        await s.run(
          'http',
          () => {
            throw failure;
          },
          () => events.push('undo http'),
        );
        events.push('never');
      }),
    ).rejects.toBe(failure);
    expect(events).toEqual(['lock', 'sources', 'undo sources', 'undo lock']);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({
      msg: 'start-up failed; undoing the steps before it',
      obj: { undoing: ['sources', 'lock'] },
    });
  });

  it('runs every undo even when one fails, then rejects with the first failure', async () => {
    const { events, steps, lines } = recorder();
    await steps.run(
      'a',
      () => 1,
      () => events.push('undo a'),
    );
    await steps.run(
      'b',
      () => 2,
      () => {
        throw new Error('b broke');
      },
    );
    await steps.run(
      'c',
      () => 3,
      async () => {
        throw new Error('c broke');
      },
    );
    await expect(steps.unwind()).rejects.toThrow('c broke');
    expect(events).toEqual(['undo a']);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.obj.step)).toEqual(['c', 'b']);
  });

  it('undoes once however often it is asked, and refuses new steps after', async () => {
    const { events, steps } = recorder();
    await steps.run(
      'a',
      () => 1,
      () => events.push('undo a'),
    );
    await Promise.all([steps.unwind(), steps.unwind()]);
    await steps.unwind();
    expect(events).toEqual(['undo a']);
    await expect(
      steps.run(
        'late',
        () => 1,
        () => undefined,
      ),
    ).rejects.toThrow(/after the steps were undone/);
  });

  it('keeps the start-up error when an undo fails too', async () => {
    const { steps } = recorder();
    const failure = new Error('the real problem');
    await expect(
      steps.all(async (s) => {
        await s.run(
          'a',
          () => 1,
          () => {
            throw new Error('undo failed');
          },
        );
        throw failure;
      }),
    ).rejects.toBe(failure);
  });
});
