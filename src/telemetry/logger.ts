import pino, { type Logger } from 'pino';

/** logwharf's own log: JSON lines on stdout, as a container's log should be. */
export function createLogger(level = process.env.LOGWHARF_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'logwharf' }, timestamp: pino.stdTimeFunctions.isoTime });
}
