import { type Access, type Endpoint, toValidationIssues } from '@parley/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Principal } from '../../core/principal.ts';
import type { RateDecision } from './rate-limit.ts';

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteContext<E extends Endpoint> {
  principal: E['access'] extends { public: true } ? Principal | undefined : Principal;
  params: Infer<E['params']>;
  query: Infer<E['query']>;
  body: Infer<E['body']>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Handlers of 204 endpoints return nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler without a body returns void
export type HandlerNoContent = undefined | void;

export type Authenticate = (request: FastifyRequest) => Promise<Principal | undefined>;

function parse<S extends z.ZodType | undefined>(schema: S, value: unknown, where: string): Infer<S> {
  if (!schema) return undefined as Infer<S>;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) {
    const issues = toValidationIssues(result.error).map((i) => ({ ...i, path: i.path ? `${where}.${i.path}` : where }));
    throw new AppError('VALIDATION_FAILED', `Invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
  }
  return result.data as Infer<S>;
}

export function authorize(access: Access, principal: Principal | undefined): void {
  if ('public' in access) return;
  if (!principal) throw new AppError('UNAUTHENTICATED', 'Send an access token or API key in the Authorization header');
  const allowed =
    (principal.kind === 'user' && (access.users ?? []).includes(principal.role)) ||
    (principal.kind === 'consumer' && access.consumer === true) ||
    (principal.kind === 'api_key' && access.apiKeyScopes !== undefined && (access.apiKeyScopes.length === 0 || access.apiKeyScopes.some((s) => principal.scopes.includes(s))));
  if (!allowed && principal.kind === 'api_key') {
    const needed = access.apiKeyScopes ?? [];
    if (!needed.length) throw new AppError('FORBIDDEN', 'API keys may not call this endpoint', { requiredScopes: [] });
    throw new AppError('FORBIDDEN', `The API key lacks the scope ${needed.join(' or ')} for this endpoint`, { requiredScopes: [...needed] });
  }
  if (!allowed) throw new AppError('FORBIDDEN', 'Your role does not allow this');
}

/**
 * Registers a handler for an endpoint of the contract: authenticates, authorises by role or scope, validates params,
 * query and body with the contract's schemas, and replies with the endpoint's status. Handlers stay a few lines long.
 */
export function defineRoute<E extends Endpoint>(
  app: FastifyInstance,
  authenticate: Authenticate,
  endpoint: E,
  handler: (ctx: RouteContext<E>) => Promise<Infer<E['response']> | HandlerNoContent>,
  limitPublic: (clientAddress: string) => Promise<number> = async () => 0,
  limitCaller: (principal: Principal | undefined) => Promise<RateDecision | undefined> = async () => undefined,
): void {
  app.route({
    method: endpoint.method,
    url: endpoint.path,
    handler: async (request, reply) => {
      if ('public' in endpoint.access) {
        const wait = await limitPublic(request.ip);
        if (wait > 0) throw new AppError('RATE_LIMITED', 'Too many requests from this address; retry later', { retryAfterMs: wait });
      }
      const principal = await authenticate(request);
      // Counted before authorisation: a key hammering endpoints it may not call is limited too.
      const rate = await limitCaller(principal);
      if (rate) {
        reply.header('ratelimit-limit', String(rate.limit)).header('ratelimit-remaining', String(rate.remaining));
        if (rate.waitMs > 0) throw new AppError('RATE_LIMITED', `This API key is limited to ${rate.limit} requests a minute; retry later`, { retryAfterMs: rate.waitMs });
      }
      authorize(endpoint.access, principal);
      const params = parse(endpoint.params, request.params, 'params');
      const query = parse(endpoint.query, request.query, 'query');
      const body = endpoint.bodyKind === 'multipart' ? (undefined as Infer<E['body']>) : parse(endpoint.body, request.body, 'body');
      const result = await handler({ principal, params, query, body, request, reply } as RouteContext<E>);
      if (reply.sent) return reply;
      if (endpoint.status === 204 || result === undefined) return reply.code(endpoint.status === 204 ? 204 : endpoint.status).send();
      return reply.code(endpoint.status).send(result);
    },
  });
}
