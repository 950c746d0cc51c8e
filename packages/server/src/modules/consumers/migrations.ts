import { type Kysely, type Migration, sql } from 'kysely';

export const consumersMigrations: Record<string, Migration> = {
  '2026_11_23_0002_consumers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('consumers')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('external_issuer', 'text')
        .addColumn('external_subject', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('consumers_external_identity', ['account_id', 'external_issuer', 'external_subject'])
        .execute();
      await db.schema
        .createTable('consumer_devices')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('consumer_id', 'uuid', (c) => c.notNull().references('consumers.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '2026_11_28_0030_consumer_profile': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('consumers')
        .addColumn('profile', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
        .execute();
    },
  },
  '2026_12_01_0020_consumer_phone_number': {
    async up(db: Kysely<unknown>) {
      // The phone number a brand vouches for (its signed token's `phone_number` claim): an SMS or WhatsApp message from
      // that number is the same consumer.
      await db.schema.alterTable('consumers').addColumn('phone_number', 'text').execute();
      await sql`create index consumers_phone_number on consumers (account_id, phone_number) where phone_number is not null`.execute(db);
    },
  },
};
