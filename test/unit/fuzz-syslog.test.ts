import { describe, expect, it } from 'vitest';
import { replayFixtures, runShortPass } from '../fuzz/harness.js';
import { syslogFraming } from '../fuzz/targets/syslog-framing.js';
import { syslogParse } from '../fuzz/targets/syslog-parse.js';

/** The short seeded fuzz pass of the syslog receiver's parsers (the long one: `npm run fuzz`). */

describe('fuzz: RFC 6587 framing', () => {
  it('frames random and mutated streams in any chunking like the reference model, within bounded memory', () => {
    runShortPass(syslogFraming, 3000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(syslogFraming)).toBeGreaterThanOrEqual(0);
  });
});

describe('fuzz: syslog message parser', () => {
  it('never throws nor drops text on random and mutated messages', () => {
    runShortPass(syslogParse, 5000);
  });

  it('replays the recorded findings', () => {
    expect(replayFixtures(syslogParse)).toBeGreaterThanOrEqual(0);
  });
});
