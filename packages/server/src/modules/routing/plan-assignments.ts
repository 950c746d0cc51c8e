/**
 * Who gets which waiting conversation: a pure function, so the rules can be read and tested apart from storage.
 * The caller holds the account's routing lock and applies the plan in the same transaction.
 */

export interface CandidateAgent {
  id: string;
  skillIds: ReadonlySet<string>;
  /** Effective maximum concurrent conversations. */
  max: number;
  /** Assigned plus ringing conversations now. */
  load: number;
  /** Epoch ms of the last assignment; null: never (the longest idle of all). */
  lastAssignedAt: number | null;
  /** Bots serve their skills before people, take conversations at once (never rung) and never get escalated ones. */
  isBot: boolean;
}

export interface WaitingConversation {
  conversationId: string;
  /** Null: routes to any agent. */
  skillId: string | null;
  /** Transferred to this agent: only they may get it, until the fallback time clears it. */
  targetAgentId: string | null;
  /** Agents who let a ring pass; they are asked again only when everyone else has passed too. */
  passedAgents: readonly string[];
  mode: 'auto' | 'ring';
  /** False once a bot handed the conversation to people. */
  botsAllowed: boolean;
}

export interface Decision {
  conversationId: string;
  agentId: string;
  kind: 'assign' | 'offer';
}

/**
 * Goes through the queue in order (the caller sorts it: priority, then arrival) and gives each conversation to the
 * eligible agent with the most free capacity, ties to the longest idle, then by id so the plan is deterministic.
 * A conversation is left waiting only when no agent with its skill has free capacity at that point; loads only grow
 * during a pass, so afterwards no agent with free capacity holds a skill whose queue still waits (transfers aimed at
 * one agent excepted). Bots come first: a conversation bots may take goes to a bot of its skill with free capacity,
 * and to a person only when there is none; one a bot escalated goes to people only.
 */
export function planAssignments(queue: readonly WaitingConversation[], agents: readonly CandidateAgent[], now: number): Decision[] {
  const state = agents.map((a) => ({ ...a }));
  const bySkill = new Map<string, typeof state>();
  for (const agent of state) {
    for (const skillId of agent.skillIds) {
      const list = bySkill.get(skillId) ?? [];
      list.push(agent);
      bySkill.set(skillId, list);
    }
  }
  const byId = new Map(state.map((a) => [a.id, a]));
  // Skills (with or without bots) for which nobody has room left in this pass.
  const exhausted = new Set<string>();
  const exhaustionKey = (c: WaitingConversation) => `${c.skillId ?? ''}|${c.botsAllowed ? 'bots' : 'people'}`;
  const decisions: Decision[] = [];

  for (const conversation of queue) {
    let chosen: (typeof state)[number] | undefined;
    if (conversation.targetAgentId) {
      const target = byId.get(conversation.targetAgentId);
      if (target && target.load < target.max) chosen = target;
    } else {
      if (exhausted.has(exhaustionKey(conversation))) continue;
      const pool = conversation.skillId === null ? state : (bySkill.get(conversation.skillId) ?? []);
      const passed = conversation.passedAgents.length > 0 ? new Set(conversation.passedAgents) : undefined;
      // Bots serve only the skills given to them: a conversation without a skill goes to people.
      const bots = conversation.botsAllowed && conversation.skillId !== null ? pool.filter((a) => a.isBot) : [];
      const people = pool.filter((a) => !a.isBot);
      chosen = best(bots, passed) ?? best(people, passed) ?? (passed ? (best(bots, undefined) ?? best(people, undefined)) : undefined);
      if (!chosen) {
        exhausted.add(exhaustionKey(conversation));
        continue;
      }
    }
    if (!chosen) continue;
    chosen.load += 1;
    chosen.lastAssignedAt = now;
    decisions.push({ conversationId: conversation.conversationId, agentId: chosen.id, kind: conversation.mode === 'ring' && !chosen.isBot ? 'offer' : 'assign' });
  }
  return decisions;
}

function best<A extends CandidateAgent>(pool: readonly A[], excluded: ReadonlySet<string> | undefined): A | undefined {
  let winner: A | undefined;
  for (const agent of pool) {
    if (agent.load >= agent.max || excluded?.has(agent.id)) continue;
    if (!winner || better(agent, winner)) winner = agent;
  }
  return winner;
}

function better(a: CandidateAgent, b: CandidateAgent): boolean {
  const freeA = a.max - a.load;
  const freeB = b.max - b.load;
  if (freeA !== freeB) return freeA > freeB;
  const idleA = a.lastAssignedAt ?? Number.NEGATIVE_INFINITY;
  const idleB = b.lastAssignedAt ?? Number.NEGATIVE_INFINITY;
  if (idleA !== idleB) return idleA < idleB;
  return a.id < b.id;
}
