import { readFileSync } from 'node:fs';
import { LogwharfError } from './errors.js';

/**
 * Reads a PEM file named in the config, at start-up: a wrong path must stop start-up with the
 * key and the path, not surface later as a connection that never works. `key` names the config
 * key in the message (`sources.syslog.tls.cert`, `forward.syslog 10.0.0.5:6514: tls.ca`).
 */
export function readPemFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new LogwharfError(
      'LOGWHARF_ERR_CONFIG',
      `${key}: cannot read ${path} (${code}) — is the path right and readable by logwharf?`,
      { cause: err },
    );
  }
}
