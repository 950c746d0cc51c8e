import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Historical reports, as JSON and as CSV. */
export const registerAnalyticsRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.getAnalyticsReport, ({ principal, query }) => services.analytics.report(principal, query));
  route(endpoints.getAnalyticsReportCsv, async ({ principal, query, reply }) => {
    const csv = await services.analytics.reportCsv(principal, query);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="parley-report.csv"').send(csv);
  });
};
