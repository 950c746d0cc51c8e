export { ChannelDelivery, type ChannelDeliveryHooks, type ChannelDeliveryOptions } from './channel-delivery.ts';
export { ChannelService, inboundWebhookPath } from './channel.service.ts';
export { MediaLinks } from './media-links.ts';
