import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStored } from '../helpers/fault-observe.js';
import { CLEAN, cleanUp, logwharfFor, report, settleProject, verdict } from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { waitFor } from '../helpers/poll.js';
import { removeTempDir } from '../helpers/tmp.js';

/**
 * Every step of a compose project's life, one after the other, while its containers print
 * numbered lines and logwharf follows them: up, up --scale (up and down), stop, start,
 * restart, pause and unpause, kill, rm, up --force-recreate and down. Containers come and go
 * (scale-down and rm remove them, force-recreate replaces them), are restarted under the same
 * id (a new run each time) and killed mid-line. Every line any of them sent is stored once.
 */

let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;

beforeAll(async () => {
  seq = await SequenceProject.create('lifecycle', [{ name: 'seq' }, { name: 'side', burst: 3 }]);
  ({ lw, dir } = await logwharfFor(seq));
});

afterAll(() =>
  cleanUp(
    () => lw?.kill('SIGTERM'),
    () => seq?.down(),
    () => dir && removeTempDir(dir),
  ),
);

describe('the compose lifecycle during ingest', () => {
  it('up, scale up and down, stop, start, restart, pause, kill, rm, force-recreate, down: nothing lost or doubled', async () => {
    const startedAt = Date.now();
    const c = seq.compose;
    const steps: string[] = [];
    /** Runs one step, then lets the running containers print `more` lines before the next. */
    const step = async (name: string, action: () => Promise<unknown>, more = 100) => {
      await action();
      steps.push(name);
      if (more > 0) await seq.waitForMoreSent(more);
    };
    const running = async () => (await c.containers()).filter((x) => x.State === 'running').length;

    await lw.start();
    await step('up', () => c.up(['--scale', 'seq=2']));
    await waitForStored(() => lw.api, seq.query, 100);
    await step('up --scale seq=5', () => c.scale('seq', 5));
    await step('up --scale seq=2', () => c.scale('seq', 2));
    await step('stop', () => c.stop(), 0);
    await step('start', () => c.start());
    await step('restart', () => c.run(['restart', '-t', '1']));
    await step('pause', () => c.run(['pause']), 0);
    expect(await running()).toBe(0);
    await step('unpause', () => c.run(['unpause']));
    await step('kill', () => c.run(['kill']), 0);
    await step('rm', () => c.run(['rm', '-f']), 0);
    expect(await c.containers()).toEqual([]);
    await step('up --force-recreate (from nothing)', () =>
      c.run(['up', '-d', '--force-recreate', '--scale', 'seq=3']),
    );
    await step('up --force-recreate (replacing running)', () =>
      c.run(['up', '-d', '--force-recreate', '--scale', 'seq=3']),
    );
    await step('down', () => seq.composeDown(['-t', '1']), 0);
    await waitFor(async () => (await c.containers()).length === 0, {
      timeoutMs: 30_000,
      what: 'down to remove every container',
    });

    const tally = await settleProject(lw, seq);
    const sent = await seq.sent();
    report(
      {
        scenario: 'compose-lifecycle',
        description:
          'up, scale up/down, stop, start, restart, pause/unpause, kill, rm, force-recreate, down during ingest',
        file: 'test/faults/compose-lifecycle.test.ts',
      },
      tally,
      {
        steps: steps.length,
        containers: new Set(sent.map((l) => l.host)).size,
        runs: new Set(sent.map((l) => `${l.host}/${l.run}`)).size,
      },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
  });
});
