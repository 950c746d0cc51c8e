import type { AgentState, AgentStatus, ConversationEvent, ConversationRouting, RoutingSettings, Skill } from '@parley/protocol';
import { type ExpressionBuilder, type Selectable, sql, type Transaction } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import { topics, type EventBus } from '../../infra/bus/event-bus.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConversationService } from '../conversations/index.ts';
import type { ConversationRoutingTable, SkillsTable } from './tables.ts';

export type Trx = Transaction<Database>;
export type RoutingRow = Selectable<ConversationRoutingTable>;

export const DEFAULT_SETTINGS: RoutingSettings = {
  defaultSkillId: null,
  defaultMaxConversations: 5,
  disconnectGraceSeconds: 60,
  transferFallbackSeconds: 120,
  autoCloseSeconds: 24 * 3600,
  autoCloseWarningSeconds: 15 * 60,
  reopenWindowSeconds: 0,
};

/** A connection counts as live while its node has refreshed it within this many heartbeats. */
export const STALE_AFTER_HEARTBEATS = 3;

/**
 * Whether an agent (a row of `agent_states`) is present: a bot that needs no connection, or anyone with a realtime
 * connection refreshed within the last few heartbeats. The one definition of presence routing decides by.
 */
export function isPresent(now: Date, heartbeatMs: number) {
  return ({ eb, exists, selectFrom }: ExpressionBuilder<Database, 'agent_states'>) =>
    eb.or([
      eb('agent_states.always_available', '=', true),
      exists(
        selectFrom('agent_connections')
          .select('agent_connections.id')
          .whereRef('agent_connections.user_id', '=', 'agent_states.user_id')
          .where('agent_connections.heartbeat_at', '>', freshSince(now, heartbeatMs)),
      ),
    ]);
}

/** Connections refreshed after this instant are live. */
export function freshSince(now: Date, heartbeatMs: number): Date {
  return new Date(now.getTime() - STALE_AFTER_HEARTBEATS * heartbeatMs);
}

/** Serialises routing decisions of one account across every node: the database, not a process, decides. */
export async function lockAccountRouting(trx: Trx, accountId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`parley:routing:${accountId}`}))`.execute(trx);
}

/**
 * The agent's state history follows a change of state (or reason): the open period ends now and the new one starts.
 * Called in the transaction of the change, under the account's routing lock; `now` is the service clock's.
 */
export async function recordStatePeriod(trx: Trx, accountId: string, userId: string, state: AgentState, reason: string | null, now: Date): Promise<void> {
  // greatest(): nodes' clocks may differ a little; a period never ends before it started.
  await trx
    .updateTable('agent_state_periods')
    .set({ ended_at: sql<Date>`greatest(started_at, ${now}::timestamptz)` })
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null)
    .execute();
  await trx.insertInto('agent_state_periods').values({ account_id: accountId, user_id: userId, state, reason, started_at: now, ended_at: null }).execute();
}

export async function loadSettings(db: Db | Trx, accountId: string): Promise<RoutingSettings> {
  const row = await db.selectFrom('routing_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  if (!row) return DEFAULT_SETTINGS;
  return {
    defaultSkillId: row.default_skill_id,
    defaultMaxConversations: row.default_max_conversations,
    disconnectGraceSeconds: row.disconnect_grace_seconds,
    transferFallbackSeconds: row.transfer_fallback_seconds,
    autoCloseSeconds: row.auto_close_seconds,
    autoCloseWarningSeconds: row.auto_close_warning_seconds,
    reopenWindowSeconds: row.reopen_window_seconds,
  };
}

export function toSkill(row: Selectable<SkillsTable>): Skill {
  return {
    id: row.id,
    name: row.name,
    routingMode: row.routing_mode,
    ringTimeoutSeconds: row.ring_timeout_seconds,
    responseTargetSeconds: row.response_target_seconds,
    businessHours: row.business_hours,
    offHoursMessage: row.off_hours_message,
    noAgentsMessage: row.no_agents_message,
    createdAt: row.created_at.toISOString(),
  };
}

export function toConversationRouting(row: RoutingRow): ConversationRouting {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    conversationId: row.conversation_id,
    status: row.status,
    skillId: row.skill_id,
    priority: row.priority,
    queuedAt: row.status === 'queued' || row.status === 'offered' ? iso(row.queued_at) : null,
    assignedAt: iso(row.assigned_at),
    offeredTo: row.offered_to,
    offerExpiresAt: iso(row.offer_expires_at),
    targetAgentId: row.target_agent_id,
    awaitingResponseSince: iso(row.awaiting_since),
    responseDueAt: iso(row.response_due_at),
    breached: row.breached_at !== null && row.status !== 'closed',
    transferNote: row.transfer_note,
  };
}

/** Agents' routing status, as one query per part, for a whole account or some of its users. */
export async function loadAgentStatuses(db: Db | Trx, accountId: string, now: Date, heartbeatMs: number, userIds?: readonly string[]): Promise<AgentStatus[]> {
  if (userIds && userIds.length === 0) return [];
  const settings = await loadSettings(db, accountId);
  let users = db
    .selectFrom('users')
    .leftJoin('agent_states', 'agent_states.user_id', 'users.id')
    .select([
      'users.id',
      'users.name',
      'users.disabled',
      'agent_states.state',
      'agent_states.reason',
      'agent_states.state_since',
      'agent_states.max_conversations',
      'agent_states.last_assigned_at',
      'agent_states.always_available',
      'users.created_at',
    ])
    .where('users.account_id', '=', accountId);
  if (userIds) users = users.where('users.id', 'in', userIds);
  const rows = await users.orderBy('users.name').execute();
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return [];
  const [skills, loads, connections] = await Promise.all([
    db.selectFrom('agent_skills').select(['user_id', 'skill_id']).where('account_id', '=', accountId).where('user_id', 'in', ids).execute(),
    db
      .selectFrom('conversation_routing')
      .select((eb) => [
        sql<string>`coalesce(offered_to, agent_id)`.as('agent'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'assigned').as('assigned'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'offered').as('offered'),
      ])
      .where('account_id', '=', accountId)
      .where('status', 'in', ['assigned', 'offered'])
      .groupBy(sql`coalesce(offered_to, agent_id)`)
      .execute(),
    db.selectFrom('agent_connections').select('user_id').distinct().where('account_id', '=', accountId).where('user_id', 'in', ids).where('heartbeat_at', '>', freshSince(now, heartbeatMs)).execute(),
  ]);
  // Present as routing counts it (isPresent): a live connection, or a bot that needs none.
  const connected = new Set([...connections.map((c) => c.user_id), ...rows.filter((r) => r.always_available).map((r) => r.id)]);
  return rows.map((r) => {
    const load = loads.find((l) => l.agent === r.id);
    return {
      userId: r.id,
      name: r.name,
      state: r.disabled ? 'offline' : (r.state ?? 'offline'),
      reason: r.disabled ? 'disabled' : (r.reason ?? null),
      stateSince: (r.state_since ?? r.created_at).toISOString(),
      connected: connected.has(r.id),
      maxConversations: r.max_conversations ?? settings.defaultMaxConversations,
      ownMaxConversations: r.max_conversations ?? null,
      assigned: Number(load?.assigned ?? 0),
      offered: Number(load?.offered ?? 0),
      skillIds: skills.filter((s) => s.user_id === r.id).map((s) => s.skill_id),
      lastAssignedAt: r.last_assigned_at?.toISOString() ?? null,
    };
  });
}

/**
 * What a routing transaction changed, published after it commits: conversation events and summaries (through the
 * conversation service), agents' states, offers, and a hint that the account's live view changed.
 */
export class AfterCommit {
  private readonly events = new Map<string, ConversationEvent[]>();
  private readonly agents = new Set<string>();
  private readonly offers: { conversationId: string; agentId: string; expiresAt: Date }[] = [];
  private readonly accounts = new Set<string>();

  conversation(conversationId: string, events: ConversationEvent[] = []): void {
    const list = this.events.get(conversationId) ?? [];
    list.push(...events);
    this.events.set(conversationId, list);
  }
  agent(userId: string): void {
    this.agents.add(userId);
  }
  offer(conversationId: string, agentId: string, expiresAt: Date): void {
    this.offers.push({ conversationId, agentId, expiresAt });
  }
  account(accountId: string): void {
    this.accounts.add(accountId);
  }
  get isEmpty(): boolean {
    return this.events.size === 0 && this.agents.size === 0 && this.offers.length === 0 && this.accounts.size === 0;
  }

  async publish(deps: { db: Db; bus: EventBus; conversations: ConversationService; clock: Clock; logger: Logger; heartbeatMs: number }, accountId: string): Promise<void> {
    try {
      // One read for every summary of the batch, without locks: it all committed already.
      const summaries = await deps.conversations.summariesOf([...new Set([...this.events.keys(), ...this.offers.map((o) => o.conversationId)])]);
      for (const [conversationId, events] of this.events) {
        await deps.conversations.publishCommitted(summaries.get(conversationId) ?? null, events);
      }
      for (const offer of this.offers) {
        const conversation = summaries.get(offer.conversationId);
        if (!conversation) continue;
        await deps.bus.publish(topics.account(accountId), { kind: 'offer', accountId, agentId: offer.agentId, conversation, expiresAt: offer.expiresAt.toISOString() });
      }
      if (this.agents.size > 0) {
        for (const agent of await loadAgentStatuses(deps.db, accountId, deps.clock.now(), deps.heartbeatMs, [...this.agents])) {
          await deps.bus.publish(topics.account(accountId), { kind: 'agent_state', accountId, agent });
        }
      }
      if (!this.isEmpty) await deps.bus.publish(topics.account(accountId), { kind: 'routing_changed', accountId });
    } catch (error) {
      // Committed already: clients recover conversation events by sequence, and the live view by its next change.
      deps.logger.error({ err: error, accountId }, 'publishing routing changes failed');
    }
  }
}
