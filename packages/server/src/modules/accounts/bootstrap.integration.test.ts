import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../infra/db/database.ts';
import { createLogger } from '../../infra/telemetry/logger.ts';
import { createTestDatabase, storageMode } from '../../test/test-database.ts';
import { bootstrapFirstAccount, createAccountWithAdminAtomically } from './bootstrap.ts';

const logger = createLogger({ level: 'silent' });
const input = (email: string) => ({ accountName: 'First brand', adminEmail: email, adminPassword: 'a-long-password' });

describe(`first start (${storageMode})`, () => {
  it('creates the first account and admin once, and nothing on later starts', async () => {
    const fresh = await createTestDatabase();
    const database = await openDatabase(fresh.options, logger);
    try {
      // The template database may already hold accounts; the first-start rule only applies to an empty one.
      const accounts = await database.db.selectFrom('accounts').select('id').execute();
      const first = await bootstrapFirstAccount(database.db, input('first@parley.test'));
      if (accounts.length === 0) expect(first).toMatchObject({ accountName: 'First brand', adminEmail: 'first@parley.test' });
      expect(await bootstrapFirstAccount(database.db, input('second@parley.test'))).toBeUndefined();
    } finally {
      await database.close();
      await fresh.drop();
    }
  });

  it('leaves no account behind when the admin email is taken', async () => {
    const fresh = await createTestDatabase();
    const database = await openDatabase(fresh.options, logger);
    try {
      await createAccountWithAdminAtomically(database.db, input('taken@parley.test'));
      const before = await database.db.selectFrom('accounts').select('id').execute();
      await expect(createAccountWithAdminAtomically(database.db, input('taken@parley.test'))).rejects.toThrow();
      expect(await database.db.selectFrom('accounts').select('id').execute()).toHaveLength(before.length);
    } finally {
      await database.close();
      await fresh.drop();
    }
  });

  it.skipIf(storageMode === 'embedded')('creates exactly one first account when several nodes start together on an empty PostgreSQL', async () => {
    const fresh = await createTestDatabase();
    const nodes = await Promise.all([1, 2, 3].map(() => openDatabase(fresh.options, logger)));
    try {
      const results = await Promise.all(nodes.map((node, i) => bootstrapFirstAccount(node.db, input(`node${i}@parley.test`))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await nodes[0]?.db.selectFrom('accounts').select('id').execute()).toHaveLength(1);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await fresh.drop();
    }
  });
});
