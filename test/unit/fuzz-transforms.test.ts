import { fuzzSuite } from '../fuzz/suite.js';
import { body } from '../fuzz/targets/body.js';
import { transformChain } from '../fuzz/targets/transform-chain.js';

/** The short seeded fuzz pass of the transforms (the long one: `npm run fuzz`). */

fuzzSuite(
  'body parsers (JSON, logfmt, PRI, level word, access log)',
  body,
  4000,
  'never throw and find only storable, in-range values in random and mutated lines',
);

fuzzSuite(
  'the transform chain on one event',
  transformChain,
  3000,
  'keeps the raw line in event.original whenever the message differs, and leaves a storable event',
);
