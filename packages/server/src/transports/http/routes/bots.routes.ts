import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Bots (configuration, secrets, engagement figures) and the consumer profile bots and agents fill in. */
export const registerBotRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const bots = services.bots;
  route(endpoints.listBots, ({ principal }) => bots.list(principal));
  route(endpoints.createBot, ({ principal, body }) => bots.create(principal, body));
  route(endpoints.getBotMetrics, ({ principal, query }) => bots.metrics(principal, query));
  route(endpoints.getBot, ({ principal, params }) => bots.get(principal, params.botId));
  route(endpoints.updateBot, ({ principal, params, body }) => bots.update(principal, params.botId, body));
  route(endpoints.rotateBotSecrets, ({ principal, params }) => bots.rotateSecrets(principal, params.botId));
  route(endpoints.updateConsumerProfile, ({ principal, params, body }) => services.consumerDetails.updateProfile(principal, params.consumerId, body.fields));
};
