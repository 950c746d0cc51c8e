import { z } from 'zod';
import { ChannelSchema, DeviceTypeSchema, Id, IsoDateTime, ParticipantRoleSchema, Sequence } from './common.ts';
import { ConversationStateSchema } from './events.ts';

/**
 * Transcript search: full-text search over the text of messages (text, file captions, the fallback text of structured
 * content), newest first. Words match exactly (no stemming, any language); the query accepts the web search syntax:
 * `"exact phrase"`, `or`, `-excluded`.
 */
export const SearchMessagesQuerySchema = z.strictObject({
  q: z
    .string()
    .trim()
    .min(1, 'The query must not be empty')
    .max(200, 'The query must be at most 200 characters')
    .describe('Words to find (all of them); `"a phrase"`, `or` and `-word` as in web search.'),
  from: IsoDateTime.optional().describe('Messages written at or after this instant.'),
  to: IsoDateTime.optional().describe('Messages written before this instant.'),
  skillId: Id.optional().describe("Conversations of this skill (routing's current skill)."),
  agentId: Id.optional().describe('Conversations this agent holds or held last.'),
  channel: ChannelSchema.optional(),
  device: DeviceTypeSchema.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});
export type SearchMessagesQuery = z.infer<typeof SearchMessagesQuerySchema>;

export const MessageSearchHitSchema = z.object({
  conversationId: Id,
  eventId: Id,
  sequence: Sequence,
  snippet: z.string().describe('The matching text around the words found, HTML-escaped, with each match in `<mark>`…`</mark>`; nothing else is markup.'),
  originator: z.object({ role: ParticipantRoleSchema.or(z.literal('system')), name: z.string().nullable() }),
  internal: z.boolean().describe('An internal note (consumers never see it).'),
  createdAt: IsoDateTime,
  conversation: z.object({ channel: ChannelSchema, device: DeviceTypeSchema, state: ConversationStateSchema }),
});
export type MessageSearchHit = z.infer<typeof MessageSearchHitSchema>;

export const MessageSearchResultSchema = z.object({ items: z.array(MessageSearchHitSchema), nextCursor: z.string().nullable() });
export type MessageSearchResult = z.infer<typeof MessageSearchResultSchema>;
