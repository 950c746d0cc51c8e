import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Consumer details for the workspace: who the consumer is and their conversations. */
export const registerConsumerRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.getConsumer, ({ principal, params }) => services.consumerDetails.get(principal, params.consumerId));
};
