import type { AgentStatus, ChatState, ConversationEvent, ConversationSummary, WebhookDisabledNotice } from '@parley/protocol';

/**
 * What travels on the bus. Domain services publish after their transaction commits; the realtime gateway (and later
 * webhooks, analytics, channel delivery) subscribe. The bus is a fast path only: the per-conversation sequence in the
 * database is the truth, and a subscriber that sees a gap reads it from there.
 */
export type BusMessage =
  | { kind: 'conversation_event'; accountId: string; conversationId: string; event: ConversationEvent }
  | { kind: 'chat_state'; accountId: string; conversationId: string; participantId: string; role: string; chatState: ChatState }
  | { kind: 'conversation_updated'; accountId: string; conversation: ConversationSummary }
  | { kind: 'agent_state'; accountId: string; agent: AgentStatus }
  | { kind: 'offer'; accountId: string; agentId: string; conversation: ConversationSummary; expiresAt: string }
  | { kind: 'routing_changed'; accountId: string }
  /** For the account's admins (a webhook subscription Parley disabled). */
  | { kind: 'notice'; accountId: string; notice: WebhookDisabledNotice };

export const topics = {
  conversation: (conversationId: string) => `conversation:${conversationId}`,
  account: (accountId: string) => `account:${accountId}`,
};

export type BusHandler = (message: BusMessage) => void;
export type Unsubscribe = () => void;

export interface EventBus {
  /**
   * Resolves once this node's own subscribers have the message. A networked bus carries it to the other nodes in the
   * background and reports a failure itself (log, metric): the message's truth is in the database, and the other
   * nodes' feeds recover it by sequence.
   */
  publish(topic: string, message: BusMessage): Promise<void>;
  /** Starts delivering the topic's messages to the handler; `ready()` tells when the subscription is in effect. */
  subscribe(topic: string, handler: BusHandler): Unsubscribe;
  /** Resolves once every subscription made so far receives messages (a networked bus subscribes asynchronously). */
  ready(): Promise<void>;
  /**
   * Called when the bus may have lost messages (its connection dropped and came back): subscribers re-read what
   * they follow from the database, which is the truth.
   */
  onResync(listener: () => void): Unsubscribe;
  /** A networked bus: whether it is connected right now (false while it reconnects). Reported by `/ready`. */
  connected?(): boolean;
  close(): Promise<void>;
}
