import type { ConversationEvent } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { payloadForActivity, payloadForEvent, webhookTypeOf } from './webhook-events.ts';

const base = {
  id: '6b0f2c4e-8d4a-4f61-9a55-0a1f8a7e2b10',
  conversationId: '0d6c4f3e-1b2a-4c5d-8e9f-a0b1c2d3e4f5',
  originator: { id: '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', role: 'consumer' as const, name: null },
  audience: 'all' as const,
  createdAt: '2026-11-27T12:00:00.000Z',
};
const participant = (role: 'consumer' | 'assigned_agent' | 'agent' | 'manager' | 'bot', change: 'joined' | 'left', sequence: number): ConversationEvent => ({
  ...base,
  sequence,
  type: 'participant',
  change,
  participant: { id: base.originator.id, role, name: null },
});
const message = (audience: 'all' | 'agents_and_managers'): ConversationEvent => ({
  ...base,
  audience,
  sequence: 3,
  type: 'content',
  clientMessageId: null,
  content: { contentType: 'text/plain', message: 'hi' },
});

describe('which conversation events are webhook events', () => {
  it('maps each kind of stored event as documented', () => {
    expect(webhookTypeOf(participant('consumer', 'joined', 1))).toEqual({ type: 'conversation.opened', reopened: false });
    expect(webhookTypeOf(participant('consumer', 'joined', 7))).toBeNull();
    expect(webhookTypeOf({ ...base, sequence: 9, type: 'conversation_state', state: 'open', reason: 'reopened' })).toEqual({ type: 'conversation.opened', reopened: true });
    expect(webhookTypeOf(message('all'))).toEqual({ type: 'conversation.message' });
    expect(webhookTypeOf(message('agents_and_managers'))).toBeNull();
    expect(webhookTypeOf(participant('assigned_agent', 'joined', 4))).toEqual({ type: 'conversation.assigned' });
    expect(webhookTypeOf(participant('bot', 'joined', 4))).toEqual({ type: 'conversation.assigned' });
    expect(webhookTypeOf(participant('manager', 'joined', 4))).toBeNull();
    expect(webhookTypeOf(participant('assigned_agent', 'left', 5))).toBeNull();
    expect(webhookTypeOf({ ...base, sequence: 6, type: 'conversation_state', state: 'closed', reason: 'timeout' })).toEqual({ type: 'conversation.closed' });
    expect(webhookTypeOf({ ...base, sequence: 6, type: 'accept_status', status: 'read', sequences: [3] })).toBeNull();
  });

  it('carries the triggering event in the payload, and a transfer as transferred or, from a bot, escalated', () => {
    const envelope = { id: base.id, createdAt: base.createdAt, accountId: base.originator.id };
    expect(payloadForEvent(envelope, message('all'))).toMatchObject({ type: 'conversation.message', conversationId: base.conversationId, data: { event: { sequence: 3 } } });
    const transfer = { type: 'transferred' as const, byId: base.originator.id, fromAgentId: null, toSkillId: null, toAgentId: base.originator.id, note: null };
    expect(payloadForActivity(envelope, base.conversationId, { ...transfer, escalation: null }).type).toBe('conversation.transferred');
    expect(payloadForActivity(envelope, base.conversationId, { ...transfer, escalation: { reason: 'bot_requested' } })).toMatchObject({
      type: 'conversation.escalated',
      data: { escalation: { reason: 'bot_requested' }, toAgentId: base.originator.id },
    });
  });
});
