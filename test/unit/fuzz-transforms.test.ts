import { describe, expect, it } from 'vitest';
import { replayFixtures, runShortPass } from '../fuzz/harness.js';
import { body } from '../fuzz/targets/body.js';
import { transformChain } from '../fuzz/targets/transform-chain.js';

/** The short seeded fuzz pass of the transforms (the long one: `npm run fuzz`). */

describe('fuzz: body parsers (JSON, logfmt, PRI, level word, access log)', () => {
  it('never throw and find only storable, in-range values in random and mutated lines', () => {
    runShortPass(body, 4000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(body)).toBeGreaterThanOrEqual(0);
  });
});

describe('fuzz: the transform chain on one event', () => {
  it('keeps the raw line in event.original whenever the message differs, and leaves a storable event', () => {
    runShortPass(transformChain, 3000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(transformChain)).toBeGreaterThanOrEqual(0);
  });
});
