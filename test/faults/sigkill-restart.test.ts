import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedCount, waitForStored } from '../helpers/fault-observe.js';
import { CLEAN, cleanUp, logwharfFor, report, settleProject, verdict } from '../helpers/fault-scenario.js';
import { SequenceProject } from '../helpers/fault-sequence.js';
import type { LogwharfProcess } from '../helpers/logwharf-process.js';
import { removeTempDir } from '../helpers/tmp.js';

/**
 * logwharf crashes (SIGKILL: no flush, no position save) in the middle of ingest, again and
 * again, and is started again each time on the same data_dir. Eight containers print numbered
 * lines all along, also while logwharf is down. Every line must be stored exactly once: the
 * restart resumes from the saved positions, and the lines read again are recognised by id.
 */

const CONTAINERS = 8;
const KILLS = 4;

let seq: SequenceProject;
let lw: LogwharfProcess;
let dir: string;

beforeAll(async () => {
  seq = await SequenceProject.create('sigkill', [{ name: 'seq' }]);
  ({ lw, dir } = await logwharfFor(seq));
});

afterAll(() =>
  cleanUp(
    () => lw?.kill('SIGTERM'),
    () => seq?.down(),
    () => dir && removeTempDir(dir),
  ),
);

describe('logwharf killed with SIGKILL mid-stream and restarted', () => {
  it(`${KILLS} times: every (container, run, seq) stored exactly once`, async () => {
    const startedAt = Date.now();
    await lw.start();
    await seq.compose.up(['--scale', `seq=${CONTAINERS}`]);
    let downMs = 0;
    for (let k = 1; k <= KILLS; k++) {
      // Mid-stream: this run has stored lines and is reading more.
      const before = await storedCount(lw.api, seq.query);
      await waitForStored(() => lw.api, seq.query, before + 150 + k * 50);
      expect(await lw.kill('SIGKILL')).toBeNull();
      const downAt = Date.now();
      // While it is down the containers go on; Docker keeps their lines.
      await seq.waitForMoreSent(100);
      await lw.start();
      downMs += Date.now() - downAt;
    }
    await seq.waitForMoreSent(200);
    await seq.compose.stop();

    const tally = await settleProject(lw, seq);
    report(
      {
        scenario: 'sigkill-restart',
        description: `logwharf SIGKILLed ${KILLS} times mid-stream and restarted; ${CONTAINERS} containers`,
        file: 'test/faults/sigkill-restart.test.ts',
      },
      tally,
      { containers: CONTAINERS, kills: KILLS, down_s: Math.round(downMs / 1000) },
      startedAt,
    );
    expect(verdict(tally), lw.tail()).toEqual(CLEAN);
    expect(tally.sent).toBeGreaterThan(1000);
  });
});
