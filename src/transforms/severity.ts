/**
 * Levels found in log lines, to syslog severity codes (RFC 5424; the codes are `SEVERITY` in
 * src/core/event.ts). Level words come from the one table in src/core/severity-words.ts,
 * shared with the query language.
 *
 * A numeric level is pino/bunyan's (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal,
 * custom levels by range) when 10 or more, and a syslog code when 0..7 (GELF, journald's
 * PRIORITY); pino's numbers also arrive as strings (`"level":"30"`). Python's numeric levels
 * (also multiples of 10, but one step apart from pino's) are not guessed: Python JSON loggers
 * write the level name.
 */

import { SEVERITY } from '../core/event.js';
import { severityOfWord } from '../core/severity-words.js';

const { crit, err, warning, info, debug } = SEVERITY;

/** A level word, any case (`ERROR`, `Warning`, `info`), or pino's number as text (`30`); undefined when unknown. */
export function severityFromWord(word: string): number | undefined {
  const code = severityOfWord(word);
  if (code !== undefined) return code;
  // pino/bunyan levels written as strings: only their named steps, never a syslog digit.
  return /^[1-6]0$/.test(word) ? severityFromNumber(Number(word)) : undefined;
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
