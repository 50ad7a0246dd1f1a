/**
 * One catalogue of coded errors. Every code is listed in docs/errors.md (a unit test checks
 * that), so a user who sees `LOGWHARF_ERR_CONFIG` in a log can look up what to do.
 */
export const ERROR_CODES = {
  LOGWHARF_ERR_CONFIG: 'the configuration is invalid',
  LOGWHARF_ERR_QUERY: 'a query does not parse or names an unknown field',
  LOGWHARF_ERR_DOCKER_UNREACHABLE: 'the Docker engine does not answer',
  LOGWHARF_ERR_STORE: 'the store cannot be opened or written',
  LOGWHARF_ERR_USAGE: 'the command line is wrong',
  LOGWHARF_ERR_SERVER: 'a logwharf server does not answer or answered with an error',
  LOGWHARF_ERR_LISTEN: 'a listener (syslog UDP/TCP/TLS, HTTP) cannot bind its address',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LogwharfError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogwharfError';
    this.code = code;
  }
}
