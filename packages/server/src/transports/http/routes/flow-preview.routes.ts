import { endpoints } from '@parley/protocol';
import { flowTurn } from '../../../modules/bots/index.ts';
import type { RouteRegistrar } from '../http-deps.ts';

/**
 * The console's preview of a flow bot: one turn of an unsaved definition, from the state the previous turn returned.
 * Nothing is stored; the contract has validated the definition (a choice naming an unknown intent is a 400).
 */
export const registerFlowPreviewRoutes: RouteRegistrar = (route) => {
  route(endpoints.previewFlow, async ({ body }) => flowTurn(body.definition, body.state, body.input));
};
