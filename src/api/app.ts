import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { StatusProvider } from '../core/status.js';
import type { StoreReader } from '../core/store.js';
import type { MetricFamily } from '../telemetry/metrics.js';
import { bearerAuth, type TokenRule } from './auth.js';
import { errorHandler, logServerError, notFoundHandler } from './errors.js';
import { healthzRoute, readyzRoute } from './routes/health.js';
import { histogramRoutes } from './routes/histogram.js';
import { homeRoute } from './routes/home.js';
import { metricsRoute } from './routes/metrics.js';
import { searchRoutes } from './routes/search.js';
import { sourcesRoutes } from './routes/sources.js';

export interface AppDeps {
  reader: StoreReader;
  status: StatusProvider;
  storeReady: () => Promise<boolean>;
  /** What fails now besides the store and Docker (core/health.ts, as `store buffer: ENOSPC on append`), for /readyz. */
  failing?: () => string[];
  /**
   * `false` (default) for silence, `true` or pino options for fastify's logger, or a pino logger
   * (the service's: every 5xx is logged there with its request id).
   */
  logger?: boolean | object;
  /** `http.auth.tokens`: when given, every route but /healthz and /readyz needs one of them as a bearer token. */
  tokens?: readonly TokenRule[];
  /** The clock that relative `from`/`to` (`15m`) count back from; tests fix it. */
  now?: () => Date;
  /** The metrics `GET /metrics` shows; none without it. */
  metrics?: () => MetricFamily[];
}

/** A ready pino logger (fastify's `loggerInstance`) rather than options for fastify to make one. */
function isLoggerInstance(l: unknown): l is FastifyBaseLogger {
  const o = l as { child?: unknown; info?: unknown; level?: unknown } | null;
  return typeof o?.child === 'function' && typeof o.info === 'function' && typeof o.level === 'string';
}

/**
 * Builds the HTTP app (DESIGN.md, "HTTP API") without listening: `main` calls `listen()`,
 * tests call `inject()`.
 *
 * Layout: the probes (`/healthz`, `/readyz`) sit outside the guarded scope, so they answer
 * whatever Authorization header comes with them (container and orchestrator probes cannot send
 * one) and reveal only ready or not and the failing components' names; every other route is
 * registered inside it, so the auth hook is one `addHook('onRequest', ...)` on that scope and
 * cannot be forgotten on a new route. The error handler is set before any route so every
 * scope inherits it.
 *
 * Every request gets an id, sent back as the `request-id` header and written on each log line
 * of the request; a 5xx is logged at error level with it (a probe's 503 at debug: the failing
 * parts log their own errors). Fastify's per-request lines are off: a scrape every few seconds
 * is not news. The logger redacts Authorization headers and tokens (telemetry/logger.ts).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? false;
  const app = Fastify({
    ...(isLoggerInstance(logger)
      ? { loggerInstance: logger }
      : { logger: logger as NonNullable<FastifyServerOptions['logger']> }),
    return503OnClosing: true,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: () => randomUUID(),
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => logServerError(request, reply));

  await app.register(healthzRoute);
  await app.register(readyzRoute, {
    status: deps.status,
    storeReady: deps.storeReady,
    failing: deps.failing ?? (() => []),
  });

  await app.register(async (guarded) => {
    // One hook for everything but the probes, so a new route cannot forget it.
    if (deps.tokens?.length) guarded.addHook('onRequest', bearerAuth(deps.tokens));
    await guarded.register(homeRoute);
    await guarded.register(metricsRoute, { collect: deps.metrics ?? (() => []) });
    await guarded.register(
      async (api) => {
        await api.register(searchRoutes, { reader: deps.reader, now });
        await api.register(histogramRoutes, { reader: deps.reader, now });
        await api.register(sourcesRoutes, { status: deps.status });
      },
      { prefix: '/api/v1' },
    );
  });

  await app.ready();
  return app;
}
