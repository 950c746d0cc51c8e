import { sql } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../infra/db/database.ts';
import { DEFAULT_ROUTING_SETTINGS } from '../routing/index.ts';
import { factFilters } from './report-filters.ts';

const HOUR_MS = 3_600_000;
/**
 * How far past the period's edges the record is read to clip the conversations held across them. A hold that crosses
 * an edge and ends more than this after it is miscounted: across `from`, its time before `from` counts too; across
 * `to`, its time in the period is missed (unless it still goes on: routing's current assignments count it).
 */
export const ENGAGED_EDGE_WINDOW_MS = 7 * 24 * HOUR_MS;
/** The facts that end an agent's hold of a conversation; each carries how long they held it (`duration_ms`). */
export const HOLD_ENDING_FACTS = ['closed', 'transferred', 'escalated', 'released'] as const;

export interface AgentTimeQuery {
  from: Date;
  to: Date;
  agentId?: string | undefined;
  /** Filters of the engaged time (the conversations held); the time in states is an agent's, whatever they held. */
  skillId?: string | undefined;
  channel?: string | undefined;
  device?: string | undefined;
}

/** An agent's time in the period, in milliseconds, from the state history and the conversations they held. */
export interface AgentTime {
  /** In any state but offline. */
  loggedInMs: number;
  onlineMs: number;
  /** Away and back soon together (LivePerson's "AWAY (TOTAL)"); `backSoonMs` is the back-soon part. */
  awayMs: number;
  backSoonMs: number;
  /** The sum over the conversations they held of the time they held each (two at once for an hour: two hours). */
  engagedMs: number;
  /** Conversations they may hold at once (their own maximum, else the account's default), as configured now. */
  capacity: number | null;
  isBot: boolean;
  /** Holds the skill the report is filtered by (true without that filter). */
  inSkill: boolean;
}

/**
 * Whether an agent with no fact in the report (nothing assigned, answered, closed...) is listed for their time: logged
 * in or holding conversations in the period, and holding the skill when the report is filtered by one.
 */
export function listedForTime(time: AgentTime): boolean {
  return time.inSkill && (time.loggedInMs > 0 || time.engagedMs > 0);
}

export interface AgentTimeFigures {
  loggedInMs: number;
  onlineMs: number;
  awayMs: number;
  backSoonMs: number;
  engagedMs: number;
  conversationsPerOnlineHour: number | null;
  concurrency: number | null;
  utilisation: number | null;
}

const EMPTY: AgentTime = { loggedInMs: 0, onlineMs: 0, awayMs: 0, backSoonMs: 0, engagedMs: 0, capacity: null, isBot: false, inSkill: true };

/** The derived figures of one agent; `assigned`: conversations they got in the period. */
export function agentTimeFigures(time: AgentTime | undefined, assigned: number): AgentTimeFigures {
  const t = time ?? EMPTY;
  return {
    loggedInMs: t.loggedInMs,
    onlineMs: t.onlineMs,
    awayMs: t.awayMs,
    backSoonMs: t.backSoonMs,
    engagedMs: t.engagedMs,
    conversationsPerOnlineHour: t.onlineMs > 0 ? assigned / (t.onlineMs / HOUR_MS) : null,
    concurrency: t.loggedInMs > 0 ? t.engagedMs / t.loggedInMs : null,
    utilisation: t.loggedInMs > 0 && t.capacity ? t.engagedMs / (t.capacity * t.loggedInMs) : null,
  };
}

/**
 * Agents' time figures over a period [from, to): time in states from routing's state history (`agent_state_periods`),
 * each period clipped to [from, min(now, to)); engaged time from the analytics record. A fact that ends a hold (see
 * HOLD_ENDING_FACTS) carries how long the agent held the conversation, so the report's own per-agent sums of those
 * durations (added by `withEndedHolds`, read from the raw record or its rollups like every other per-agent figure) give the holds
 * that ended in the period; `read` finds what lies at the edges: minus the part before `from` of holds that ended in the
 * period, plus the part within it of holds that ended after `to` or still go on (routing's current assignments).
 * Four set-based queries, run together, each reading only the edges or one row per period of state.
 */
export class AgentTimeReader {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async read(accountId: string, query: AgentTimeQuery): Promise<Map<string, AgentTime>> {
    const { from, to } = query;
    const now = this.clock.now();
    const until = new Date(Math.min(now.getTime(), to.getTime()));
    const agentFilter = query.agentId ? sql`and user_id = ${query.agentId}` : sql``;
    const filters = factFilters(accountId, query);
    const leftEnd = new Date(Math.min(to.getTime(), from.getTime() + ENGAGED_EDGE_WINDOW_MS));
    const rightEnd = new Date(Math.min(now.getTime(), to.getTime() + ENGAGED_EDGE_WINDOW_MS) + 1);
    const heldSince = sql`(at - duration_ms * interval '1 millisecond')`;
    // Literals, not parameters: the planner matches them to the partial index analytics_events_hold_ends.
    const types = sql.raw(HOLD_ENDING_FACTS.map((t) => `'${t}'`).join(', '));

    const [periods, edges, holding, capacities] = await Promise.all([
      // Time in each state: every period that overlaps the period asked for, clipped to it (an open one runs to now).
      sql<{ user_id: string; state: string; ms: string }>`select user_id, state,
          sum(greatest(0, extract(epoch from (least(coalesce(ended_at, ${now}::timestamptz), ${until}::timestamptz) - greatest(started_at, ${from}::timestamptz))))) * 1000 as ms
        from agent_state_periods
        where account_id = ${accountId} and started_at < ${until} and (ended_at is null or ended_at > ${from}) ${agentFilter}
        group by user_id, state`.execute(this.db),
      // Holds across an edge: ended in the period but began before it (minus the part before `from`), or ended after
      // the period but began before its end (plus the part within it).
      sql<{ agent_id: string; ms: string }>`select agent_id, sum(case when at < ${to}::timestamptz
            then -extract(epoch from (${from}::timestamptz - ${heldSince}))
            else extract(epoch from (${to}::timestamptz - greatest(${heldSince}, ${from}::timestamptz))) end) * 1000 as ms
        from analytics_events
        where ${filters} and type in (${types}) and agent_id is not null and duration_ms is not null
          and ((at >= ${from} and at < ${leftEnd} and ${heldSince} < ${from}) or (at >= ${to} and at < ${rightEnd} and ${heldSince} < ${to}))
        group by agent_id`.execute(this.db),
      // Holds going on now (routing's current assignments), from their assignment or the period's start.
      sql<{ agent_id: string; ms: string }>`select r.agent_id, sum(greatest(0, extract(epoch from (${until}::timestamptz - greatest(r.assigned_at, ${from}::timestamptz))))) * 1000 as ms
        from conversation_routing r ${query.channel || query.device ? sql`join conversations c on c.id = r.conversation_id` : sql``}
        where r.account_id = ${accountId} and r.status = 'assigned' and r.agent_id is not null and r.assigned_at < ${until}
          ${query.agentId ? sql`and r.agent_id = ${query.agentId}` : sql``} ${query.skillId ? sql`and r.skill_id = ${query.skillId}` : sql``}
          ${query.channel ? sql`and c.channel = ${query.channel}` : sql``} ${query.device ? sql`and c.device = ${query.device}` : sql``}
        group by r.agent_id`.execute(this.db),
      sql<{ user_id: string; is_bot: boolean; capacity: number | null; in_skill: boolean }>`select u.id as user_id, u.role = 'bot' as is_bot,
          coalesce(s.max_conversations, rs.default_max_conversations) as capacity,
          ${query.skillId ? sql`exists (select 1 from agent_skills k where k.user_id = u.id and k.skill_id = ${query.skillId})` : sql`true`} as in_skill
        from users u left join agent_states s on s.user_id = u.id left join routing_settings rs on rs.account_id = u.account_id
        where u.account_id = ${accountId} ${query.agentId ? sql`and u.id = ${query.agentId}` : sql``}`.execute(this.db),
    ]);

    const result = new Map<string, AgentTime>();
    const of = (id: string) => {
      let t = result.get(id);
      if (!t) {
        t = { ...EMPTY };
        result.set(id, t);
      }
      return t;
    };
    for (const row of periods.rows) {
      const ms = Math.round(Number(row.ms));
      const t = of(row.user_id);
      if (row.state !== 'offline') t.loggedInMs += ms;
      if (row.state === 'online') t.onlineMs += ms;
      if (row.state === 'away' || row.state === 'back_soon') t.awayMs += ms;
      if (row.state === 'back_soon') t.backSoonMs += ms;
    }
    for (const row of [...edges.rows, ...holding.rows]) of(row.agent_id).engagedMs += Number(row.ms);
    // Every user of the account (or the agent asked for) has an entry, so the holds added later find theirs.
    for (const user of capacities.rows) of(user.user_id);
    const users = new Map(capacities.rows.map((r) => [r.user_id, r]));
    for (const [id, t] of result) {
      const user = users.get(id);
      t.isBot = user?.is_bot ?? false;
      t.inSkill = user?.in_skill ?? false;
      t.capacity = user ? (user.capacity ?? DEFAULT_ROUTING_SETTINGS.defaultMaxConversations) : null;
    }
    return result;
  }
}

/**
 * Adds the holds that ended in the period (`endedHeldMs`: the report's per-agent sums of the hold-ending facts'
 * durations, from whichever source answered it) to what `read` found at the edges, and rounds.
 */
export function withEndedHolds(times: Map<string, AgentTime>, endedHeldMs: ReadonlyMap<string, number>): Map<string, AgentTime> {
  for (const [agentId, ms] of endedHeldMs) {
    if (ms === 0) continue;
    let t = times.get(agentId);
    if (!t) {
      t = { ...EMPTY, inSkill: false };
      times.set(agentId, t);
    }
    t.engagedMs += ms;
  }
  for (const t of times.values()) t.engagedMs = Math.max(0, Math.round(t.engagedMs));
  return times;
}
