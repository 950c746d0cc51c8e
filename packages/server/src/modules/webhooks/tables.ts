import type { WebhookDeliveryStatus, WebhookDeliveryType, WebhookEventType, WebhookStatus } from '@parley/protocol';
import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  account_id: string;
  url: string;
  event_types: ColumnType<WebhookEventType[], string, string>;
  description: string;
  status: WebhookStatus;
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  /**
   * The signing secret, sealed (SecretBox, the subscription's id as associated data: it signs every delivery, so it
   * cannot be hashed); shown only at creation and rotation. Rows from before sealing are sealed at start-up.
   */
  secret: string;
  /** After a rotation: the previous secret (sealed too), also used to sign until `previous_secret_expires_at`. */
  previous_secret: string | null;
  previous_secret_expires_at: NullableTimestamp;
  /** Failed attempts since the last success, and when that run of failures began. */
  consecutive_failures: Generated<number>;
  failing_since: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookDeliveriesTable {
  id: string;
  /** Insertion order: the delivery log's order and cursor. */
  seq: Generated<string>;
  account_id: string;
  subscription_id: string;
  event_id: string;
  event_type: WebhookDeliveryType;
  conversation_id: string | null;
  /** The exact JSON body sent: every attempt and replay sends the same bytes. */
  body: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  duration_ms: number | null;
  /** The job that delivers it (its `run_at` is the next attempt). */
  job_id: string;
  replay_of: string | null;
  created_at: CreatedAt;
  delivered_at: NullableTimestamp;
}

export interface WebhooksTables {
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
