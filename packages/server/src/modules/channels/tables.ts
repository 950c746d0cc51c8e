import type { ChannelKind, ChannelSettings } from '@parley/protocol';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface ChannelsTable {
  id: Generated<string>;
  account_id: string;
  kind: ChannelKind;
  name: string;
  enabled: boolean;
  default_skill_id: string | null;
  settings: JSONColumnType<ChannelSettings, string, string>;
  /** The provider credentials, sealed (AES-256-GCM, see infra/crypto); never returned by the API. */
  credentials_sealed: string;
  api_base_url: string | null;
  greeting: string | null;
  /** Connector channels: signs both directions of the Connector API (sealed like the credentials). */
  connector_secret_sealed: string | null;
  deleted_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A consumer's address on a channel (phone number, page-scoped id, WhatsApp id) and what the channel knows of it. */
export interface ChannelContactsTable {
  channel_id: string;
  address: string;
  account_id: string;
  consumer_id: string;
  /** SMS: the consumer texted STOP; nothing is sent until START. */
  opted_out_at: NullableTimestamp;
  /** Opens the provider's reply window (Messenger, WhatsApp: 24 hours). */
  last_inbound_at: NullableTimestamp;
  /** The options last sent as a numbered list (SMS), so "2" can be read back as the second. */
  last_offered: JSONColumnType<string[], string, string>;
  created_at: CreatedAt;
}

/** Which channel and address carry a conversation. */
export interface ChannelConversationsTable {
  conversation_id: string;
  channel_id: string;
  address: string;
}

/** Messages Parley sent through a channel: the provider's id, for delivery statuses to find their event. */
export interface ChannelMessagesTable {
  id: Generated<string>;
  channel_id: string;
  conversation_id: string;
  sequence: number;
  provider_message_id: string;
  address: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ChannelsTables {
  channels: ChannelsTable;
  channel_contacts: ChannelContactsTable;
  channel_conversations: ChannelConversationsTable;
  channel_messages: ChannelMessagesTable;
}
