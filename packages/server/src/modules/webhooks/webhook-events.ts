import type { ConversationEvent, WebhookEventType, WebhookPayload } from '@parley/protocol';
import type { ConversationActivity } from '../conversations/index.ts';

/**
 * Which webhook event a stored conversation event is, if any. Receipts, internal notes, agents leaving and other
 * participants joining are not webhook events.
 */
export function webhookTypeOf(event: ConversationEvent): { type: WebhookEventType; reopened?: boolean } | null {
  switch (event.type) {
    case 'content':
    case 'rich_content':
      return event.audience === 'all' ? { type: 'conversation.message' } : null;
    case 'participant':
      if (event.change !== 'joined') return null;
      if (event.participant.role === 'consumer') return event.sequence === 1 ? { type: 'conversation.opened', reopened: false } : null;
      if (event.participant.role === 'assigned_agent' || event.participant.role === 'bot') return { type: 'conversation.assigned' };
      return null;
    case 'conversation_state':
      if (event.state === 'closed') return { type: 'conversation.closed' };
      return event.reason === 'reopened' ? { type: 'conversation.opened', reopened: true } : null;
    case 'accept_status':
      return null;
  }
}

type PayloadBase = { id: string; createdAt: string; accountId: string };

/** The body of a delivery for a stored conversation event (null when it is not a webhook event). */
export function payloadForEvent(base: PayloadBase, event: ConversationEvent): WebhookPayload | null {
  const kind = webhookTypeOf(event);
  if (!kind) return null;
  const conversationId = event.conversationId;
  if (kind.type === 'conversation.opened') return { ...base, type: kind.type, conversationId, data: { event, reopened: kind.reopened === true } };
  if (kind.type === 'conversation.message' || kind.type === 'conversation.assigned' || kind.type === 'conversation.closed') return { ...base, type: kind.type, conversationId, data: { event } };
  return null;
}

/** The body of a delivery for a transfer: an escalation when a bot handed the conversation to humans. */
export function payloadForActivity(base: PayloadBase, conversationId: string, activity: Extract<ConversationActivity, { type: 'transferred' }>): WebhookPayload {
  const data = {
    byId: activity.byId,
    fromAgentId: activity.fromAgentId,
    toSkillId: activity.toSkillId,
    toAgentId: activity.toAgentId,
    note: activity.note,
    escalation: activity.escalation,
  };
  return { ...base, type: activity.escalation ? 'conversation.escalated' : 'conversation.transferred', conversationId, data };
}
