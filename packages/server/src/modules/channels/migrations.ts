import { type Kysely, type Migration, sql } from 'kysely';

export const channelsMigrations: Record<string, Migration> = {
  '2026_12_01_0030_channels': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('channels')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('sms', 'messenger', 'whatsapp', 'connector')`))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('default_skill_id', 'uuid')
        .addColumn('settings', 'jsonb', (c) => c.notNull())
        .addColumn('credentials_sealed', 'text', (c) => c.notNull())
        .addColumn('api_base_url', 'text')
        .addColumn('greeting', 'text')
        .addColumn('connector_secret_sealed', 'text')
        .addColumn('deleted_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`create index channels_account on channels (account_id) where deleted_at is null`.execute(db);
      await db.schema
        .createTable('channel_contacts')
        .addColumn('channel_id', 'uuid', (c) => c.notNull().references('channels.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('consumer_id', 'uuid', (c) => c.notNull().references('consumers.id').onDelete('cascade'))
        .addColumn('opted_out_at', 'timestamptz')
        .addColumn('last_inbound_at', 'timestamptz')
        .addColumn('last_offered', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('channel_contacts_pk', ['channel_id', 'address'])
        .execute();
      await db.schema
        .createTable('channel_conversations')
        .addColumn('conversation_id', 'uuid', (c) => c.primaryKey().references('conversations.id').onDelete('cascade'))
        .addColumn('channel_id', 'uuid', (c) => c.notNull().references('channels.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('channel_messages')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('channel_id', 'uuid', (c) => c.notNull().references('channels.id').onDelete('cascade'))
        .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('provider_message_id', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('channel_messages_provider_id', ['channel_id', 'provider_message_id'])
        .execute();
      await sql`create index channel_messages_contact on channel_messages (channel_id, address, created_at)`.execute(db);
    },
  },
};
