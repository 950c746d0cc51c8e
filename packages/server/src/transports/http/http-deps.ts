import type { Endpoint } from '@parley/protocol';
import type { EventBus } from '../../infra/bus/event-bus.ts';
import type { Database } from '../../infra/db/database.ts';
import type { RateLimitStore } from '../../infra/rate-limits/rate-limit-store.ts';
import type { Metrics } from '../../infra/telemetry/metrics.ts';
import type { Services } from '../../services.ts';
import type { HandlerNoContent, RouteContext } from './define-route.ts';
import type { z } from 'zod';

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface HttpDeps {
  services: Services;
  database: Database;
  metrics: Metrics;
  lifecycle: { draining: boolean };
  /** For `/ready` to report the bus (Redis in cluster mode). */
  bus?: EventBus;
  /** The request limits' buckets: in memory on one node, in Redis in cluster mode. */
  rateLimits: RateLimitStore;
}

export type Route = <E extends Endpoint>(endpoint: E, handler: (ctx: RouteContext<E>) => Promise<Infer<E['response']> | HandlerNoContent>) => void;
export type RouteRegistrar = (route: Route, deps: HttpDeps) => void;
