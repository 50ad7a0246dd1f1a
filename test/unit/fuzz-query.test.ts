import { fuzzSuite } from '../fuzz/suite.js';
import { query } from '../fuzz/targets/query.js';

/** The short seeded fuzz pass of the query language (the long one: `npm run fuzz`). */

fuzzSuite(
  'query parser and translators',
  query,
  4000,
  'parse or fail with a position, and translate to SQL that SQLite runs and to plain ES JSON',
);
