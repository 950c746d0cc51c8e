import { type Kysely, type Migration, sql } from 'kysely';

export const engagementMigrations: Record<string, Migration> = {
  '2026_12_02_0010_engagement': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('engagement_settings')
        .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('csat_enabled', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('csat_window_hours', 'integer', (c) => c.notNull().defaultTo(24))
        .addColumn('attribution_window_days', 'integer', (c) => c.notNull().defaultTo(7))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      await db.schema
        .createTable('csat_surveys')
        .addColumn('conversation_id', 'uuid', (c) => c.primaryKey().references('conversations.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('consumer_id', 'uuid', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'uuid')
        .addColumn('asked_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('question_sent_at', 'timestamptz')
        .addColumn('answered_at', 'timestamptz')
        .addColumn('answer_ref', 'text')
        .execute();
      await sql`create index csat_surveys_account_asked on csat_surveys (account_id, asked_at)`.execute(db);
      // The channel inbound looks up the consumer's pending survey for every message it receives.
      await sql`create index csat_surveys_consumer_pending on csat_surveys (consumer_id, asked_at desc) where question_sent_at is not null`.execute(db);

      await db.schema
        .createTable('csat_responses')
        .addColumn('conversation_id', 'uuid', (c) => c.primaryKey().references('conversations.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('consumer_id', 'uuid', (c) => c.notNull())
        .addColumn('score', 'smallint', (c) => c.notNull().check(sql`score between 1 and 5`))
        .addColumn('comment', 'text', (c) => c.check(sql`char_length(comment) <= 1000`))
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('agent_id', 'uuid')
        .addColumn('skill_id', 'uuid')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .execute();
      await sql`create index csat_responses_account_at on csat_responses (account_id, at desc, conversation_id desc)`.execute(db);

      await db.schema
        .createTable('conversions')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('consumer_id', 'uuid', (c) => c.notNull().references('consumers.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('value', sql`numeric(18, 4)`, (c) => c.notNull().defaultTo(0).check(sql`value >= 0`))
        .addColumn('currency', sql`char(3)`)
        .addColumn('external_id', 'text')
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('attributed_conversation_id', 'uuid', (c) => c.references('conversations.id').onDelete('set null'))
        .addColumn('attributed_agent_id', 'uuid')
        .addColumn('attributed_skill_id', 'uuid')
        .addColumn('reported_by', 'text', (c) => c.notNull().check(sql`reported_by in ('consumer', 'api_key')`))
        .execute();
      await sql`create unique index conversions_account_external_id on conversions (account_id, external_id) where external_id is not null`.execute(db);
      await sql`create index conversions_account_occurred on conversions (account_id, occurred_at desc, id desc)`.execute(db);
      await sql`create index conversions_attributed_conversation on conversions (attributed_conversation_id) where attributed_conversation_id is not null`.execute(db);
    },
  },
};
