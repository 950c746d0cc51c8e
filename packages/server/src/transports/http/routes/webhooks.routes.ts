import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Outbound webhooks: subscriptions, secret rotation, the delivery log with replay, and test pings (admins, `webhooks:*` keys). */
export const registerWebhookRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const webhooks = services.webhooks;
  route(endpoints.listWebhooks, async ({ principal }) => ({ items: await webhooks.list(principal) }));
  route(endpoints.createWebhook, ({ principal, body }) => webhooks.create(principal, body));
  route(endpoints.getWebhook, ({ principal, params }) => webhooks.get(principal, params.id));
  route(endpoints.updateWebhook, ({ principal, params, body }) => webhooks.update(principal, params.id, body));
  route(endpoints.deleteWebhook, ({ principal, params }) => webhooks.delete(principal, params.id));
  route(endpoints.rotateWebhookSecret, ({ principal, params, body }) => webhooks.rotateSecret(principal, params.id, body));
  route(endpoints.listWebhookDeliveries, ({ principal, params, query }) => webhooks.listDeliveries(principal, params.id, query));
  route(endpoints.replayWebhookDelivery, ({ principal, params }) => webhooks.replay(principal, params.id, params.deliveryId));
  route(endpoints.pingWebhook, ({ principal, params }) => webhooks.ping(principal, params.id));
};
