import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { accountsMigrations } from '../../modules/accounts/migrations.ts';
import { analyticsMigrations } from '../../modules/analytics/migrations.ts';
import { botsMigrations } from '../../modules/bots/migrations.ts';
import { cannedResponsesMigrations } from '../../modules/canned-responses/migrations.ts';
import { channelsMigrations } from '../../modules/channels/migrations.ts';
import { consumersMigrations } from '../../modules/consumers/migrations.ts';
import { conversationsMigrations } from '../../modules/conversations/migrations.ts';
import { engagementMigrations } from '../../modules/engagement/migrations.ts';
import { routingMigrations } from '../../modules/routing/migrations.ts';
import { searchMigrations } from '../../modules/search/migrations.ts';
import { webhooksMigrations } from '../../modules/webhooks/migrations.ts';
import { jobsMigrations } from '../jobs/migrations.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Database } from './schema.ts';

/**
 * Every module owns its tables and its migrations; this is the one list of them. Names start with a timestamp, so
 * Kysely applies them in order across modules. Migrations are written to the PostgreSQL 15 subset, because PGlite
 * (the embedded mode) is PostgreSQL 18 and production may be 15.
 */
export const allMigrations: Record<string, Migration> = {
  ...accountsMigrations,
  ...consumersMigrations,
  ...conversationsMigrations,
  ...cannedResponsesMigrations,
  ...routingMigrations,
  ...botsMigrations,
  ...jobsMigrations,
  ...webhooksMigrations,
  ...channelsMigrations,
  ...engagementMigrations,
  ...searchMigrations,
  ...analyticsMigrations,
};

const provider: MigrationProvider = { getMigrations: async () => allMigrations };

export async function migrateToLatest(db: Kysely<Database>, logger: Logger): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'parley_migrations', migrationLockTableName: 'parley_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === 'Success') logger.info({ migration: result.migrationName }, 'migration applied');
    if (result.status === 'Error') logger.error({ migration: result.migrationName }, 'migration failed');
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
