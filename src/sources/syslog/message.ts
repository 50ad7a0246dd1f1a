/** Building a `SyslogMessage`: shared by the two grammars and the entry point. */

import type { SyslogMessage } from './parse.js';

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
