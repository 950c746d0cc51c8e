import { z } from 'zod';
import { ChannelSchema, DeviceTypeSchema, Id, IsoDateTime } from './common.ts';

export const AnalyticsIntervalSchema = z.enum(['hour', 'day']);

export const AnalyticsReportQuerySchema = z.strictObject({
  from: IsoDateTime.describe('Facts from this instant on (inclusive).'),
  to: IsoDateTime.describe('…and before this one (exclusive).'),
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'Unknown IANA time zone')
    .default('UTC')
    .describe('IANA time zone the series is bucketed in (days and hours start at local midnight / local hours).'),
  interval: AnalyticsIntervalSchema.default('day'),
  skillId: Id.optional(),
  agentId: Id.optional().describe('An agent or bot.'),
  channel: ChannelSchema.optional(),
  device: DeviceTypeSchema.optional(),
});

const count = z.number().int();
export const DurationFiguresSchema = z.object({
  count: count.describe('Measured durations.'),
  avgMs: z.number().nullable().describe('Exact mean (null when none).'),
  medianMs: z.number().nullable().describe('Nearest-rank 50th percentile, from duration buckets: exact to the second up to an hour, within 5 % above.'),
  p90Ms: z.number().nullable().describe('Nearest-rank 90th percentile, same precision.'),
});

export const AnalyticsFiguresSchema = z.object({
  conversations: z.object({
    started: count.describe('Conversations started (the consumer opened them).'),
    queued: count.describe("Conversations queued by the consumer's first message."),
    closed: count.describe('Closes (a conversation reopened and closed again counts twice).'),
    closedByReason: z.record(z.enum(['consumer', 'agent', 'system', 'timeout']), count),
    byChannel: z.record(z.string(), count).describe('Started, by channel.'),
    byDevice: z.record(z.string(), count).describe('Started, by device.'),
    mobile: count.describe('Started from a mobile device: mobile_web, in_app, sms, messenger, whatsapp.'),
    mobileShare: z.number().nullable().describe('mobile / started (null when none started).'),
  }),
  messages: z.object({ consumer: count, agent: count.describe('Answers by people (and API keys).'), bot: count }),
  waitTime: DurationFiguresSchema.describe('From entering the queue to an agent or bot getting the conversation.'),
  firstResponse: DurationFiguresSchema.describe("From the consumer's first message to the first answer by an agent or bot."),
  responseTime: DurationFiguresSchema.describe('Every answer to a waiting consumer, from the first of their unanswered messages.'),
  handleTime: DurationFiguresSchema.describe("From the last holder's assignment to the close."),
  transfers: count.describe('Transfers by agents (escalations from bots excluded).'),
  bots: z.object({
    handled: count.describe('Conversations given to a bot.'),
    escalated: count.describe('Handed by a bot (or Parley on its behalf) to people.'),
    contained: count.describe('handled − escalated (not below 0).'),
    containmentRate: z.number().nullable(),
    escalationRate: z.number().nullable(),
  }),
});

export const AnalyticsAgentFiguresSchema = z.object({
  agentId: Id,
  isBot: z.boolean(),
  assigned: count.describe('Conversations the agent got (routing, take, assign, accept).'),
  answers: count,
  closed: count.describe('Closes while the agent held the conversation.'),
  transfers: count.describe('Transfers (or escalations) away from the agent.'),
  responseTime: DurationFiguresSchema.pick({ count: true, avgMs: true }),
  handleTime: DurationFiguresSchema.pick({ count: true, avgMs: true }),
  handleMsTotal: z.number().describe('Sum of handle times.'),
  loggedInMs: z.number().describe('Time in any state but offline (online, away, back soon), from the state history, within the period (up to now).'),
  onlineMs: z.number().describe('Time online.'),
  awayMs: z.number().describe('Time away or back soon (both together).'),
  backSoonMs: z.number().describe('Of awayMs, the time back soon.'),
  engagedMs: z
    .number()
    .describe(
      'Time holding conversations within the period, summed over the conversations (two held at once for an hour: two hours); from assignment to close, transfer, or release (offline, reassigned). Follows the skill, channel and device filters; the state times do not.',
    ),
  conversationsPerOnlineHour: z.number().nullable().describe('assigned / online hours (null when never online).'),
  concurrency: z.number().nullable().describe('engagedMs / loggedInMs: conversations held at once on average while logged in (null when never logged in).'),
  utilisation: z.number().nullable().describe('engagedMs / (capacity × loggedInMs), capacity being the maximum conversations configured now (occupancy; null when never logged in or no capacity).'),
});

export const AnalyticsCsatSchema = z.object({
  responses: count,
  averageScore: z.number().nullable(),
  distribution: z.record(z.enum(['1', '2', '3', '4', '5']), count),
  satisfiedShare: z.number().nullable().describe('Scores of 4 or 5 / responses (LivePerson\'s "CSAT score").'),
  asked: count.describe('Surveys asked in the period.'),
  responseRate: z.number().nullable().describe('Of the surveys asked in the period, the share answered.'),
});

export const AnalyticsConversionsSchema = z.object({
  count,
  revenue: z.array(
    z.object({
      currency: z.string().nullable(),
      value: z.string().describe('Exact decimal.'),
      count,
      influencedCount: count.describe('Conversions attributed to a conversation.'),
      influencedValue: z.string().describe('Revenue influenced by conversations (exact decimal).'),
      averageOrderValueWithConversation: z.string().nullable().describe('Average value of the conversions attributed to a conversation.'),
      averageOrderValueWithoutConversation: z
        .string()
        .nullable()
        .describe('Average value of the others (none when a skill, agent, channel or device filter applies: those conversions have no conversation).'),
    }),
  ),
  convertedConversations: count.describe('Conversations started in the period that a conversion was attributed to.'),
  conversionRate: z.number().nullable().describe('convertedConversations / conversations started; null when none started.'),
});

export const AnalyticsReportSchema = z.object({
  from: IsoDateTime,
  to: IsoDateTime,
  timeZone: z.string(),
  interval: AnalyticsIntervalSchema,
  totals: AnalyticsFiguresSchema,
  series: z.array(
    AnalyticsFiguresSchema.extend({
      start: IsoDateTime.describe('The local hour or day this bucket starts at, as an instant.'),
      csat: AnalyticsCsatSchema.optional().describe(
        "The bucket's CSAT: responses given in it (distribution, average, satisfied share) and surveys asked in it (with the share of those answered, whenever). Filtered as the period's `csat`; absent only from servers older than this field.",
      ),
    }),
  ),
  agents: z.array(AnalyticsAgentFiguresSchema),
  csat: AnalyticsCsatSchema,
  conversions: AnalyticsConversionsSchema,
  rolledUpTo: IsoDateTime.nullable().describe('Complete hours before this were read from the hourly rollup; the rest from the raw record.'),
  dailyRollup: z
    .object({
      firstDay: z.string().describe('First local day (YYYY-MM-DD) read from the daily rollup.'),
      endDay: z.string().describe('The local day after the last one read from it.'),
    })
    .nullable()
    .describe(
      'Whole local days of a daily report read from the daily rollup of its time zone (null: none). Percentiles of a bucket that includes such days are read on the coarse grid: exact to the second up to 30 s, at most 8.3 % above the true value beyond.',
    ),
});
export type AnalyticsReport = z.infer<typeof AnalyticsReportSchema>;
export type AnalyticsFigures = z.infer<typeof AnalyticsFiguresSchema>;
export type AnalyticsReportQuery = z.infer<typeof AnalyticsReportQuerySchema>;
