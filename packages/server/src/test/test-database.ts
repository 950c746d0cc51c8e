import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Database, type DatabaseOptions, openDatabase } from '../infra/db/database.ts';
import { createLogger } from '../infra/telemetry/logger.ts';

/**
 * A fresh, migrated database for one test server, in the mode the suite runs in:
 * PGlite in memory (cloned from the migrated template) by default, or a new database on the PostgreSQL server named
 * by PARLEY_TEST_DATABASE_URL, dropped again afterwards.
 */
export async function createTestDatabase(): Promise<{ options: DatabaseOptions; url: string | undefined; drop(): Promise<void> }> {
  const adminUrl = process.env.PARLEY_TEST_DATABASE_URL;
  if (!adminUrl) {
    const template = fs.readFileSync(inject('pgliteTemplatePath'));
    return { options: { mode: 'embedded-memory', loadDataDir: new Blob([template]) }, url: undefined, drop: async () => {} };
  }
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    options: { mode: 'postgres', databaseUrl: url.toString(), poolSize: 5 },
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export const storageMode = process.env.PARLEY_TEST_DATABASE_URL ? 'postgres' : 'embedded';

/**
 * A fresh, migrated database opened for the tests of one `describe` (registers its `beforeAll` and `afterAll`): call
 * the function returned inside a test or a later hook for the open database. Closed and dropped after the tests.
 */
export function openTestDatabase(): () => Database {
  let database: Database | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const test = await createTestDatabase();
    drop = test.drop;
    database = await openDatabase(test.options, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });
  return () => {
    if (!database) throw new Error('the test database is opened in beforeAll; use it inside a test or a later hook');
    return database;
  };
}
