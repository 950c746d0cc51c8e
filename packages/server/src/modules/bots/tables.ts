import type { BotDelivery, EscalationReason, FlowBotDefinition, FlowState } from '@parley/protocol';
import type { ColumnType, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** What a bot is and how Parley reaches it. Its identity (user row, secret) belongs to the accounts module. */
export interface BotsTable {
  user_id: string;
  account_id: string;
  delivery: BotDelivery;
  skill_ids: JSONColumnType<string[], string, string>;
  escalation_skill_id: string | null;
  response_timeout_seconds: number;
  max_conversations: number;
  escalation_phrases: JSONColumnType<string[], string, string>;
  webhook_url: string | null;
  flow: JSONColumnType<FlowBotDefinition | null, string | null, string | null>;
  /** Signs what Parley POSTs to a webhook bot: sealed (SecretBox, `botSigningSecretContext`), since Parley needs it to sign. */
  signing_secret: string;
  /** After a rotation, deliveries are signed with both secrets for a day, so the bot can be updated meanwhile. */
  previous_signing_secret: string | null;
  previous_signing_secret_until: NullableTimestamp;
  enabled: boolean;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A conversation a bot received: its reply deadline, the flow bot's state, and how it ended (the engagement figures). */
export interface BotConversationsTable {
  conversation_id: string;
  account_id: string;
  bot_id: string;
  assigned_at: Timestamp;
  /** Set when a consumer message waits on the bot; the sweep escalates once it passes. */
  reply_due_at: NullableTimestamp;
  escalated_at: NullableTimestamp;
  escalation_reason: EscalationReason | null;
  closed_at: NullableTimestamp;
  /** Taken from the bot otherwise than by an escalation (a manager gave it to someone). */
  released_at: NullableTimestamp;
  flow_state: JSONColumnType<FlowState | null, string | null, string | null>;
}

export interface BotsTables {
  bots: BotsTable;
  bot_conversations: BotConversationsTable;
}
