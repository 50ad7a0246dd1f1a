import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { StatusProvider } from '../core/status.js';
import type { StoreReader } from '../core/store.js';
import type { MetricFamily } from '../telemetry/metrics.js';
import { bearerAuth, type TokenRule } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
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
  /** `false` (default) for silence, `true` or pino options for fastify's logger, or a pino logger. */
  logger?: boolean | object;
  /** `http.auth.tokens`: when given, every route but /healthz needs one of them as a bearer token. */
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
 * Layout: `/healthz` sits outside the guarded scope; every other route is registered inside
 * it, so the auth hook is one `addHook('onRequest', ...)` on that scope and cannot be
 * forgotten on a new route. The error handler is set before any route so every
 * scope inherits it.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? false;
  const app = Fastify({
    ...(isLoggerInstance(logger)
      ? { loggerInstance: logger }
      : { logger: logger as NonNullable<FastifyServerOptions['logger']> }),
    return503OnClosing: true,
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(healthzRoute);

  await app.register(async (guarded) => {
    // One hook for everything but /healthz, so a new route cannot forget it.
    if (deps.tokens?.length) guarded.addHook('onRequest', bearerAuth(deps.tokens));
    await guarded.register(readyzRoute, { status: deps.status, storeReady: deps.storeReady });
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
