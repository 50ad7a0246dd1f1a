import { LogwharfError } from './errors.js';

/**
 * The error of a listener that cannot bind its address (the HTTP API, a syslog listener):
 * LOGWHARF_ERR_LISTEN naming the config key, the address, the errno code and what to do.
 * `inUse` is the hint for EADDRINUSE, which differs by who usually holds the port.
 */
export function listenError(
  key: string,
  host: string,
  port: number,
  err: NodeJS.ErrnoException,
  inUse = 'another program already listens there: pick another port or stop it',
): LogwharfError {
  const hint =
    err.code === 'EADDRINUSE'
      ? inUse
      : err.code === 'EACCES'
        ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a higher port'
        : err.code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : 'check the address';
  return new LogwharfError(
    'LOGWHARF_ERR_LISTEN',
    `${key}: cannot listen on ${host}:${port} (${err.code ?? err.message}) — ${hint}`,
    { cause: err },
  );
}
