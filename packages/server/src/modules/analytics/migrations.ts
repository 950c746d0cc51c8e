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
  '2026_12_14_0020_analytics_hold_ends': {
    async up(db: Kysely<unknown>) {
      // The facts that end an agent's hold of a conversation, for engaged time at a report's edges (agent-time.ts):
      // about one fact in ten, so the index costs messages nothing. Its predicate is HOLD_ENDING_FACTS, spelt the same.
      await sql`create index analytics_events_hold_ends on analytics_events (account_id, at) where type in ('closed', 'transferred', 'escalated', 'released')`.execute(db);
    },
  },
  '2026_12_14_0030_analytics_daily': {
    async up(db: Kysely<unknown>) {
      // Daily rollups, per reporting time zone: the long reports' source (ADR 13, amended). Rows for a local day are
      // recomputed from the raw record once the day has ended in that zone.
      await db.schema
        .createTable('analytics_report_zones')
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
        .addColumn('folded_to', 'date')
        .addPrimaryKeyConstraint('analytics_report_zones_pk', ['account_id', 'time_zone'])
        .execute();
      await db.schema
        .createTable('analytics_daily')
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('day', 'date', (c) => c.notNull())
        // '': every skill together (skill_id null); 'skill': per skill.
        .addColumn('slice', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('skill_id', 'uuid')
        .addColumn('is_bot', 'boolean', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('duration_count', 'integer', (c) => c.notNull())
        .addColumn('duration_sum', 'bigint', (c) => c.notNull())
        .execute();
      await sql`create index analytics_daily_slice_day on analytics_daily (account_id, time_zone, slice, day)`.execute(db);
      await db.schema
        .createTable('analytics_daily_durations')
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('day', 'date', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('slice', 'text', (c) => c.notNull())
        .addColumn('histogram', 'jsonb', (c) => c.notNull())
        .execute();
      await sql`create index analytics_daily_durations_slice_day on analytics_daily_durations (account_id, time_zone, slice, day)`.execute(db);
      await db.schema
        .createTable('analytics_daily_agents')
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('day', 'date', (c) => c.notNull())
        .addColumn('slice', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'uuid', (c) => c.notNull())
        .addColumn('is_bot', 'boolean', (c) => c.notNull())
        // One row per agent and day: the counts of each fact the agents table reads, side by side.
        .addColumn('assigned_count', 'integer', (c) => c.notNull())
        .addColumn('assigned_duration_count', 'integer', (c) => c.notNull())
        .addColumn('assigned_duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('agent_message_count', 'integer', (c) => c.notNull())
        .addColumn('agent_message_duration_count', 'integer', (c) => c.notNull())
        .addColumn('agent_message_duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('closed_count', 'integer', (c) => c.notNull())
        .addColumn('closed_duration_count', 'integer', (c) => c.notNull())
        .addColumn('closed_duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('transferred_count', 'integer', (c) => c.notNull())
        .addColumn('transferred_duration_count', 'integer', (c) => c.notNull())
        .addColumn('transferred_duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('escalated_count', 'integer', (c) => c.notNull())
        .addColumn('escalated_duration_count', 'integer', (c) => c.notNull())
        .addColumn('escalated_duration_sum', 'bigint', (c) => c.notNull())
        .addColumn('released_count', 'integer', (c) => c.notNull())
        .addColumn('released_duration_count', 'integer', (c) => c.notNull())
        .addColumn('released_duration_sum', 'bigint', (c) => c.notNull())
        .execute();
      await sql`create index analytics_daily_agents_slice_day on analytics_daily_agents (account_id, time_zone, slice, day)`.execute(db);
      // Agent-filtered reports read the hourly rollup: one agent's rows, not the account's.
      await sql`create index analytics_hourly_account_agent_hour on analytics_hourly (account_id, agent_id, hour)`.execute(db);
    },
  },
  '2026_12_17_0010_analytics_fact_indexes': {
    async up(db: Kysely<unknown>) {
      // Every message stores a fact, and each index of the facts is one more entry per message (docs/performance.md,
      // item 35). Nothing reads the facts by conversation: that index goes. The hourly rollup reads them by time across
      // accounts (`at >= $1 and at < $2`, a week at a time); facts are appended as they happen, so their time follows
      // their place in the table and a block-range index answers that range as well as a B-tree, at a few pages for
      // the whole table instead of one entry per fact. Reports read per account, through (account_id, at).
      await sql`drop index analytics_events_conversation`.execute(db);
      await sql`drop index analytics_events_at`.execute(db);
      await sql`create index analytics_events_at on analytics_events using brin (at)`.execute(db);
    },
  },
};
