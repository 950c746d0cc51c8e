import type { ConversationEvent, ConversationRouting, ConversationSummary } from '@parley/protocol';
import type { Selectable } from 'kysely';
import type { ConversationEventsTable, ConversationParticipantsTable, ConversationsTable, EventPayload } from './tables.ts';

/** A stored event row to its wire form: common columns plus the type-specific payload. */
export function toWireEvent(row: Selectable<ConversationEventsTable>): ConversationEvent {
  // Assigned over a fresh literal, not spread into one: `{ ...base, ...payload }` makes V8 keep such objects through
  // the young generation's collections, and every message makes one (docs/performance.md, item 31).
  const event: Record<string, unknown> = {
    id: row.id,
    conversationId: row.conversation_id,
    sequence: row.seq,
    originator: { id: row.originator_id, role: row.originator_role, name: row.originator_name },
    audience: row.audience,
    createdAt: row.created_at.toISOString(),
    type: row.type,
  };
  if (row.type === 'content' || row.type === 'rich_content') event.clientMessageId = row.client_message_id;
  // The payload was validated by the protocol schema when it was written.
  return Object.assign(event, row.payload) as ConversationEvent;
}

/** Splits a wire event into what the row stores as payload. */
export function payloadOf(event: Record<string, unknown>): EventPayload {
  const { id: _id, conversationId: _c, sequence: _s, originator: _o, audience: _a, createdAt: _t, type: _ty, clientMessageId: _m, ...payload } = event;
  return payload;
}

export function toSummary(row: Selectable<ConversationsTable>, participants: Selectable<ConversationParticipantsTable>[], routing: ConversationRouting | null = null): ConversationSummary {
  return {
    id: row.id,
    accountId: row.account_id,
    consumerId: row.consumer_id,
    state: row.state,
    channel: row.channel,
    device: row.device,
    lineOfBusinessId: row.line_of_business_id,
    assignedAgentId: row.assigned_agent_id,
    lastSequence: row.last_seq,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
    closeReason: row.close_reason,
    participants: participants.filter((p) => p.left_at === null).map((p) => ({ id: p.participant_id, role: p.role, name: p.name, joinedAt: p.joined_at.toISOString() })),
    routing,
  };
}
