import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

export const registerAccountRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.getAccount, ({ principal }) => services.accounts.get(principal.accountId));
  route(endpoints.updateAccount, ({ principal, body }) => services.accounts.update(principal.accountId, body));
  route(endpoints.listLinesOfBusiness, async ({ principal }) => ({ items: await services.accounts.listLinesOfBusiness(principal.accountId) }));
  route(endpoints.createLineOfBusiness, ({ principal, body }) => services.accounts.createLineOfBusiness(principal.accountId, body));

  route(endpoints.listUsers, async ({ principal }) => ({ items: await services.users.list(principal.accountId) }));
  route(endpoints.createUser, ({ principal, body }) => services.users.create(principal.accountId, body));
  route(endpoints.updateUser, ({ principal, params, body }) => services.users.update(principal.accountId, params.id, body));

  route(endpoints.listApiKeys, async ({ principal }) => ({ items: await services.apiKeys.list(principal.accountId) }));
  route(endpoints.createApiKey, ({ principal, body }) => services.apiKeys.create(principal.accountId, body));
  route(endpoints.updateApiKey, ({ principal, params, body }) => services.apiKeys.update(principal.accountId, params.id, body));
  route(endpoints.revokeApiKey, ({ principal, params }) => services.apiKeys.revoke(principal.accountId, params.id));
};
