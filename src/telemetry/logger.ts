import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Where secrets could reach a log line: an Authorization header (a request logged with its
 * headers), a bearer token or an `http.auth.tokens` entry (a config logged as an object).
 * pino replaces them before a line is written.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'tokens[*].token',
  '*.tokens[*].token',
];

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
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
