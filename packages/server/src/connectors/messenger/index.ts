export { MESSENGER_API_BASE_URL, MESSENGER_SEND_TIMEOUT_MS, messengerConnector } from './connector.ts';
export { GRAPH_API_VERSION } from './send-api.ts';
export {
  type InboundAttachment,
  type MessengerSimulator,
  type MessengerSimulatorOptions,
  messengerWebhookPayload,
  type SimulatedFailure,
  type SimulatedSentMessage,
  startMessengerSimulator,
  type WebhookAnswer,
} from './simulator.ts';
export { isWatermarkStatus, MESSENGER_WATERMARK_ID, type MessengerWatermarkStatus } from './webhook-events.ts';
