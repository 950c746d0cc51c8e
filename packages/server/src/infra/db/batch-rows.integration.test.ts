import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, storageMode } from '../../test/test-database.ts';
import { arrayParameter, batchRows } from './batch-rows.ts';
import type { Database } from './database.ts';
import { preparedStatement } from './prepared.ts';

interface Row {
  n: number;
  id: string;
  label: string | null;
  at: Date | null;
  flag: boolean;
  doc: Record<string, unknown> | unknown[] | null;
}

const ROWS = batchRows<Row>('r', [
  ['n', 'int'],
  ['id', 'uuid'],
  ['label', 'text'],
  ['at', 'timestamptz'],
  ['flag', 'boolean'],
  ['doc', 'jsonb'],
]);

const ECHO = preparedStatement<Row & { tag: string }>('test.batch-rows.echo', `select r.*, $${ROWS.nextParameter}::text as tag from ${ROWS.sql} order by r.n`);

describe(`a batch of rows as one array per column (${storageMode})`, () => {
  const opened = openTestDatabase();
  let database: Database;
  beforeAll(async () => {
    database = opened();
    await sql`create table batch_rows_test (n int, id uuid, label text, at timestamptz, flag boolean, doc jsonb)`.execute(database.db);
  });

  const awkward: Row[] = [
    { n: 1, id: '6b1c2b6e-8a57-4c9e-8d2e-1c2b6e8a574c', label: 'plain', at: new Date('2026-12-07T12:00:00.123Z'), flag: true, doc: { text: 'hi' } },
    { n: 2, id: '00000000-0000-0000-0000-000000000000', label: 'a "quoted", {braced} \\ back\\slashed, NULL', at: null, flag: false, doc: null },
    { n: 3, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff', label: null, at: new Date('1999-12-31T23:59:59.999Z'), flag: false, doc: [1, 'two', { three: [3] }] },
    { n: 4, id: '12345678-1234-1234-1234-123456789abc', label: 'NULL', at: null, flag: true, doc: { q: '"}\\,{', u: 'ünïcødé ✓ 🎉', empty: '' } },
    { n: 5, id: '12345678-1234-1234-1234-123456789abd', label: '', at: null, flag: true, doc: {} },
    { n: 6, id: '12345678-1234-1234-1234-123456789abe', label: "$v$ it's; commit; --\n\ttabbed  ", at: null, flag: false, doc: { nested: { a: null } } },
  ];

  it('gives back every value as it was given: quotes, braces, backslashes, NULL as a word, empty strings, unicode, JSON arrays', async () => {
    const { rows } = await ECHO.run(database.db, [...ROWS.parameters(awkward), 'after']);
    expect(rows).toEqual(awkward.map((row) => ({ ...row, tag: 'after' })));
  });

  it('takes an empty batch', async () => {
    const { rows } = await ECHO.run(database.db, [...ROWS.parameters([]), 'none']);
    expect(rows).toEqual([]);
  });

  it('writes the same rows when the statement is held and sent with the commit as literals', async () => {
    const insert = preparedStatement('test.batch-rows.insert', `insert into batch_rows_test select * from ${ROWS.sql}`);
    await database.db.transaction().execute(async (trx) => {
      await insert.runLater(trx, ROWS.parameters(awkward));
    });
    const { rows } = await sql<Row>`select * from batch_rows_test order by n`.execute(database.db);
    expect(rows).toEqual(awkward);
  });

  it('is planned once: PostgreSQL keeps the generic plan whatever the batch size', async () => {
    const find = preparedStatement<{ n: number }>('test.batch-rows.plan', `select b.n from ${ROWS.sql} cross join lateral (select n from batch_rows_test t where t.n = r.n limit 1) b`);
    await database.db.connection().execute(async (connection) => {
      for (let round = 0; round < 10; round++) await find.run(connection, ROWS.parameters(awkward.slice(0, 1 + (round % 5))));
      const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
        select generic_plans, custom_plans from pg_prepared_statements where name = 'test.batch-rows.plan'`.execute(connection);
      // Five plans for the first five runs' values, then the generic one. An array given bare (`unnest($1::int[])`)
      // was planned for its values at every run: PostgreSQL counts its elements and finds that plan cheaper.
      expect(rows.map((r) => ({ generic: Number(r.generic_plans), custom: Number(r.custom_plans) }))).toEqual([{ generic: 5, custom: 5 }]);
    });
  });

  it('refuses names and types that could not be told from the statement around them', () => {
    expect(() => batchRows<{ a: string }>('r; drop table x', [['a', 'text']])).toThrow(/bad column or alias name/);
    expect(() => batchRows<{ 'a)': string }>('r', [['a)', 'text']])).toThrow(/bad column or alias name/);
    expect(() => batchRows<{ a: string }>('r', [['a', 'text[]); drop table x; --']])).toThrow(/bad column type/);
    expect(() => batchRows<{ a: string }>('r', [])).toThrow(/at least one column/);
  });

  it('refuses a value it cannot write as an element, rather than writing something else', () => {
    const rows = batchRows<{ a: unknown }>('r', [['a', 'text']]);
    expect(() => rows.parameters([{ a: { an: 'object' } }])).toThrow(/a batch's a must be a string, number, boolean or date/);
    expect(() => rows.parameters([{ a: new Date(Number.NaN) }])).toThrow(RangeError);
    expect(rows.parameters([{ a: 'x' }, { a: null }, { a: undefined }, { a: 2 }, { a: true }])).toEqual(['{"x",NULL,NULL,2,t}']);
  });

  it('writes a list as one array parameter the same way', async () => {
    expect(arrayParameter(['a"b\\c', null, 2])).toBe('{"a\\"b\\\\c",NULL,2}');
    const ids = awkward.map((row) => row.id);
    const { rows } = await sql<{ id: string }>`select id from unnest((select ${arrayParameter(ids)}::uuid[])) as i (id)`.execute(database.db);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });
});
