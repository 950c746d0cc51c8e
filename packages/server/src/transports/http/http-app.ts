import multipart from '@fastify/multipart';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { AppError } from '../../core/app-error.ts';
import type { Principal } from '../../core/principal.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { defineRoute } from './define-route.ts';
import { createPublicRateLimiter } from './public-rate-limit.ts';
import { createApiKeyRateLimiter } from './rate-limit.ts';
import { registerApiDocsRoutes } from './routes/api-docs.routes.ts';
import { registerOAuthRoutes } from './routes/oauth.routes.ts';
import { registerChannelRoutes } from './routes/channels.routes.ts';
import { registerChannelWebhookRoutes } from '../provider-webhooks/channel-webhooks.routes.ts';
import { toErrorBody } from './errors.ts';
import type { HttpDeps, Route } from './http-deps.ts';
import { registerAccountRoutes } from './routes/accounts.routes.ts';
import { registerAuthRoutes } from './routes/auth.routes.ts';
import { registerAnalyticsRoutes } from './routes/analytics.routes.ts';
import { registerBotRoutes } from './routes/bots.routes.ts';
import { registerCannedResponseRoutes } from './routes/canned-responses.routes.ts';
import { registerEngagementRoutes } from './routes/engagement.routes.ts';
import { registerWebhookRoutes } from './routes/webhooks.routes.ts';
import { registerConsoleRoutes } from './routes/console.routes.ts';
import { registerConsumerRoutes } from './routes/consumers.routes.ts';
import { registerConversationRoutes } from './routes/conversations.routes.ts';
import { registerOperationsRoutes } from './routes/operations.routes.ts';
import { registerRoutingRoutes } from './routes/routing.routes.ts';
import { registerSearchRoutes } from './routes/search.routes.ts';
import { registerWebWidgetRoutes } from './routes/web-widget.routes.ts';
import { registerWidgetRoutes } from './routes/widget.routes.ts';
import { registerFlowPreviewRoutes } from './routes/flow-preview.routes.ts';
import { registerCors } from './cors.ts';

export interface HttpAppOptions {
  logger: Logger;
  maxBodyBytes: number;
  /** Requests per minute per client address on the public endpoints; 0 turns the limit off. */
  publicRatePerMinute?: number;
  /** Requests per minute per API key without a limit of its own; 0 turns that default off. */
  apiKeyRatePerMinute?: number;
  maxUploadBytes: number;
  maxWsFrameBytes: number;
  /** PUBLIC_URL: the URL providers call (and sign) when Parley is behind a proxy. */
  publicUrl?: string | undefined;
}

/** Reads `Authorization: Bearer <token or API key>`; the principal is memoised on the request. */
export function bearerOf(request: { headers: Record<string, string | string[] | undefined> }): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}

/**
 * The Fastify application: HTTP routes of the contract, the WebSocket endpoint (registered by the gateway), errors
 * in one shape, request metrics. Built apart from listening, so tests use `inject()`.
 */
export async function createHttpApp(deps: HttpDeps, options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    trustProxy: true,
  });

  // The file store enforces maxUploadBytes and answers PAYLOAD_TOO_LARGE. Busboy's own limit sits one byte above it:
  // at the limit busboy silently truncates the stream (it does not fail it), which would store a cut-off file.
  await app.register(multipart, { limits: { fileSize: options.maxUploadBytes + 1, files: 1, fields: 5, parts: 6 } });
  await app.register(websocket, { options: { maxPayload: options.maxWsFrameBytes } });

  const principals = new WeakMap<FastifyRequest, Principal | undefined>();
  const authenticate = async (request: FastifyRequest): Promise<Principal | undefined> => {
    if (principals.has(request)) return principals.get(request);
    const credential = bearerOf(request);
    const principal = credential ? await deps.services.auth.authenticate(credential) : undefined;
    principals.set(request, principal);
    return principal;
  };

  app.setErrorHandler((error, request, reply) => {
    const { status, body, internal } = toErrorBody(error, request.id);
    if (internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, status }, 'request rejected');
    if (body.error.code === 'SERVICE_UNAVAILABLE') reply.header('retry-after', '2');
    if (body.error.code === 'RATE_LIMITED') reply.header('retry-after', String(Math.max(1, Math.ceil(Number(body.error.details?.retryAfterMs ?? 1000) / 1000))));
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toErrorBody(new AppError('ROUTE_NOT_FOUND', `No endpoint ${request.method} ${request.url.split('?')[0]}`), request.id);
    return reply.code(status).send(body);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequestDuration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  registerCors(app, '/v1/');
  const limitPublic = createPublicRateLimiter(deps.rateLimits, options.publicRatePerMinute ?? 0);
  const limitApiKey = createApiKeyRateLimiter(deps.rateLimits, options.apiKeyRatePerMinute ?? 0);
  const route: Route = (endpoint, handler) => defineRoute(app, authenticate, endpoint, handler, limitPublic, limitApiKey);
  registerOperationsRoutes(app, deps);
  registerAuthRoutes(route, deps);
  registerAccountRoutes(route, deps);
  registerConversationRoutes(route, deps);
  registerRoutingRoutes(route, deps);
  registerCannedResponseRoutes(route, deps);
  registerWebhookRoutes(route, deps);
  registerConsumerRoutes(route, deps);
  registerBotRoutes(route, deps);
  registerChannelRoutes(route, deps);
  registerWidgetRoutes(route, deps);
  registerFlowPreviewRoutes(route, deps);
  registerEngagementRoutes(route, deps);
  registerSearchRoutes(route, deps);
  registerAnalyticsRoutes(route, deps);
  registerWebWidgetRoutes(app, deps);
  registerConsoleRoutes(app);
  registerApiDocsRoutes(app);
  await registerOAuthRoutes(app, deps, limitPublic);
  await registerChannelWebhookRoutes(app, deps, { publicUrl: options.publicUrl });
  return app;
}
