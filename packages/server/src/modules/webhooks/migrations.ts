import { type Kysely, type Migration, sql } from 'kysely';

export const webhooksMigrations: Record<string, Migration> = {
  '2026_11_29_0010_webhooks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_subscriptions')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('event_types', 'jsonb', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'disabled')`))
        .addColumn('disabled_reason', 'text')
        .addColumn('disabled_at', 'timestamptz')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('previous_secret', 'text')
        .addColumn('previous_secret_expires_at', 'timestamptz')
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failing_since', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // What the event sink loads for an account: its active subscriptions.
      await sql`create index webhook_subscriptions_active on webhook_subscriptions (account_id) where status = 'active'`.execute(db);

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('subscription_id', 'uuid', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
        .addColumn('event_id', 'uuid', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('conversation_id', 'uuid')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('job_id', 'uuid', (c) => c.notNull())
        .addColumn('replay_of', 'uuid')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('delivered_at', 'timestamptz')
        .execute();
      // The delivery log of a subscription, newest first.
      await sql`create index webhook_deliveries_log on webhook_deliveries (subscription_id, seq desc)`.execute(db);
    },
  },
};
