export {
  type ConversationActivity,
  type ConversationEventSink,
  type ConversationHooks,
  type ConversationRoutingPort,
  ConversationService,
  type StoredMessage,
  SYSTEM_ORIGINATOR_ID,
} from './conversation.service.ts';
export { ConsumerDetailsService } from './consumer-details.service.ts';
export { FileService } from './file.service.ts';
