import { sql, type Transaction } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roundTripsOf } from '../../test/statement-counter.ts';
import { openTestDatabase, storageMode } from '../../test/test-database.ts';
import type { Database } from './database.ts';
import { dollarQuoted, preparedStatement } from './prepared.ts';
import type { Database as Schema } from './schema.ts';

describe(`named prepared statements (${storageMode})`, () => {
  const opened = openTestDatabase();
  let database: Database;
  beforeAll(() => {
    database = opened();
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
      // Prepared by the driver (its text) or, as the transaction's first statement sent with its begin, by `prepare`.
      expect(statements.find((s) => s.name === 'test.double')?.statement).toContain(double.text);
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

  describe('writes held until the next statement (runLater)', () => {
    const note = preparedStatement('test.note', 'insert into test_notes (id, body, at) values ($1::int, $2::text, $3::timestamptz)');
    const notes = preparedStatement<{ id: number; body: string | null; at: Date | null }>('test.notes', 'select id, body, at from test_notes order by id');
    const strictNote = preparedStatement('test.note.strict', 'insert into test_notes (id, body) values ($1::int, $2::text)');
    const stored = async () => (await notes.run(database.db, [])).rows;

    beforeAll(async () => {
      await sql`create table test_notes (id int primary key, body text, at timestamptz)`.execute(database.db);
    });
    afterEach(async () => {
      await sql`truncate test_notes`.execute(database.db);
    });

    it('sends a held write with the statement after it, begin with the first, and the last with commit', async () => {
      const at = new Date('2026-12-07T09:41:00.123Z');
      const { roundTrips } = await roundTripsOf(() =>
        database.db.transaction().execute(async (trx) => {
          await note.runLater(trx, [1, 'first', at]);
          expect((await notes.run(trx, [])).rows).toEqual([{ id: 1, body: 'first', at }]); // the write went first
          await note.runLater(trx, [2, 'second', null]);
          await note.runLater(trx, [3, 'third', at]);
        }),
      );
      expect(roundTrips.filter((r) => !r.startsWith('prepare '))).toEqual([
        expect.stringMatching(/^begin;\nexecute "test\.note"\(.*;\nexecute "test\.notes"$/s),
        expect.stringMatching(/^execute "test\.note"\(.*;\nexecute "test\.note"\(.*;\ncommit$/s),
      ]);
      expect((await stored()).map((r) => r.id)).toEqual([1, 2, 3]);
    });

    it('hands every value over exactly, whatever it holds', async () => {
      const bodies = ["it's", 'back\\slash', '$v$ and $v1$ and $$', 'naïve — 漢字 🙂', '', 'new\nline; commit; --'];
      await database.db.transaction().execute(async (trx) => {
        for (const [i, body] of bodies.entries()) await note.runLater(trx, [i, body, null]);
      });
      expect((await stored()).map((r) => r.body)).toEqual(bodies);
    });

    it('fails the statement that carries a failed write, and the transaction with it: nothing of it is stored', async () => {
      await note.run(database.db, [1, 'already there', null]);
      await expect(
        database.db.transaction().execute(async (trx) => {
          await note.runLater(trx, [2, 'would be stored', null]);
          await strictNote.runLater(trx, [1, 'a duplicate key']);
          await note.runLater(trx, [3, 'never sent alone', null]);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await stored()).toEqual([{ id: 1, body: 'already there', at: null }]);
      // The connection (the only one in embedded mode) serves the next transaction.
      await database.db.transaction().execute(async (trx) => note.runLater(trx, [4, 'after', null]));
      expect((await stored()).map((r) => r.id)).toEqual([1, 4]);
    });

    it('drops what a rolled-back transaction held, and sends nothing for a transaction that sent nothing', async () => {
      const { roundTrips } = await roundTripsOf(async () => {
        await expect(
          database.db.transaction().execute(async (trx) => {
            await note.runLater(trx, [1, 'dropped', null]);
            throw new Error('changed my mind');
          }),
        ).rejects.toThrow('changed my mind');
        await database.db.transaction().execute(async () => {});
      });
      expect(roundTrips).toEqual([]);
      expect(await stored()).toEqual([]);
    });

    it('runs a held write at once outside a transaction', async () => {
      await note.runLater(database.db, [7, 'at once', null]);
      expect((await stored()).map((r) => r.id)).toEqual([7]);
    });

    it('lets other statements follow what is held, in order', async () => {
      await database.db.transaction().execute(async (trx) => {
        await note.runLater(trx, [1, 'held', null]);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from test_notes where body = ${'held'}`.execute(trx);
        expect(rows).toEqual([{ n: 1 }]);
      });
    });
  });

  describe('reads held until the next statement (runAfterNext)', () => {
    const item = preparedStatement('test.item', 'insert into test_items (id, label) values ($1::int, $2::text)');
    const labels = preparedStatement<{ id: number; label: string }>('test.items', 'select id, label from test_items where id = any($1::int[]) order by id');
    const strictItem = preparedStatement('test.item.strict', 'insert into test_items (id, label) values ($1::int, $2::text)');

    beforeAll(async () => {
      await sql`create table test_items (id int primary key, label text not null)`.execute(database.db);
    });
    afterEach(async () => {
      await sql`truncate test_items`.execute(database.db);
    });

    it('sends a held read right after the next statement of ours, in its round trip, and hands each its own answer', async () => {
      await item.run(database.db, [1, 'one']);
      const { result, roundTrips } = await roundTripsOf(() =>
        database.db.transaction().execute(async (trx) => {
          const read = await labels.runAfterNext(trx, [[1, 2]]);
          await sql`select 1`.execute(trx); // not one of ours: the read waits
          const written = await item.run(trx, [2, 'two']); // carries the read, which runs after it: it sees 2
          const { rows } = await read.result;
          return { rows, written: written.numAffectedRows };
        }),
      );
      expect(result).toEqual({
        rows: [
          { id: 1, label: 'one' },
          { id: 2, label: 'two' },
        ],
        written: 1n,
      });
      expect(roundTrips.filter((r) => !r.startsWith('prepare '))).toEqual(['begin', 'select 1', expect.stringMatching(/^execute "test\.item"\(.*;\nexecute "test\.items"\(/s), 'commit']);
    });

    it('goes before the commit when no statement of ours follows it', async () => {
      const { result, roundTrips } = await roundTripsOf(() =>
        database.db.transaction().execute(async (trx) => {
          await item.run(trx, [4, 'four']);
          return labels.runAfterNext(trx, [[4]]);
        }),
      );
      expect((await result.result).rows).toEqual([{ id: 4, label: 'four' }]);
      expect(roundTrips.at(-1)).toMatch(/^execute "test\.items"\(.*;\ncommit$/s);
    });

    it('sees what its transaction wrote before it', async () => {
      const rows = await database.db.transaction().execute(async (trx) => {
        await item.run(trx, [5, 'written first']);
        const read = await labels.runAfterNext(trx, [[5]]);
        await item.run(trx, [6, 'written after']);
        return (await read.result).rows;
      });
      expect(rows).toEqual([{ id: 5, label: 'written first' }]); // 6 is not asked for
    });

    it('refuses the read when its round trip fails, and the transaction fails with the statement that carried it', async () => {
      await item.run(database.db, [1, 'one']);
      let read: Awaited<ReturnType<typeof labels.runAfterNext>> | undefined;
      await expect(
        database.db.transaction().execute(async (trx) => {
          read = await labels.runAfterNext(trx, [[1]]);
          await strictItem.run(trx, [1, 'a duplicate key']);
        }),
      ).rejects.toThrow(/duplicate key/);
      await expect(read?.result).rejects.toThrow(/duplicate key/);
    });

    it('refuses a read its transaction never sent (rolled back first)', async () => {
      let read: Awaited<ReturnType<typeof labels.runAfterNext>> | undefined;
      await expect(
        database.db.transaction().execute(async (trx) => {
          await sql`select 1`.execute(trx);
          read = await labels.runAfterNext(trx, [[1]]);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await expect(read?.result).rejects.toThrow(/ended before its held read was sent/);
    });

    it('runs at once outside a transaction', async () => {
      await item.run(database.db, [3, 'three']);
      const read = await labels.runAfterNext(database.db, [[3]]);
      expect((await read.result).rows).toEqual([{ id: 3, label: 'three' }]);
    });
  });

  it('quotes a text with a tag it does not contain', () => {
    expect(dollarQuoted('plain')).toBe('$v$plain$v$');
    expect(dollarQuoted('a $v$ b')).toBe('$v1$a $v$ b$v1$');
    expect(dollarQuoted('$v$$v1$')).toBe('$v2$$v$$v1$$v2$');
  });
});
