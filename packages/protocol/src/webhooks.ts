import { z } from 'zod';
import { Id, IsoDateTime, PageQuery, paged } from './common.ts';
import { ConversationEventSchema } from './events.ts';

/**
 * Outbound webhooks: an account subscribes URLs to conversation event types. Each delivery is a signed JSON POST
 * (see docs/webhooks.md and `verifyWebhookSignature` in `@parley/sdk/webhooks`), retried with exponential back-off,
 * delivered in order per conversation, recorded in a delivery log and replayable. A subscription whose endpoint keeps
 * failing is disabled, with the reason, and the account's admins are told.
 *
 * Note: a `conversation.csat` event type belongs here once CSAT exists (it does not yet).
 */
export const WebhookEventTypeSchema = z
  .enum(['conversation.opened', 'conversation.message', 'conversation.assigned', 'conversation.transferred', 'conversation.escalated', 'conversation.closed'])
  .describe(
    '`conversation.opened`: a consumer started a conversation, or reopened a closed one; `conversation.message`: a message everyone sees (internal notes are not sent); `conversation.assigned`: an agent or a bot joined as the one handling it; `conversation.transferred`: moved to a skill or an agent; `conversation.escalated`: a bot handed it to humans; `conversation.closed`.',
  );
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

/** Every `type` a delivery may carry: the subscribable ones, and `ping` (a test sent on request). */
export const WebhookDeliveryTypeSchema = z.enum([...WebhookEventTypeSchema.options, 'ping']);
export type WebhookDeliveryType = z.infer<typeof WebhookDeliveryTypeSchema>;

export const WebhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'Give an http:// or https:// URL' })
  .max(2000)
  .describe('Where deliveries are POSTed: an http(s) URL (use https outside tests).');

export const WebhookStatusSchema = z.enum(['active', 'disabled']).describe('`disabled`: nothing is delivered (by an admin, or by Parley after repeated failures; see `disabledReason`).');
export type WebhookStatus = z.infer<typeof WebhookStatusSchema>;

const EventTypesSchema = z
  .array(WebhookEventTypeSchema)
  .min(1, 'Choose at least one event type')
  .refine((types) => new Set(types).size === types.length, 'List each event type once');

export const WebhookSubscriptionSchema = z
  .object({
    id: Id,
    url: WebhookUrlSchema,
    eventTypes: z.array(WebhookEventTypeSchema),
    description: z.string(),
    status: WebhookStatusSchema,
    disabledReason: z.string().nullable().describe('Why it is disabled: by whom, or the failures that made Parley disable it.'),
    disabledAt: IsoDateTime.nullable(),
    consecutiveFailures: z.number().int().nonnegative().describe('Failed attempts since the last success.'),
    secretPrefix: z.string().describe('The first characters of the signing secret, to recognise it; the secret itself is shown only when created or rotated.'),
    previousSecretExpiresAt: IsoDateTime.nullable().describe('After a rotation: until when deliveries are also signed with the previous secret.'),
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
  })
  .describe('A webhook subscription: a URL and the event types sent to it.');
export type WebhookSubscription = z.infer<typeof WebhookSubscriptionSchema>;
export const WebhookSubscriptionListSchema = z.object({ items: z.array(WebhookSubscriptionSchema) });

export const CreateWebhookRequestSchema = z.strictObject({
  url: WebhookUrlSchema,
  eventTypes: EventTypesSchema,
  description: z.string().trim().max(500).default(''),
});
export const UpdateWebhookRequestSchema = z.strictObject({
  url: WebhookUrlSchema.optional(),
  eventTypes: EventTypesSchema.optional(),
  description: z.string().trim().max(500).optional(),
  status: WebhookStatusSchema.optional().describe('`active` re-enables a disabled subscription (its failure count starts again at 0); `disabled` stops deliveries.'),
});

export const CreatedWebhookSchema = z.object({
  subscription: WebhookSubscriptionSchema,
  secret: z.string().describe('The signing secret. Shown once: keep it where the receiver can read it.'),
});

export const RotateWebhookSecretRequestSchema = z.strictObject({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .optional()
    .describe('How long deliveries also carry a signature with the previous secret (default 24 hours; 0 ends it now).'),
});
export const RotatedWebhookSecretSchema = z.object({
  subscription: WebhookSubscriptionSchema,
  secret: z.string().describe('The new signing secret. Shown once.'),
});

export const WebhookIdParamsSchema = z.strictObject({ id: Id });
export const WebhookDeliveryParamsSchema = z.strictObject({ id: Id, deliveryId: Id });

export const WebhookDeliveryStatusSchema = z
  .enum(['pending', 'delivered', 'failed'])
  .describe('`pending`: not yet sent, or failed and waiting for its next attempt; `delivered`: the receiver answered 2xx; `failed`: given up (attempts exhausted, or the subscription was disabled).');
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>;

export const WebhookDeliverySchema = z
  .object({
    id: Id.describe('This delivery (the `parley-delivery-id` header). A replay is a new delivery of the same event.'),
    subscriptionId: Id,
    eventId: Id.describe('The event (the payload `id` and the `parley-event-id` header): the same for a replay.'),
    eventType: WebhookDeliveryTypeSchema,
    conversationId: Id.nullable(),
    status: WebhookDeliveryStatusSchema,
    attempts: z.number().int().nonnegative(),
    lastStatusCode: z.number().int().nullable().describe('The HTTP status of the last attempt; null when it got no answer.'),
    lastError: z.string().nullable(),
    durationMs: z.number().int().nullable().describe('How long the last attempt took.'),
    replayOf: Id.nullable().describe('The delivery this one replays.'),
    createdAt: IsoDateTime,
    deliveredAt: IsoDateTime.nullable(),
    nextAttemptAt: IsoDateTime.nullable().describe('When a pending delivery is due (it also waits for earlier deliveries of its conversation).'),
  })
  .describe('One delivery of an event to a subscription, with the outcome of its attempts.');
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const ListWebhookDeliveriesQuerySchema = PageQuery.extend({
  before: z.string().regex(/^\d+$/).optional().describe('The `nextCursor` of the previous page.'),
});
export const WebhookDeliveryPageSchema = paged(WebhookDeliverySchema).describe('Deliveries, newest first.');

// ---------- what the receiver gets ----------

const TransferDataSchema = z.object({
  byId: Id.describe('Who moved it: an agent, a bot, an API key, or the system.'),
  fromAgentId: Id.nullable(),
  toSkillId: Id.nullable(),
  toAgentId: Id.nullable(),
  note: z.string().nullable().describe('The note for the next agent (agents only; never shown to the consumer).'),
  escalation: z.object({ reason: z.enum(['bot_requested', 'consumer_requested', 'bot_timeout', 'bot_error']) }).nullable(),
});

const envelope = {
  id: Id.describe('The event id (also `parley-event-id`): the same for every retry and replay. Receivers dedupe on it.'),
  createdAt: IsoDateTime,
  accountId: Id,
};
const eventData = z.object({ event: ConversationEventSchema.describe('The conversation event that caused it, as on the realtime API.') });

export const WebhookPayloadSchema = z
  .discriminatedUnion('type', [
    z.object({
      ...envelope,
      type: z.literal('conversation.opened'),
      conversationId: Id,
      data: eventData.extend({ reopened: z.boolean().describe('A closed conversation opened again (its consumer came back).') }),
    }),
    z.object({ ...envelope, type: z.literal('conversation.message'), conversationId: Id, data: eventData }),
    z.object({ ...envelope, type: z.literal('conversation.assigned'), conversationId: Id, data: eventData }),
    z.object({ ...envelope, type: z.literal('conversation.closed'), conversationId: Id, data: eventData }),
    z.object({ ...envelope, type: z.literal('conversation.transferred'), conversationId: Id, data: TransferDataSchema }),
    z.object({ ...envelope, type: z.literal('conversation.escalated'), conversationId: Id, data: TransferDataSchema }),
    z.object({ ...envelope, type: z.literal('ping'), conversationId: z.null(), data: z.object({ subscriptionId: Id, message: z.string() }) }),
  ])
  .describe('The JSON body of every webhook delivery.');
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** The headers of every delivery (lower-case). */
export const webhookHeaders = {
  signature: 'parley-signature',
  eventId: 'parley-event-id',
  eventType: 'parley-event-type',
  deliveryId: 'parley-delivery-id',
} as const;

/** Told to the account's admins (realtime `notice` frame) when Parley disables a subscription whose endpoint keeps failing. */
export const WebhookDisabledNoticeSchema = z.object({
  kind: z.literal('webhook_disabled'),
  subscriptionId: Id,
  url: z.string(),
  reason: z.string(),
  at: IsoDateTime,
});
export type WebhookDisabledNotice = z.infer<typeof WebhookDisabledNoticeSchema>;
