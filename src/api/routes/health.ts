import type { FastifyPluginAsync } from 'fastify';
import type { StatusProvider } from '../../core/status.js';

export interface ReadyzOptions {
  status: StatusProvider;
  storeReady: () => Promise<boolean>;
}

/** `GET /healthz`: liveness. It answers while the process serves, and needs no token. */
export const healthzRoute: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
};

/**
 * `GET /readyz`: readiness, for a compose healthcheck or a load balancer. Both checks run
 * every time (no caching), and a check that throws counts as not ready rather than a 500.
 */
export const readyzRoute: FastifyPluginAsync<ReadyzOptions> = async (app, opts) => {
  app.get('/readyz', async (request, reply) => {
    const store = await opts.storeReady().then(
      (ok) => ok === true,
      (err: unknown) => {
        request.log.warn({ err }, 'store readiness check failed');
        return false;
      },
    );
    let docker: boolean;
    try {
      docker = opts.status.ready() === true;
    } catch (err) {
      request.log.warn({ err }, 'source readiness check failed');
      docker = false;
    }
    if (store && docker) return { status: 'ready' };
    return reply.code(503).send({ status: 'not_ready', checks: { store, docker } });
  });
};
