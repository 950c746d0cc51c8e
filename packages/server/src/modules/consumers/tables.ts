import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface ConsumersTable {
  id: Generated<string>;
  account_id: string;
  /** Set for authenticated consumers: the brand's `iss` and `sub`. Null for device (unauthenticated) identities. */
  external_issuer: string | null;
  external_subject: string | null;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Fields bots, agents and integrations set on the consumer (`order_number`...). */
  profile: ColumnType<Record<string, string>, string | undefined, string>;
  /** E.164, from the brand's signed token (`phone_number` claim): SMS and WhatsApp from it are this consumer. */
  phone_number: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ConsumerDevicesTable {
  id: Generated<string>;
  consumer_id: string;
  account_id: string;
  token_hash: string;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ConsumersTables {
  consumers: ConsumersTable;
  consumer_devices: ConsumerDevicesTable;
}
