import { describe, expect, it } from 'vitest';
import { replayFixtures, runShortPass } from '../fuzz/harness.js';
import { dockerFrames } from '../fuzz/targets/docker-frames.js';

/** The short seeded fuzz pass of the Docker log stream decoder (the long one: `npm run fuzz`). */

describe('fuzz: Docker log stream decoder', () => {
  it('gives back engine streams exactly and survives mutated ones, in any chunking', () => {
    runShortPass(dockerFrames, 2000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(dockerFrames)).toBeGreaterThanOrEqual(0);
  });
});
