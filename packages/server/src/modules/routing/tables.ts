import type { AgentState, BusinessHours, RoutingMode } from '@parley/protocol';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface SkillsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  routing_mode: RoutingMode;
  ring_timeout_seconds: number;
  response_target_seconds: number | null;
  business_hours: JSONColumnType<BusinessHours | null, BusinessHours | null, BusinessHours | null>;
  off_hours_message: string | null;
  no_agents_message: string | null;
  created_at: CreatedAt;
}

export interface RoutingSettingsTable {
  account_id: string;
  default_skill_id: string | null;
  default_max_conversations: number;
  disconnect_grace_seconds: number;
  transfer_fallback_seconds: number;
  auto_close_seconds: number | null;
  auto_close_warning_seconds: number;
  reopen_window_seconds: number;
}

export interface AgentStatesTable {
  user_id: string;
  account_id: string;
  state: AgentState;
  reason: string | null;
  state_since: Timestamp;
  /** Null: the account default. */
  max_conversations: number | null;
  last_assigned_at: NullableTimestamp;
  /** When the agent's last live connection went away; null while connected (or never connected). */
  disconnected_at: NullableTimestamp;
  /** Needs no realtime connection to be present (a bot Parley runs or reaches by webhook). */
  always_available: Generated<boolean>;
}

/**
 * Agents' state history: one row per period the agent spent in one state (and reason), the current one open
 * (`ended_at` null). Routing closes the open period and opens the next in the transaction of each change.
 */
export interface AgentStatePeriodsTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  state: AgentState;
  reason: string | null;
  started_at: Timestamp;
  ended_at: NullableTimestamp;
}

export interface AgentSkillsTable {
  user_id: string;
  skill_id: string;
  account_id: string;
}

/** One row per live realtime connection of an agent, on whichever node holds it; heartbeats keep it fresh. */
export interface AgentConnectionsTable {
  id: string;
  user_id: string;
  account_id: string;
  node_id: string;
  connected_at: Timestamp;
  heartbeat_at: Timestamp;
}

export type RoutingStatus = 'new' | 'queued' | 'offered' | 'assigned' | 'closed';

/** Where a conversation stands in routing. Owned here; `conversations.assigned_agent_id` mirrors `agent_id`. */
export interface ConversationRoutingTable {
  conversation_id: string;
  account_id: string;
  status: RoutingStatus;
  skill_id: string | null;
  priority: number;
  /** Queue order: priority first, then this (the first arrival; kept on back-to-queue so nobody loses their place). */
  queue_order_at: NullableTimestamp;
  /** When it last entered the queue (for wait times). */
  queued_at: NullableTimestamp;
  agent_id: string | null;
  assigned_at: NullableTimestamp;
  offered_to: string | null;
  offer_expires_at: NullableTimestamp;
  /** Agents who let an offer pass, so it rings for the next; cleared when everyone has. */
  passed_agents: JSONColumnType<string[], string, string>;
  target_agent_id: string | null;
  target_until: NullableTimestamp;
  transfer_note: string | null;
  awaiting_since: NullableTimestamp;
  /** The first answer to a waiting consumer (for the analytics record's first response). */
  first_response_at: NullableTimestamp;
  response_due_at: NullableTimestamp;
  breached_at: NullableTimestamp;
  last_activity_at: Timestamp;
  idle_warned_at: NullableTimestamp;
  queue_notice_sent: Generated<boolean>;
  /** A bot escalated it: routing gives it to people only. */
  bots_excluded: Generated<boolean>;
}

export interface RoutingTables {
  skills: SkillsTable;
  routing_settings: RoutingSettingsTable;
  agent_states: AgentStatesTable;
  agent_state_periods: AgentStatePeriodsTable;
  agent_skills: AgentSkillsTable;
  agent_connections: AgentConnectionsTable;
  conversation_routing: ConversationRoutingTable;
}
