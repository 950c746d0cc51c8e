import { type Kysely, type Migration, sql } from 'kysely';

export const jobsMigrations: Record<string, Migration> = {
  '2026_11_23_0020_jobs': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('payload', 'jsonb', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'running', 'done', 'failed')`))
        .addColumn('ordering_key', 'text')
        .addColumn('run_at', 'timestamptz', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', 'timestamptz')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('finished_at', 'timestamptz')
        .execute();
      // What a worker looks for: due jobs of its queues; and the head of each ordering key.
      await sql`create index jobs_due on jobs (queue, run_at) where state in ('pending', 'running')`.execute(db);
      await sql`create index jobs_ordering on jobs (ordering_key, seq) where ordering_key is not null and state in ('pending', 'running')`.execute(db);
    },
  },
};
