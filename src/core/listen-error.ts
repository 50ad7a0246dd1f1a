import { LogwharfError } from './errors.js';

/** What to do, by errno, when a listener cannot bind; a caller may say it better for its port. */
export type ListenHints = Partial<Record<'EADDRINUSE' | 'EACCES' | 'EADDRNOTAVAIL', string>>;

const HINTS: Required<ListenHints> = {
  EADDRINUSE: 'another program already listens there: pick another port or stop it',
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a higher port',
  EADDRNOTAVAIL: 'this machine has no such address',
};

/**
 * The error of a listener that cannot bind its address (the HTTP API, a syslog listener):
 * LOGWHARF_ERR_LISTEN naming the config key, the address, the errno code and what to do.
 */
export function listenError(
  key: string,
  host: string,
  port: number,
  err: NodeJS.ErrnoException,
  hints: ListenHints = {},
): LogwharfError {
  const code = err.code as keyof ListenHints | undefined;
  const hint = (code && (hints[code] ?? HINTS[code])) || 'check the address';
  return new LogwharfError(
    'LOGWHARF_ERR_LISTEN',
    `${key}: cannot listen on ${host}:${port} (${err.code ?? err.message}) — ${hint}`,
    { cause: err },
  );
}
