import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { DatabaseOptions } from '../infra/db/database.ts';

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
