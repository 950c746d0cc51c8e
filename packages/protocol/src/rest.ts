import { z } from 'zod';
import { ChannelSchema, DeviceTypeSchema, Id, IsoDateTime, RoleSchema, Sequence, UserRoleSchema } from './common.ts';
import { AudienceSchema, ChatStateSchema, ConversationEventSchema, ConversationSummarySchema, EventInputSchema, ReceiptStatusSchema } from './events.ts';

// ---------- auth ----------
export const LoginRequestSchema = z.strictObject({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
});
export const TokenPairSchema = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: IsoDateTime,
  refreshToken: z.string(),
  refreshTokenExpiresAt: IsoDateTime,
  tokenType: z.literal('Bearer'),
});
export const RefreshRequestSchema = z.strictObject({ refreshToken: z.string().min(16).max(512) });
export const LogoutRequestSchema = RefreshRequestSchema;

// ---------- accounts ----------
export const ConsumerAuthConfigSchema = z
  .strictObject({
    issuer: z.string().min(1).max(512).describe('Expected `iss` of the brand-signed consumer JWT.'),
    audience: z.string().min(1).max(512).optional().describe('Expected `aud`, if the brand sets one.'),
    jwksUrl: z.url().optional().describe('JWKS URL of the brand; either this or publicKeyPem.'),
    publicKeyPem: z.string().max(8192).optional().describe('SPKI PEM public key (RS256/ES256/EdDSA).'),
  })
  .refine((c) => Boolean(c.jwksUrl) !== Boolean(c.publicKeyPem), { message: 'Give exactly one of jwksUrl or publicKeyPem' })
  .describe('How to verify brand-signed consumer JWTs: give exactly one of jwksUrl or publicKeyPem.');

export const AccountSchema = z.object({
  id: Id,
  name: z.string(),
  widgetKey: z.string(),
  consumerAuth: z.object({ issuer: z.string(), audience: z.string().nullable(), jwksUrl: z.string().nullable(), hasPublicKey: z.boolean() }).nullable(),
  createdAt: IsoDateTime,
});
export const UpdateAccountRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  consumerAuth: ConsumerAuthConfigSchema.nullable().optional(),
});
export const LineOfBusinessSchema = z.object({ id: Id, name: z.string(), createdAt: IsoDateTime });
export const CreateLineOfBusinessRequestSchema = z.strictObject({ name: z.string().trim().min(1).max(200) });

// ---------- users ----------
export const UserSchema = z.object({
  id: Id,
  accountId: Id,
  email: z.string(),
  name: z.string(),
  role: RoleSchema,
  disabled: z.boolean(),
  createdAt: IsoDateTime,
});
export const CreateUserRequestSchema = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200),
  role: UserRoleSchema,
  password: z.string().min(10, 'Password must be at least 10 characters').max(1024),
});
export const UpdateUserRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  role: UserRoleSchema.optional(),
  disabled: z.boolean().optional(),
  password: z.string().min(10).max(1024).optional(),
});
export const MeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), user: UserSchema }),
  z.object({ kind: z.literal('consumer'), consumerId: Id, accountId: Id }),
  z.object({ kind: z.literal('api_key'), apiKeyId: Id, accountId: Id, scopes: z.array(z.string()) }),
]);

// ---------- API keys ----------
export const ApiKeyScopeSchema = z.enum([
  'conversations:read',
  'conversations:write',
  'users:read',
  'users:write',
  'account:read',
  'account:write',
  'bots:read',
  'bots:write',
  'webhooks:read',
  'webhooks:write',
  'analytics:read',
  'conversions:read',
  'conversions:write',
]);
export type ApiKeyScope = z.infer<typeof ApiKeyScopeSchema>;
export const ApiKeySchema = z.object({
  id: Id,
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it; the secret is never shown again.'),
  scopes: z.array(ApiKeyScopeSchema),
  createdAt: IsoDateTime,
  lastUsedAt: IsoDateTime.nullable(),
  revokedAt: IsoDateTime.nullable(),
  rateLimitPerMinute: z.number().int().nullable().describe("Requests per minute this key may make (its OAuth access tokens included); null: the server's default (API_KEY_RATE_LIMIT_PER_MINUTE)."),
});
/** A key's own limit: null falls back to the server's default. Counted per node, in memory. */
export const ApiKeyRateLimitSchema = z.number().int().min(1).max(1_000_000).nullable();
export const CreateApiKeyRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(ApiKeyScopeSchema).min(1),
  rateLimitPerMinute: ApiKeyRateLimitSchema.optional().describe("Requests per minute; omitted or null: the server's default."),
});
export const UpdateApiKeyRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  rateLimitPerMinute: ApiKeyRateLimitSchema.optional().describe("Requests per minute; null: back to the server's default."),
});
export const CreatedApiKeySchema = z.object({ apiKey: ApiKeySchema, secret: z.string().describe('Shown once.') });

// ---------- consumers ----------
export const ConsumerSessionRequestSchema = z.strictObject({
  widgetKey: z.string().min(8).max(128),
  deviceToken: z.string().min(16).max(256).optional().describe('Returned by an earlier session on this device; keeps the same unauthenticated identity.'),
  brandToken: z.string().min(16).max(8192).optional().describe('A JWT signed by the brand for an authenticated consumer; the same person on every device.'),
});
export const ConsumerSessionSchema = z.object({
  consumerId: Id,
  accountId: Id,
  authenticated: z.boolean(),
  accessToken: z.string(),
  accessTokenExpiresAt: IsoDateTime,
  deviceToken: z.string().nullable().describe('Store it on the device; present it next time.'),
});

// ---------- conversations ----------
export const StartConversationRequestSchema = z.strictObject({
  channel: ChannelSchema.default('web'),
  device: DeviceTypeSchema.optional().describe('The kind of device (the widget tells desktop from mobile web; the SDK in an app says `in_app`); default: from the channel.'),
  lineOfBusinessId: Id.optional(),
  skillId: Id.optional().describe("The skill of the entry point (widget or campaign setting); else the account's default skill."),
});
export const StartConversationResponseSchema = z.object({ conversation: ConversationSummarySchema, created: z.boolean() });

export const ListConversationsQuerySchema = z.strictObject({
  state: z.enum(['open', 'closed', 'all']).default('all'),
  scope: z.enum(['mine', 'unassigned', 'all']).default('mine').describe('Agents: `mine` (assigned to me) or `unassigned`; managers and admins may use `all`.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export const ConversationListSchema = z.object({ items: z.array(ConversationSummarySchema), nextCursor: z.string().nullable() });

export const ConversationIdParamsSchema = z.strictObject({ conversationId: Id });
export const IdParamsSchema = z.strictObject({ id: Id });

export const ListEventsQuerySchema = z
  .strictObject({
    fromSeq: z.coerce.number().int().nonnegative().optional().describe('Oldest first, from this sequence (inclusive).'),
    beforeSeq: z.coerce.number().int().positive().optional().describe('Newest first, before this sequence (exclusive).'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine((q) => q.fromSeq === undefined || q.beforeSeq === undefined, { message: 'Use fromSeq or beforeSeq, not both' })
  .describe('Give fromSeq or beforeSeq, not both; with neither, the newest events come first.');
export const EventPageSchema = z.object({
  items: z.array(ConversationEventSchema),
  order: z.enum(['asc', 'desc']),
  lastSequence: Sequence.describe('The highest sequence in the conversation when the page was read.'),
  hasMore: z.boolean(),
});

export const SendEventRequestSchema = z.strictObject({
  clientMessageId: z.string().min(1).max(128).describe('Idempotency id chosen by the client; resending it returns the stored event.'),
  event: EventInputSchema,
  audience: AudienceSchema.default('all'),
});
export type SendEventRequest = z.infer<typeof SendEventRequestSchema>;
export const SendAckSchema = z.object({
  eventId: Id,
  conversationId: Id,
  sequence: Sequence,
  duplicate: z.boolean().describe('True when this clientMessageId had already been stored: nothing new was written.'),
  createdAt: IsoDateTime,
});
export type SendAck = z.infer<typeof SendAckSchema>;

export const ReceiptRequestSchema = z.strictObject({
  status: ReceiptStatusSchema,
  sequences: z.array(Sequence).min(1).max(500),
});
export const ChatStateRequestSchema = z.strictObject({ chatState: ChatStateSchema });
export const CloseConversationRequestSchema = z.strictObject({}).optional();

export const FileRecordSchema = z.object({
  id: Id,
  conversationId: Id,
  name: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  createdAt: IsoDateTime,
});

export const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });
