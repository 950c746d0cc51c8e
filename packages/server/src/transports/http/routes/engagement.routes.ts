import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** CSAT surveys and conversions (docs/engagement.md). */
export const registerEngagementRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const { engagementSettings, csat, conversions } = services;
  route(endpoints.getEngagementSettings, ({ principal }) => engagementSettings.get(principal));
  route(endpoints.updateEngagementSettings, ({ principal, body }) => engagementSettings.update(principal, body));
  route(endpoints.getCsat, ({ principal, params }) => csat.get(principal, params.conversationId));
  route(endpoints.submitCsat, ({ principal, params, body }) => csat.submit(principal, params.conversationId, body));
  route(endpoints.listCsat, ({ principal, query }) => csat.list(principal, query));
  route(endpoints.reportConversion, async ({ principal, body, reply }) => {
    const { conversion, created } = await conversions.report(principal, body);
    // The same externalId with the same values: the conversion recorded before, 200 instead of 201.
    if (!created) {
      await reply.code(200).send(conversion);
      return;
    }
    return conversion;
  });
  route(endpoints.listConversions, ({ principal, query }) => conversions.list(principal, query));
};
