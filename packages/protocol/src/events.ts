import { z } from 'zod';
import { ChannelSchema, DeviceTypeSchema, Id, IsoDateTime, ParticipantRoleSchema, Sequence } from './common.ts';
import { ConversationRoutingSchema } from './routing.ts';
import { QuickRepliesSchema, StructuredContentSchema } from './structured-content.ts';

/**
 * Conversation events. Every stored event gets the conversation's next sequence number; the sequence orders the
 * conversation and is what clients resume from. Modelled on mature messaging protocols (LivePerson's UMS):
 * content events, rich-content events, accept/read status events over sequence lists, participant and state changes.
 * Chat-state (typing) is ephemeral: it is relayed, never stored, and has no sequence.
 */

export const MAX_TEXT_LENGTH = 10_000;

export const AudienceSchema = z.enum(['all', 'agents_and_managers']).describe('`agents_and_managers` marks an internal note the consumer never sees.');
export type Audience = z.infer<typeof AudienceSchema>;

/** What a client sends as a content event (text or a file it uploaded before). */
export const ContentInputSchema = z.discriminatedUnion('contentType', [
  z.strictObject({
    contentType: z.literal('text/plain'),
    message: z.string().trim().min(1, 'Message must not be empty').max(MAX_TEXT_LENGTH, `Message must be at most ${MAX_TEXT_LENGTH} characters`),
    quickReplies: QuickRepliesSchema.optional(),
  }),
  z.strictObject({
    contentType: z.literal('hosted/file'),
    fileId: Id,
    caption: z.string().max(1000).optional(),
    quickReplies: QuickRepliesSchema.optional(),
  }),
]);
export type ContentInput = z.infer<typeof ContentInputSchema>;

export const EventInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('content'), content: ContentInputSchema }),
  z.strictObject({ type: z.literal('rich_content'), content: StructuredContentSchema, fallbackText: z.string().max(MAX_TEXT_LENGTH).optional(), quickReplies: QuickRepliesSchema.optional() }),
]);
export type EventInput = z.infer<typeof EventInputSchema>;

export const FileInfoSchema = z.object({
  fileId: Id,
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  caption: z.string().optional(),
});

export const StoredContentSchema = z.discriminatedUnion('contentType', [
  z.object({ contentType: z.literal('text/plain'), message: z.string(), quickReplies: QuickRepliesSchema.optional() }),
  z.object({ contentType: z.literal('hosted/file'), file: FileInfoSchema, quickReplies: QuickRepliesSchema.optional() }),
]);

export const ReceiptStatusSchema = z.enum(['accept', 'read']);
export type ReceiptStatus = z.infer<typeof ReceiptStatusSchema>;

export const ConversationStateSchema = z.enum(['open', 'closed']);
export type ConversationState = z.infer<typeof ConversationStateSchema>;
export const CloseReasonSchema = z.enum(['consumer', 'agent', 'system', 'timeout']);

export const OriginatorSchema = z.object({
  id: Id,
  role: ParticipantRoleSchema.or(z.literal('system')),
  name: z.string().nullable(),
});

const EventBase = {
  id: Id,
  conversationId: Id,
  sequence: Sequence,
  originator: OriginatorSchema,
  audience: AudienceSchema,
  createdAt: IsoDateTime,
};

export const ConversationEventSchema = z.discriminatedUnion('type', [
  z.object({ ...EventBase, type: z.literal('content'), clientMessageId: z.string().nullable(), content: StoredContentSchema }),
  z.object({
    ...EventBase,
    type: z.literal('rich_content'),
    clientMessageId: z.string().nullable(),
    content: StructuredContentSchema,
    fallbackText: z.string().optional(),
    quickReplies: QuickRepliesSchema.optional(),
  }),
  z.object({ ...EventBase, type: z.literal('accept_status'), status: ReceiptStatusSchema, sequences: z.array(Sequence) }),
  z.object({ ...EventBase, type: z.literal('participant'), change: z.enum(['joined', 'left']), participant: z.object({ id: Id, role: ParticipantRoleSchema, name: z.string().nullable() }) }),
  z.object({ ...EventBase, type: z.literal('conversation_state'), state: ConversationStateSchema, reason: CloseReasonSchema.or(z.literal('reopened')).optional() }),
]);
export type ConversationEvent = z.infer<typeof ConversationEventSchema>;
export type ConversationEventType = ConversationEvent['type'];

export const ChatStateSchema = z.enum(['active', 'inactive', 'composing', 'pause', 'gone']);
export type ChatState = z.infer<typeof ChatStateSchema>;

export const ConversationSummarySchema = z.object({
  id: Id,
  accountId: Id,
  consumerId: Id,
  state: ConversationStateSchema,
  channel: ChannelSchema,
  device: DeviceTypeSchema,
  lineOfBusinessId: Id.nullable(),
  assignedAgentId: Id.nullable(),
  lastSequence: Sequence,
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  closedAt: IsoDateTime.nullable(),
  closeReason: CloseReasonSchema.nullable(),
  participants: z.array(z.object({ id: Id, role: ParticipantRoleSchema, name: z.string().nullable(), joinedAt: IsoDateTime })),
  routing: ConversationRoutingSchema.nullable().describe('Where the conversation stands in routing; null for conversations routing has not seen.'),
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;
