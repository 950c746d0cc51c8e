import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, storageMode } from '../../test/test-database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { type Database, openDatabase } from './database.ts';
import { prepared } from './prepared.ts';
import type { Database as Schema } from './schema.ts';

describe(`named prepared statements (${storageMode})`, () => {
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const test = await createTestDatabase();
    drop = test.drop;
    database = await openDatabase(test.options, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  /** The statements prepared on the connection of `trx`. */
  const preparedOn = async (trx: Transaction<Schema>) => (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(trx)).rows;

  it('prepares a marked statement once per connection under its name, and answers it like any other', async () => {
    await database.db.transaction().execute(async (trx) => {
      const twice = async (ids: number[]) => (await sql<{ n: number }>`${prepared('test.double')} select n * 2 as n from unnest(${ids}::int[]) as v (n) order by n`.execute(trx)).rows.map((r) => r.n);
      expect(await twice([1, 2, 3])).toEqual([2, 4, 6]);
      expect(await twice([5])).toEqual([10]); // the same text with another list: the same statement
      expect(await twice([])).toEqual([]);
      const statements = await preparedOn(trx);
      expect(statements.filter((s) => s.name === 'test.double')).toHaveLength(1);
      expect(statements.find((s) => s.name === 'test.double')?.statement).toContain('unnest($1::int[])');
    });
  });

  it('leaves statements without the mark unnamed', async () => {
    await database.db.transaction().execute(async (trx) => {
      await sql`select ${1}::int as one`.execute(trx);
      expect((await preparedOn(trx)).map((s) => s.statement)).not.toContain('select $1::int as one');
    });
  });

  it('refuses a name that could not be told from the text around it', () => {
    expect(() => prepared('two words')).toThrow(/bad prepared statement name/);
    expect(() => prepared('x*/ drop table users; /*')).toThrow(/bad prepared statement name/);
  });
});
