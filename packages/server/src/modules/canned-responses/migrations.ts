import { type Kysely, type Migration, sql } from 'kysely';

export const cannedResponsesMigrations: Record<string, Migration> = {
  '2026_11_24_0020_canned_responses': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('canned_responses')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('owner_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('shortcut', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('quick_replies', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // One shortcut per scope: once per account among account-wide responses, once per user among personal ones.
      // Two partial indexes, because a unique index treats NULL owners as distinct (PostgreSQL 15 subset: no NULLS NOT DISTINCT needed).
      await sql`create unique index canned_responses_account_shortcut on canned_responses (account_id, shortcut) where owner_id is null`.execute(db);
      await sql`create unique index canned_responses_personal_shortcut on canned_responses (owner_id, shortcut) where owner_id is not null`.execute(db);
    },
  },
};
