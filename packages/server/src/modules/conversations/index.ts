export { type ConversationHooks, ConversationService } from './conversation.service.ts';
export { FileService } from './file.service.ts';
