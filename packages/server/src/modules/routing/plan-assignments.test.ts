import { describe, expect, it } from 'vitest';
import { type CandidateAgent, planAssignments, type WaitingConversation } from './plan-assignments.ts';

const agent = (id: string, skills: string[], max: number, load = 0, lastAssignedAt: number | null = null): CandidateAgent => ({
  id,
  skillIds: new Set(skills),
  max,
  load,
  lastAssignedAt,
  isBot: false,
});
const bot = (id: string, skills: string[], max: number, load = 0): CandidateAgent => ({ ...agent(id, skills, max, load), isBot: true });
const waiting = (id: string, skillId: string | null, extra: Partial<WaitingConversation> = {}): WaitingConversation => ({
  conversationId: id,
  skillId,
  targetAgentId: null,
  passedAgents: [],
  mode: 'auto',
  botsAllowed: true,
  ...extra,
});

describe('planning assignments', () => {
  it('gives the conversation to the agent with the most free capacity', () => {
    const plan = planAssignments([waiting('c1', 'billing')], [agent('a', ['billing'], 5, 3), agent('b', ['billing'], 5, 1)], 0);
    expect(plan).toEqual([{ conversationId: 'c1', agentId: 'b', kind: 'assign' }]);
  });

  it('breaks ties by the longest idle agent, one who never had a conversation first', () => {
    const agents = [agent('a', ['billing'], 3, 0, 2000), agent('b', ['billing'], 3, 0, 1000), agent('c', ['billing'], 3, 0, null)];
    expect(planAssignments([waiting('c1', 'billing')], agents, 5000)[0]?.agentId).toBe('c');
    expect(planAssignments([waiting('c1', 'billing')], agents.slice(0, 2), 5000)[0]?.agentId).toBe('b');
  });

  it('only gives a conversation to agents holding its skill, and one without a skill to anyone', () => {
    const agents = [agent('sales-agent', ['sales'], 2), agent('billing-agent', ['billing'], 2)];
    const plan = planAssignments([waiting('c1', 'billing'), waiting('c2', null)], agents, 0);
    expect(plan).toEqual([
      { conversationId: 'c1', agentId: 'billing-agent', kind: 'assign' },
      { conversationId: 'c2', agentId: 'sales-agent', kind: 'assign' },
    ]);
  });

  it('never goes beyond an agent’s capacity, leaving the rest of the queue in order', () => {
    const plan = planAssignments([waiting('c1', 's'), waiting('c2', 's'), waiting('c3', 's')], [agent('a', ['s'], 2, 0)], 0);
    expect(plan.map((d) => d.conversationId)).toEqual(['c1', 'c2']);
  });

  it('lets a conversation of another skill through when the head of the queue cannot be served', () => {
    const plan = planAssignments([waiting('c1', 'nobody-has-it'), waiting('c2', 's')], [agent('a', ['s'], 1)], 0);
    expect(plan).toEqual([{ conversationId: 'c2', agentId: 'a', kind: 'assign' }]);
  });

  it('keeps a conversation transferred to an agent for that agent, even when others are free', () => {
    const agents = [agent('target', ['s'], 1, 1), agent('other', ['s'], 5)];
    expect(planAssignments([waiting('c1', 's', { targetAgentId: 'target' })], agents, 0)).toEqual([]);
    agents[0] = agent('target', ['s'], 1, 0);
    expect(planAssignments([waiting('c1', 's', { targetAgentId: 'target' })], agents, 0)).toEqual([{ conversationId: 'c1', agentId: 'target', kind: 'assign' }]);
  });

  it('rings the next agent after one lets it pass, and circles back when all have', () => {
    const agents = [agent('a', ['s'], 3), agent('b', ['s'], 3, 1)];
    expect(planAssignments([waiting('c1', 's', { mode: 'ring', passedAgents: ['a'] })], agents, 0)).toEqual([{ conversationId: 'c1', agentId: 'b', kind: 'offer' }]);
    expect(planAssignments([waiting('c1', 's', { mode: 'ring', passedAgents: ['a', 'b'] })], agents, 0)[0]?.agentId).toBe('a');
  });

  it('spreads a burst across agents by free capacity', () => {
    const queue = Array.from({ length: 6 }, (_, i) => waiting(`c${i}`, 's'));
    const plan = planAssignments(queue, [agent('a', ['s'], 3), agent('b', ['s'], 3)], 0);
    const counts: Record<string, number> = {};
    for (const d of plan) counts[d.agentId] = (counts[d.agentId] ?? 0) + 1;
    expect(counts).toEqual({ a: 3, b: 3 });
    expect(
      plan
        .map((d) => d.agentId)
        .slice(0, 2)
        .sort(),
    ).toEqual(['a', 'b']);
  });
});

describe('bots first', () => {
  it('gives a conversation to a bot of its skill before any person, even a more idle one', () => {
    const decisions = planAssignments([waiting('c1', 's')], [agent('a', ['s'], 5), bot('b', ['s'], 100, 50)], 0);
    expect(decisions).toEqual([{ conversationId: 'c1', agentId: 'b', kind: 'assign' }]);
  });

  it('gives it to a person when the bots of its skill are full', () => {
    const decisions = planAssignments([waiting('c1', 's')], [agent('a', ['s'], 5), bot('b', ['s'], 1, 1)], 0);
    expect(decisions).toEqual([{ conversationId: 'c1', agentId: 'a', kind: 'assign' }]);
  });

  it('never gives a conversation a bot escalated to a bot again', () => {
    const decisions = planAssignments([waiting('c1', 's', { botsAllowed: false })], [bot('b', ['s'], 100)], 0);
    expect(decisions).toEqual([]);
    const toPerson = planAssignments([waiting('c1', 's', { botsAllowed: false })], [bot('b', ['s'], 100), agent('a', ['s'], 1)], 0);
    expect(toPerson).toEqual([{ conversationId: 'c1', agentId: 'a', kind: 'assign' }]);
  });

  it('assigns to a bot at once in a ring skill (bots are not rung)', () => {
    const decisions = planAssignments([waiting('c1', 's', { mode: 'ring' }), waiting('c2', 's', { mode: 'ring', botsAllowed: false })], [bot('b', ['s'], 100), agent('a', ['s'], 5)], 0);
    expect(decisions).toEqual([
      { conversationId: 'c1', agentId: 'b', kind: 'assign' },
      { conversationId: 'c2', agentId: 'a', kind: 'offer' },
    ]);
  });

  it('keeps routing people-only conversations of a skill after its bots are full', () => {
    const decisions = planAssignments([waiting('c1', 's'), waiting('c2', 's', { botsAllowed: false })], [bot('b', ['s'], 1, 1)], 0);
    expect(decisions).toEqual([]);
    const later = planAssignments([waiting('c1', 's'), waiting('c2', 's', { botsAllowed: false }), waiting('c3', 's')], [bot('b', ['s'], 1), agent('a', ['s'], 1)], 0);
    expect(later).toEqual([
      { conversationId: 'c1', agentId: 'b', kind: 'assign' },
      { conversationId: 'c2', agentId: 'a', kind: 'assign' },
    ]);
  });

  it('leaves conversations without a skill to people', () => {
    expect(planAssignments([waiting('c1', null)], [bot('b', ['s'], 100)], 0)).toEqual([]);
    expect(planAssignments([waiting('c1', null)], [bot('b', ['s'], 100), agent('a', [], 1)], 0)).toEqual([{ conversationId: 'c1', agentId: 'a', kind: 'assign' }]);
  });
});
