import type { Channel, DeviceType } from '@parley/protocol';
import type { ColumnType, Generated } from 'kysely';

/*
 * The engagement module's tables. Their column names are stable: the reports read them directly.
 *
 * engagement_settings   one row per account that changed a default (no row: the defaults)
 *   account_id uuid pk, csat_enabled bool (true), csat_window_hours int (24), attribution_window_days int (7), updated_at
 *
 * csat_surveys          one row per conversation the survey was asked for (a conversation closed while someone held it)
 *   conversation_id uuid pk, account_id, consumer_id, channel (the conversation's channel at the close),
 *   agent_id (who held it at the close, person or bot; null if nobody), asked_at (the close), expires_at (asked_at +
 *   csat_window_hours; set to the reopen time when the conversation reopens unanswered), question_sent_at (channels:
 *   when the question was appended for SMS/Messenger/WhatsApp), answered_at (null until answered), answer_ref (the
 *   channel message that answered, for redeliveries). A conversation closed again after a reopen is asked again
 *   (asked_at/expires_at move) unless it was answered. Response rate = count(answered_at) / count(*).
 *
 * csat_responses        one row per answered survey
 *   conversation_id uuid pk, account_id, consumer_id, score smallint 1..5, comment text (<= 1000) or null,
 *   at (answered), agent_id (who held the conversation last), skill_id (conversation_routing.skill_id at the answer),
 *   channel, device (the conversation's)
 *
 * conversions           purchases and other goals reported by the widget's page or the brand's server
 *   id uuid pk, account_id, consumer_id, type text (purchase | lead | signup | custom lower-case name),
 *   value numeric(18,4) >= 0 in the currency's major unit, currency char(3) ISO 4217 or null (value 0),
 *   external_id (the brand's id, unique per account, null if none), occurred_at, created_at,
 *   attributed_conversation_id (null: no conversation within the window), attributed_agent_id, attributed_skill_id
 *   (decided at write time; never recomputed), reported_by ('consumer' | 'api_key')
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface EngagementSettingsTable {
  account_id: string;
  csat_enabled: Generated<boolean>;
  csat_window_hours: Generated<number>;
  attribution_window_days: Generated<number>;
  updated_at: Timestamp;
}

export interface CsatSurveysTable {
  conversation_id: string;
  account_id: string;
  consumer_id: string;
  channel: Channel;
  agent_id: string | null;
  asked_at: Timestamp;
  expires_at: Timestamp;
  question_sent_at: NullableTimestamp;
  answered_at: NullableTimestamp;
  answer_ref: string | null;
}

export interface CsatResponsesTable {
  conversation_id: string;
  account_id: string;
  consumer_id: string;
  score: number;
  comment: string | null;
  at: Timestamp;
  agent_id: string | null;
  skill_id: string | null;
  channel: Channel;
  device: DeviceType;
}

export interface ConversionsTable {
  id: Generated<string>;
  account_id: string;
  consumer_id: string;
  type: string;
  /** numeric: read as a string (exact), written as a number or string. */
  value: ColumnType<string, number | string, number | string>;
  currency: string | null;
  external_id: string | null;
  occurred_at: Timestamp;
  created_at: Timestamp;
  attributed_conversation_id: string | null;
  attributed_agent_id: string | null;
  attributed_skill_id: string | null;
  reported_by: 'consumer' | 'api_key';
}

export interface EngagementTables {
  engagement_settings: EngagementSettingsTable;
  csat_surveys: CsatSurveysTable;
  csat_responses: CsatResponsesTable;
  conversions: ConversionsTable;
}
