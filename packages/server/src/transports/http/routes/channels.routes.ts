import { endpoints } from '@parley/protocol';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

/** Channels (SMS, Messenger, WhatsApp, connectors): configuration, a test message, IVR deflection to SMS, and WhatsApp templates. */
export const registerChannelRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const channels = services.channels;
  route(endpoints.listChannels, ({ principal }) => channels.list(principal));
  route(endpoints.createChannel, ({ principal, body }) => channels.create(principal, body));
  route(endpoints.getChannel, ({ principal, params }) => channels.get(principal, params.channelId));
  route(endpoints.updateChannel, ({ principal, params, body }) => channels.update(principal, params.channelId, body));
  route(endpoints.deleteChannel, ({ principal, params }) => channels.delete(principal, params.channelId));
  route(endpoints.sendTestChannelMessage, ({ principal, params, body }) => channels.sendTest(principal, params.channelId, body));
  route(endpoints.deflectCall, ({ principal, params, body }) => services.channelDelivery.deflect(principal, params.channelId, body));
  route(endpoints.sendChannelTemplate, ({ principal, params, body }) => services.channelDelivery.sendTemplate(principal, params.conversationId, body));
};
