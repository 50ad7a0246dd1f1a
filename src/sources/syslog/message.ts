/** A parsed syslog message, and building one: shared by the two grammars and the entry point. */

export interface SyslogMessage {
  /** Which grammar matched; 'unparsed' = neither did: `message` is then the whole text. */
  format: 'rfc5424' | 'rfc3164' | 'unparsed';
  /** From PRI; when there is no PRI: 1 (user) and 5 (notice), as rsyslog assigns. */
  facility: number;
  severity: number;
  hasPri: boolean;
  /** Canonical RFC 3339 UTC with exactly nine fraction digits, e.g. 2024-05-01T12:00:00.123456789Z; undefined when the message carries no (usable) time. */
  timestamp?: string;
  hostname?: string;
  appname?: string;
  procid?: string;
  msgid?: string;
  /** SD-ID -> param name -> value (escapes \" \\ \] resolved). A repeated param: last wins (see structured-data.ts). */
  structuredData?: Record<string, Record<string, string>>;
  message: string;
  /** For 'unparsed' (and repaired) messages: what did not fit, e.g. "rfc5424: expecting a timestamp at offset 6". */
  problem?: string;
}

/** A message with every key present (one object shape for the engine, the receiver, the sinks). */
export function newMessage(pri: number, hasPri: boolean): SyslogMessage {
  return {
    format: 'rfc3164',
    facility: pri >> 3,
    severity: pri & 7,
    hasPri,
    timestamp: undefined,
    hostname: undefined,
    appname: undefined,
    procid: undefined,
    msgid: undefined,
    structuredData: undefined,
    message: '',
    problem: undefined,
  };
}

/** Appends to `problem`: a repaired message can have more than one. */
export function addProblem(msg: SyslogMessage, problem: string): void {
  msg.problem = msg.problem === undefined ? problem : `${msg.problem}; ${problem}`;
}
