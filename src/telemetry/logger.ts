import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * logwharf's own log: JSON lines on stdout, as a container's log should be. Levels are written
 * as names (`"level":"info"`), not pino's numbers (30): operators read them, and so does
 * every log collector's level mapping (logwharf's own included).
 */
export function createLogger(
  level = process.env.LOGWHARF_LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { app: 'logwharf' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
