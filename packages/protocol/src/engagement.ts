import { z } from 'zod';
import { ChannelSchema, DeviceTypeSchema, Id, IsoDateTime } from './common.ts';

/**
 * Engagement outcomes: the post-conversation CSAT survey (1 to 5 and a comment) and the brand's conversions (purchases
 * and other goals with a value), attributed to the consumer's recent conversation. See docs/engagement.md.
 */

// ---------- settings ----------
export const EngagementSettingsSchema = z.object({
  csatEnabled: z.boolean().describe('Ask the CSAT survey when a conversation someone answered closes (widget and channels). Default true.'),
  csatWindowHours: z.number().int().min(1).max(168).describe('How long after the close the consumer may answer the survey. Default 24.'),
  attributionWindowDays: z.number().int().min(1).max(90).describe("A conversion is attributed to the consumer's conversation that was open, or closed at most this many days before it. Default 7."),
});
export type EngagementSettings = z.infer<typeof EngagementSettingsSchema>;
export const UpdateEngagementSettingsRequestSchema = z.strictObject(EngagementSettingsSchema.shape).partial();

// ---------- CSAT ----------
export const CSAT_COMMENT_MAX = 1000;
export const CsatScoreSchema = z.number().int().min(1).max(5);

export const SubmitCsatRequestSchema = z.strictObject({
  score: CsatScoreSchema.describe('1 (very dissatisfied) to 5 (very satisfied).'),
  comment: z.string().trim().max(CSAT_COMMENT_MAX).optional().describe('Optional, at most 1,000 characters.'),
});

export const CsatResponseSchema = z.object({
  conversationId: Id,
  consumerId: Id,
  score: CsatScoreSchema,
  comment: z.string().nullable(),
  at: IsoDateTime,
  agentId: Id.nullable().describe('Who held the conversation last (a person or a bot).'),
  skillId: Id.nullable(),
  channel: ChannelSchema,
  device: DeviceTypeSchema,
});
export type CsatResponse = z.infer<typeof CsatResponseSchema>;

/** The survey of one conversation, as its consumer (or an agent) sees it. */
export const CsatSurveySchema = z.object({
  conversationId: Id,
  status: z
    .enum(['none', 'pending', 'answered', 'expired'])
    .describe('`none`: no survey was asked (still open, nobody answered it, or the account turned CSAT off); `pending`: it may be answered until `expiresAt`.'),
  askedAt: IsoDateTime.nullable(),
  expiresAt: IsoDateTime.nullable(),
  response: CsatResponseSchema.nullable(),
});
export type CsatSurvey = z.infer<typeof CsatSurveySchema>;

const Period = {
  from: IsoDateTime.optional().describe('Inclusive; default 30 days before `to`.'),
  to: IsoDateTime.optional().describe('Exclusive; default: no end.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
};

export const ListCsatQuerySchema = z.strictObject({
  ...Period,
  agentId: Id.optional(),
  skillId: Id.optional(),
  channel: ChannelSchema.optional(),
});

export const CsatSummarySchema = z.object({
  surveys: z.number().int().describe('Surveys asked in the period (by the time of the close).'),
  responses: z.number().int().describe('Of those, answered.'),
  responseRate: z.number().nullable().describe('responses / surveys; null without surveys.'),
  averageScore: z.number().nullable(),
  csatScore: z.number().nullable().describe('Share of responses scoring 4 or 5 (0..1), the usual "CSAT score".'),
});
export const CsatListSchema = z.object({ items: z.array(CsatResponseSchema), nextCursor: z.string().nullable(), summary: CsatSummarySchema });

// ---------- conversions ----------
export const ConversionTypeSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.:-]*$/, 'lower-case letters, digits and _ . : -')
  .describe('`purchase`, `lead`, `signup`, or a custom goal name (lower case).');
export const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
  .describe('ISO 4217 code (EUR, USD, ...).');

export const ReportConversionRequestSchema = z
  .strictObject({
    type: ConversionTypeSchema,
    value: z.number().finite().min(0).max(1e12).default(0).describe("In the currency's major unit (12.5 = 12.50 EUR); 0 for goals without a value."),
    currency: CurrencySchema.optional().describe('Required when `value` is above 0.'),
    externalId: z.string().trim().min(1).max(200).optional().describe("The brand's id (order number): reporting it again returns the same conversion."),
    occurredAt: IsoDateTime.optional().describe('When it happened; default now. At most 90 days ago, not in the future.'),
    consumerId: Id.optional().describe('API keys: the consumer (or give `consumerExternalId`). Consumers report only for themselves.'),
    consumerExternalId: z.string().min(1).max(500).optional().describe("API keys: the brand's id of an authenticated consumer (the `sub` of its JWT)."),
  })
  .refine((b) => b.value === 0 || b.currency !== undefined, { path: ['currency'], message: 'A currency is required with a value' })
  .refine((b) => !(b.consumerId && b.consumerExternalId), { path: ['consumerExternalId'], message: 'Give consumerId or consumerExternalId, not both' });

export const ConversionAttributionSchema = z.object({
  conversationId: Id,
  agentId: Id.nullable().describe('Who held the conversation (or last answered in it).'),
  skillId: Id.nullable(),
});

export const ConversionSchema = z.object({
  id: Id,
  consumerId: Id,
  type: z.string(),
  value: z.number(),
  currency: z.string().nullable(),
  externalId: z.string().nullable(),
  occurredAt: IsoDateTime,
  createdAt: IsoDateTime,
  attribution: ConversionAttributionSchema.nullable().describe('The conversation it is attributed to; null when none within the window.'),
});
export type Conversion = z.infer<typeof ConversionSchema>;

export const ListConversionsQuerySchema = z.strictObject({
  ...Period,
  type: z.string().max(64).optional(),
  attributed: z.enum(['true', 'false']).optional().describe('Only attributed (true) or unattributed (false) conversions.'),
  agentId: Id.optional(),
});
export const ConversionListSchema = z.object({ items: z.array(ConversionSchema), nextCursor: z.string().nullable() });
