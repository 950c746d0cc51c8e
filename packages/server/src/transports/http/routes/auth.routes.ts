import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

export const registerAuthRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.login, ({ body }) => services.auth.login(body));
  route(endpoints.refresh, ({ body }) => services.auth.refresh(body.refreshToken));
  route(endpoints.logout, async ({ body }) => {
    await services.auth.logout(body.refreshToken);
  });
  route(endpoints.me, async ({ principal }) => {
    if (principal.kind === 'user') return { kind: 'user' as const, user: await services.users.self(principal.accountId, principal.userId) };
    if (principal.kind === 'consumer') return { kind: 'consumer' as const, consumerId: principal.consumerId, accountId: principal.accountId };
    return { kind: 'api_key' as const, apiKeyId: principal.apiKeyId, accountId: principal.accountId, scopes: [...principal.scopes] };
  });
  route(endpoints.consumerSession, ({ body }) => services.consumers.createSession(body));
};
