import { type Kysely, type Migration, sql } from 'kysely';

export const botsMigrations: Record<string, Migration> = {
  '2026_11_28_0010_bots': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('bots')
        .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('delivery', 'text', (c) => c.notNull().check(sql`delivery in ('websocket', 'webhook', 'flow')`))
        .addColumn('skill_ids', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('escalation_skill_id', 'uuid')
        .addColumn('response_timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('max_conversations', 'integer', (c) => c.notNull())
        .addColumn('escalation_phrases', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('webhook_url', 'text')
        .addColumn('flow', 'jsonb')
        .addColumn('signing_secret', 'text', (c) => c.notNull())
        .addColumn('previous_signing_secret', 'text')
        .addColumn('previous_signing_secret_until', 'timestamptz')
        .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`create index bots_account on bots (account_id)`.execute(db);
      await db.schema
        .createTable('bot_conversations')
        .addColumn('conversation_id', 'uuid', (c) => c.primaryKey().references('conversations.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('bot_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('assigned_at', 'timestamptz', (c) => c.notNull())
        .addColumn('reply_due_at', 'timestamptz')
        .addColumn('escalated_at', 'timestamptz')
        .addColumn('escalation_reason', 'text')
        .addColumn('closed_at', 'timestamptz')
        .addColumn('released_at', 'timestamptz')
        .addColumn('flow_state', 'jsonb')
        .execute();
      await sql`create index bot_conversations_due on bot_conversations (reply_due_at) where reply_due_at is not null`.execute(db);
      await sql`create index bot_conversations_period on bot_conversations (account_id, assigned_at)`.execute(db);
    },
  },
};
