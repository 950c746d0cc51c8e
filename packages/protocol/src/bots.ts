import { z } from 'zod';
import { Id, IsoDateTime } from './common.ts';
import { ConversationEventSchema, ConversationSummarySchema, MAX_TEXT_LENGTH } from './events.ts';

/**
 * Bots are participants of the account, like agents: each has its own identity and credentials, serves skills, and
 * is given conversations by routing before any human of those skills (a conversation a bot escalated goes to humans
 * only). A bot is reached in one of three ways:
 * - `websocket`: the bot connects with its secret over the realtime protocol (the SDK's agent client) and acts through
 *   the same REST endpoints as an agent; it is available while connected.
 * - `webhook`: Parley POSTs signed events (`BotWebhookEvent`) to the bot's URL; the bot answers through the REST API.
 * - `flow`: the built-in flow bot, configured in the console (`FlowBotDefinition`), run by Parley itself.
 */
export const BotDeliverySchema = z.enum(['websocket', 'webhook', 'flow']);
export type BotDelivery = z.infer<typeof BotDeliverySchema>;

export const EscalationReasonSchema = z
  .enum(['bot_requested', 'consumer_requested', 'bot_timeout', 'bot_error'])
  .describe(
    '`bot_requested`: the bot transferred the conversation; `consumer_requested`: the consumer asked for a person; `bot_timeout`: the bot did not answer in time; `bot_error`: its endpoint failed.',
  );
export type EscalationReason = z.infer<typeof EscalationReasonSchema>;

// ---------- the built-in flow bot ----------

const FlowText = z.string().trim().min(1).max(MAX_TEXT_LENGTH);
const FlowKey = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9_]*$/, 'Use lowercase letters, digits and underscores, starting with a letter');

export const FlowChoiceSchema = z.strictObject({
  title: z.string().trim().min(1).max(25).describe('The quick reply the consumer taps (what it sends).'),
  intentId: FlowKey.describe('The intent the choice leads to.'),
});
export type FlowChoice = z.infer<typeof FlowChoiceSchema>;

export const FlowReplySchema = z.strictObject({
  text: FlowText,
  choices: z.array(FlowChoiceSchema).max(8).default([]).describe('Quick replies offered with the text; each branches to an intent.'),
});
export type FlowReply = z.infer<typeof FlowReplySchema>;

export const FlowFieldSchema = z.strictObject({
  field: FlowKey.describe('The consumer profile field the answer is stored in (e.g. `order_number`).'),
  prompt: FlowText.describe('The question the bot asks.'),
  pattern: z.string().max(200).optional().describe('A regular expression the answer must match (case-insensitive); the first match (or its first group) is stored.'),
  retryText: FlowText.optional().describe('Said when the answer does not match; the prompt is asked again.'),
});
export type FlowField = z.infer<typeof FlowFieldSchema>;

export const FlowIntentSchema = z.strictObject({
  id: FlowKey,
  name: z.string().trim().min(1).max(80),
  phrases: z.array(z.string().trim().min(1).max(200)).max(50).describe('Keywords or phrases that recognise the intent in what the consumer writes (case- and accent-insensitive, whole words).'),
  answer: FlowReplySchema,
  collect: z.array(FlowFieldSchema).max(10).default([]).describe('Fields asked one after the other once the intent is recognised.'),
  after: z.enum(['continue', 'escalate', 'close']).default('continue').describe('After the answer (and the fields): wait for the next message, hand the conversation to a person, or close it.'),
  escalateToSkillId: Id.nullable().default(null).describe("For `after: escalate`: the skill; null: the bot's escalation skill."),
  doneText: FlowText.optional().describe('Said once every field is collected; `{field}` placeholders are filled in.'),
});
export type FlowIntent = z.infer<typeof FlowIntentSchema>;

export const FlowBotDefinitionSchema = z
  .strictObject({
    greeting: FlowReplySchema.describe('Said when the bot receives the conversation.'),
    intents: z.array(FlowIntentSchema).max(100),
    fallback: z.strictObject({
      text: FlowText.describe('Said when nothing was recognised.'),
      escalateAfter: z.number().int().min(1).max(10).default(2).describe('Consecutive unrecognised messages after which the bot hands over to a person.'),
    }),
    escalation: z.strictObject({
      text: FlowText.describe('Said before the conversation goes to a person.'),
      skillId: Id.nullable().default(null).describe("The skill escalations go to; null: the bot's escalation skill."),
    }),
    closingText: FlowText.optional().describe('Said before the bot closes a conversation (an intent with `after: close`).'),
  })
  .superRefine((definition, ctx) => {
    const ids = new Set<string>();
    definition.intents.forEach((intent, i) => {
      if (ids.has(intent.id)) ctx.addIssue({ code: 'custom', path: ['intents', i, 'id'], message: `Intent id "${intent.id}" is used twice` });
      ids.add(intent.id);
    });
    const check = (choices: FlowChoice[], path: (string | number)[]) =>
      choices.forEach((choice, i) => {
        if (!ids.has(choice.intentId)) ctx.addIssue({ code: 'custom', path: [...path, 'choices', i, 'intentId'], message: `No intent "${choice.intentId}"` });
      });
    check(definition.greeting.choices, ['greeting']);
    definition.intents.forEach((intent, i) => {
      check(intent.answer.choices, ['intents', i, 'answer']);
      intent.collect.forEach((field, j) => {
        if (field.pattern === undefined) return;
        try {
          new RegExp(field.pattern, 'i');
        } catch {
          ctx.addIssue({ code: 'custom', path: ['intents', i, 'collect', j, 'pattern'], message: 'Not a valid regular expression' });
        }
      });
    });
  })
  .describe('The built-in flow bot: a greeting, intents recognised from phrases with answers, quick replies that branch, fields to collect and escalation rules.');
export type FlowBotDefinition = z.infer<typeof FlowBotDefinitionSchema>;

/** Where a flow bot stands in one conversation (kept by Parley between messages). */
export const FlowStateSchema = z.object({
  /** The intent whose fields are being collected, and which field is asked now. */
  collecting: z.object({ intentId: z.string(), index: z.number().int().min(0) }).nullable(),
  fields: z.record(z.string(), z.string()),
  /** Consecutive messages nothing recognised. */
  fallbacks: z.number().int().min(0),
  /** Intents recognised so far, in order (for the escalation summary and analytics). */
  intents: z.array(z.string()),
  /** The quick replies of the last turn: a message equal to one of their titles takes that branch first. */
  offered: z.array(FlowChoiceSchema).optional(),
});
export type FlowState = z.infer<typeof FlowStateSchema>;

export const FlowInputSchema = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('start') }), z.strictObject({ type: z.literal('message'), text: z.string().max(MAX_TEXT_LENGTH) })]);
export type FlowInput = z.infer<typeof FlowInputSchema>;

export const FlowActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('escalate'), skillId: Id.nullable(), reason: z.enum(['bot_requested', 'consumer_requested']) }),
  z.object({ type: z.literal('close') }),
  z.object({ type: z.literal('set_fields'), fields: z.record(z.string(), z.string()) }),
]);
export type FlowAction = z.infer<typeof FlowActionSchema>;

export const FlowTurnSchema = z.object({
  replies: z.array(z.object({ text: z.string(), choices: z.array(FlowChoiceSchema) })),
  actions: z.array(FlowActionSchema),
  state: FlowStateSchema,
});
export type FlowTurn = z.infer<typeof FlowTurnSchema>;

export const FlowPreviewRequestSchema = z.strictObject({
  definition: FlowBotDefinitionSchema,
  state: FlowStateSchema.nullable().default(null).describe('The state returned by the previous turn; null to start.'),
  input: FlowInputSchema,
});

// ---------- bots ----------

const BotFields = {
  name: z.string().trim().min(1).max(80),
  skillIds: z.array(Id).max(50).describe('The skills the bot serves first; conversations of these skills go to it before any person.'),
  escalationSkillId: Id.nullable().describe("Where the bot's conversations go when it escalates; null: the conversation's own skill (its people)."),
  responseTimeoutSeconds: z.number().int().min(1).max(600).describe('How long the bot has to answer a consumer message before Parley escalates to a person.'),
  maxConversations: z.number().int().min(1).max(10_000).describe('How many conversations the bot holds at once.'),
  escalationPhrases: z
    .array(z.string().trim().min(1).max(100))
    .max(50)
    .describe('When a consumer writes one of these (whole words, any case), Parley hands the conversation to a person, whatever the bot.'),
  webhookUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .describe('For `webhook` bots: where Parley POSTs the events.'),
  flow: FlowBotDefinitionSchema.nullable().describe('For `flow` bots: the definition.'),
  enabled: z.boolean(),
};

export const DEFAULT_ESCALATION_PHRASES = ['agent', 'human', 'person', 'representative', 'operator', 'talk to someone'];

export const BotSchema = z.object({
  id: Id.describe('The bot is a participant with this id (it appears as such in conversations).'),
  delivery: BotDeliverySchema,
  ...BotFields,
  secretPrefix: z.string().describe('The first characters of the bot secret, to recognise it.'),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Bot = z.infer<typeof BotSchema>;
export const BotListSchema = z.object({ items: z.array(BotSchema) });

export const CreateBotRequestSchema = z
  .strictObject({
    name: BotFields.name,
    delivery: BotDeliverySchema,
    skillIds: BotFields.skillIds.default([]),
    escalationSkillId: BotFields.escalationSkillId.default(null),
    responseTimeoutSeconds: BotFields.responseTimeoutSeconds.default(15),
    maxConversations: BotFields.maxConversations.default(1000),
    escalationPhrases: BotFields.escalationPhrases.default(DEFAULT_ESCALATION_PHRASES),
    webhookUrl: BotFields.webhookUrl.default(null),
    flow: BotFields.flow.default(null),
    enabled: BotFields.enabled.default(true),
  })
  .superRefine((bot, ctx) => {
    if (bot.delivery === 'webhook' && !bot.webhookUrl) ctx.addIssue({ code: 'custom', path: ['webhookUrl'], message: 'A webhook bot needs a webhookUrl' });
    if (bot.delivery === 'flow' && !bot.flow) ctx.addIssue({ code: 'custom', path: ['flow'], message: 'A flow bot needs a flow definition' });
  });
export const UpdateBotRequestSchema = z.strictObject({
  name: BotFields.name.optional(),
  skillIds: BotFields.skillIds.optional(),
  escalationSkillId: BotFields.escalationSkillId.optional(),
  responseTimeoutSeconds: BotFields.responseTimeoutSeconds.optional(),
  maxConversations: BotFields.maxConversations.optional(),
  escalationPhrases: BotFields.escalationPhrases.optional(),
  webhookUrl: BotFields.webhookUrl.optional(),
  flow: BotFields.flow.optional(),
  enabled: BotFields.enabled.optional(),
});
export const BotIdParamsSchema = z.strictObject({ botId: Id });

export const CreatedBotSchema = z.object({
  bot: BotSchema,
  secret: z.string().describe('The bot credential (`Authorization: Bearer <secret>` on REST and the WebSocket). Shown once.'),
  signingSecret: z.string().describe("For webhook bots: verify Parley's `parley-signature` header with it. Shown once."),
});
export const RotatedBotSecretsSchema = z.object({ secret: z.string(), signingSecret: z.string() });

export const BotMetricsQuerySchema = z.strictObject({
  from: IsoDateTime.describe('Conversations a bot received from this instant on.'),
  to: IsoDateTime.describe('…and before this one.'),
  botId: Id.optional(),
});
export const BotMetricsSchema = z.object({
  from: IsoDateTime,
  to: IsoDateTime,
  handled: z.number().int().describe('Conversations a bot received.'),
  escalated: z.number().int().describe('Of those, handed to people.'),
  escalatedByReason: z.record(EscalationReasonSchema, z.number().int()),
  contained: z.number().int().describe('Closed without ever reaching a person.'),
  reassigned: z.number().int().describe('Given to someone else by a manager (neither contained nor escalated by the bot).'),
  open: z.number().int().describe('Still with a bot.'),
  containmentRate: z.number().nullable().describe('contained / (contained + escalated); null when neither happened.'),
});

/** What Parley POSTs to a webhook bot, signed like every webhook (`parley-signature`). */
export const BotWebhookEventSchema = z.object({
  id: Id.describe('The event id: the same on a retry, so the bot can ignore duplicates.'),
  type: z.enum(['conversation.assigned', 'conversation.message', 'conversation.closed']),
  createdAt: IsoDateTime,
  accountId: Id,
  botId: Id,
  conversationId: Id,
  conversation: ConversationSummarySchema.describe('The conversation as it is now.'),
  events: z
    .array(ConversationEventSchema)
    .describe('`conversation.assigned`: the transcript so far (what the consumer saw); `conversation.message`: the consumer message; `conversation.closed`: the close.'),
});
export type BotWebhookEvent = z.infer<typeof BotWebhookEventSchema>;

// ---------- consumer profile (bots and agents set fields) ----------
export const ConsumerProfileFieldsSchema = z
  .record(FlowKey, z.string().max(1000).nullable())
  .refine((fields) => Object.keys(fields).length <= 50, { message: 'At most 50 fields at once' })
  .describe('Fields to set on the consumer profile; null removes a field.');
export const UpdateConsumerProfileRequestSchema = z.strictObject({ fields: ConsumerProfileFieldsSchema });
export const ConsumerProfileSchema = z.object({ consumerId: Id, fields: z.record(z.string(), z.string()) });
