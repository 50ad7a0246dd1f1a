import type { FastifyInstance } from 'fastify';
import { splitHostPort } from '../config/semantic.js';
import { listenError } from '../core/listen-error.js';

/**
 * Listens on `http.listen` (validated at load time, so it always splits); resolves with the
 * address listened on. A bind failure (the port in use) is LOGWHARF_ERR_LISTEN.
 */
export async function listenApi(app: FastifyInstance, listen: string): Promise<string> {
  const { host, port } = splitHostPort(listen)!;
  try {
    return await app.listen({ host, port });
  } catch (err) {
    throw listenError('http.listen', host, port, err as NodeJS.ErrnoException);
  }
}
