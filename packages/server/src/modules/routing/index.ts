export { type RoutingHooks, type RoutingOptions, RoutingService } from './routing.service.ts';
export { planAssignments } from './plan-assignments.ts';
