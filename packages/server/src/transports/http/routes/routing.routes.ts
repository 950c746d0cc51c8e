import { endpoints } from '@parley/protocol';
import { requireUser } from '../../../core/principal.ts';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

export const registerRoutingRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const r = services.routing;
  route(endpoints.listSkills, ({ principal }) => r.listSkills(principal));
  route(endpoints.createSkill, ({ principal, body }) => r.createSkill(principal, body));
  route(endpoints.updateSkill, ({ principal, params, body }) => r.updateSkill(principal, params.id, body));
  route(endpoints.getRoutingSettings, ({ principal }) => r.getSettings(principal));
  route(endpoints.updateRoutingSettings, ({ principal, body }) => r.updateSettings(principal, body));
  route(endpoints.getLiveView, ({ principal }) => r.getLiveView(principal));
  route(endpoints.getMyState, ({ principal }) => r.myState(principal));
  route(endpoints.setMyState, ({ principal, body }) => r.setState(principal, requireUser(principal).userId, body.state, body.reason ?? null));
  route(endpoints.listAgents, ({ principal }) => r.listAgents(principal));
  route(endpoints.setAgentState, ({ principal, params, body }) => r.setState(principal, params.userId, body.state, body.reason ?? null));
  route(endpoints.updateAgentRouting, ({ principal, params, body }) => r.updateAgentRouting(principal, params.userId, body));
  route(endpoints.transferConversation, ({ principal, params, body }) => r.transfer(principal, params.conversationId, body));
  route(endpoints.assignConversation, ({ principal, params, body }) => r.assign(principal, params.conversationId, body.agentId));
  route(endpoints.acceptOffer, ({ principal, params }) => r.accept(principal, params.conversationId));
  route(endpoints.declineOffer, ({ principal, params }) => r.decline(principal, params.conversationId));
  route(endpoints.getQueuePosition, ({ principal, params }) => r.queuePosition(principal, params.conversationId));
};
