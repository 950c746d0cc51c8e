import type { ConversationEvent } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { type Action, activeQuickReplies, agentName, currentConversation, initialState, owedReceipts, ownStatus, reduce, timeline, unreadMessages, type WidgetState } from './state.ts';

const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
type Originator = ConversationEvent['originator'];
const CONSUMER: Originator = { id: 'c0000000-0000-4000-8000-000000000000', role: 'consumer', name: null };
const ANNA: Originator = { id: 'a0000000-0000-4000-8000-000000000000', role: 'assigned_agent', name: 'Anna' };

let n = 0;
const base = (conversationId: string, sequence: number, originator: ConversationEvent['originator']) => ({
  id: `e${++n}`,
  conversationId,
  sequence,
  originator,
  audience: 'all' as const,
  createdAt: new Date(Date.UTC(2026, 10, 23, 12, 0, sequence)).toISOString(),
});
const text = (conversationId: string, sequence: number, message: string, originator = ANNA, clientMessageId: string | null = null): ConversationEvent => ({
  ...base(conversationId, sequence, originator),
  type: 'content',
  clientMessageId,
  content: { contentType: 'text/plain', message },
});
const receipt = (conversationId: string, sequence: number, status: 'accept' | 'read', sequences: number[], originator = ANNA): ConversationEvent => ({
  ...base(conversationId, sequence, originator),
  type: 'accept_status',
  status,
  sequences,
});
const joined = (conversationId: string, sequence: number): ConversationEvent => ({
  ...base(conversationId, sequence, ANNA),
  type: 'participant',
  change: 'joined',
  participant: { id: ANNA.id, role: 'assigned_agent', name: 'Anna' },
});
const closed = (conversationId: string, sequence: number): ConversationEvent => ({ ...base(conversationId, sequence, ANNA), type: 'conversation_state', state: 'closed', reason: 'agent' });

const run = (...actions: Action[]): WidgetState => actions.reduce(reduce, initialState);
const conversation = (id: string, createdAt: string, state: 'open' | 'closed' = 'open'): Action => ({ type: 'conversations', conversations: [{ id, state, createdAt }] });
const events = (...list: ConversationEvent[]): Action => ({ type: 'events', events: list });

describe('widget state', () => {
  it('shows a message written offline as pending at once, and settles it by its ack without a duplicate when the echo arrives too', () => {
    let state = run(conversation(C1, '2026-11-23T12:00:00.000Z'), { type: 'queued', key: 'c:m1', body: { kind: 'text', text: 'hello' }, createdAt: '2026-11-23T12:01:00.000Z' });
    const [pending] = state.messages;
    expect(pending && ownStatus(state, pending)).toBe('sending');
    state = reduce(state, { type: 'assigned', key: 'c:m1', conversationId: C1 });
    state = reduce(state, { type: 'acked', key: 'c:m1', conversationId: C1, sequence: 3 });
    state = reduce(state, events(text(C1, 3, 'hello', CONSUMER, 'm1')));
    expect(state.messages).toHaveLength(1);
    expect(state.messages[0] && ownStatus(state, state.messages[0])).toBe('sent');
  });

  it('matches the echo of an own message to its pending entry by clientMessageId, even before the ack', () => {
    const state = run({ type: 'queued', key: 'c:m1', body: { kind: 'text', text: 'hi' }, createdAt: 'x' }, events(text(C1, 1, 'hi', CONSUMER, 'm1')));
    expect(state.messages).toHaveLength(1);
    expect(state.messages[0]).toMatchObject({ pending: false, sequence: 1, conversationId: C1, own: true });
  });

  it('keeps pending messages in writing order after the stored ones of their conversation', () => {
    let state = run(conversation(C1, '2026-11-23T12:00:00.000Z'));
    for (const key of ['a', 'b', 'c']) state = reduce(state, { type: 'queued', key: `c:${key}`, body: { kind: 'text', text: key }, createdAt: 'x' });
    state = reduce(state, events(text(C1, 1, 'agent says')));
    expect(state.messages.map((m) => m.key)).toEqual([expect.stringMatching(/^e:/), 'c:a', 'c:b', 'c:c']);
  });

  it('marks own messages delivered, then read, from the other side’s receipts', () => {
    let state = run(events(text(C1, 1, 'mine', CONSUMER, 'm1')));
    const mine = () => state.messages[0] as WidgetState['messages'][number];
    expect(ownStatus(state, mine())).toBe('sent');
    state = reduce(state, events(receipt(C1, 2, 'accept', [1])));
    expect(ownStatus(state, mine())).toBe('delivered');
    state = reduce(state, events(receipt(C1, 3, 'read', [1])));
    expect(ownStatus(state, mine())).toBe('read');
  });

  it('counts others’ messages as unread until the consumer’s own read receipt covers them, and owes accept then read', () => {
    let state = run(events(text(C1, 1, 'hello from Anna'), text(C1, 2, 'are you there?')));
    expect(unreadMessages(state)).toHaveLength(2);
    expect(owedReceipts(state, false)).toEqual([{ conversationId: C1, status: 'accept', sequences: [1, 2] }]);
    expect(owedReceipts(state, true)).toEqual([
      { conversationId: C1, status: 'accept', sequences: [1, 2] },
      { conversationId: C1, status: 'read', sequences: [1, 2] },
    ]);
    state = reduce(state, events(receipt(C1, 3, 'accept', [1, 2], CONSUMER)));
    expect(owedReceipts(state, false)).toEqual([]);
    state = reduce(state, { type: 'receipted', conversationId: C1, status: 'read', sequences: [1] });
    expect(unreadMessages(state).map((m) => m.sequence)).toEqual([2]);
  });

  it('never owes receipts for its own messages or for receipts', () => {
    const state = run(events(text(C1, 1, 'mine', CONSUMER, 'm1'), receipt(C1, 2, 'read', [1])));
    expect(owedReceipts(state, true)).toEqual([]);
  });

  it('names the agent who joined, shows notices, and starts a new conversation after a close', () => {
    let state = run(conversation(C1, '2026-11-23T12:00:00.000Z'), events(joined(C1, 1), text(C1, 2, 'Hi, Anna here')));
    expect(agentName(state)).toBe('Anna');
    expect(currentConversation(state)?.id).toBe(C1);
    state = reduce(state, events(closed(C1, 3)));
    expect(currentConversation(state)).toBeUndefined();
    expect(agentName(state)).toBeNull();
    expect(timeline(state).map((r) => r.kind)).toEqual(['notice', 'message', 'notice', 'greeting']);
  });

  it('shows what Parley itself says (queue position, off hours) as a notice, not as an agent’s message', () => {
    const SYSTEM: Originator = { id: '00000000-0000-0000-0000-000000000000', role: 'system', name: 'Parley' };
    const state = run(conversation(C1, '2026-11-23T12:00:00.000Z'), events(text(C1, 1, 'Hello', CONSUMER, 'm1'), text(C1, 2, "You're number 2 in line.", SYSTEM)));
    expect(timeline(state).filter((r) => r.kind === 'notice')).toEqual([expect.objectContaining({ notice: expect.objectContaining({ kind: 'system', text: "You're number 2 in line." }) })]);
    expect(unreadMessages(state)).toHaveLength(0);
    expect(agentName(state)).toBeNull();
  });

  it('lays out older conversations above the current one, each under a separator, with the greeting opening the current one', () => {
    const state = run(
      conversation(C2, '2026-11-23T12:00:00.000Z'),
      conversation(C1, '2026-11-01T12:00:00.000Z', 'closed'),
      events(text(C2, 1, 'new question', CONSUMER, 'q2'), text(C1, 1, 'old question', CONSUMER, 'q1'), closed(C1, 2)),
    );
    const rows = timeline(state);
    expect(rows.map((r) => (r.kind === 'separator' ? `sep:${r.earlier ? 'earlier' : 'current'}` : r.kind))).toEqual(['sep:earlier', 'message', 'notice', 'sep:current', 'greeting', 'message']);
  });

  it('shows the author over each run of messages from the same person, and the status on the last own message', () => {
    const state = run(events(text(C1, 1, 'a'), text(C1, 2, 'b'), text(C1, 3, 'mine', CONSUMER, 'm'), text(C1, 4, 'c')));
    const messages = timeline(state).flatMap((r) => (r.kind === 'message' ? [r] : []));
    expect(messages.map((r) => r.showAuthor)).toEqual([true, false, false, true]);
    expect(messages.map((r) => r.showStatus)).toEqual([false, false, true, false]);
  });

  it('offers quick replies only while the agent’s message carrying them is the last one', () => {
    const withReplies: ConversationEvent = {
      ...base(C1, 2, ANNA),
      type: 'content',
      clientMessageId: null,
      content: {
        contentType: 'text/plain',
        message: 'Which size?',
        quickReplies: { type: 'quickReplies', itemsPerRow: 8, replies: [{ type: 'button', title: 'M', click: { actions: [{ type: 'publishText', text: 'M' }] } }] },
      },
    };
    let state = run(conversation(C1, '2026-11-23T12:00:00.000Z'), events(text(C1, 1, 'hello', CONSUMER, 'h'), withReplies));
    expect(activeQuickReplies(state)?.quickReplies.replies.map((r) => r.title)).toEqual(['M']);
    state = reduce(state, { type: 'queued', key: 'c:m', body: { kind: 'text', text: 'M' }, createdAt: 'x' });
    state = reduce(state, { type: 'assigned', key: 'c:m', conversationId: C1 });
    expect(activeQuickReplies(state)).toBeNull();
  });

  it('marks a failed send and lets it be retried', () => {
    let state = run({ type: 'queued', key: 'c:m', body: { kind: 'text', text: 'x' }, createdAt: 'x' }, { type: 'failed', key: 'c:m', error: 'nope' });
    expect(state.messages[0] && ownStatus(state, state.messages[0])).toBe('failed');
    state = reduce(state, { type: 'retrying', key: 'c:m' });
    expect(state.messages[0] && ownStatus(state, state.messages[0])).toBe('sending');
  });

  it('returns the same state for an event it already holds, so nothing re-renders', () => {
    const event = text(C1, 1, 'a');
    const state = run(events(event));
    expect(reduce(state, events(event))).toBe(state);
    expect(reduce(state, { type: 'connection', connection: 'idle' })).toBe(state);
  });
});
