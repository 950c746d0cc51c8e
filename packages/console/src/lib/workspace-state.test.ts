import { describe, expect, it } from 'vitest';
import { inboxOf, initialWorkspace, totalUnread, workspaceReducer } from './workspace-state.ts';
import { AGENT, message, receipt, summary } from './test-events.ts';

describe('workspace reducer', () => {
  it('puts my open conversations in the inbox and unassigned ones in the queue', () => {
    const state = workspaceReducer(initialWorkspace(AGENT), {
      type: 'lists',
      summaries: [summary(), summary({ id: '00000000-0000-4000-8000-000000000002', assignedAgentId: null }), summary({ id: '00000000-0000-4000-8000-000000000003', state: 'closed' })],
    });
    const inbox = inboxOf(state);
    expect(inbox.mine.map((i) => i.id)).toEqual(['00000000-0000-4000-8000-000000000001']);
    expect(inbox.queue.map((i) => i.id)).toEqual(['00000000-0000-4000-8000-000000000002']);
    expect(state.listsLoaded).toBe(true);
  });

  it('merges events, counts unread, previews the last message and sums the title counter', () => {
    let state = workspaceReducer(initialWorkspace(AGENT), { type: 'lists', summaries: [summary()] });
    const id = '00000000-0000-4000-8000-000000000001';
    state = workspaceReducer(state, { type: 'events', conversationId: id, events: [message(1, 'consumer', 'hi'), message(2, 'consumer', 'my order?')] });
    expect(inboxOf(state).mine[0]).toMatchObject({ unread: 2, preview: 'my order?', waitingSince: expect.any(String) });
    expect(totalUnread(state)).toBe(2);
    state = workspaceReducer(state, { type: 'events', conversationId: id, events: [receipt(3, 'assigned_agent', 'read', [1, 2]), message(4, 'assigned_agent', 'On its way')] });
    expect(inboxOf(state).mine[0]).toMatchObject({ unread: 0, preview: 'On its way', waitingSince: null });
    expect(state.conversations[id]?.summary.lastSequence).toBe(4);
  });

  it('drops a pending message when its event arrives, and keeps a failed one with its error', () => {
    const id = '00000000-0000-4000-8000-000000000001';
    let state = workspaceReducer(initialWorkspace(AGENT), { type: 'lists', summaries: [summary()] });
    state = workspaceReducer(state, { type: 'pending', message: { clientMessageId: 'c5', conversationId: id, text: 'x', audience: 'all', createdAt: '' } });
    state = workspaceReducer(state, { type: 'pending', message: { clientMessageId: 'c9', conversationId: id, text: 'y', audience: 'all', createdAt: '' } });
    state = workspaceReducer(state, { type: 'pendingFailed', clientMessageId: 'c9', conversationId: id, error: 'Closed' });
    state = workspaceReducer(state, { type: 'events', conversationId: id, events: [message(5, 'assigned_agent', 'x')] });
    expect(state.conversations[id]?.pending).toEqual([expect.objectContaining({ clientMessageId: 'c9', failed: 'Closed' })]);
  });

  it('keeps the newer summary when an older one arrives late, and removes an offer once assigned', () => {
    const newer = summary({ updatedAt: '2026-11-24T10:00:00.000Z', lastSequence: 5 });
    let state = workspaceReducer(initialWorkspace(AGENT), { type: 'summary', summary: newer });
    state = workspaceReducer(state, { type: 'summary', summary: summary({ updatedAt: '2026-11-24T09:00:00.000Z', lastSequence: 3, assignedAgentId: null }) });
    expect(state.conversations[newer.id]?.summary.assignedAgentId).toBe(AGENT);
    state = workspaceReducer(state, { type: 'offer', offer: { conversation: summary({ assignedAgentId: null }), expiresAt: '2026-11-24T10:01:00.000Z' } });
    expect(state.offers).toHaveLength(1);
    state = workspaceReducer(state, { type: 'summary', summary: summary({ updatedAt: '2026-11-24T11:00:00.000Z' }) });
    expect(state.offers).toHaveLength(0);
  });

  it('remembers where a conversation stood when first seen, so replayed history does not ring', () => {
    const state = workspaceReducer(initialWorkspace(AGENT), { type: 'summary', summary: summary({ lastSequence: 7 }) });
    expect(state.conversations['00000000-0000-4000-8000-000000000001']?.baseline).toBe(7);
  });
});
