import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Canned responses: account-wide (admins edit) and personal (each user edits their own). */
export const registerCannedResponseRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const canned = services.cannedResponses;
  route(endpoints.listCannedResponses, async ({ principal }) => ({ items: await canned.list(principal) }));
  route(endpoints.createCannedResponse, ({ principal, body }) => canned.create(principal, body));
  route(endpoints.updateCannedResponse, ({ principal, params, body }) => canned.update(principal, params.id, body));
  route(endpoints.deleteCannedResponse, ({ principal, params }) => canned.delete(principal, params.id));
};
