import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../telemetry/logger.ts';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';
import { migrateToLatest } from './migrations.ts';
import { prepareNamedStatements } from './prepared.ts';
import type { Database as Schema } from './schema.ts';

// PostgreSQL returns int8 as strings by default; our sequences and counters fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number.parseInt(value, 10));

export type Db = Kysely<Schema>;

export interface Database {
  readonly db: Db;
  readonly mode: 'embedded' | 'postgres';
  /** Cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions = { mode: 'embedded'; dataDir: string } | { mode: 'embedded-memory'; loadDataDir?: Blob } | { mode: 'postgres'; databaseUrl: string; poolSize: number };

/**
 * Opens the one database of the process: PGlite (PostgreSQL in process) in a locked data folder, or a real
 * PostgreSQL. Both go through the same `pg` driver and Kysely dialect, so there is one code path and one SQL dialect.
 * Migrations run before the handle is returned.
 */
export async function openDatabase(options: DatabaseOptions, logger: Logger): Promise<Database> {
  if (options.mode === 'postgres') {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, connectionTimeoutMillis: 5_000 });
    pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL client error'));
    prepareNamedStatements(pool);
    // A client checked out of the pool between two queries (inside a transaction) has no error listener of the pool's:
    // when PostgreSQL goes away its 'error' event would crash the process. The next query on it fails instead (and
    // maps to SERVICE_UNAVAILABLE), and the pool discards it on release.
    pool.on('connect', (client) => {
      client.on('error', (error) => logger.warn({ err: error }, 'PostgreSQL connection lost'));
    });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrateToLatest(db, logger);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return {
      db,
      mode: 'postgres',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }

  let lock: DataDirLock | undefined;
  let pglite: PGlite;
  if (options.mode === 'embedded') {
    lock = acquireDataDirLock(options.dataDir);
    const pgdata = path.join(options.dataDir, 'pgdata');
    const fresh = !fs.existsSync(pgdata);
    if (fresh) logger.info({ dataDir: options.dataDir }, 'creating the embedded database (first start takes a few seconds)');
    try {
      pglite = await PGlite.create(pgdata);
    } catch (error) {
      lock.release();
      throw error;
    }
  } else {
    pglite = await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  }
  // Exactly one pg pool of size 1 on the PGlite instance: PGlite has a single session, and any second access path
  // would run inside whatever transaction the first one holds open.
  const pool = new pg.Pool(createPgConfig(pglite));
  prepareNamedStatements(pool);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await db.destroy();
      await pglite.close();
    } finally {
      lock?.release();
    }
  };
  try {
    await migrateToLatest(db, logger);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    db,
    mode: 'embedded',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close,
  };
}

/** A migrated in-memory database as a blob, to clone cheaply in tests. */
export async function dumpMigratedTemplate(logger: Logger): Promise<Blob> {
  const pglite = await PGlite.create();
  const pool = new pg.Pool(createPgConfig(pglite));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, logger);
  await db.destroy();
  const blob = await pglite.dumpDataDir('none');
  await pglite.close();
  return blob;
}
