import type { Channel, DeviceType } from '@parley/protocol';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint and numeric columns are read as strings by the drivers; written as numbers. */
type BigintColumn = ColumnType<string, number | string, number | string>;

export type AnalyticsFactType = 'started' | 'queued' | 'assigned' | 'first_response' | 'consumer_message' | 'agent_message' | 'transferred' | 'escalated' | 'closed' | 'released';

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
  /**
   * assigned: wait; first_response: time to first response; agent_message: response time; closed: handle time;
   * transferred, escalated, released: how long the agent it left held it (engaged time, agent-time.ts).
   */
  duration_ms: BigintColumn | null;
  value: BigintColumn | null;
  /** closed: reason; escalated: reason; transferred: target skill/agent; released: reason (offline, reassigned). */
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

/** Time zones an account reports in by day; each has daily rollups, folded up to (not including) `folded_to`. */
export interface AnalyticsReportZonesTable {
  account_id: string;
  time_zone: string;
  registered_at: Timestamp;
  /** The first local day not folded yet; null until the first fold. Read as 'YYYY-MM-DD' text. */
  folded_to: ColumnType<string | null, string | null, string | null>;
}

type LocalDate = ColumnType<string, string, string>;

/** Daily counts in one zone: one row per (local day, fact type, skill, bot, channel, device, reason), no agent. */
export interface AnalyticsDailyTable {
  account_id: string;
  time_zone: string;
  day: LocalDate;
  /** '': all skills together (skill_id null); 'skill': per skill. */
  slice: '' | 'skill';
  type: AnalyticsFactType;
  skill_id: string | null;
  is_bot: boolean;
  channel: Channel;
  device: DeviceType;
  reason: string | null;
  count: number;
  duration_count: number;
  duration_sum: BigintColumn;
}

/**
 * Daily duration histograms on the coarse grid (duration-histogram.ts), per slice: '' (the account), 'skill:<id>',
 * 'channel:<channel>' or 'device:<device>', so a report filtered by one of them reads only its own rows.
 */
export interface AnalyticsDailyDurationsTable {
  account_id: string;
  time_zone: string;
  day: LocalDate;
  type: AnalyticsFactType;
  slice: string;
  histogram: JSONColumnType<Record<string, number>, string, string>;
}

/** The facts the agents table counts, each a (count, duration count, duration sum) column triple of the daily rows. */
export const AGENT_FACT_TYPES = ['assigned', 'agent_message', 'closed', 'transferred', 'escalated', 'released'] as const;
type AgentFactColumns = {
  [K in (typeof AGENT_FACT_TYPES)[number] as `${K}_count` | `${K}_duration_count`]: number;
} & { [K in (typeof AGENT_FACT_TYPES)[number] as `${K}_duration_sum`]: BigintColumn };

/** Daily per-agent counts, one row per (local day, agent, slice as above). */
export type AnalyticsDailyAgentsTable = {
  account_id: string;
  time_zone: string;
  day: LocalDate;
  slice: string;
  agent_id: string;
  is_bot: boolean;
} & AgentFactColumns;

export interface AnalyticsTables {
  analytics_events: AnalyticsEventsTable;
  analytics_hourly: AnalyticsHourlyTable;
  analytics_rollup_state: AnalyticsRollupStateTable;
  analytics_report_zones: AnalyticsReportZonesTable;
  analytics_daily: AnalyticsDailyTable;
  analytics_daily_durations: AnalyticsDailyDurationsTable;
  analytics_daily_agents: AnalyticsDailyAgentsTable;
}
