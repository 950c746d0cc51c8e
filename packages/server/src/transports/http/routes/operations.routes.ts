import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../http-deps.ts';

/**
 * Liveness, readiness (the database answers and the server is not draining) and Prometheus metrics. Readiness also
 * reports the bus (Redis) but does not depend on it: every node shares the one Redis, so failing on it would take the
 * whole cluster out of rotation, while the nodes still store and acknowledge (the database is the truth) and clients
 * catch up when the bus reconnects.
 */
export function registerOperationsRoutes(app: FastifyInstance, { database, metrics, lifecycle, bus }: HttpDeps): void {
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
    if (bus?.connected) checks.bus = bus.connected() ? 'ok' : 'reconnecting';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
