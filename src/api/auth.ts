import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface TokenRule {
  token: string;
  role: 'read' | 'admin';
}

/**
 * `http.auth.tokens` (DESIGN.md, "HTTP API"): every guarded request needs
 * `Authorization: Bearer <token>` naming a configured token. Every route so far only reads,
 * which both roles may do; the role is kept on the request for admin-only routes later.
 */
export function bearerAuth(tokens: readonly TokenRule[]) {
  const known = tokens.map((t) => ({ ...t, bytes: Buffer.from(t.token) }));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const presented = match?.[1] ? Buffer.from(match[1]) : null;
    // Constant-time comparison, so the answer time does not leak how much of a token matched.
    const rule = presented
      ? known.find((k) => k.bytes.length === presented.length && timingSafeEqual(k.bytes, presented))
      : undefined;
    if (!rule) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="logwharf"')
        .send({
          error: 'unauthorized',
          message: presented
            ? 'the bearer token is not one of http.auth.tokens'
            : 'this logwharf needs Authorization: Bearer <token> (see http.auth.tokens)',
        });
    }
  };
}
