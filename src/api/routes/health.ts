import type { FastifyPluginAsync } from 'fastify';
import type { StatusProvider } from '../../core/status.js';

export interface ReadyzOptions {
  status: StatusProvider;
  storeReady: () => Promise<boolean>;
  /** Other parts failing now, each as `component: reason` (`store buffer: ENOSPC on append`). */
  failing: () => string[];
}

/** Route config of the probes: no token needed, and their 503 is logged at debug, not error (app.ts). */
export const PROBE = { probe: true } as const;

/** `GET /healthz`: liveness. It answers while the process serves, and needs no token. */
export const healthzRoute: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { config: PROBE }, async () => ({ status: 'ok' }));
};

/**
 * `GET /readyz`: readiness, for a compose healthcheck, an orchestrator's probe or a load
 * balancer; like /healthz it needs no token. 200 `{"status":"ready"}`, or 503
 * `{"status":"not_ready","failing":["store: not ready","store buffer: ENOSPC on append"]}`:
 * component names and error codes only, never a path, a message or data.
 *
 * Every check runs every time (no caching), and a check that throws counts as failing rather
 * than a 500.
 */
export const readyzRoute: FastifyPluginAsync<ReadyzOptions> = async (app, opts) => {
  app.get('/readyz', { config: PROBE }, async (request, reply) => {
    const failing: string[] = [];
    const store = await opts.storeReady().then(
      (ok) => ok === true,
      (err: unknown) => {
        request.log.warn({ err }, 'store readiness check failed');
        return false;
      },
    );
    if (!store) failing.push('store: not ready');
    try {
      if (opts.status.ready() !== true) failing.push('docker: engine unreachable');
    } catch (err) {
      request.log.warn({ err }, 'source readiness check failed');
      failing.push('docker: check failed');
    }
    try {
      failing.push(...opts.failing());
    } catch (err) {
      request.log.warn({ err }, 'health check failed');
      failing.push('health: check failed');
    }
    if (failing.length === 0) return { status: 'ready' };
    return reply.code(503).send({ status: 'not_ready', failing });
  });
};
