import { describe, expect, it } from 'vitest';
import { replayFixtures, runShortPass } from '../fuzz/harness.js';
import { query } from '../fuzz/targets/query.js';

/** The short seeded fuzz pass of the query language (the long one: `npm run fuzz`). */

describe('fuzz: query parser and translators', () => {
  it('parse or fail with a position, and translate to SQL that SQLite runs and to plain ES JSON', () => {
    runShortPass(query, 4000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(query)).toBeGreaterThanOrEqual(0);
  });
});
