import { type Kysely, type Migration, sql } from 'kysely';

export const conversationsMigrations: Record<string, Migration> = {
  '2026_11_23_0003_conversations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('conversations')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('consumer_id', 'uuid', (c) => c.notNull().references('consumers.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('open', 'closed')`))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('line_of_business_id', 'uuid', (c) => c.references('lines_of_business.id'))
        .addColumn('assigned_agent_id', 'uuid', (c) => c.references('users.id'))
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('closed_at', 'timestamptz')
        .addColumn('close_reason', 'text')
        .execute();
      // A consumer has at most one open conversation per account: returning consumers continue it.
      await sql`create unique index conversations_one_open_per_consumer on conversations (account_id, consumer_id) where state = 'open'`.execute(db);
      await db.schema.createIndex('conversations_account_state').on('conversations').columns(['account_id', 'state', 'assigned_agent_id']).execute();
      await db.schema.createIndex('conversations_consumer').on('conversations').columns(['consumer_id', 'created_at']).execute();

      await db.schema
        .createTable('conversation_participants')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('participant_id', 'uuid', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('joined_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('left_at', 'timestamptz')
        .execute();
      await sql`create unique index conversation_participants_active on conversation_participants (conversation_id, participant_id) where left_at is null`.execute(db);

      await db.schema
        .createTable('conversation_events')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('originator_id', 'uuid', (c) => c.notNull())
        .addColumn('originator_role', 'text', (c) => c.notNull())
        .addColumn('originator_name', 'text')
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('client_message_id', 'text')
        .addColumn('payload', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('conversation_events_seq', ['conversation_id', 'seq'])
        .execute();
      // Idempotency: one stored copy per sender and client message id.
      await sql`create unique index conversation_events_idempotency on conversation_events (conversation_id, originator_id, client_message_id) where client_message_id is not null`.execute(db);

      await db.schema
        .createTable('files')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('uploader_id', 'uuid', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('storage_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '2026_12_01_0010_conversation_device': {
    async up(db: Kysely<unknown>) {
      // The kind of device, for the analytics' mobile share; conversations before it count by their channel.
      await db.schema
        .alterTable('conversations')
        .addColumn('device', 'text', (c) => c.notNull().defaultTo('other'))
        .execute();
      await sql`update conversations set device = case channel when 'in_app' then 'in_app' when 'sms' then 'sms' when 'messenger' then 'messenger' when 'whatsapp' then 'whatsapp' else 'other' end`.execute(
        db,
      );
    },
  },
  '2026_12_14_0050_conversations_fillfactor': {
    async up(db: Kysely<unknown>) {
      // Every message moves its conversation's last_seq: room on each page keeps those updates heap-only (HOT), with no
      // new index entries (none of the indexed columns change).
      await sql`alter table conversations set (fillfactor = 85)`.execute(db);
    },
  },
  '2026_12_16_0020_conversation_events_payload_statistics': {
    async up(db: Kysely<unknown>) {
      // No query filters on an event's payload, but ANALYZE computed its statistics from 30,000 sampled JSON values:
      // two thirds of analysing the events (45,000 rows on PostgreSQL 15: 135 ms, 44 ms without), which embedded mode's
      // vacuum does in its one session, holding every message meanwhile.
      await sql`alter table conversation_events alter column payload set statistics 0`.execute(db);
    },
  },
};
