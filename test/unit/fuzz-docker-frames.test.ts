import { fuzzSuite } from '../fuzz/suite.js';
import { dockerFrames } from '../fuzz/targets/docker-frames.js';

/** The short seeded fuzz pass of the Docker log stream decoder (the long one: `npm run fuzz`). */

fuzzSuite(
  'Docker log stream decoder',
  dockerFrames,
  1500,
  'gives back engine streams exactly and survives mutated ones, in any chunking',
);
