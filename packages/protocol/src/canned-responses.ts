import { z } from 'zod';
import { Id, IsoDateTime } from './common.ts';
import { ConversationSummarySchema, MAX_TEXT_LENGTH } from './events.ts';
import { QuickRepliesSchema } from './structured-content.ts';

/**
 * Canned responses: prepared answers an agent inserts by typing `/` and the shortcut in the composer. Account-wide
 * ones are kept by admins; every user keeps personal ones. A shortcut is unique within its scope (the account's, or one
 * user's); a personal shortcut may repeat an account one, and the personal one wins in the composer.
 */
export const CannedResponseScopeSchema = z.enum(['account', 'personal']).describe('`account`: every user of the account sees it (admins edit it); `personal`: only its owner.');
export type CannedResponseScope = z.infer<typeof CannedResponseScopeSchema>;

export const CannedShortcutSchema = z
  .string()
  .min(1, 'Give a shortcut')
  .max(40, 'A shortcut is at most 40 characters')
  .regex(/^[a-z0-9-]+$/, 'Use lowercase letters, digits and hyphens')
  .describe('What the agent types after `/` to insert it: lowercase letters, digits and hyphens.');

const CannedFields = {
  shortcut: CannedShortcutSchema,
  title: z.string().trim().min(1, 'Give a title').max(120),
  text: z.string().trim().min(1, 'Give the text').max(MAX_TEXT_LENGTH),
  quickReplies: QuickRepliesSchema.nullable().describe('Quick replies sent with the text; null: none.'),
};

export const CannedResponseSchema = z.object({
  id: Id,
  scope: CannedResponseScopeSchema,
  ownerId: Id.nullable().describe('The user a personal response belongs to; null for account-wide ones.'),
  ...CannedFields,
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type CannedResponse = z.infer<typeof CannedResponseSchema>;
export const CannedResponseListSchema = z.object({ items: z.array(CannedResponseSchema) });

export const CreateCannedResponseRequestSchema = z.strictObject({
  scope: CannedResponseScopeSchema.default('personal'),
  shortcut: CannedFields.shortcut,
  title: CannedFields.title,
  text: CannedFields.text,
  quickReplies: CannedFields.quickReplies.default(null),
});
export const UpdateCannedResponseRequestSchema = z.strictObject({
  shortcut: CannedFields.shortcut.optional(),
  title: CannedFields.title.optional(),
  text: CannedFields.text.optional(),
  quickReplies: CannedFields.quickReplies.optional(),
});

// ---------- consumer details (the workspace's side panel) ----------
export const ConsumerIdParamsSchema = z.strictObject({ consumerId: Id });

export const ConsumerDetailsSchema = z
  .object({
    consumer: z.object({
      id: Id,
      authenticated: z.boolean().describe('Identified by a brand-signed JWT (the same person on every device).'),
      externalId: z.string().nullable().describe("The brand's subject (`sub`) for authenticated consumers."),
      createdAt: IsoDateTime,
      lastSeenAt: IsoDateTime,
      profile: z.record(z.string(), z.string()).describe('Fields bots, agents and integrations set (e.g. `order_number`).'),
    }),
    conversations: z.array(ConversationSummarySchema).describe("The consumer's conversations, newest first (at most 50)."),
  })
  .describe('A consumer and their conversations.');
export type ConsumerDetails = z.infer<typeof ConsumerDetailsSchema>;
