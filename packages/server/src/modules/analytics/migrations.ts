import { type Kysely, type Migration, sql } from 'kysely';

export const analyticsMigrations: Record<string, Migration> = {
  '2026_12_11_0020_analytics': {
    async up(db: Kysely<unknown>) {
      // No foreign keys: one insert per message must stay cheap, and the record outlives nothing it refers to.
      await db.schema
        .createTable('analytics_events')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('conversation_id', 'uuid', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('skill_id', 'uuid')
        .addColumn('agent_id', 'uuid')
        .addColumn('is_bot', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint')
        .addColumn('value', sql`numeric(18, 4)`)
        .addColumn('detail', 'jsonb')
        .execute();
      await sql`create index analytics_events_account_at on analytics_events (account_id, at)`.execute(db);
      await sql`create index analytics_events_at on analytics_events (at)`.execute(db);
      await sql`create index analytics_events_conversation on analytics_events (conversation_id)`.execute(db);
      await db.schema
        .createTable('analytics_hourly')
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('hour', 'timestamptz', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('skill_id', 'uuid')
        .addColumn('agent_id', 'uuid')
        .addColumn('is_bot', 'boolean', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('duration_count', 'integer', (c) => c.notNull())
        .addColumn('duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('histogram', 'jsonb', (c) => c.notNull())
        .execute();
      await sql`create index analytics_hourly_account_hour on analytics_hourly (account_id, hour)`.execute(db);
      await sql`create index analytics_hourly_hour on analytics_hourly (hour)`.execute(db);
      await db.schema
        .createTable('analytics_rollup_state')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('rolled_up_to', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
};
