/**
 * The one table of level words, for ingest (a `level` key, a leading `ERROR`) and for the query
 * language (`level:panic`), so that a word found in a line is found again by the same word
 * (DESIGN.md, "Query language": one table for ingest and queries).
 *
 * Choices, where frameworks disagree:
 * - `fatal`, `panic` (logrus, zap), `dpanic` (zap) map to `crit`, not `emerg`: in an
 *   application's own log they mean "this process is dying", which is what syslog calls
 *   critical; `emerg` means the whole system is unusable, which one container cannot say.
 * - `trace`, `verbose`, `fine`/`finer`/`finest` map to `debug`, the lowest syslog has.
 * - Logrus's four-letter text forms (`ERRO`, `WARN`, `INFO`, `DEBU`, `TRAC`, `FATA`, `PANI`)
 *   and Serilog's three-letter ones (`ERR`, `WRN`, `INF`, `DBG`, `VRB`, `FTL`) are known.
 * Numbers are not words: a numeric level (pino's 30, a syslog code 0..7) is read by whoever
 * knows which numbering it is (transforms/severity.ts, the query parser).
 */

import { SEVERITY } from './event.js';

const { emerg, alert, crit, err, warning, notice, info, debug } = SEVERITY;

/** Lower-case level words and their syslog severity codes (RFC 5424 section 6.2.1). */
export const SEVERITY_WORDS: ReadonlyMap<string, number> = new Map<string, number>([
  ['emerg', emerg],
  ['emergency', emerg],
  ['alert', alert],
  ['crit', crit],
  ['critical', crit],
  ['fatal', crit],
  ['fata', crit],
  ['ftl', crit],
  ['panic', crit],
  ['pani', crit],
  ['dpanic', crit],
  ['err', err],
  ['error', err],
  ['eror', err],
  ['erro', err],
  ['severe', err],
  ['warn', warning],
  ['warning', warning],
  ['wrn', warning],
  ['notice', notice],
  ['info', info],
  ['information', info],
  ['informational', info],
  ['inf', info],
  ['debug', debug],
  ['debu', debug],
  ['dbg', debug],
  ['trace', debug],
  ['trac', debug],
  ['verbose', debug],
  ['vrb', debug],
  ['fine', debug],
  ['finer', debug],
  ['finest', debug],
]);

/** The longest word in the table: anything longer is not a level word (no lower-casing needed). */
const LONGEST = Math.max(...[...SEVERITY_WORDS.keys()].map((w) => w.length));

/** A level word in any case (`ERROR`, `Warning`, `panic`) to its code; undefined when unknown. */
export function severityOfWord(word: string): number | undefined {
  if (word.length > LONGEST) return undefined;
  return SEVERITY_WORDS.get(word) ?? SEVERITY_WORDS.get(word.toLowerCase());
}
