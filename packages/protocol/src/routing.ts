import { z } from 'zod';
import { Id, IsoDateTime } from './common.ts';

/**
 * Routing: skills, agent states and capacity, queues, assignment and transfer. Modelled on LivePerson's messaging
 * routing (skills, ONLINE/AWAY/BACK_SOON/OFFLINE, max concurrent conversations, auto-accept or ring, back to queue).
 */

// ---------- skills ----------
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use HH:MM, 24-hour');
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use YYYY-MM-DD');

export const BusinessHoursSchema = z
  .strictObject({
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .refine(
        (tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        },
        { message: 'Unknown IANA time zone' },
      )
      .describe('IANA time zone, e.g. `Europe/Paris`.'),
    weekly: z
      .array(z.strictObject({ day: z.number().int().min(0).max(6).describe('0 = Sunday … 6 = Saturday.'), open: TimeOfDay, close: TimeOfDay }))
      .max(50)
      .describe('Opening intervals per weekday in the time zone; a day without an interval is closed.'),
    holidays: z.array(IsoDate).max(400).default([]).describe('Dates (in the time zone) when the skill is closed all day.'),
  })
  .refine((h) => h.weekly.every((w) => w.open < w.close), { message: 'Each interval must open before it closes' })
  .describe('When people staff the skill. Outside these hours consumers are told so (conversations still queue).');
export type BusinessHours = z.infer<typeof BusinessHoursSchema>;

export const RoutingModeSchema = z
  .enum(['auto', 'ring'])
  .describe('`auto`: the conversation is assigned at once. `ring`: offered to one agent at a time, who accepts within `ringTimeoutSeconds`, else the next.');

export type RoutingMode = z.infer<typeof RoutingModeSchema>;

const SkillFields = {
  name: z.string().trim().min(1).max(100),
  routingMode: RoutingModeSchema,
  ringTimeoutSeconds: z.number().int().min(5).max(600),
  responseTargetSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .nullable()
    .describe('Time to respond to a waiting consumer; conversations beyond it are flagged as breached.'),
  businessHours: BusinessHoursSchema.nullable().describe('Null: always open.'),
  offHoursMessage: z.string().trim().min(1).max(1000).nullable(),
  noAgentsMessage: z.string().trim().min(1).max(1000).nullable().describe('Told to the consumer when nobody with the skill is online.'),
};

export const SkillSchema = z.object({ id: Id, ...SkillFields, createdAt: IsoDateTime });
export type Skill = z.infer<typeof SkillSchema>;
export const CreateSkillRequestSchema = z.strictObject({
  name: SkillFields.name,
  routingMode: SkillFields.routingMode.default('auto'),
  ringTimeoutSeconds: SkillFields.ringTimeoutSeconds.default(30),
  responseTargetSeconds: SkillFields.responseTargetSeconds.default(null),
  businessHours: SkillFields.businessHours.default(null),
  offHoursMessage: SkillFields.offHoursMessage.default(null),
  noAgentsMessage: SkillFields.noAgentsMessage.default(null),
});
export const UpdateSkillRequestSchema = z.strictObject({
  name: SkillFields.name.optional(),
  routingMode: SkillFields.routingMode.optional(),
  ringTimeoutSeconds: SkillFields.ringTimeoutSeconds.optional(),
  responseTargetSeconds: SkillFields.responseTargetSeconds.optional(),
  businessHours: SkillFields.businessHours.optional(),
  offHoursMessage: SkillFields.offHoursMessage.optional(),
  noAgentsMessage: SkillFields.noAgentsMessage.optional(),
});
export const SkillListSchema = z.object({ items: z.array(SkillSchema) });

// ---------- account routing settings ----------
export const RoutingSettingsSchema = z.object({
  defaultSkillId: Id.nullable().describe('Skill of conversations whose entry point names none; null routes them to any agent.'),
  defaultMaxConversations: z.number().int().min(0).max(100).describe('Concurrent conversations per agent, unless set on the agent.'),
  disconnectGraceSeconds: z.number().int().min(0).max(3600).describe('How long an online agent may lose their connection before their conversations go back to the queue.'),
  transferFallbackSeconds: z.number().int().min(10).max(86_400).describe('A conversation transferred to an agent who does not take it within this time goes to any agent of its skill.'),
  autoCloseSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .nullable()
    .describe('Close conversations waiting on the consumer after this silence; null: never.'),
  autoCloseWarningSeconds: z.number().int().min(0).max(86_400).describe('Warn the consumer this long before the auto-close; 0: no warning.'),
  reopenWindowSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .describe('A consumer who writes within this time of a close reopens the conversation (back to the same agent when possible); 0: always a new one.'),
});
export type RoutingSettings = z.infer<typeof RoutingSettingsSchema>;
export const UpdateRoutingSettingsRequestSchema = z.strictObject({
  defaultSkillId: Id.nullable().optional(),
  defaultMaxConversations: RoutingSettingsSchema.shape.defaultMaxConversations.optional(),
  disconnectGraceSeconds: RoutingSettingsSchema.shape.disconnectGraceSeconds.optional(),
  transferFallbackSeconds: RoutingSettingsSchema.shape.transferFallbackSeconds.optional(),
  autoCloseSeconds: RoutingSettingsSchema.shape.autoCloseSeconds.optional(),
  autoCloseWarningSeconds: RoutingSettingsSchema.shape.autoCloseWarningSeconds.optional(),
  reopenWindowSeconds: RoutingSettingsSchema.shape.reopenWindowSeconds.optional(),
});

// ---------- agents ----------
export const AgentStateSchema = z.enum(['online', 'away', 'back_soon', 'offline']).describe('Only `online` agents receive new conversations.');
export type AgentState = z.infer<typeof AgentStateSchema>;

export const AgentStatusSchema = z.object({
  userId: Id,
  name: z.string(),
  state: AgentStateSchema,
  reason: z.string().nullable(),
  stateSince: IsoDateTime,
  connected: z.boolean().describe('Whether the agent has a live realtime connection.'),
  maxConversations: z.number().int().describe('Effective capacity (the agent’s own or the account default).'),
  ownMaxConversations: z.number().int().nullable().describe('Set on the agent; null: the account default applies.'),
  assigned: z.number().int().describe('Open conversations assigned to the agent.'),
  offered: z.number().int().describe('Conversations ringing for the agent.'),
  skillIds: z.array(Id),
  lastAssignedAt: IsoDateTime.nullable(),
});
export type AgentStatus = z.infer<typeof AgentStatusSchema>;
export const AgentStatusListSchema = z.object({ items: z.array(AgentStatusSchema) });

export const SetAgentStateRequestSchema = z.strictObject({
  state: AgentStateSchema,
  reason: z.string().trim().min(1).max(200).optional(),
});
export const UpdateAgentRoutingRequestSchema = z.strictObject({
  skillIds: z.array(Id).max(100).optional(),
  maxConversations: z.number().int().min(0).max(100).nullable().optional().describe('Null: use the account default.'),
});
export const AgentIdParamsSchema = z.strictObject({ userId: Id });

// ---------- conversations in routing ----------
export const RoutingStatusSchema = z
  .enum(['new', 'queued', 'offered', 'assigned', 'closed'])
  .describe('`new`: no consumer message yet, not routed; `queued`: waiting for an agent; `offered`: ringing for one agent; `assigned`: an agent holds it.');

export const ConversationRoutingSchema = z.object({
  conversationId: Id,
  status: RoutingStatusSchema,
  skillId: Id.nullable(),
  priority: z.number().int(),
  queuedAt: IsoDateTime.nullable().describe('When it (last) entered the queue.'),
  assignedAt: IsoDateTime.nullable(),
  offeredTo: Id.nullable(),
  offerExpiresAt: IsoDateTime.nullable(),
  targetAgentId: Id.nullable().describe('Transferred to this agent: it waits for them until the fallback time.'),
  awaitingResponseSince: IsoDateTime.nullable().describe('The oldest consumer message not yet answered.'),
  responseDueAt: IsoDateTime.nullable(),
  breached: z.boolean().describe('The response-time target of the skill has passed without an answer.'),
  transferNote: z.string().nullable(),
});
export type ConversationRouting = z.infer<typeof ConversationRoutingSchema>;

export const QueuePositionSchema = z.object({
  conversationId: Id,
  status: RoutingStatusSchema,
  position: z.number().int().nullable().describe('1 = next; null when not queued.'),
  estimatedWaitSeconds: z.number().int().nullable().describe('From the skill’s recent assignment rate; null when unknown.'),
  agentsOnline: z.number().int(),
  open: z.boolean().describe('Within the skill’s business hours.'),
});

export const TransferRequestSchema = z
  .strictObject({
    skillId: Id.optional(),
    agentId: Id.optional(),
    note: z.string().trim().min(1).max(2000).optional().describe('Shown to the next agent (an internal note the consumer never sees).'),
  })
  .refine((t) => t.skillId !== undefined || t.agentId !== undefined, { message: 'Give skillId, agentId or both' })
  .describe('Transfer to a skill (back to its queue), to an agent (waits for them, then falls back to the skill), or both.');
export const AssignRequestSchema = z.strictObject({ agentId: Id });

// ---------- live view ----------
export const LiveSkillSchema = z.object({
  skillId: Id.nullable().describe('Null: conversations without a skill.'),
  name: z.string(),
  queued: z.number().int(),
  longestWaitSeconds: z.number().int().nullable(),
  averageWaitSeconds: z.number().int().nullable().describe('Mean wait of the conversations waiting now.'),
  agentsOnline: z.number().int(),
  agentsAway: z.number().int(),
  assigned: z.number().int(),
  capacity: z.number().int().describe('Sum of the online agents’ capacity.'),
  breached: z.number().int(),
  messagesPerMinute: z.number().describe('Messages (consumers, agents, bots) in the last 5 minutes, per minute.'),
  open: z.boolean(),
});
export const LiveViewSchema = z.object({
  at: IsoDateTime,
  skills: z.array(LiveSkillSchema),
  agents: z.array(AgentStatusSchema),
  messagesPerMinute: z.number().describe('Messages in the whole account in the last 5 minutes, per minute.'),
});
export type LiveView = z.infer<typeof LiveViewSchema>;
