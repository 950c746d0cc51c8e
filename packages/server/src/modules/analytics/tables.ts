import type { Channel, DeviceType } from '@parley/protocol';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint and numeric columns are read as strings by the drivers; written as numbers. */
type BigintColumn = ColumnType<string, number | string, number | string>;

export type AnalyticsFactType = 'started' | 'queued' | 'assigned' | 'first_response' | 'consumer_message' | 'agent_message' | 'transferred' | 'escalated' | 'closed';

/** The record: one row per fact, written in the transaction of the change it records (the truth the reports read). */
export interface AnalyticsEventsTable {
  id: Generated<string>;
  account_id: string;
  conversation_id: string;
  type: AnalyticsFactType;
  at: Timestamp;
  skill_id: string | null;
  agent_id: string | null;
  /** The agent is a bot (assigned, answers); false when there is no agent. */
  is_bot: boolean;
  channel: Channel;
  device: DeviceType;
  /** assigned: wait; first_response: time to first response; agent_message: response time; closed: handle time. */
  duration_ms: BigintColumn | null;
  value: BigintColumn | null;
  /** closed: reason; escalated: reason; transferred: target skill/agent. */
  detail: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
}

/**
 * Hourly rollup of the record: one row per (account, UTC hour, fact type, skill, agent, bot, channel, device, reason),
 * recomputed from the raw facts of the hour, so folding an hour twice gives the same rows.
 */
export interface AnalyticsHourlyTable {
  account_id: string;
  hour: Timestamp;
  type: AnalyticsFactType;
  skill_id: string | null;
  agent_id: string | null;
  is_bot: boolean;
  channel: Channel;
  device: DeviceType;
  reason: string | null;
  count: number;
  duration_count: number;
  duration_sum: BigintColumn;
  /** Durations by histogram bucket (see duration-histogram.ts): {"<bucket>": count}. */
  histogram: JSONColumnType<Record<string, number>, string, string>;
}

/** How far the rollup has folded: every complete UTC hour before `rolled_up_to` is in analytics_hourly. */
export interface AnalyticsRollupStateTable {
  name: string;
  rolled_up_to: Timestamp;
}

export interface AnalyticsTables {
  analytics_events: AnalyticsEventsTable;
  analytics_hourly: AnalyticsHourlyTable;
  analytics_rollup_state: AnalyticsRollupStateTable;
}
