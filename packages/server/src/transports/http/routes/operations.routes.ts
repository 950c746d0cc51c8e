import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../http-deps.ts';

/** Liveness, readiness (the database answers and the server is not draining) and Prometheus metrics. */
export function registerOperationsRoutes(app: FastifyInstance, { database, metrics, lifecycle }: HttpDeps): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ok = !lifecycle.draining;
    checks.server = lifecycle.draining ? 'draining' : 'ok';
    try {
      await Promise.race([database.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000))]);
      checks.database = 'ok';
    } catch (error) {
      ok = false;
      checks.database = error instanceof Error ? error.message : 'unavailable';
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
