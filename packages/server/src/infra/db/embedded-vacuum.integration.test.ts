import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, storageMode } from '../../test/test-database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import type { Database } from './database.ts';
import { EmbeddedVacuum, upkeepFor } from './embedded-vacuum.ts';

describe('what a table asks for, by PostgreSQL autovacuum rules', () => {
  const quiet = { table: 't', live: 1_000, dead: 0, modified: 0, inserted: 0 };
  it('vacuums past 50 + 20% dead rows, and analyses past 50 + 10% changed ones', () => {
    expect(upkeepFor(quiet)).toBeUndefined();
    expect(upkeepFor({ ...quiet, dead: 250 })).toBeUndefined();
    expect(upkeepFor({ ...quiet, dead: 251 })).toBe('vacuum');
    expect(upkeepFor({ ...quiet, modified: 151 })).toBe('analyze');
    expect(upkeepFor({ ...quiet, dead: 251, modified: 251 })).toBe('vacuum and analyze');
  });

  it('vacuums a table only ever inserted into, past 1,000 + 20% new rows (its visibility map, freezing)', () => {
    expect(upkeepFor({ ...quiet, inserted: 1_200 })).toBeUndefined();
    expect(upkeepFor({ ...quiet, inserted: 1_201 })).toBe('vacuum');
  });
});

describe(`embedded mode's vacuum (${storageMode})`, () => {
  const opened = openTestDatabase();
  let database: Database;
  let vacuum: EmbeddedVacuum;

  beforeAll(() => {
    database = opened();
    vacuum = new EmbeddedVacuum(database.db, createMetrics(), createLogger({ level: 'silent' }));
  });

  /** The table's counts as the statistics have them, this session's own changes reported first. */
  async function statsOf(table: string) {
    await sql`select pg_stat_force_next_flush()`.execute(database.db);
    const { rows } = await sql<{ dead: string | number; vacuums: string | number; analyses: string | number }>`
      select n_dead_tup as dead, vacuum_count as vacuums, analyze_count as analyses from pg_stat_user_tables where relname = ${table}`.execute(database.db);
    return { dead: Number(rows[0]?.dead), vacuums: Number(rows[0]?.vacuums), analyses: Number(rows[0]?.analyses) };
  }

  it('vacuums and analyses a table whose rows were updated over and over, and then leaves it alone', async () => {
    // PostgreSQL's own autovacuum (cluster mode's test database) must not get there first.
    await sql`create table upkeep_churn (id int primary key, n int not null) with (autovacuum_enabled = false)`.execute(database.db);
    await sql`insert into upkeep_churn select g, 0 from generate_series(1, 500) g`.execute(database.db);
    for (let i = 0; i < 3; i++) await sql`update upkeep_churn set n = n + 1`.execute(database.db);
    // 1,500 dead versions, less what reading the pages pruned on the way (heap-only tuples).
    expect((await statsOf('upkeep_churn')).dead).toBeGreaterThan(1_000);

    const done = await vacuum.run();
    expect(done.filter((d) => d.table === 'upkeep_churn').map((d) => d.upkeep)).toEqual(['vacuum and analyze']);
    const after = await statsOf('upkeep_churn');
    expect(after).toMatchObject({ vacuums: 1, analyses: 1 });
    expect(after.dead).toBeLessThan(50);

    expect((await vacuum.run()).filter((d) => d.table === 'upkeep_churn')).toEqual([]);
  });

  it('leaves a table with a few changes alone', async () => {
    await sql`create table upkeep_quiet (id int primary key, n int not null) with (autovacuum_enabled = false)`.execute(database.db);
    await sql`insert into upkeep_quiet select g, 0 from generate_series(1, 20) g`.execute(database.db);
    await sql`update upkeep_quiet set n = 1 where id <= 10`.execute(database.db);
    await statsOf('upkeep_quiet');
    expect((await vacuum.run()).filter((d) => d.table === 'upkeep_quiet')).toEqual([]);
  });
});
