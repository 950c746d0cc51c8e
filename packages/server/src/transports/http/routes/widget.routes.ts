import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** The widget's settings (admins change them) and its public configuration, read by the embedded widget. */
export const registerWidgetRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.getWidgetSettings, ({ principal }) => services.accounts.getWidgetSettings(principal.accountId));
  route(endpoints.updateWidgetSettings, ({ principal, body }) => services.accounts.updateWidgetSettings(principal.accountId, body));
  route(endpoints.getWidgetConfig, async ({ query, reply }) => {
    // Read on every page view of the brand's site; a minute of staleness after a settings change is fine.
    reply.header('cache-control', 'public, max-age=60');
    return services.accounts.widgetConfig(query.widgetKey);
  });
};
