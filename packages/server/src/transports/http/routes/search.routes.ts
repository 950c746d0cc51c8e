import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Transcript search. */
export const registerSearchRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  route(endpoints.searchMessages, ({ principal, query }) => services.search.search(principal, query));
};
