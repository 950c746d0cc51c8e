import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, storageMode } from '../../test/test-database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { type Database, openDatabase } from './database.ts';
import { preparedStatement } from './prepared.ts';
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

  const double = preparedStatement<{ n: number }>('test.double', 'select n * 2 as n from unnest($1::int[]) as v (n) order by n');

  it('prepares a statement once per connection under its name, and answers it like any other', async () => {
    await database.db.transaction().execute(async (trx) => {
      const twice = async (ids: number[]) => (await double.run(trx, [ids])).rows.map((r) => r.n);
      expect(await twice([1, 2, 3])).toEqual([2, 4, 6]);
      expect(await twice([5])).toEqual([10]); // the same text with another list: the same statement
      expect(await twice([])).toEqual([]);
      const statements = await preparedOn(trx);
      expect(statements.filter((s) => s.name === 'test.double')).toHaveLength(1);
      expect(statements.find((s) => s.name === 'test.double')?.statement).toBe(double.text);
    });
  });

  it('runs outside a transaction too, with the values it is given', async () => {
    const atTime = preparedStatement<{ at: Date; label: string }>('test.at', 'select $1::timestamptz as at, $2::text as label');
    const at = new Date('2026-12-07T08:00:00.000Z');
    const { rows } = await atTime.run(database.db, [at, "it's"]);
    expect(rows).toEqual([{ at, label: "it's" }]);
  });

  it('leaves other statements unnamed', async () => {
    await database.db.transaction().execute(async (trx) => {
      await sql`select ${1}::int as one`.execute(trx);
      expect((await preparedOn(trx)).map((s) => s.statement)).not.toContain('select $1::int as one');
    });
  });

  it('refuses a name that could not be told from the text around it', () => {
    expect(() => preparedStatement('two words', 'select 1')).toThrow(/bad prepared statement name/);
    expect(() => preparedStatement('x*/ drop table users; /*', 'select 1')).toThrow(/bad prepared statement name/);
  });
});
