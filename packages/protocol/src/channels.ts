import { z } from 'zod';
import { Id, IsoDateTime } from './common.ts';

/**
 * Channels carry conversations outside the web widget: SMS (Twilio's Messaging API), Facebook Messenger (Meta's
 * Messenger Platform), WhatsApp (the WhatsApp Cloud API) and any other through the Connector API. A consumer's
 * conversation is the same object whatever channel carries it; an agent answers every channel from the same inbox.
 */
export const ChannelKindSchema = z.enum(['sms', 'messenger', 'whatsapp', 'connector']);
export type ChannelKind = z.infer<typeof ChannelKindSchema>;

const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'A phone number in E.164 form, e.g. +15551234567');
const ProviderUrl = z.url({ protocol: /^https?$/ });

/** What an admin sees of a channel's settings (credentials are never shown again once saved). */
export const ChannelSettingsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sms'), phoneNumber: E164.describe('The Twilio number consumers text.'), accountSid: z.string() }),
  z.object({ kind: z.literal('messenger'), pageId: z.string().describe('The Facebook Page consumers message.') }),
  z.object({ kind: z.literal('whatsapp'), phoneNumberId: z.string().describe("The WhatsApp Business phone number's id."), displayPhoneNumber: E164 }),
  z.object({ kind: z.literal('connector'), webhookUrl: ProviderUrl.describe("Where Parley POSTs outbound messages (the partner's endpoint).") }),
]);
export type ChannelSettings = z.infer<typeof ChannelSettingsSchema>;
export type SmsSettings = Extract<ChannelSettings, { kind: 'sms' }>;
export type MessengerSettings = Extract<ChannelSettings, { kind: 'messenger' }>;
export type WhatsAppSettings = Extract<ChannelSettings, { kind: 'whatsapp' }>;
export type ConnectorSettings = Extract<ChannelSettings, { kind: 'connector' }>;

/** Credentials, write-only: stored encrypted, never returned. */
export const ChannelCredentialsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sms'), authToken: z.string().min(8).max(200).describe("Twilio's auth token: signs inbound webhooks and authenticates sends.") }),
  z.strictObject({
    kind: z.literal('messenger'),
    appSecret: z.string().min(8).max(200).describe('Signs inbound webhooks (`X-Hub-Signature-256`).'),
    pageAccessToken: z.string().min(8).max(1000),
    verifyToken: z.string().min(8).max(200).describe("Answered in Meta's webhook verification challenge."),
  }),
  z.strictObject({
    kind: z.literal('whatsapp'),
    appSecret: z.string().min(8).max(200),
    accessToken: z.string().min(8).max(1000),
    verifyToken: z.string().min(8).max(200),
  }),
  z.strictObject({ kind: z.literal('connector') }),
]);
export type ChannelCredentials = z.infer<typeof ChannelCredentialsSchema>;
export type SmsCredentials = Extract<ChannelCredentials, { kind: 'sms' }>;
export type MessengerCredentials = Extract<ChannelCredentials, { kind: 'messenger' }>;
export type WhatsAppCredentials = Extract<ChannelCredentials, { kind: 'whatsapp' }>;

export const ChannelConfigSchema = z.object({
  id: Id,
  kind: ChannelKindSchema,
  name: z.string(),
  enabled: z.boolean(),
  defaultSkillId: Id.nullable().describe('The skill a conversation started on this channel enters.'),
  settings: ChannelSettingsSchema,
  apiBaseUrl: ProviderUrl.nullable().describe("The provider's API base URL; null: the provider's public one (set it to use a simulator)."),
  inboundWebhookPath: z.string().describe("Where the provider must send webhooks (relative to Parley's public URL)."),
  greeting: z.string().nullable().describe('What an IVR deflection texts first when the voice platform gives no message.'),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type ChannelConfig = z.infer<typeof ChannelConfigSchema>;

export const IvrDeflectionRequestSchema = z.strictObject({
  phoneNumber: E164.describe("The caller's number."),
  message: z.string().trim().min(1).max(1600).optional().describe("The brand's first message; default: the channel's greeting."),
});

// ---------- requests ----------

const ChannelFields = {
  name: z.string().trim().min(1).max(80),
  enabled: z.boolean(),
  defaultSkillId: Id.nullable(),
  apiBaseUrl: ProviderUrl.nullable(),
  greeting: z.string().trim().min(1).max(1600).nullable().describe('What an IVR deflection texts first when the voice platform gives no message.'),
};

export const CreateChannelRequestSchema = z
  .strictObject({
    name: ChannelFields.name,
    enabled: ChannelFields.enabled.default(true),
    defaultSkillId: ChannelFields.defaultSkillId.default(null),
    apiBaseUrl: ChannelFields.apiBaseUrl.default(null),
    greeting: ChannelFields.greeting.default(null),
    settings: ChannelSettingsSchema,
    credentials: ChannelCredentialsSchema,
  })
  .refine((c) => c.settings.kind === c.credentials.kind, { message: 'settings and credentials must be of the same kind', path: ['credentials', 'kind'] });

export const UpdateChannelRequestSchema = z.strictObject({
  name: ChannelFields.name.optional(),
  enabled: ChannelFields.enabled.optional(),
  defaultSkillId: ChannelFields.defaultSkillId.optional(),
  apiBaseUrl: ChannelFields.apiBaseUrl.optional(),
  greeting: ChannelFields.greeting.optional(),
  settings: ChannelSettingsSchema.optional().describe('Of the same kind as the channel.'),
  credentials: ChannelCredentialsSchema.optional().describe('Replaces the stored credentials (of the same kind).'),
});

export const ChannelListSchema = z.object({ items: z.array(ChannelConfigSchema) });
export const ChannelIdParamsSchema = z.strictObject({ channelId: Id });

export const CreatedChannelSchema = z.object({
  channel: ChannelConfigSchema,
  connectorSecret: z.string().nullable().describe('Connector channels only: signs what the partner POSTs to Parley and what Parley POSTs to the partner (`parley-signature`). Shown once.'),
});

export const TestChannelMessageRequestSchema = z.strictObject({
  to: z.string().trim().min(1).max(100).describe('A phone number (SMS, WhatsApp), a page-scoped id (Messenger) or a partner address.'),
  text: z.string().trim().min(1).max(1600).default('This is a test message from Parley.'),
});
export const TestChannelMessageResultSchema = z.object({ providerMessageId: z.string() });

export const IvrDeflectionResultSchema = z.object({
  conversationId: Id,
  consumerId: Id,
  created: z.boolean().describe('False when the caller already had an open conversation: the message was added to it.'),
});

/**
 * A WhatsApp template message, the only thing WhatsApp lets a brand send once 24 hours have passed since the
 * consumer last wrote. The template must be approved for the WhatsApp Business Account (Meta's templates manager).
 */
export const SendChannelTemplateRequestSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(512)
    .regex(/^[a-z0-9_]+$/, 'A template name: lower-case letters, digits and underscores')
    .describe("The approved template's name, e.g. `order_update`."),
  language: z
    .string()
    .trim()
    .min(2)
    .max(15)
    .regex(/^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$/, 'A language code, e.g. en or en_US')
    .describe("The template's language code, e.g. `en_US`."),
  parameters: z.array(z.string().trim().min(1).max(1024)).max(20).default([]).describe("The values of the body's `{{1}}`, `{{2}}`… placeholders, in order."),
});

/**
 * What a Connector API partner POSTs to `POST /webhooks/channels/:channelId` (signed with `parley-signature` and the
 * channel's connector secret), and what Parley POSTs to the partner's `webhookUrl` (signed the same way).
 */
export const ConnectorInboundSchema = z.strictObject({
  type: z.literal('message'),
  messageId: z.string().min(1).max(200).describe("The partner's id of the message: a redelivery with the same id is stored once."),
  from: z.string().min(1).max(200).describe("The consumer's address on the partner's side."),
  text: z.string().min(1).max(10_000),
});
export const ConnectorOutboundSchema = z.object({
  type: z.literal('message'),
  messageId: z.string().describe("Parley's id of the message."),
  to: z.string(),
  text: z.string(),
  quickReplies: z.array(z.object({ title: z.string(), payload: z.string() })),
  media: z.object({ url: z.string(), contentType: z.string(), fileName: z.string() }).nullable(),
});
