import fs from 'node:fs/promises';
import { LogwharfError } from '../core/errors.js';

/**
 * The bearer token `logwharf query --server` sends to a logwharf with `http.auth.tokens`: read
 * from `--token-file FILE`, else from `$LOGWHARF_TOKEN`. There is no `--token VALUE` on purpose:
 * a value on the command line ends up in shell history and in every `ps` listing.
 *
 * The token is never part of a message: errors name where it came from (`from`), not what it is.
 */

export const TOKEN_ENV = 'LOGWHARF_TOKEN';

export interface ServerToken {
  token: string;
  /** Where it came from, for messages: `--token-file /run/secrets/ops` or `LOGWHARF_TOKEN`. */
  from: string;
}

/** The token to send, or null when none is configured. Throws LOGWHARF_ERR_USAGE for an unusable one. */
export async function loadServerToken(opts: {
  tokenFile?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<ServerToken | null> {
  if (opts.tokenFile !== undefined) {
    const from = `--token-file ${opts.tokenFile}`;
    let text: string;
    try {
      text = await fs.readFile(opts.tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : (err as Error).message;
      throw new LogwharfError('LOGWHARF_ERR_USAGE', `${from}: cannot read the token (${why})`, {
        cause: err,
      });
    }
    return { token: checked(text, from, 'the file is empty; write the token into it'), from };
  }
  const value = opts.env[TOKEN_ENV];
  if (value === undefined) return null;
  return {
    token: checked(value, TOKEN_ENV, 'it is set but empty; set it to the token, or unset it'),
    from: TOKEN_ENV,
  };
}

/** The token without surrounding whitespace (a file's trailing newline); refuses an empty one or one with spaces inside. */
function checked(raw: string, from: string, ifEmpty: string): string {
  const token = raw.trim();
  if (token === '') throw new LogwharfError('LOGWHARF_ERR_USAGE', `${from}: ${ifEmpty}`);
  // A bearer token is one word; whitespace or control characters inside mean a wrong file (a
  // config file, a second line) and could not be sent in a header anyway.
  if (/[\s\x00-\x1f\x7f]/.test(token)) {
    throw new LogwharfError(
      'LOGWHARF_ERR_USAGE',
      `${from}: expected one token on one line, found whitespace or control characters inside it`,
    );
  }
  return token;
}

/** The request headers that carry the token (none without one). */
export function authorizationHeader(auth: ServerToken | null): Record<string, string> {
  return auth ? { authorization: `Bearer ${auth.token}` } : {};
}

/** What to tell the user when the server answers 401 or 403: what went wrong and what to set. */
export function authRefusal(origin: string, status: 401 | 403, auth: ServerToken | null): string {
  if (!auth) {
    return `${origin} needs a token (HTTP ${status}): set ${TOKEN_ENV} or pass --token-file FILE with one of its http.auth.tokens`;
  }
  if (status === 401) {
    return `${origin} did not accept the token from ${auth.from} (HTTP 401): it must be one of the server's http.auth.tokens`;
  }
  return `${origin} refused the token from ${auth.from} (HTTP 403): its role may not search; use a token with role read or admin`;
}
