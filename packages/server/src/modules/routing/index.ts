export { type RoutingHooks, type RoutingOptions, RoutingService } from './routing.service.ts';
export { planAssignments } from './plan-assignments.ts';
export { DEFAULT_SETTINGS as DEFAULT_ROUTING_SETTINGS } from './routing-store.ts';
