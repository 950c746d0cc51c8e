import type { ConversationEvent } from '@parley/protocol';

/** Roles whose messages answer the consumer. */
const RESPONDER_ROLES = new Set(['assigned_agent', 'agent', 'manager', 'bot', 'integration']);

export type MessageEvent = Extract<ConversationEvent, { type: 'content' | 'rich_content' }>;

export function isMessage(event: ConversationEvent): event is MessageEvent {
  return event.type === 'content' || event.type === 'rich_content';
}

export function isConsumerMessage(event: ConversationEvent): event is MessageEvent {
  return isMessage(event) && event.originator.role === 'consumer';
}

/** A message the consumer sees, from an agent, manager or bot: it answers whatever the consumer wrote before it. */
export function isAnswer(event: ConversationEvent): boolean {
  return isMessage(event) && event.audience === 'all' && RESPONDER_ROLES.has(event.originator.role);
}

/** Merges events into a timeline: ordered by sequence, each sequence once (replays and pages overlap). */
export function mergeEvents(existing: readonly ConversationEvent[], incoming: readonly ConversationEvent[]): ConversationEvent[] {
  if (incoming.length === 0) return existing as ConversationEvent[];
  const bySeq = new Map<number, ConversationEvent>();
  for (const event of existing) bySeq.set(event.sequence, event);
  let changed = false;
  for (const event of incoming) {
    if (!bySeq.has(event.sequence)) {
      bySeq.set(event.sequence, event);
      changed = true;
    }
  }
  if (!changed) return existing as ConversationEvent[];
  return [...bySeq.values()].sort((a, b) => a.sequence - b.sequence);
}

/** The highest sequence that people on the brand's side (not the consumer) marked read. */
export function lastReadByAgents(events: readonly ConversationEvent[]): number {
  let last = 0;
  for (const event of events) {
    if (event.type === 'accept_status' && event.status === 'read' && event.originator.role !== 'consumer') {
      for (const seq of event.sequences) if (seq > last) last = seq;
    }
  }
  return last;
}

/** The highest sequence the consumer has acknowledged with `status` (`accept`: delivered, `read`: read). */
export function lastAckByConsumer(events: readonly ConversationEvent[], status: 'accept' | 'read'): number {
  let last = 0;
  for (const event of events) {
    if (event.type === 'accept_status' && event.originator.role === 'consumer' && (event.status === status || (status === 'accept' && event.status === 'read'))) {
      for (const seq of event.sequences) if (seq > last) last = seq;
    }
  }
  return last;
}

/** Consumer messages the agents have not read yet. */
export function unreadConsumerMessages(events: readonly ConversationEvent[]): MessageEvent[] {
  const read = lastReadByAgents(events);
  return events.filter((e): e is MessageEvent => isConsumerMessage(e) && e.sequence > read);
}

export function unreadCount(events: readonly ConversationEvent[]): number {
  return unreadConsumerMessages(events).length;
}

/** When the oldest consumer message that nobody has answered yet was written; null when nothing waits. */
export function awaitingSince(events: readonly ConversationEvent[]): string | null {
  let since: string | null = null;
  for (const event of events) {
    if (isAnswer(event)) since = null;
    else if (isConsumerMessage(event) && since === null) since = event.createdAt;
    else if (event.type === 'conversation_state' && event.state === 'closed') since = null;
  }
  return since;
}

/** A one-line preview of a message, for the inbox. */
export function previewOf(event: ConversationEvent): string {
  switch (event.type) {
    case 'content':
      return event.content.contentType === 'text/plain' ? event.content.message : `📎 ${event.content.file.name}`;
    case 'rich_content':
      return event.fallbackText ?? 'Rich content';
    case 'participant':
      return `${event.participant.name ?? roleLabel(event.participant.role)} ${event.change}`;
    case 'conversation_state':
      return event.state === 'closed' ? 'Conversation closed' : 'Conversation reopened';
    case 'accept_status':
      return '';
  }
}

/** The last message (not a receipt or a join) of a timeline. */
export function lastMessage(events: readonly ConversationEvent[]): MessageEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event && isMessage(event)) return event;
  }
  return undefined;
}

export function roleLabel(role: string): string {
  switch (role) {
    case 'consumer':
      return 'Consumer';
    case 'assigned_agent':
    case 'agent':
      return 'Agent';
    case 'manager':
      return 'Manager';
    case 'bot':
      return 'Bot';
    case 'integration':
      return 'Integration';
    case 'system':
      return 'Parley';
    default:
      return role;
  }
}
