import type { ConversationEvent, ConversationSummary } from '@parley/protocol';

/** Builders of wire events and summaries for the console's unit tests. */
const CONVERSATION = '00000000-0000-4000-8000-000000000001';
export const CONSUMER = '00000000-0000-4000-8000-0000000000c1';
export const AGENT = '00000000-0000-4000-8000-0000000000a1';

const at = (seq: number) => new Date(Date.UTC(2026, 10, 24, 9, 0, seq)).toISOString();

export function message(seq: number, from: 'consumer' | 'assigned_agent' | 'bot', text: string, audience: 'all' | 'agents_and_managers' = 'all'): ConversationEvent {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    conversationId: CONVERSATION,
    sequence: seq,
    originator: { id: from === 'consumer' ? CONSUMER : AGENT, role: from, name: from === 'consumer' ? null : 'Ada' },
    audience,
    createdAt: at(seq),
    type: 'content',
    clientMessageId: `c${seq}`,
    content: { contentType: 'text/plain', message: text },
  };
}

export function receipt(seq: number, from: 'consumer' | 'assigned_agent', status: 'accept' | 'read', sequences: number[]): ConversationEvent {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    conversationId: CONVERSATION,
    sequence: seq,
    originator: { id: from === 'consumer' ? CONSUMER : AGENT, role: from, name: null },
    audience: 'all',
    createdAt: at(seq),
    type: 'accept_status',
    status,
    sequences,
  };
}

export function summary(overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: CONVERSATION,
    accountId: '00000000-0000-4000-8000-00000000acc1',
    consumerId: CONSUMER,
    state: 'open',
    channel: 'web',
    device: 'desktop_web',
    lineOfBusinessId: null,
    assignedAgentId: AGENT,
    lastSequence: 0,
    createdAt: at(0),
    updatedAt: at(0),
    closedAt: null,
    closeReason: null,
    participants: [],
    routing: null,
    ...overrides,
  };
}
