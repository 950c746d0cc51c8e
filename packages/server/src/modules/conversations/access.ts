import type { ParticipantRole } from '@parley/protocol';
import type { Selectable } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import { isSupervisor, type Principal } from '../../core/principal.ts';
import type { ConversationsTable } from './tables.ts';

type Conversation = Selectable<ConversationsTable>;

/** Whether the principal may see the conversation at all. Tenancy first: another account's conversation is "not found". */
export function canView(principal: Principal, conversation: Conversation): boolean {
  if (conversation.account_id !== principal.accountId) return false;
  switch (principal.kind) {
    case 'consumer':
      return conversation.consumer_id === principal.consumerId;
    case 'api_key':
      return principal.scopes.includes('conversations:read') || principal.scopes.includes('conversations:write');
    case 'user':
      if (isSupervisor(principal)) return true;
      // A bot sees only what routing gave it.
      if (principal.role === 'bot') return conversation.assigned_agent_id === principal.userId;
      // Agents see what they hold and the unassigned queue they may take from.
      return conversation.assigned_agent_id === principal.userId || (conversation.assigned_agent_id === null && conversation.state === 'open');
  }
}

export function assertCanView(principal: Principal, conversation: Conversation | undefined): Conversation {
  if (!conversation || !canView(principal, conversation)) throw new AppError('NOT_FOUND', 'Conversation not found');
  return conversation;
}

/** Whether the principal sees internal notes (audience agents_and_managers). */
export function seesInternalEvents(principal: Principal): boolean {
  return principal.kind !== 'consumer';
}

/** The participant role the principal writes as, or an error when it may not write to this conversation. */
export function writerRole(principal: Principal, conversation: Conversation): ParticipantRole {
  switch (principal.kind) {
    case 'consumer':
      return 'consumer';
    case 'api_key':
      if (!principal.scopes.includes('conversations:write')) throw new AppError('FORBIDDEN', 'The API key lacks the conversations:write scope');
      return 'integration';
    case 'user':
      if (conversation.assigned_agent_id === principal.userId) return principal.role === 'bot' ? 'bot' : 'assigned_agent';
      if (isSupervisor(principal)) return 'manager';
      throw new AppError('NOT_A_PARTICIPANT', 'Take the conversation before writing to it');
  }
}

export function principalName(principal: Principal, apiKeyName?: string): string | null {
  if (principal.kind === 'user') return principal.name;
  if (principal.kind === 'api_key') return apiKeyName ?? 'Integration';
  return null;
}
