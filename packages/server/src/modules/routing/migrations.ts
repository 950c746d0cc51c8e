import { type Kysely, type Migration, sql } from 'kysely';

export const routingMigrations: Record<string, Migration> = {
  '2026_11_23_0010_routing': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('skills')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('routing_mode', 'text', (c) => c.notNull().check(sql`routing_mode in ('auto', 'ring')`))
        .addColumn('ring_timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('response_target_seconds', 'integer')
        .addColumn('business_hours', 'jsonb')
        .addColumn('off_hours_message', 'text')
        .addColumn('no_agents_message', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`create unique index skills_name_per_account on skills (account_id, lower(name))`.execute(db);

      await db.schema
        .createTable('routing_settings')
        .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('default_skill_id', 'uuid', (c) => c.references('skills.id').onDelete('set null'))
        .addColumn('default_max_conversations', 'integer', (c) => c.notNull())
        .addColumn('disconnect_grace_seconds', 'integer', (c) => c.notNull())
        .addColumn('transfer_fallback_seconds', 'integer', (c) => c.notNull())
        .addColumn('auto_close_seconds', 'integer')
        .addColumn('auto_close_warning_seconds', 'integer', (c) => c.notNull())
        .addColumn('reopen_window_seconds', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('agent_states')
        .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('online', 'away', 'back_soon', 'offline')`))
        .addColumn('reason', 'text')
        .addColumn('state_since', 'timestamptz', (c) => c.notNull())
        .addColumn('max_conversations', 'integer', (c) => c.check(sql`max_conversations >= 0`))
        .addColumn('last_assigned_at', 'timestamptz')
        .addColumn('disconnected_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('agent_states_account_state').on('agent_states').columns(['account_id', 'state']).execute();

      await db.schema
        .createTable('agent_skills')
        .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('skill_id', 'uuid', (c) => c.notNull().references('skills.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addPrimaryKeyConstraint('agent_skills_pk', ['user_id', 'skill_id'])
        .execute();
      await db.schema.createIndex('agent_skills_account').on('agent_skills').columns(['account_id']).execute();

      await db.schema
        .createTable('agent_connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('connected_at', 'timestamptz', (c) => c.notNull())
        .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('agent_connections_user').on('agent_connections').columns(['user_id']).execute();

      await db.schema
        .createTable('conversation_routing')
        .addColumn('conversation_id', 'uuid', (c) => c.primaryKey().references('conversations.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('new', 'queued', 'offered', 'assigned', 'closed')`))
        .addColumn('skill_id', 'uuid', (c) => c.references('skills.id').onDelete('set null'))
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('queue_order_at', 'timestamptz')
        .addColumn('queued_at', 'timestamptz')
        .addColumn('agent_id', 'uuid')
        .addColumn('assigned_at', 'timestamptz')
        .addColumn('offered_to', 'uuid')
        .addColumn('offer_expires_at', 'timestamptz')
        .addColumn('passed_agents', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('target_agent_id', 'uuid')
        .addColumn('target_until', 'timestamptz')
        .addColumn('transfer_note', 'text')
        .addColumn('awaiting_since', 'timestamptz')
        .addColumn('response_due_at', 'timestamptz')
        .addColumn('breached_at', 'timestamptz')
        .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull())
        .addColumn('idle_warned_at', 'timestamptz')
        .addColumn('queue_notice_sent', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
      // The queue, in order; agents' loads; the timers the sweep looks for.
      await sql`create index conversation_routing_queue on conversation_routing (account_id, priority desc, queue_order_at) where status = 'queued'`.execute(db);
      await sql`create index conversation_routing_load on conversation_routing (account_id, agent_id) where status = 'assigned'`.execute(db);
      await sql`create index conversation_routing_offers on conversation_routing (offer_expires_at) where status = 'offered'`.execute(db);
      await sql`create index conversation_routing_active on conversation_routing (account_id, last_activity_at) where status in ('new', 'queued', 'offered', 'assigned')`.execute(db);
    },
  },
  '2026_11_28_0020_routing_bots': {
    async up(db: Kysely<unknown>) {
      // Bots run by Parley or reached by webhook are available without a realtime connection.
      await db.schema
        .alterTable('agent_states')
        .addColumn('always_available', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
      // Set once a bot handed the conversation to people: from then on routing gives it to people only.
      await db.schema
        .alterTable('conversation_routing')
        .addColumn('bots_excluded', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
    },
  },
  '2026_12_11_0010_routing_first_response': {
    async up(db: Kysely<unknown>) {
      // When a waiting consumer first got an answer: tells the analytics record which answer is the first response.
      await db.schema.alterTable('conversation_routing').addColumn('first_response_at', 'timestamptz').execute();
    },
  },
  '2026_12_14_0010_routing_agent_state_periods': {
    async up(db: Kysely<unknown>) {
      // Agents' state history for the analytics (logged-in, online, away time): one row per period of one state, the
      // current one open (ended_at null). Written by routing in the transaction of each change, with its clock.
      await db.schema
        .createTable('agent_state_periods')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('account_id', 'uuid', (c) => c.notNull())
        .addColumn('user_id', 'uuid', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('online', 'away', 'back_soon', 'offline')`))
        .addColumn('reason', 'text')
        .addColumn('started_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ended_at', 'timestamptz')
        .addCheckConstraint('agent_state_periods_ordered', sql`ended_at is null or ended_at >= started_at`)
        .execute();
      // At most one open period per agent; reads by account and time overlap (started before the end of the period
      // asked for, ended after its start or still open: the planner takes whichever side is narrower).
      await sql`create unique index agent_state_periods_open on agent_state_periods (user_id) where ended_at is null`.execute(db);
      await sql`create index agent_state_periods_account_started on agent_state_periods (account_id, started_at)`.execute(db);
      await sql`create index agent_state_periods_account_ended on agent_state_periods (account_id, ended_at)`.execute(db);
    },
  },
  '2026_12_14_0040_routing_hot_updates': {
    async up(db: Kysely<unknown>) {
      // Every message updates its conversation's routing row (last activity, the consumer's wait). With last_activity_at
      // in an index, each of those updates wrote a new entry into every index of the table; without it, and with room
      // left on each page, they are heap-only (HOT). The idle sweep reads the active rows by this index either way (it
      // asks across accounts, so the time column never narrowed it).
      await sql`drop index conversation_routing_active`.execute(db);
      await sql`create index conversation_routing_active on conversation_routing (account_id) where status in ('new', 'queued', 'offered', 'assigned')`.execute(db);
      await sql`alter table conversation_routing set (fillfactor = 85)`.execute(db);
    },
  },
};
