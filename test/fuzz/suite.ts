import { describe, expect, it } from 'vitest';
import { type FuzzTarget, replayFixtures, runShortPass } from './harness.js';

/**
 * The two tests every fuzz target gets in `npm test`: the short seeded pass (`runs` inputs,
 * fixed seed) claiming `what`, and the replay of its recorded findings.
 */
export function fuzzSuite<T>(title: string, target: FuzzTarget<T>, runs: number, what: string): void {
  describe(`fuzz: ${title}`, () => {
    it(`${what} (${runs} seeded inputs)`, () => {
      runShortPass(target, runs);
    });

    it('replays the recorded findings (test/fixtures/fuzz)', () => {
      expect(replayFixtures(target)).toBeGreaterThanOrEqual(0);
    });
  });
}
