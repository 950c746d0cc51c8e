import { sql } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { EventBus } from '../../infra/bus/event-bus.ts';
import type { Db } from '../../infra/db/database.ts';
import { arrayParameter } from '../../infra/db/batch-rows.ts';
import { preparedStatement } from '../../infra/db/prepared.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConversationService } from '../conversations/index.ts';
import { isWithinBusinessHours } from './business-hours.ts';
import { type CandidateAgent, type Decision, planAssignments, type WaitingConversation } from './plan-assignments.ts';
import { AfterCommit, isPresent, lockAccountRouting, loadSettings, type Trx } from './routing-store.ts';
import { toSkill } from './routing-store.ts';

/**
 * How much of the queue a pass reads, one read after the other while the plan of what it read leaves room for more
 * (`routeOnce`); the last reads the rest. The first covers a transaction's decisions.
 */
const QUEUE_READS = [250, 2_000, undefined] as const;

/** Whether some agent still has a free place once the decisions are applied. */
function roomLeft(candidates: readonly CandidateAgent[], decisions: readonly Decision[]): boolean {
  const taken = new Map<string, number>();
  for (const d of decisions) taken.set(d.agentId, (taken.get(d.agentId) ?? 0) + 1);
  return candidates.some((c) => c.load + (taken.get(c.id) ?? 0) < c.max);
}

/**
 * A pass's assignments on routing's rows in one statement: those still queued become assigned to their agent; returns
 * them. $1 the conversations, $2 their agents (arrays, `arrayParameter`), $3 the time.
 */
const ASSIGN_ROUTING = preparedStatement<{ conversation_id: string }>(
  'routing.assign',
  `update conversation_routing r set status = 'assigned', agent_id = v.agent_id, assigned_at = $3::timestamptz, offered_to = null,
    offer_expires_at = null, target_agent_id = null, target_until = null, passed_agents = '[]'::jsonb
  from unnest((select $1::uuid[]), (select $2::uuid[])) as v (conversation_id, agent_id)
  where r.conversation_id = v.conversation_id and r.status = 'queued'
  returning r.conversation_id`,
);

/** Decisions applied per transaction: keeps the account's routing lock short and publishes progressively. */
const MAX_DECISIONS_PER_TRANSACTION = 200;

export interface RouterDeps {
  db: Db;
  bus: EventBus;
  conversations: ConversationService;
  clock: Clock;
  logger: Logger;
  heartbeatMs: number;
  onAssigned?: (waitMs: number, kind: 'assign' | 'offer') => void;
}

export interface PassResult {
  assigned: number;
  offered: number;
}

/**
 * One routing pass over an account: under the account's routing lock, reads who is eligible and what waits, plans
 * (see planAssignments) and applies the plan; repeats while a full batch was applied.
 */
export async function routeAccount(deps: RouterDeps, accountId: string): Promise<PassResult> {
  const total: PassResult = { assigned: 0, offered: 0 };
  for (;;) {
    const after = new AfterCommit();
    const pass = await deps.db.transaction().execute(async (trx) => {
      await lockAccountRouting(trx, accountId);
      return routeOnce(deps, trx, accountId, after);
    });
    await after.publish(deps, accountId);
    total.assigned += pass.assigned;
    total.offered += pass.offered;
    if (pass.assigned + pass.offered < MAX_DECISIONS_PER_TRANSACTION) break;
  }
  return total;
}

async function routeOnce(deps: RouterDeps, trx: Trx, accountId: string, after: AfterCommit): Promise<PassResult> {
  const now = deps.clock.now();
  const settings = await loadSettings(trx, accountId);
  // The head of the queue, in its order; `limit` undefined: all of it.
  const readQueue = (limit: number | undefined) =>
    trx
      .selectFrom('conversation_routing')
      .select(['conversation_id', 'skill_id', 'target_agent_id', 'passed_agents', 'queued_at', 'bots_excluded'])
      .where('account_id', '=', accountId)
      .where('status', '=', 'queued')
      .orderBy('priority', 'desc')
      .orderBy('queue_order_at', 'asc')
      .orderBy('conversation_id', 'asc')
      .$if(limit !== undefined, (q) => q.limit(limit ?? 0))
      .execute();
  // Only the agents with a free place are read, each with its load and skills: with a thousand agents online and a
  // few places freed, a pass reads a handful of them.
  const [skills, firstRows, agentRows] = await Promise.all([
    trx.selectFrom('skills').select(['id', 'routing_mode', 'ring_timeout_seconds']).where('account_id', '=', accountId).execute(),
    readQueue(QUEUE_READS[0]),
    trx
      .selectFrom('agent_states')
      .innerJoin('users', 'users.id', 'agent_states.user_id')
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('conversation_routing')
            .select([sql<string>`coalesce(offered_to, agent_id)`.as('agent'), sql<number>`count(*)::int`.as('load')])
            .where('account_id', '=', accountId)
            .where('status', 'in', ['assigned', 'offered'])
            .groupBy(sql`coalesce(offered_to, agent_id)`)
            .as('loads'),
        (join) => join.onRef('loads.agent', '=', 'agent_states.user_id'),
      )
      .select([
        'agent_states.user_id',
        'users.name',
        'users.role',
        'agent_states.max_conversations',
        'agent_states.last_assigned_at',
        sql<number>`coalesce(loads.load, 0)`.as('load'),
        sql<string[]>`array(select s.skill_id::text from agent_skills s where s.user_id = agent_states.user_id)`.as('skill_ids'),
      ])
      .where('agent_states.account_id', '=', accountId)
      .where('agent_states.state', '=', 'online')
      .where('users.disabled', '=', false)
      .where(isPresent(now, deps.heartbeatMs))
      .where(sql<boolean>`coalesce(loads.load, 0) < coalesce(agent_states.max_conversations, ${settings.defaultMaxConversations})`)
      .execute(),
  ]);
  if (firstRows.length === 0 || agentRows.length === 0) return { assigned: 0, offered: 0 };

  const skillById = new Map(skills.map((s) => [s.id, s]));
  const names = new Map(agentRows.map((a) => [a.user_id, a.name]));
  const bots = new Set(agentRows.filter((a) => a.role === 'bot').map((a) => a.user_id));
  const candidates: CandidateAgent[] = agentRows.map((a) => ({
    id: a.user_id,
    skillIds: new Set(a.skill_ids),
    max: a.max_conversations ?? settings.defaultMaxConversations,
    load: a.load,
    lastAssignedAt: a.last_assigned_at?.getTime() ?? null,
    isBot: a.role === 'bot',
  }));
  const toWaiting = (q: (typeof firstRows)[number]): WaitingConversation => ({
    conversationId: q.conversation_id,
    skillId: q.skill_id,
    targetAgentId: q.target_agent_id,
    passedAgents: q.passed_agents,
    mode: (q.skill_id && skillById.get(q.skill_id)?.routing_mode) || 'auto',
    botsAllowed: !q.bots_excluded,
  });
  // The plan goes through the queue in order and decides each conversation from what the ones before it took, so
  // the plan of the queue's head is the head of the whole queue's plan: read more of it only while the head's plan
  // leaves room for more (fewer decisions than a transaction applies, and some agent still has a free place). With
  // thousands waiting, a pass that fills one freed place reads hundreds of them, not every one.
  let queueRows = firstRows;
  let decisions = planAssignments(queueRows.map(toWaiting), candidates, now.getTime());
  for (let read = 1; read < QUEUE_READS.length && queueRows.length === QUEUE_READS[read - 1]; read++) {
    if (decisions.length >= MAX_DECISIONS_PER_TRANSACTION || !roomLeft(candidates, decisions)) break;
    queueRows = await readQueue(QUEUE_READS[read]);
    decisions = planAssignments(queueRows.map(toWaiting), candidates, now.getTime());
  }
  decisions = decisions.slice(0, MAX_DECISIONS_PER_TRANSACTION);
  const queuedAt = new Map(queueRows.map((q) => [q.conversation_id, q.queued_at]));
  const skillOf = new Map(queueRows.map((q) => [q.conversation_id, q.skill_id]));

  let assigned = 0;
  let offered = 0;
  const served = new Set<string>();
  const waitOf = (conversationId: string) => now.getTime() - (queuedAt.get(conversationId)?.getTime() ?? now.getTime());
  // Every decided conversation locked in one statement, in id order; then the assignments applied together (a few
  // statements for the whole batch: routing's rows, the participants, sequences and events, the analytics record),
  // the offers one by one. A conversation no longer queued (or gone) is left out.
  const locked = await deps.conversations.lockManyForUpdate(
    trx,
    decisions.map((d) => d.conversationId),
    accountId,
  );
  const assigning = decisions.filter((d) => d.kind === 'assign' && locked.has(d.conversationId));
  if (assigning.length > 0) {
    const { rows: claimed } = await ASSIGN_ROUTING.run(trx, [arrayParameter(assigning.map((d) => d.conversationId)), arrayParameter(assigning.map((d) => d.agentId)), now]);
    const claimedIds = new Set(claimed.map((c) => c.conversation_id));
    const items = assigning.flatMap((d) => {
      const conversation = locked.get(d.conversationId);
      if (!conversation || !claimedIds.has(d.conversationId)) return [];
      return [{ conversation, agent: { id: d.agentId, name: names.get(d.agentId) ?? 'Agent', isBot: bots.has(d.agentId) } }];
    });
    const events = await deps.conversations.assignAgents(trx, items);
    await deps.conversations.recordActivities(
      trx,
      items.map(({ conversation, agent }) => ({
        conversation,
        activity: { type: 'assigned', agentId: agent.id, isBot: agent.isBot, skillId: skillOf.get(conversation.id) ?? null, waitMs: waitOf(conversation.id) },
      })),
    );
    for (const { conversation, agent } of items) {
      after.conversation(conversation.id, events.get(conversation.id) ?? []);
      assigned += 1;
      served.add(agent.id);
      after.agent(agent.id);
      deps.onAssigned?.(waitOf(conversation.id), 'assign');
    }
  }
  for (const decision of decisions) {
    if (decision.kind !== 'offer') continue;
    const conversation = locked.get(decision.conversationId);
    if (!conversation) continue;
    const skill = skillOf.get(decision.conversationId);
    const timeout = (skill && skillById.get(skill)?.ring_timeout_seconds) || 30;
    const expiresAt = new Date(now.getTime() + timeout * 1000);
    const updated = await trx
      .updateTable('conversation_routing')
      .set({ status: 'offered', offered_to: decision.agentId, offer_expires_at: expiresAt })
      .where('conversation_id', '=', decision.conversationId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) continue;
    after.conversation(conversation.id);
    after.offer(conversation.id, decision.agentId, expiresAt);
    offered += 1;
    served.add(decision.agentId);
    after.agent(decision.agentId);
    deps.onAssigned?.(waitOf(decision.conversationId), 'offer');
  }
  // One statement for the batch rather than one per decision.
  if (served.size > 0)
    await trx
      .updateTable('agent_states')
      .set({ last_assigned_at: now })
      .where('user_id', 'in', [...served])
      .execute();
  if (decisions.length > 0) after.account(accountId);
  return { assigned, offered };
}

/** A consumer who gets an agent within this time is not told about the queue at all. */
export const QUEUE_NOTICE_DELAY_MS = 3_000;

/**
 * Consumers whose conversation has waited in the queue a moment are told once: their position and the estimated
 * wait, or that nobody with the skill is online, or that it is outside the skill's hours. Run by the sweep.
 */
export async function noticeWaiting(deps: RouterDeps): Promise<number> {
  const now = deps.clock.now();
  const pending = await deps.db
    .selectFrom('conversation_routing')
    .select(['conversation_id', 'skill_id', 'account_id'])
    .where('status', '=', 'queued')
    .where('queue_notice_sent', '=', false)
    .where('queued_at', '<=', new Date(now.getTime() - QUEUE_NOTICE_DELAY_MS))
    .limit(500)
    .execute();
  let sent = 0;
  for (const accountId of new Set(pending.map((p) => p.account_id)))
    sent += await noticeAccount(
      deps,
      accountId,
      pending.filter((p) => p.account_id === accountId),
      now,
    );
  return sent;
}

async function noticeAccount(deps: RouterDeps, accountId: string, pending: { conversation_id: string; skill_id: string | null }[], now: Date): Promise<number> {
  let sent = 0;
  const skills = new Map((await deps.db.selectFrom('skills').selectAll().where('account_id', '=', accountId).execute()).map((s) => [s.id, toSkill(s)] as const));
  for (const item of pending) {
    const after = new AfterCommit();
    await deps.db.transaction().execute(async (trx) => {
      const conversation = await deps.conversations.lockForUpdate(trx, item.conversation_id, accountId);
      const marked = await trx
        .updateTable('conversation_routing')
        .set({ queue_notice_sent: true })
        .where('conversation_id', '=', item.conversation_id)
        .where('status', '=', 'queued')
        .where('queue_notice_sent', '=', false)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) === 0) return;
      const skill = item.skill_id ? skills.get(item.skill_id) : undefined;
      const position = await queuePosition(trx, accountId, item.conversation_id, deps.heartbeatMs, now);
      let message: string;
      if (skill && !isWithinBusinessHours(skill.businessHours, now)) {
        message = skill.offHoursMessage ?? "We're closed right now. Leave your message here and we'll reply when we're back; you'll be notified.";
      } else if (position.agentsOnline === 0) {
        message = skill?.noAgentsMessage ?? "Nobody is available right now. Leave your message here and we'll reply as soon as we can; you'll be notified.";
      } else {
        const wait = position.estimatedWaitSeconds;
        message = `All our agents are busy. You're number ${position.position ?? 1} in line${wait !== null ? `; expected wait about ${formatWait(wait)}` : ''}.`;
      }
      after.conversation(conversation.id, await deps.conversations.appendSystemMessage(trx, conversation, message));
      sent += 1;
    });
    await after.publish(deps, accountId);
  }
  return sent;
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return '1 minute';
  if (seconds < 3600) return `${Math.round(seconds / 60)} minutes`;
  const hours = Math.round(seconds / 3600);
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

/** Position in the skill's queue, estimated wait from the skill's assignments over the last 30 minutes. */
export async function queuePosition(
  db: Db | Trx,
  accountId: string,
  conversationId: string,
  heartbeatMs = 30_000,
  now = new Date(),
): Promise<{ status: string; position: number | null; estimatedWaitSeconds: number | null; agentsOnline: number; skillId: string | null }> {
  const row = await db.selectFrom('conversation_routing').selectAll().where('conversation_id', '=', conversationId).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) return { status: 'new', position: null, estimatedWaitSeconds: null, agentsOnline: 0, skillId: null };
  const skillFilter = row.skill_id === null ? sql<boolean>`skill_id is null` : sql<boolean>`skill_id = ${row.skill_id}`;
  const online = await db
    .selectFrom('agent_states')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('agent_states.account_id', '=', accountId)
    .where('agent_states.state', '=', 'online')
    .where(isPresent(now, heartbeatMs))
    .$if(row.skill_id !== null, (q) =>
      q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('agent_skills')
            .select('agent_skills.user_id')
            .whereRef('agent_skills.user_id', '=', 'agent_states.user_id')
            .where('agent_skills.skill_id', '=', row.skill_id ?? ''),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  const agentsOnline = Number(online.n);
  if (row.status !== 'queued' && row.status !== 'offered') return { status: row.status, position: null, estimatedWaitSeconds: null, agentsOnline, skillId: row.skill_id };
  const ahead = await db
    .selectFrom('conversation_routing')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', '=', 'queued')
    .where(skillFilter)
    .where((eb) =>
      eb.or([
        eb('priority', '>', row.priority),
        eb.and([eb('priority', '=', row.priority), eb('queue_order_at', '<', row.queue_order_at ?? now)]),
        eb.and([eb('priority', '=', row.priority), eb('queue_order_at', '=', row.queue_order_at ?? now), eb('conversation_id', '<', row.conversation_id)]),
      ]),
    )
    .executeTakeFirstOrThrow();
  const position = Number(ahead.n) + 1;
  const windowMs = 30 * 60_000;
  const recent = await db
    .selectFrom('conversation_routing')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where(skillFilter)
    .where('assigned_at', '>', new Date(now.getTime() - windowMs))
    .executeTakeFirstOrThrow();
  const perSecond = Number(recent.n) / (windowMs / 1000);
  const estimatedWaitSeconds = perSecond > 0 ? Math.round(position / perSecond) : null;
  return { status: row.status, position, estimatedWaitSeconds, agentsOnline, skillId: row.skill_id };
}
