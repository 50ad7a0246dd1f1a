import type { FastifyPluginAsync } from 'fastify';
import { type MetricFamily, renderMetrics } from '../../telemetry/metrics.js';

/** `GET /metrics`: Prometheus text, collected from the running parts at each scrape. */
export const metricsRoute: FastifyPluginAsync<{ collect: () => MetricFamily[] }> = async (app, opts) => {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(opts.collect());
  });
};
