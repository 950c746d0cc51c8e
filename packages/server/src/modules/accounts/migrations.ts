import { type Kysely, type Migration, sql } from 'kysely';

export const accountsMigrations: Record<string, Migration> = {
  '2026_11_23_0001_accounts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('widget_key', 'text', (c) => c.notNull().unique())
        .addColumn('consumer_auth', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('lines_of_business')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('lines_of_business_account_name', ['account_id', 'name'])
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'manager', 'agent')`))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('users_account').on('users').columns(['account_id']).execute();
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('revoked_at', 'timestamptz')
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_used_at', 'timestamptz')
        .addColumn('revoked_at', 'timestamptz')
        .execute();
      await db.schema.createIndex('api_keys_account').on('api_keys').columns(['account_id']).execute();
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '2026_11_24_0010_accounts_widget_settings': {
    async up(db: Kysely<unknown>) {
      // null until an admin saves settings: the widget then uses DEFAULT_WIDGET_SETTINGS.
      await db.schema.alterTable('accounts').addColumn('widget_settings', 'jsonb').execute();
    },
  },
  '2026_11_28_0005_bot_identities': {
    async up(db: Kysely<unknown>) {
      // A bot is a user of the account (routing, participants and access work as for agents) that never logs in with
      // a password: it presents a secret, stored here as a digest.
      await sql`alter table users drop constraint users_role_check`.execute(db);
      await sql`alter table users add constraint users_role_check check (role in ('admin', 'manager', 'agent', 'bot'))`.execute(db);
      await db.schema
        .createTable('bot_credentials')
        .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '2026_11_30_0010_api_keys_rate_limit': {
    async up(db: Kysely<unknown>) {
      // null: the server's default (API_KEY_RATE_LIMIT_PER_MINUTE).
      await db.schema
        .alterTable('api_keys')
        .addColumn('rate_limit_per_minute', 'integer', (c) => c.check(sql`rate_limit_per_minute > 0`))
        .execute();
    },
  },
};
