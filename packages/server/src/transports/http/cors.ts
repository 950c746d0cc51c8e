import type { FastifyInstance } from 'fastify';

/**
 * Cross-origin access to the REST API. The widget runs on brands' sites and calls Parley from their origin. Every
 * credential is a bearer token the caller holds (no cookies), so allowing any origin exposes nothing a page could
 * not already do with the token; preflights are answered here and cached for ten minutes.
 */
export function registerCors(app: FastifyInstance, pathPrefix: string): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(pathPrefix) || request.headers.origin === undefined) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining');
  });
  app.options(`${pathPrefix}*`, async (request, reply) => {
    reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
    reply.header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? 'authorization, content-type, x-request-id');
    reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  });
}
