import { fuzzSuite } from '../fuzz/suite.js';
import { syslogFraming } from '../fuzz/targets/syslog-framing.js';
import { syslogParse } from '../fuzz/targets/syslog-parse.js';

/** The short seeded fuzz pass of the syslog receiver's parsers (the long one: `npm run fuzz`). */

fuzzSuite(
  'RFC 6587 framing',
  syslogFraming,
  3000,
  'frames random and mutated streams in any chunking like the reference model, within bounded memory',
);

fuzzSuite(
  'syslog message parser',
  syslogParse,
  5000,
  'never throws nor drops text on random and mutated messages',
);
