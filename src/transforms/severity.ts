/**
 * Level words and numbers found in log lines, to syslog severity codes (RFC 5424; the codes are
 * `SEVERITY` in src/core/event.ts).
 *
 * Choices, where frameworks disagree:
 * - `fatal`, `panic` (logrus, zap), `dpanic` (zap) map to `crit`, not `emerg`: in an
 *   application's own log they mean "this process is dying", which is what syslog calls
 *   critical; `emerg` means the whole system is unusable, which one container cannot say.
 *   (The query language still reads `level:panic` as `emerg`, the syslog keyword.)
 * - `trace`, `verbose`, `fine`/`finer`/`finest` map to `debug`, the lowest syslog has.
 * - A numeric level is pino/bunyan's (10 trace, 20 debug, 30 info, 40 warn, 50 error,
 *   60 fatal, custom levels by range) when 10 or more, and a syslog code when 0..7 (GELF,
 *   journald's PRIORITY). Python's numeric levels (also multiples of 10, but one step apart
 *   from pino's) are not guessed: Python JSON loggers write the level name.
 * - Logrus's four-letter text forms (`ERRO`, `WARN`, `INFO`, `DEBU`, `TRAC`, `FATA`, `PANI`)
 *   and Serilog's three-letter ones (`ERR`, `WRN`, `INF`, `DBG`, `VRB`, `FTL`) are known.
 */

import { SEVERITY } from '../core/event.js';

const { emerg, alert, crit, err, warning, notice, info, debug } = SEVERITY;

const WORDS = new Map<string, number>([
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
  // pino/bunyan levels written as strings
  ['10', debug],
  ['20', debug],
  ['30', info],
  ['40', warning],
  ['50', err],
  ['60', crit],
]);
for (const [word, code] of [...WORDS]) WORDS.set(word.toUpperCase(), code);

/** A level word, any case (`ERROR`, `Warning`, `info`, `30`), to its code; undefined when unknown. */
export function severityFromWord(word: string): number | undefined {
  const code = WORDS.get(word);
  if (code !== undefined || word.length > 13) return code;
  return WORDS.get(word.toLowerCase());
}

/** A numeric level: pino/bunyan (10 and up), or a syslog code (0..7). */
export function severityFromNumber(level: number): number | undefined {
  if (!Number.isInteger(level)) return undefined;
  if (level >= 0 && level <= 7) return level;
  if (level >= 60) return crit;
  if (level >= 50) return err;
  if (level >= 40) return warning;
  if (level >= 30) return info;
  if (level >= 10) return debug;
  return undefined;
}

/** The value of a `level`-like field of a JSON or logfmt line: a word or a number. */
export function severityFromLevel(value: unknown): number | undefined {
  if (typeof value === 'string') return severityFromWord(value);
  if (typeof value === 'number') return severityFromNumber(value);
  return undefined;
}

/** A syslog PRI value (0..191, `facility * 8 + severity`) to its severity; undefined when out of range. */
export function severityFromPri(pri: number): number | undefined {
  if (!Number.isInteger(pri) || pri < 0 || pri > 191) return undefined;
  return pri & 7;
}

/** A syslog PRI value (0..191) to its facility; undefined when out of range. */
export function facilityFromPri(pri: number): number | undefined {
  if (!Number.isInteger(pri) || pri < 0 || pri > 191) return undefined;
  return pri >> 3;
}
