import type { Channel, DeviceType, ParticipantRole } from '@parley/protocol';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface ConversationsTable {
  id: Generated<string>;
  account_id: string;
  consumer_id: string;
  state: 'open' | 'closed';
  channel: Channel;
  device: DeviceType;
  line_of_business_id: string | null;
  assigned_agent_id: string | null;
  last_seq: Generated<number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  closed_at: NullableTimestamp;
  close_reason: 'consumer' | 'agent' | 'system' | 'timeout' | null;
}

export interface ConversationParticipantsTable {
  id: Generated<string>;
  conversation_id: string;
  participant_id: string;
  role: ParticipantRole;
  name: string | null;
  joined_at: CreatedAt;
  left_at: NullableTimestamp;
}

/** The payload of an event: everything of the wire event beyond the common columns. */
export type EventPayload = Record<string, unknown>;

export interface ConversationEventsTable {
  id: Generated<string>;
  conversation_id: string;
  account_id: string;
  seq: number;
  type: string;
  originator_id: string;
  originator_role: string;
  originator_name: string | null;
  audience: 'all' | 'agents_and_managers';
  client_message_id: string | null;
  payload: JSONColumnType<EventPayload>;
  created_at: CreatedAt;
}

export interface FilesTable {
  id: Generated<string>;
  account_id: string;
  conversation_id: string;
  uploader_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  storage_key: string;
  created_at: CreatedAt;
}

export interface ConversationsTables {
  conversations: ConversationsTable;
  conversation_participants: ConversationParticipantsTable;
  conversation_events: ConversationEventsTable;
  files: FilesTable;
}
