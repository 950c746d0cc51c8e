import type {
  EscalationReason,
  AgentState,
  AgentStatus,
  ConversationRouting,
  ConversationSummary,
  CreateSkillRequestSchema,
  LiveView,
  ParticipantRole,
  RoutingSettings,
  Skill,
  TransferRequestSchema,
  UpdateAgentRoutingRequestSchema,
  UpdateRoutingSettingsRequestSchema,
  UpdateSkillRequestSchema,
} from '@parley/protocol';
import { sql } from 'kysely';
import type { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import { isSupervisor, type Principal, principalId, requireUser } from '../../core/principal.ts';
import type { EventBus } from '../../infra/bus/event-bus.ts';
import type { Db } from '../../infra/db/database.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import { arrayParameter, batchRows } from '../../infra/db/batch-rows.ts';
import { type HeldRead, preparedStatement } from '../../infra/db/prepared.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConversationActivity, ConversationRoutingPort, ConversationService, StoredMessage } from '../conversations/index.ts';
import { isWithinBusinessHours } from './business-hours.ts';
import { noticeWaiting, queuePosition, type RouterDeps, routeAccount } from './router.ts';
import {
  AfterCommit,
  DEFAULT_SETTINGS,
  freshSince,
  loadAgentStatuses,
  loadSettings,
  lockAccountRouting,
  type RoutingRow,
  recordStatePeriod,
  toConversationRouting,
  toSkill,
  type Trx,
} from './routing-store.ts';

/** The live view's messages per minute are counted over this window. */
const LIVE_MESSAGES_WINDOW_MS = 5 * 60_000;

type ConversationRow = Awaited<ReturnType<ConversationService['lockForUpdate']>>;

/** What a stored message reads of its conversation's routing row, with its skill's response target. */
type MessageRouting = Pick<RoutingRow, 'conversation_id' | 'status' | 'skill_id' | 'agent_id' | 'awaiting_since' | 'first_response_at' | 'breached_at'> & {
  response_target_seconds: number | null;
};

// The two statements of every group commit, fixed texts with their lists as arrays in sub-selects, prepared once per
// connection with a generic plan (infra/db/prepared.ts, batch-rows.ts, ADR 16); lateral lookups that cannot be
// flattened into a join (`limit 1`), so that plan probes the index for each id: flattened, a generic plan for 100 ids
// hashed them and scanned the whole table. Only the columns a message changes or reads: a routing row has eleven
// timestamps.

/** $1: the conversations' ids. */
const FIND_MESSAGE_ROUTING = preparedStatement<MessageRouting>(
  'routing.messages.find',
  `select r.conversation_id, r.status, r.skill_id, r.agent_id, r.awaiting_since, r.first_response_at, r.breached_at, s.response_target_seconds
  from unnest((select $1::uuid[])) as i (id)
  cross join lateral (select * from conversation_routing where conversation_id = i.id limit 1) r
  left join lateral (select response_target_seconds from skills where id = r.skill_id limit 1) s on true`,
);

/** What a group commit changes in a conversation's routing row. */
interface MessageRoutingUpdate {
  conversation_id: string;
  awaiting_since: Date | null;
  response_due_at: Date | null;
  clear_breach: boolean;
  first_response_at: Date | null;
  queued: boolean;
}

const ROUTING_UPDATES = batchRows<MessageRoutingUpdate>('v', [
  ['conversation_id', 'uuid'],
  ['awaiting_since', 'timestamptz'],
  ['response_due_at', 'timestamptz'],
  ['clear_breach', 'boolean'],
  ['first_response_at', 'timestamptz'],
  ['queued', 'boolean'],
]);
const NOW = `$${ROUTING_UPDATES.nextParameter}::timestamptz`;

/** The conversations' new values as a batch of rows (`ROUTING_UPDATES`), then the time. The rows to update are named by id (a scan of the key). */
const UPDATE_MESSAGE_ROUTING = preparedStatement(
  'routing.messages.update',
  `with v as (
    select * from ${ROUTING_UPDATES.sql}
  )
  update conversation_routing r set
    awaiting_since = v.awaiting_since,
    response_due_at = v.response_due_at,
    idle_warned_at = null,
    last_activity_at = ${NOW},
    breached_at = case when v.clear_breach then null else r.breached_at end,
    first_response_at = coalesce(r.first_response_at, v.first_response_at),
    status = case when v.queued then 'queued' else r.status end,
    queued_at = case when v.queued then ${NOW} else r.queued_at end,
    queue_order_at = case when v.queued then ${NOW} else r.queue_order_at end,
    queue_notice_sent = case when v.queued then false else r.queue_notice_sent end
  from v
  where r.conversation_id = v.conversation_id and r.conversation_id = any(array(select conversation_id from v))`,
);

export interface RoutingOptions {
  /** How often gateways refresh their agents' connections; three missed refreshes make a connection stale. */
  heartbeatMs: number;
  /** Identifies this process among the nodes sharing the database. */
  nodeId: string;
}

export interface RoutingHooks {
  onAssigned?(waitMs: number, kind: 'assign' | 'offer'): void;
  onPass?(durationMs: number): void;
}

const validation = (path: string, message: string) => new AppError('VALIDATION_FAILED', message, { issues: [{ path, message, code: 'invalid_value' }] });

const ESCALATION_TEXT: Record<EscalationReason, string> = {
  bot_requested: 'the bot asked for a person',
  consumer_requested: 'the consumer asked for a person',
  bot_timeout: 'the bot did not answer in time',
  bot_error: "the bot's endpoint failed",
};

/**
 * Routing: skills, agents' states and capacity, the queue of each skill, assignment, offers, transfers and the
 * timers of a conversation's life (ring time-outs, transfer fallback, lost connections, response targets, auto-close).
 * Every decision is made in PostgreSQL under a per-account lock, so any number of nodes can route one account.
 */
export class RoutingService {
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly conversations: ConversationService,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: RoutingOptions,
    private readonly hooks: RoutingHooks = {},
  ) {}

  /** The most idle conversations one sweep warns or closes (the longest silent first); the next sweep takes the rest. */
  idleSweepBatch = 1000;

  private get deps(): RouterDeps {
    return {
      db: this.db,
      bus: this.bus,
      conversations: this.conversations,
      clock: this.clock,
      logger: this.logger,
      heartbeatMs: this.options.heartbeatMs,
      ...(this.hooks.onAssigned ? { onAssigned: this.hooks.onAssigned } : {}),
    };
  }

  // ---------- routing passes ----------

  /** Asks for a routing pass of the account; passes of one account never overlap in this process and coalesce. */
  requestRouting(accountId: string): Promise<void> {
    const current = this.running.get(accountId);
    if (current) {
      this.dirty.add(accountId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          this.dirty.delete(accountId);
          const started = performance.now();
          await routeAccount(this.deps, accountId);
          this.hooks.onPass?.(performance.now() - started);
        } while (this.dirty.has(accountId));
      } catch (error) {
        this.logger.error({ err: error, accountId }, 'routing pass failed; the next sweep retries');
      } finally {
        this.running.delete(accountId);
      }
    })();
    this.running.set(accountId, run);
    return run;
  }

  /** Resolves when no routing pass is running (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  /** Routes every account with a waiting conversation (the periodic safety net for triggers lost with a node). */
  async routeAllWaiting(): Promise<void> {
    const accounts = await this.db.selectFrom('conversation_routing').select('account_id').distinct().where('status', '=', 'queued').execute();
    await Promise.all(accounts.map((a) => this.requestRouting(a.account_id)));
  }

  // ---------- the conversation module's port ----------

  readonly port: ConversationRoutingPort = {
    opened: async (trx, conversation, entry) => {
      let skillId: string | null;
      if (entry.skillId) {
        const skill = await trx.selectFrom('skills').select('id').where('id', '=', entry.skillId).where('account_id', '=', conversation.account_id).executeTakeFirst();
        if (!skill) throw validation('skillId', 'Unknown skill');
        skillId = skill.id;
      } else {
        skillId = (await loadSettings(trx, conversation.account_id)).defaultSkillId;
      }
      await trx
        .insertInto('conversation_routing')
        .values({ conversation_id: conversation.id, account_id: conversation.account_id, status: 'new', skill_id: skillId, priority: 0, last_activity_at: this.clock.now(), passed_agents: '[]' })
        .execute();
      await this.conversations.recordActivity(trx, conversation, { type: 'opened', skillId });
    },
    reopened: async (trx, conversation, previousAgentId) => {
      const now = this.clock.now();
      const settings = await loadSettings(trx, conversation.account_id);
      await this.ensureRow(trx, conversation);
      await trx
        .updateTable('conversation_routing')
        .set({
          status: 'queued',
          queued_at: now,
          queue_order_at: now,
          agent_id: null,
          assigned_at: null,
          offered_to: null,
          offer_expires_at: null,
          passed_agents: '[]',
          target_agent_id: previousAgentId,
          target_until: previousAgentId ? new Date(now.getTime() + settings.transferFallbackSeconds * 1000) : null,
          transfer_note: null,
          awaiting_since: null,
          response_due_at: null,
          breached_at: null,
          idle_warned_at: null,
          last_activity_at: now,
          queue_notice_sent: false,
        })
        .where('conversation_id', '=', conversation.id)
        .execute();
    },
    reopenWindowSeconds: async (accountId) => (await loadSettings(this.db, accountId)).reopenWindowSeconds,
    messageStored: async (trx, conversation, role, audience) => this.messageStored(trx, conversation, role, audience),
    startMessagesStored: async (trx, conversationIds) => {
      const found = await FIND_MESSAGE_ROUTING.runAfterNext(trx, [arrayParameter([...new Set(conversationIds)])]);
      return (messages) => this.messagesStored(trx, messages, found);
    },
    lockAccount: (trx, accountId) => lockAccountRouting(trx, accountId),
    taken: async (trx, conversation, agentId) => {
      await this.assertCapacity(trx, conversation.account_id, agentId);
      const row = await this.ensureRow(trx, conversation);
      const now = this.clock.now();
      await trx
        .updateTable('conversation_routing')
        .set({ status: 'assigned', agent_id: agentId, assigned_at: now, offered_to: null, offer_expires_at: null, target_agent_id: null, target_until: null, passed_agents: '[]' })
        .where('conversation_id', '=', conversation.id)
        .execute();
      await this.touchAgent(trx, conversation.account_id, agentId, { last_assigned_at: now });
      await this.conversations.recordActivity(trx, conversation, { type: 'assigned', agentId, isBot: false, skillId: row.skill_id, waitMs: waitedMs(row, now) });
    },
    closed: async (trx, conversation, reason) => {
      const row = await trx
        .updateTable('conversation_routing')
        .set({ status: 'closed', offered_to: null, offer_expires_at: null, target_agent_id: null, target_until: null, awaiting_since: null, response_due_at: null })
        .where('conversation_id', '=', conversation.id)
        .returning(['skill_id', 'agent_id', 'assigned_at'])
        .executeTakeFirst();
      const handleMs = row?.agent_id && row.assigned_at ? this.clock.now().getTime() - row.assigned_at.getTime() : null;
      await this.conversations.recordActivity(trx, conversation, { type: 'closed', reason, skillId: row?.skill_id ?? null, agentId: row?.agent_id ?? null, handleMs });
    },
    describe: async (db, ids) => {
      if (ids.length === 0) return new Map<string, ConversationRouting>();
      const rows = await db.selectFrom('conversation_routing').selectAll().where('conversation_id', 'in', ids).execute();
      return new Map(rows.map((r) => [r.conversation_id, toConversationRouting(r)]));
    },
    changed: (accountId) => {
      void this.requestRouting(accountId);
    },
  };

  /** Resolves to true when the message changed what the conversation lists show of routing (queued, breach ended). */
  private async messageStored(trx: Trx, conversation: ConversationRow, role: ParticipantRole | 'system', audience: 'all' | 'agents_and_managers'): Promise<boolean> {
    return (await this.messagesStored(trx, [{ conversation, role, audience }])).size > 0;
  }

  /**
   * Messages stored in one transaction, possibly in several conversations (a group commit), in the order they were
   * stored: one read of their routing rows (with their skills' response targets), each message's effect applied in
   * order, one update of every row, and their analytics activities together. Resolves to the conversations whose
   * routing, as the lists show it, changed (queued, breach ended). `prefetched`: routing's rows of (at least) these
   * messages' conversations, read in an earlier round trip of `trx` (a group commit's, `startMessagesStored`).
   */
  private async messagesStored(trx: Trx, messages: readonly StoredMessage[], prefetched?: HeldRead<MessageRouting>): Promise<Set<string>> {
    const changed = new Set<string>();
    const relevant = messages.filter((m) => m.role !== 'system' && m.audience === 'all');
    if (relevant.length === 0) return changed;
    const now = this.clock.now();
    const ids = [...new Set(relevant.map((m) => m.conversation.id))];
    const { rows: found } = prefetched ? await prefetched.result : await FIND_MESSAGE_ROUTING.run(trx, [arrayParameter(ids)]);
    const rows = new Map<string, MessageRouting>(found.map((r) => [r.conversation_id, r]));
    for (const m of relevant) if (!rows.has(m.conversation.id)) rows.set(m.conversation.id, await this.createRowWithTarget(trx, m.conversation));
    // What each conversation's update sets, after all of its messages in this transaction.
    const updates = new Map<string, { awaiting: Date | null; due: Date | null; clearBreach: boolean; firstResponse: Date | null; queued: boolean }>();
    const activities: Array<{ conversation: ConversationRow; activity: ConversationActivity }> = [];
    for (const { conversation, role } of relevant) {
      const row = rows.get(conversation.id);
      if (!row) throw new Error('routing row missing');
      const update = updates.get(conversation.id) ?? { awaiting: null, due: null, clearBreach: false, firstResponse: null, queued: false };
      if (role === 'consumer') {
        const awaiting = row.awaiting_since ?? now;
        const startsQueue = row.status === 'new';
        const target = row.response_target_seconds;
        row.awaiting_since = awaiting;
        update.due = target ? new Date(awaiting.getTime() + target * 1000) : null;
        if (startsQueue) {
          row.status = 'queued';
          update.queued = true;
          changed.add(conversation.id);
        }
        activities.push({
          conversation,
          activity: { type: 'message', role: 'consumer', skillId: row.skill_id, agentId: row.agent_id, queued: startsQueue, responseMs: null, firstResponse: false },
        });
      } else {
        // An answer from the agent's side: nothing is waiting on them any more.
        const firstResponse = row.awaiting_since !== null && row.first_response_at === null;
        const responseMs = row.awaiting_since ? now.getTime() - row.awaiting_since.getTime() : null;
        // An answer that ends a breach takes the conversation's breach flag off the lists.
        if (row.breached_at !== null) changed.add(conversation.id);
        row.awaiting_since = null;
        update.due = null;
        row.breached_at = null;
        update.clearBreach = true;
        if (firstResponse) {
          row.first_response_at = now;
          update.firstResponse = now;
        }
        activities.push({
          conversation,
          activity: { type: 'message', role: role === 'bot' ? 'bot' : 'agent', skillId: row.skill_id, agentId: row.agent_id, queued: false, responseMs, firstResponse },
        });
      }
      update.awaiting = row.awaiting_since;
      updates.set(conversation.id, update);
    }
    const values = [...updates].map(
      ([id, u]): MessageRoutingUpdate => ({
        conversation_id: id,
        awaiting_since: u.awaiting,
        response_due_at: u.due,
        clear_breach: u.clearBreach,
        first_response_at: u.firstResponse,
        queued: u.queued,
      }),
    );
    await UPDATE_MESSAGE_ROUTING.runLater(trx, [...ROUTING_UPDATES.parameters(values), now]);
    await this.conversations.recordActivities(trx, activities);
    return changed;
  }

  /** For a conversation that predates routing: its new routing row, with its skill's response target. */
  private async createRowWithTarget(trx: Trx, conversation: ConversationRow): Promise<MessageRouting> {
    const row = await this.ensureRow(trx, conversation);
    const skill = row.skill_id ? await trx.selectFrom('skills').select('response_target_seconds').where('id', '=', row.skill_id).executeTakeFirst() : undefined;
    return { ...row, response_target_seconds: skill?.response_target_seconds ?? null };
  }

  /** The routing row of a conversation, created for conversations that predate routing. */
  private async ensureRow(trx: Trx, conversation: ConversationRow): Promise<RoutingRow> {
    const existing = await trx.selectFrom('conversation_routing').selectAll().where('conversation_id', '=', conversation.id).executeTakeFirst();
    if (existing) return existing;
    const settings = await loadSettings(trx, conversation.account_id);
    return trx
      .insertInto('conversation_routing')
      .values({
        conversation_id: conversation.id,
        account_id: conversation.account_id,
        status: conversation.state === 'closed' ? 'closed' : conversation.assigned_agent_id ? 'assigned' : 'new',
        agent_id: conversation.assigned_agent_id,
        skill_id: settings.defaultSkillId,
        priority: 0,
        last_activity_at: this.clock.now(),
        passed_agents: '[]',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private async assertCapacity(trx: Trx, accountId: string, agentId: string): Promise<void> {
    const [status] = await loadAgentStatuses(trx, accountId, this.clock.now(), this.options.heartbeatMs, [agentId]);
    if (!status) throw validation('agentId', 'Unknown agent');
    if (status.assigned + status.offered >= status.maxConversations) {
      throw new AppError('AGENT_AT_CAPACITY', `${status.name} already holds ${status.assigned} of ${status.maxConversations} conversations`, {
        assigned: status.assigned,
        maxConversations: status.maxConversations,
      });
    }
  }

  private async touchAgent(trx: Trx, accountId: string, userId: string, values: { last_assigned_at?: Date }): Promise<void> {
    await trx
      .insertInto('agent_states')
      .values({ user_id: userId, account_id: accountId, state: 'offline', reason: null, state_since: this.clock.now(), max_conversations: null, ...values })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
      .execute();
  }

  // ---------- settings and skills ----------

  getSettings(principal: Principal): Promise<RoutingSettings> {
    return loadSettings(this.db, principal.accountId);
  }

  async updateSettings(principal: Principal, input: z.infer<typeof UpdateRoutingSettingsRequestSchema>): Promise<RoutingSettings> {
    const accountId = principal.accountId;
    if (input.defaultSkillId) {
      const skill = await this.db.selectFrom('skills').select('id').where('id', '=', input.defaultSkillId).where('account_id', '=', accountId).executeTakeFirst();
      if (!skill) throw validation('defaultSkillId', 'Unknown skill');
    }
    const next = { ...(await loadSettings(this.db, accountId)), ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as RoutingSettings;
    const values = {
      default_skill_id: next.defaultSkillId,
      default_max_conversations: next.defaultMaxConversations,
      disconnect_grace_seconds: next.disconnectGraceSeconds,
      transfer_fallback_seconds: next.transferFallbackSeconds,
      auto_close_seconds: next.autoCloseSeconds,
      auto_close_warning_seconds: next.autoCloseWarningSeconds,
      reopen_window_seconds: next.reopenWindowSeconds,
    };
    await this.db
      .insertInto('routing_settings')
      .values({ account_id: accountId, ...values })
      .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
      .execute();
    void this.requestRouting(accountId);
    return next;
  }

  async listSkills(principal: Principal): Promise<{ items: Skill[] }> {
    const rows = await this.db.selectFrom('skills').selectAll().where('account_id', '=', principal.accountId).orderBy('name').execute();
    return { items: rows.map(toSkill) };
  }

  async createSkill(principal: Principal, input: z.infer<typeof CreateSkillRequestSchema>): Promise<Skill> {
    try {
      const row = await this.db
        .insertInto('skills')
        .values({
          account_id: principal.accountId,
          name: input.name,
          routing_mode: input.routingMode,
          ring_timeout_seconds: input.ringTimeoutSeconds,
          response_target_seconds: input.responseTargetSeconds,
          business_hours: input.businessHours,
          off_hours_message: input.offHoursMessage,
          no_agents_message: input.noAgentsMessage,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSkill(row);
    } catch (error) {
      if (isUniqueViolation(error, 'skills_name_per_account')) throw new AppError('CONFLICT', `A skill named "${input.name}" exists already`);
      throw error;
    }
  }

  async updateSkill(principal: Principal, id: string, input: z.infer<typeof UpdateSkillRequestSchema>): Promise<Skill> {
    const set: Record<string, unknown> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.routingMode !== undefined) set.routing_mode = input.routingMode;
    if (input.ringTimeoutSeconds !== undefined) set.ring_timeout_seconds = input.ringTimeoutSeconds;
    if (input.responseTargetSeconds !== undefined) set.response_target_seconds = input.responseTargetSeconds;
    if (input.businessHours !== undefined) set.business_hours = input.businessHours;
    if (input.offHoursMessage !== undefined) set.off_hours_message = input.offHoursMessage;
    if (input.noAgentsMessage !== undefined) set.no_agents_message = input.noAgentsMessage;
    try {
      const q = this.db.updateTable('skills').where('id', '=', id).where('account_id', '=', principal.accountId);
      const row =
        Object.keys(set).length > 0
          ? await q.set(set).returningAll().executeTakeFirst()
          : await this.db.selectFrom('skills').selectAll().where('id', '=', id).where('account_id', '=', principal.accountId).executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', 'Skill not found');
      void this.requestRouting(principal.accountId);
      return toSkill(row);
    } catch (error) {
      if (isUniqueViolation(error, 'skills_name_per_account')) throw new AppError('CONFLICT', `A skill named "${input.name}" exists already`);
      throw error;
    }
  }

  // ---------- agents ----------

  async listAgents(principal: Principal): Promise<{ items: AgentStatus[] }> {
    return { items: await loadAgentStatuses(this.db, principal.accountId, this.clock.now(), this.options.heartbeatMs) };
  }

  async agentStatus(principal: Principal, userId: string): Promise<AgentStatus> {
    const [status] = await loadAgentStatuses(this.db, principal.accountId, this.clock.now(), this.options.heartbeatMs, [userId]);
    if (!status) throw new AppError('NOT_FOUND', 'User not found');
    return status;
  }

  myState(principal: Principal): Promise<AgentStatus> {
    return this.agentStatus(principal, requireUser(principal).userId);
  }

  /**
   * Sets an agent's state. Going offline returns their conversations to the queue (keeping their place); going away
   * keeps them but rings nothing more; offers ringing for them move on at once unless they stay online.
   */
  async setState(principal: Principal, userId: string, state: AgentState, reason: string | null = null): Promise<AgentStatus> {
    const user = requireUser(principal);
    if (userId !== user.userId && !isSupervisor(principal)) throw new AppError('FORBIDDEN', "Only managers and admins set another agent's state");
    const target = await this.db.selectFrom('users').select(['id', 'disabled']).where('id', '=', userId).where('account_id', '=', user.accountId).executeTakeFirst();
    if (!target) throw new AppError('NOT_FOUND', 'User not found');
    if (target.disabled && state !== 'offline') throw new AppError('AGENT_UNAVAILABLE', 'The user is disabled');
    await this.applyState(user.accountId, userId, state, reason);
    return this.agentStatus(principal, userId);
  }

  private async applyState(accountId: string, userId: string, state: AgentState, reason: string | null): Promise<void> {
    const after = new AfterCommit();
    await this.db.transaction().execute(async (trx) => {
      await lockAccountRouting(trx, accountId);
      const now = this.clock.now();
      const previous = await trx.selectFrom('agent_states').select(['state', 'reason']).where('user_id', '=', userId).executeTakeFirst();
      const changed = previous?.state !== state || previous.reason !== reason;
      await trx
        .insertInto('agent_states')
        .values({ user_id: userId, account_id: accountId, state, reason, state_since: now, max_conversations: null })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(changed ? { state, reason, state_since: now } : { state, reason }))
        .execute();
      if (changed) await recordStatePeriod(trx, accountId, userId, state, reason, now);
      if (state !== 'online') await this.returnOffers(trx, accountId, userId, after);
      if (state === 'offline') await this.backToQueue(trx, accountId, userId, after);
      after.agent(userId);
      after.account(accountId);
    });
    await after.publish(this.deps, accountId);
    void this.requestRouting(accountId);
  }

  async updateAgentRouting(principal: Principal, userId: string, input: z.infer<typeof UpdateAgentRoutingRequestSchema>): Promise<AgentStatus> {
    const accountId = principal.accountId;
    const target = await this.db.selectFrom('users').select('id').where('id', '=', userId).where('account_id', '=', accountId).executeTakeFirst();
    if (!target) throw new AppError('NOT_FOUND', 'User not found');
    const skillIds = input.skillIds ? [...new Set(input.skillIds)] : undefined;
    if (skillIds && skillIds.length > 0) {
      const found = await this.db.selectFrom('skills').select('id').where('account_id', '=', accountId).where('id', 'in', skillIds).execute();
      if (found.length !== skillIds.length) throw validation('skillIds', 'Unknown skill');
    }
    const after = new AfterCommit();
    await this.db.transaction().execute(async (trx) => {
      if (input.maxConversations !== undefined) {
        await trx
          .insertInto('agent_states')
          .values({ user_id: userId, account_id: accountId, state: 'offline', reason: null, state_since: this.clock.now(), max_conversations: input.maxConversations })
          .onConflict((oc) => oc.column('user_id').doUpdateSet({ max_conversations: input.maxConversations ?? null }))
          .execute();
      }
      if (skillIds) {
        await trx.deleteFrom('agent_skills').where('user_id', '=', userId).execute();
        if (skillIds.length > 0)
          await trx
            .insertInto('agent_skills')
            .values(skillIds.map((skill_id) => ({ user_id: userId, skill_id, account_id: accountId })))
            .execute();
      }
      after.agent(userId);
    });
    await after.publish(this.deps, accountId);
    void this.requestRouting(accountId);
    return this.agentStatus(principal, userId);
  }

  /** Offers ringing for the agent go back to the queue (the agent counts as having passed). */
  private async returnOffers(trx: Trx, accountId: string, userId: string, after: AfterCommit): Promise<void> {
    const offers = await trx
      .updateTable('conversation_routing')
      .set({ status: 'queued', offered_to: null, offer_expires_at: null, passed_agents: sql`passed_agents || ${JSON.stringify([userId])}::jsonb` })
      .where('account_id', '=', accountId)
      .where('status', '=', 'offered')
      .where('offered_to', '=', userId)
      .returning('conversation_id')
      .execute();
    for (const o of offers) after.conversation(o.conversation_id);
  }

  /**
   * The agent's conversations go back to the queue, keeping their place in it. A bot's (disabled, or its connection
   * lost) go to people: that is an escalation, so no other bot takes them and the agent is told why.
   */
  private async backToQueue(trx: Trx, accountId: string, userId: string, after: AfterCommit): Promise<void> {
    const held = await trx
      .selectFrom('conversation_routing')
      .select(['conversation_id', 'skill_id', 'assigned_at'])
      .where('account_id', '=', accountId)
      .where('status', '=', 'assigned')
      .where('agent_id', '=', userId)
      .execute();
    if (held.length === 0) return;
    const user = await trx.selectFrom('users').select(['role', 'name']).where('id', '=', userId).executeTakeFirst();
    const now = this.clock.now();
    for (const { conversation_id, skill_id, assigned_at } of held) {
      const conversation = await this.conversations.lockForUpdate(trx, conversation_id, accountId);
      // The list was read before this conversation's lock: it may have been closed, transferred or taken meanwhile.
      if (conversation.state !== 'open' || conversation.assigned_agent_id !== userId) continue;
      if (user?.role === 'bot') {
        await this.requeue(trx, conversation, after, {
          byId: userId,
          skillId: null,
          agentId: null,
          note: `Escalated by ${user.name}: ${ESCALATION_TEXT.bot_error} (the bot went offline).`,
          transferNote: null,
          escalation: { reason: 'bot_error' },
        });
        continue;
      }
      const events = await this.conversations.unassignAgent(trx, conversation);
      await trx
        .updateTable('conversation_routing')
        .set((eb) => ({
          status: 'queued',
          agent_id: null,
          assigned_at: null,
          queued_at: now,
          queue_order_at: eb.fn.coalesce('queue_order_at', sql<Date>`${now}`),
          queue_notice_sent: true,
          idle_warned_at: null,
          last_activity_at: now,
        }))
        .where('conversation_id', '=', conversation_id)
        .execute();
      await this.conversations.recordActivity(trx, conversation, {
        type: 'released',
        reason: 'offline',
        agentId: userId,
        skillId: skill_id,
        heldMs: assigned_at ? now.getTime() - assigned_at.getTime() : null,
      });
      after.conversation(conversation_id, events);
    }
  }

  // ---------- presence (from the realtime gateway) ----------

  async connectionOpened(principal: Principal, connectionId: string): Promise<void> {
    if (principal.kind !== 'user') return;
    const now = this.clock.now();
    await this.db
      .insertInto('agent_connections')
      .values({ id: connectionId, user_id: principal.userId, account_id: principal.accountId, node_id: this.options.nodeId, connected_at: now, heartbeat_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
      .execute();
    await this.db.updateTable('agent_states').set({ disconnected_at: null }).where('user_id', '=', principal.userId).execute();
    const after = new AfterCommit();
    after.agent(principal.userId);
    after.account(principal.accountId);
    await after.publish(this.deps, principal.accountId);
    void this.requestRouting(principal.accountId);
  }

  async connectionClosed(principal: Principal, connectionId: string): Promise<void> {
    if (principal.kind !== 'user') return;
    await this.db.deleteFrom('agent_connections').where('id', '=', connectionId).execute();
    const now = this.clock.now();
    const left = await this.db
      .selectFrom('agent_connections')
      .select('id')
      .where('user_id', '=', principal.userId)
      .where('heartbeat_at', '>', freshSince(now, this.options.heartbeatMs))
      .executeTakeFirst();
    if (!left) await this.db.updateTable('agent_states').set({ disconnected_at: now }).where('user_id', '=', principal.userId).where('disconnected_at', 'is', null).execute();
    const after = new AfterCommit();
    after.agent(principal.userId);
    after.account(principal.accountId);
    await after.publish(this.deps, principal.accountId);
  }

  /** The gateway of this node refreshes its connections; a node that dies stops doing so and its agents go stale. */
  async heartbeat(connectionIds: readonly string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    await this.db.updateTable('agent_connections').set({ heartbeat_at: this.clock.now() }).where('node_id', '=', this.options.nodeId).where('id', 'in', connectionIds).execute();
  }

  // ---------- conversations: transfer, assign, offers, queue ----------

  async transfer(principal: Principal, conversationId: string, input: z.infer<typeof TransferRequestSchema>): Promise<ConversationSummary> {
    const accountId = principal.accountId;
    if (input.skillId) {
      const skill = await this.db.selectFrom('skills').select('id').where('id', '=', input.skillId).where('account_id', '=', accountId).executeTakeFirst();
      if (!skill) throw validation('skillId', 'Unknown skill');
    }
    if (input.agentId) {
      const agent = await this.db.selectFrom('users').select(['id', 'disabled']).where('id', '=', input.agentId).where('account_id', '=', accountId).executeTakeFirst();
      if (!agent) throw validation('agentId', 'Unknown agent');
      if (agent.disabled) throw new AppError('AGENT_UNAVAILABLE', 'The agent is disabled');
    }
    const byBot = principal.kind === 'user' && principal.role === 'bot';
    const after = new AfterCommit();
    await this.db.transaction().execute(async (trx) => {
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, accountId);
      this.assertMayRoute(principal, conversation);
      if (conversation.state !== 'open') throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed');
      const by = principal.kind === 'user' ? principal.name : 'Integration';
      await this.requeue(trx, conversation, after, {
        byId: principalId(principal),
        skillId: input.skillId ?? null,
        agentId: input.agentId ?? null,
        note: input.note ? `${byBot ? 'Escalated' : 'Transfer note'} from ${by}: ${input.note}` : byBot ? `Escalated by ${by}.` : null,
        transferNote: input.note ?? null,
        escalation: byBot ? { reason: 'bot_requested' } : null,
      });
    });
    await after.publish(this.deps, accountId);
    await this.requestRouting(accountId);
    return this.conversations.get(principal, conversationId).catch(() => this.summaryAsSystem(conversationId));
  }

  /**
   * Parley hands a bot's conversation to people (the consumer asked for a person, the bot timed out or its endpoint
   * failed). Does nothing when the bot no longer holds it. Returns whether it escalated.
   */
  async escalateFromBot(accountId: string, conversationId: string, input: { botId: string; botName: string; reason: EscalationReason; skillId: string | null; note: string | null }): Promise<boolean> {
    const after = new AfterCommit();
    const done = await this.db.transaction().execute(async (trx) => {
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, accountId);
      if (conversation.state !== 'open' || conversation.assigned_agent_id !== input.botId) return false;
      await this.requeue(trx, conversation, after, {
        byId: input.botId,
        skillId: input.skillId,
        agentId: null,
        note: `Escalated by ${input.botName}: ${ESCALATION_TEXT[input.reason]}.${input.note ? ` ${input.note}` : ''}`,
        transferNote: input.note,
        escalation: { reason: input.reason },
      });
      return true;
    });
    if (!done) return false;
    await after.publish(this.deps, accountId);
    await this.requestRouting(accountId);
    return true;
  }

  /** Moves the (locked, open) conversation back to a queue: a transfer, or a bot's escalation (people only from then on). */
  private async requeue(
    trx: Trx,
    conversation: ConversationRow,
    after: AfterCommit,
    input: {
      byId: string;
      skillId: string | null;
      agentId: string | null;
      note: string | null;
      transferNote: string | null;
      escalation: Extract<ConversationActivity, { type: 'transferred' }>['escalation'];
    },
  ): Promise<void> {
    const accountId = conversation.account_id;
    const row = await this.ensureRow(trx, conversation);
    const now = this.clock.now();
    const settings = await loadSettings(trx, accountId);
    const events = [];
    if (input.note) events.push(...(await this.conversations.appendSystemMessage(trx, conversation, input.note, 'agents_and_managers')));
    events.push(...(await this.conversations.unassignAgent(trx, conversation)));
    const skillId = input.skillId ?? row.skill_id;
    await trx
      .updateTable('conversation_routing')
      .set({
        status: 'queued',
        skill_id: skillId,
        agent_id: null,
        assigned_at: null,
        offered_to: null,
        offer_expires_at: null,
        passed_agents: input.agentId ? '[]' : JSON.stringify(conversation.assigned_agent_id ? [conversation.assigned_agent_id] : []),
        target_agent_id: input.agentId,
        target_until: input.agentId ? new Date(now.getTime() + settings.transferFallbackSeconds * 1000) : null,
        transfer_note: input.transferNote,
        queued_at: now,
        queue_order_at: row.queue_order_at ?? now,
        // A consumer handed over by a bot is told where they stand, as on arrival; a transferred one already talks to people.
        queue_notice_sent: input.escalation === null,
        last_activity_at: now,
        ...(input.escalation ? { bots_excluded: true } : {}),
      })
      .where('conversation_id', '=', conversation.id)
      .execute();
    await this.conversations.recordActivity(trx, conversation, {
      type: 'transferred',
      byId: input.byId,
      fromAgentId: conversation.assigned_agent_id,
      fromSkillId: row.skill_id,
      toSkillId: skillId,
      toAgentId: input.agentId,
      note: input.transferNote,
      escalation: input.escalation,
      heldMs: conversation.assigned_agent_id && row.assigned_at ? now.getTime() - row.assigned_at.getTime() : null,
    });
    after.conversation(conversation.id, events);
    if (conversation.assigned_agent_id) after.agent(conversation.assigned_agent_id);
    after.account(accountId);
  }

  /**
   * The routing side of a bot (called by the bots module): its skills, capacity, whether it needs a connection, and
   * online/offline with its enabled flag (going offline sends its conversations back to the queue).
   */
  async configureBot(accountId: string, botId: string, input: { skillIds: readonly string[]; maxConversations: number; alwaysAvailable: boolean; enabled: boolean }): Promise<void> {
    const skillIds = [...new Set(input.skillIds)];
    if (skillIds.length > 0) {
      const found = await this.db.selectFrom('skills').select('id').where('account_id', '=', accountId).where('id', 'in', skillIds).execute();
      if (found.length !== skillIds.length) throw validation('skillIds', 'Unknown skill');
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('agent_states')
        .values({
          user_id: botId,
          account_id: accountId,
          state: 'offline',
          reason: null,
          state_since: this.clock.now(),
          max_conversations: input.maxConversations,
          always_available: input.alwaysAvailable,
        })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ max_conversations: input.maxConversations, always_available: input.alwaysAvailable }))
        .execute();
      await trx.deleteFrom('agent_skills').where('user_id', '=', botId).execute();
      if (skillIds.length > 0)
        await trx
          .insertInto('agent_skills')
          .values(skillIds.map((skill_id) => ({ user_id: botId, skill_id, account_id: accountId })))
          .execute();
    });
    await this.applyState(accountId, botId, input.enabled ? 'online' : 'offline', input.enabled ? null : 'disabled');
  }

  /** Managers give a conversation to an agent directly (within the agent's capacity). */
  async assign(principal: Principal, conversationId: string, agentId: string): Promise<ConversationSummary> {
    const accountId = principal.accountId;
    const agent = await this.db.selectFrom('users').select(['id', 'name', 'disabled', 'role']).where('id', '=', agentId).where('account_id', '=', accountId).executeTakeFirst();
    if (!agent) throw validation('agentId', 'Unknown agent');
    const after = new AfterCommit();
    await this.db.transaction().execute(async (trx) => {
      await lockAccountRouting(trx, accountId);
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, accountId);
      if (conversation.state !== 'open') throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed');
      if (conversation.assigned_agent_id === agentId) return;
      const [status] = await loadAgentStatuses(trx, accountId, this.clock.now(), this.options.heartbeatMs, [agentId]);
      if (agent.disabled || !status || status.state === 'offline') throw new AppError('AGENT_UNAVAILABLE', `${agent.name} is not online`);
      await this.assertCapacity(trx, accountId, agentId);
      const previous = conversation.assigned_agent_id;
      const row = await this.ensureRow(trx, conversation);
      const now = this.clock.now();
      await trx
        .updateTable('conversation_routing')
        .set({ status: 'assigned', agent_id: agentId, assigned_at: now, offered_to: null, offer_expires_at: null, target_agent_id: null, target_until: null, passed_agents: '[]' })
        .where('conversation_id', '=', conversation.id)
        .execute();
      await this.touchAgent(trx, accountId, agentId, { last_assigned_at: now });
      if (previous && row.agent_id === previous && row.status === 'assigned')
        await this.conversations.recordActivity(trx, conversation, {
          type: 'released',
          reason: 'reassigned',
          agentId: previous,
          skillId: row.skill_id,
          heldMs: row.assigned_at ? now.getTime() - row.assigned_at.getTime() : null,
        });
      after.conversation(conversation.id, await this.conversations.assignAgent(trx, conversation, { id: agent.id, name: agent.name, isBot: agent.role === 'bot' }));
      await this.conversations.recordActivity(trx, conversation, { type: 'assigned', agentId, isBot: agent.role === 'bot', skillId: row.skill_id, waitMs: waitedMs(row, now) });
      after.agent(agentId);
      if (previous) after.agent(previous);
      after.account(accountId);
    });
    await after.publish(this.deps, accountId);
    void this.requestRouting(accountId);
    return this.conversations.get(principal, conversationId);
  }

  async accept(principal: Principal, conversationId: string): Promise<ConversationSummary> {
    const user = requireUser(principal);
    const after = new AfterCommit();
    await this.db.transaction().execute(async (trx) => {
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, user.accountId);
      const now = this.clock.now();
      const accepted = await trx
        .updateTable('conversation_routing')
        .set({ status: 'assigned', agent_id: user.userId, assigned_at: now, offered_to: null, offer_expires_at: null, target_agent_id: null, target_until: null, passed_agents: '[]' })
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'offered')
        .where('offered_to', '=', user.userId)
        .where('offer_expires_at', '>', now)
        .returning(['skill_id', 'queued_at'])
        .executeTakeFirst();
      if (!accepted) throw new AppError('NOT_OFFERED', 'This conversation is not ringing for you (any more)');
      after.conversation(conversation.id, await this.conversations.assignAgent(trx, conversation, { id: user.userId, name: user.name }));
      await this.conversations.recordActivity(trx, conversation, {
        type: 'assigned',
        agentId: user.userId,
        isBot: false,
        skillId: accepted.skill_id,
        waitMs: accepted.queued_at ? now.getTime() - accepted.queued_at.getTime() : null,
      });
      after.agent(user.userId);
      after.account(user.accountId);
    });
    await after.publish(this.deps, user.accountId);
    return this.conversations.get(principal, conversationId);
  }

  async decline(principal: Principal, conversationId: string): Promise<ConversationRouting> {
    const user = requireUser(principal);
    const after = new AfterCommit();
    const row = await this.db.transaction().execute(async (trx) => {
      await this.conversations.lockForUpdate(trx, conversationId, user.accountId);
      const declined = await trx
        .updateTable('conversation_routing')
        .set({ status: 'queued', offered_to: null, offer_expires_at: null, passed_agents: sql`passed_agents || ${JSON.stringify([user.userId])}::jsonb` })
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'offered')
        .where('offered_to', '=', user.userId)
        .returningAll()
        .executeTakeFirst();
      if (!declined) throw new AppError('NOT_OFFERED', 'This conversation is not ringing for you (any more)');
      after.conversation(conversationId);
      after.agent(user.userId);
      after.account(user.accountId);
      return declined;
    });
    await after.publish(this.deps, user.accountId);
    void this.requestRouting(user.accountId);
    return toConversationRouting(row);
  }

  async queuePosition(principal: Principal, conversationId: string) {
    await this.conversations.get(principal, conversationId); // access check: the conversation's viewers only
    const now = this.clock.now();
    const position = await queuePosition(this.db, principal.accountId, conversationId, this.options.heartbeatMs, now);
    const skill = position.skillId ? await this.db.selectFrom('skills').select('business_hours').where('id', '=', position.skillId).executeTakeFirst() : undefined;
    return {
      conversationId,
      status: position.status as ConversationRouting['status'],
      position: position.position,
      estimatedWaitSeconds: position.estimatedWaitSeconds,
      agentsOnline: position.agentsOnline,
      open: isWithinBusinessHours(skill?.business_hours ?? null, now),
    };
  }

  // ---------- live view ----------

  async liveView(accountId: string): Promise<LiveView> {
    const now = this.clock.now();
    const messagesSince = new Date(now.getTime() - LIVE_MESSAGES_WINDOW_MS);
    const [skills, agents, rows, messageRows] = await Promise.all([
      this.db.selectFrom('skills').selectAll().where('account_id', '=', accountId).orderBy('name').execute(),
      loadAgentStatuses(this.db, accountId, now, this.options.heartbeatMs),
      this.db
        .selectFrom('conversation_routing')
        .select((eb) => [
          'skill_id',
          eb.fn.countAll<string>().filterWhere('status', 'in', ['queued', 'offered']).as('queued'),
          eb.fn.min('queued_at').filterWhere('status', 'in', ['queued', 'offered']).as('oldest'),
          sql<string | null>`avg(extract(epoch from (${now}::timestamptz - queued_at))) filter (where status in ('queued', 'offered'))`.as('average_wait'),
          eb.fn.countAll<string>().filterWhere('status', '=', 'assigned').as('assigned'),
          eb.fn.countAll<string>().filterWhere('breached_at', 'is not', null).as('breached'),
        ])
        .where('account_id', '=', accountId)
        .where('status', 'in', ['queued', 'offered', 'assigned'])
        .groupBy('skill_id')
        .execute(),
      // Messages of the last minutes (index conversation_events_account_time), by the skill of their conversation.
      this.db
        .selectFrom('conversation_events as e')
        .leftJoin('conversation_routing as r', 'r.conversation_id', 'e.conversation_id')
        .select((eb) => ['r.skill_id', eb.fn.countAll<string>().as('messages')])
        .where('e.account_id', '=', accountId)
        .where('e.created_at', '>=', messagesSince)
        .where('e.type', 'in', ['content', 'rich_content'])
        .groupBy('r.skill_id')
        .execute(),
    ]);
    const perMinute = (count: number) => Math.round((count / (LIVE_MESSAGES_WINDOW_MS / 60_000)) * 10) / 10;
    const bucket = (skillId: string | null, name: string, open: boolean) => {
      const row = rows.find((r) => r.skill_id === skillId);
      const staffed = agents.filter((a) => skillId === null || a.skillIds.includes(skillId));
      const online = staffed.filter((a) => a.state === 'online' && a.connected);
      const oldest = row?.oldest ? new Date(row.oldest as unknown as string | Date) : null;
      return {
        skillId,
        name,
        queued: Number(row?.queued ?? 0),
        longestWaitSeconds: oldest ? Math.max(0, Math.round((now.getTime() - oldest.getTime()) / 1000)) : null,
        averageWaitSeconds: row?.average_wait == null ? null : Math.max(0, Math.round(Number(row.average_wait))),
        agentsOnline: online.length,
        agentsAway: staffed.filter((a) => a.state === 'away' || a.state === 'back_soon').length,
        assigned: Number(row?.assigned ?? 0),
        capacity: online.reduce((sum, a) => sum + a.maxConversations, 0),
        breached: Number(row?.breached ?? 0),
        messagesPerMinute: perMinute(Number(messageRows.find((m) => m.skill_id === skillId)?.messages ?? 0)),
        open,
      };
    };
    const list = skills.map((s) => bucket(s.id, s.name, isWithinBusinessHours(s.business_hours, now)));
    if (rows.some((r) => r.skill_id === null) || skills.length === 0) list.push(bucket(null, 'No skill', true));
    const messages = messageRows.reduce((sum, m) => sum + Number(m.messages), 0);
    return { at: now.toISOString(), skills: list, agents, messagesPerMinute: perMinute(messages) };
  }

  getLiveView(principal: Principal): Promise<LiveView> {
    return this.liveView(principal.accountId);
  }

  private assertMayRoute(principal: Principal, conversation: ConversationRow): void {
    if (conversation.account_id !== principal.accountId) throw new AppError('NOT_FOUND', 'Conversation not found');
    if (principal.kind === 'consumer') throw new AppError('FORBIDDEN', 'Consumers cannot transfer conversations');
    if (principal.kind === 'api_key') {
      if (!principal.scopes.includes('conversations:write')) throw new AppError('FORBIDDEN', 'The API key lacks the conversations:write scope');
      return;
    }
    if (isSupervisor(principal)) return;
    if (conversation.assigned_agent_id !== principalId(principal)) {
      if (conversation.assigned_agent_id === null && conversation.state === 'open') throw new AppError('NOT_A_PARTICIPANT', 'Take the conversation before transferring it');
      throw new AppError('NOT_FOUND', 'Conversation not found');
    }
  }

  private summaryAsSystem(conversationId: string): Promise<ConversationSummary> {
    return this.db.transaction().execute((trx) => this.conversations.summaryInTransaction(trx, conversationId));
  }

  // ---------- timers ----------

  /**
   * Everything that happens because time passed, run by every node every second or so; each change is a conditional
   * update, so it happens once however many nodes sweep. Ring time-outs, transfer fallbacks, stale connections, lost
   * connections beyond the grace period, response-target breaches, auto-close warnings and auto-closes.
   */
  async sweep(): Promise<{ expiredOffers: number; fallbacks: number; staleConnections: number; agentsLost: number; breaches: number; warnings: number; closes: number; queueNotices: number }> {
    const now = this.clock.now();
    const accounts = new Set<string>();
    const result = { expiredOffers: 0, fallbacks: 0, staleConnections: 0, agentsLost: 0, breaches: 0, warnings: 0, closes: 0, queueNotices: 0 };

    // Offers nobody accepted in time ring for the next agent.
    const expired = await this.db
      .updateTable('conversation_routing')
      .set({ status: 'queued', offered_to: null, offer_expires_at: null, passed_agents: sql`passed_agents || jsonb_build_array(offered_to)` })
      .where('status', '=', 'offered')
      .where('offer_expires_at', '<=', now)
      .returning(['account_id', 'conversation_id'])
      .execute();
    result.expiredOffers = expired.length;
    for (const e of expired) accounts.add(e.account_id);

    // A conversation transferred to an agent who did not take it goes to anyone with the skill.
    const fallbacks = await this.db
      .updateTable('conversation_routing')
      .set({ target_agent_id: null, target_until: null })
      .where('status', '=', 'queued')
      .where('target_until', '<=', now)
      .returning('account_id')
      .execute();
    result.fallbacks = fallbacks.length;
    for (const f of fallbacks) accounts.add(f.account_id);

    // Connections of a node that stopped refreshing them (it died) are gone.
    const stale = await this.db.deleteFrom('agent_connections').where('heartbeat_at', '<=', freshSince(now, this.options.heartbeatMs)).returning(['user_id', 'account_id', 'heartbeat_at']).execute();
    result.staleConnections = stale.length;
    for (const s of stale) {
      const left = await this.db.selectFrom('agent_connections').select('id').where('user_id', '=', s.user_id).executeTakeFirst();
      if (!left) await this.db.updateTable('agent_states').set({ disconnected_at: s.heartbeat_at }).where('user_id', '=', s.user_id).where('disconnected_at', 'is', null).execute();
    }

    // Agents gone beyond the grace period: offline, their conversations back to the queue.
    const lost = await this.db
      .selectFrom('agent_states')
      .innerJoin('accounts', 'accounts.id', 'agent_states.account_id')
      .leftJoin('routing_settings', 'routing_settings.account_id', 'agent_states.account_id')
      .select(['agent_states.user_id', 'agent_states.account_id', 'agent_states.disconnected_at', 'routing_settings.disconnect_grace_seconds'])
      .where('agent_states.state', '!=', 'offline')
      .where('agent_states.disconnected_at', 'is not', null)
      .execute();
    for (const agent of lost) {
      const grace = agent.disconnect_grace_seconds ?? DEFAULT_SETTINGS.disconnectGraceSeconds;
      if (!agent.disconnected_at || agent.disconnected_at.getTime() + grace * 1000 > now.getTime()) continue;
      const connected = await this.db.selectFrom('agent_connections').select('id').where('user_id', '=', agent.user_id).executeTakeFirst();
      if (connected) continue;
      this.logger.info({ userId: agent.user_id, accountId: agent.account_id }, 'agent lost their connection beyond the grace period: offline, conversations back to the queue');
      await this.applyState(agent.account_id, agent.user_id, 'offline', 'connection lost');
      result.agentsLost += 1;
    }

    // Response targets passed without an answer.
    const breaches = await this.db
      .updateTable('conversation_routing')
      .set({ breached_at: now })
      .where('status', 'in', ['queued', 'offered', 'assigned'])
      .where('response_due_at', '<=', now)
      .where('breached_at', 'is', null)
      .returning(['account_id', 'conversation_id'])
      .execute();
    result.breaches = breaches.length;
    for (const b of breaches) {
      accounts.add(b.account_id);
      const after = new AfterCommit();
      after.conversation(b.conversation_id);
      await after.publish(this.deps, b.account_id);
    }

    // Idle conversations waiting on the consumer: a warning first, then the close. Only those whose warning or close is
    // due, oldest first: in asynchronous messaging most conversations wait on their consumer for hours, and a sweep that
    // read any 1,000 of them read the same ones every second while later ones were never closed.
    const closeAfter = sql<number | null>`case when routing_settings.account_id is null then ${DEFAULT_SETTINGS.autoCloseSeconds}::int else routing_settings.auto_close_seconds end`;
    const warnBefore = sql<number>`case when routing_settings.account_id is null then ${DEFAULT_SETTINGS.autoCloseWarningSeconds}::int else routing_settings.auto_close_warning_seconds end`;
    const dueAfter = sql<number>`(${closeAfter} - case when conversation_routing.status = 'assigned' and conversation_routing.idle_warned_at is null and ${warnBefore} > 0 then ${warnBefore} else 0 end)`;
    const idle = await this.db
      .selectFrom('conversation_routing')
      .leftJoin('routing_settings', 'routing_settings.account_id', 'conversation_routing.account_id')
      .select([
        'conversation_routing.conversation_id',
        'conversation_routing.account_id',
        'conversation_routing.status',
        'conversation_routing.last_activity_at',
        'conversation_routing.idle_warned_at',
        closeAfter.as('close_after'),
        warnBefore.as('warn_before'),
      ])
      .where('conversation_routing.status', 'in', ['new', 'assigned'])
      .where('conversation_routing.awaiting_since', 'is', null)
      .where(sql<boolean>`${closeAfter} is not null`)
      .where(sql<boolean>`conversation_routing.last_activity_at <= ${now}::timestamptz - ${dueAfter} * interval '1 second'`)
      .orderBy('conversation_routing.last_activity_at')
      .limit(this.idleSweepBatch)
      .execute();
    for (const c of idle) {
      // The account's settings, or the defaults when it has none (resolved by the query, which chose the rows by them).
      const closeAfter = c.close_after;
      const warnBefore = c.warn_before;
      if (closeAfter === null) continue;
      const silentMs = now.getTime() - c.last_activity_at.getTime();
      if (silentMs >= closeAfter * 1000) {
        if (await this.autoClose(c.conversation_id, c.account_id, c.last_activity_at)) result.closes += 1;
      } else if (c.status === 'assigned' && warnBefore > 0 && !c.idle_warned_at && silentMs >= (closeAfter - warnBefore) * 1000) {
        if (await this.warnIdle(c.conversation_id, c.account_id, c.last_activity_at, closeAfter - Math.floor(silentMs / 1000))) result.warnings += 1;
      }
    }

    // Consumers still waiting after a moment hear where they stand.
    result.queueNotices = await noticeWaiting(this.deps);

    for (const accountId of accounts) void this.requestRouting(accountId);
    return result;
  }

  private async warnIdle(conversationId: string, accountId: string, lastActivity: Date, secondsLeft: number): Promise<boolean> {
    const after = new AfterCommit();
    const done = await this.db.transaction().execute(async (trx) => {
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, accountId);
      const marked = await trx
        .updateTable('conversation_routing')
        .set({ idle_warned_at: this.clock.now() })
        .where('conversation_id', '=', conversationId)
        .where('idle_warned_at', 'is', null)
        .where('awaiting_since', 'is', null)
        .where('last_activity_at', '=', lastActivity)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) === 0) return false;
      const minutes = Math.max(1, Math.round(secondsLeft / 60));
      const message = `This conversation will close in about ${minutes} minute${minutes === 1 ? '' : 's'} as it has been quiet. Reply to keep it open.`;
      after.conversation(conversationId, await this.conversations.appendSystemMessage(trx, conversation, message));
      return true;
    });
    if (done) await after.publish(this.deps, accountId);
    return done;
  }

  private async autoClose(conversationId: string, accountId: string, lastActivity: Date): Promise<boolean> {
    const after = new AfterCommit();
    const agentId = await this.db.transaction().execute(async (trx) => {
      const conversation = await this.conversations.lockForUpdate(trx, conversationId, accountId);
      const row = await trx.selectFrom('conversation_routing').selectAll().where('conversation_id', '=', conversationId).executeTakeFirst();
      if (!row || conversation.state !== 'open' || row.awaiting_since !== null || row.last_activity_at.getTime() !== lastActivity.getTime() || !['new', 'assigned'].includes(row.status))
        return undefined;
      after.conversation(conversationId, await this.conversations.closeBySystem(trx, conversation, 'timeout'));
      after.account(accountId);
      if (row.agent_id) after.agent(row.agent_id);
      return row.agent_id ?? null;
    });
    if (agentId === undefined) return false;
    await after.publish(this.deps, accountId);
    void this.requestRouting(accountId);
    return true;
  }
}

/** How long a conversation waited in the queue before this assignment (null when it was not waiting: new or held). */
function waitedMs(row: { status: string; queued_at: Date | null }, now: Date): number | null {
  return (row.status === 'queued' || row.status === 'offered') && row.queued_at ? now.getTime() - row.queued_at.getTime() : null;
}
