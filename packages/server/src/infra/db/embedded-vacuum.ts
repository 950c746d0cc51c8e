import { sql } from 'kysely';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { Periodic } from '../timers/periodic.ts';
import type { Db } from './database.ts';

/**
 * Autovacuum for embedded mode.
 *
 * PGlite is PostgreSQL in single-user mode: it has no background workers, so nothing ever vacuums or analyses its
 * tables. The rows the send path updates at every message (a conversation's sequence, its routing row) leave a dead
 * version each time; unvacuumed, their index entries pile up and every lookup walks them (the embedded benchmark's
 * ceiling, after its ladder, fell below what its last step had achieved), the planner keeps the statistics of the
 * day the tables were empty, and no row is ever frozen against transaction-id wraparound.
 *
 * So this does what PostgreSQL's autovacuum launcher does, from a timer, with its default thresholds: a table is
 * vacuumed when its dead rows pass 50 + 20% of its live ones or its inserts since the last vacuum pass 1,000 + 20%
 * (an append-only table needs it too, for the visibility map and freezing), analysed when its changed rows pass
 * 50 + 10%. One table at a time: the embedded database has one session, so each vacuum holds every other statement
 * for its duration; checked often, each has little to do. Cluster mode leaves this to PostgreSQL's own autovacuum.
 */

/** PostgreSQL's defaults (autovacuum_vacuum_threshold and _scale_factor, the insert and analyze ones). */
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const INSERT_THRESHOLD = 1_000;
const INSERT_SCALE = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;

export interface TableActivity {
  table: string;
  live: number;
  dead: number;
  /** Rows inserted, updated or deleted since the last analyse. */
  modified: number;
  /** Rows inserted since the last vacuum. */
  inserted: number;
}

export type Upkeep = 'vacuum' | 'vacuum and analyze' | 'analyze';

/** What a table's activity asks for, by PostgreSQL's autovacuum rules; undefined: nothing. */
export function upkeepFor(activity: TableActivity): Upkeep | undefined {
  const vacuum = activity.dead > VACUUM_THRESHOLD + VACUUM_SCALE * activity.live || activity.inserted > INSERT_THRESHOLD + INSERT_SCALE * activity.live;
  const analyze = activity.modified > ANALYZE_THRESHOLD + ANALYZE_SCALE * activity.live;
  if (vacuum) return analyze ? 'vacuum and analyze' : 'vacuum';
  return analyze ? 'analyze' : undefined;
}

export class EmbeddedVacuum {
  private readonly periodic = new Periodic(() => this.run().catch((error: unknown) => this.log.error({ err: error }, 'embedded database upkeep failed')));

  constructor(
    private readonly db: Db,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Vacuums and analyses, one at a time, the tables whose activity asks for it. Resolves with what it did. */
  async run(): Promise<Array<{ table: string; upkeep: Upkeep; ms: number }>> {
    // int8 counts come back as numbers (database.ts).
    const { rows } = await sql<TableActivity>`
      select relname as table, n_live_tup as live, n_dead_tup as dead, n_mod_since_analyze as modified, n_ins_since_vacuum as inserted
      from pg_stat_user_tables where schemaname = current_schema() order by relname`.execute(this.db);
    const done: Array<{ table: string; upkeep: Upkeep; ms: number }> = [];
    for (const activity of rows) {
      const upkeep = upkeepFor(activity);
      if (!upkeep) continue;
      const started = performance.now();
      const table = sql.id(activity.table);
      if (upkeep === 'analyze') await sql`analyze ${table}`.execute(this.db);
      else if (upkeep === 'vacuum') await sql`vacuum ${table}`.execute(this.db);
      else await sql`vacuum (analyze) ${table}`.execute(this.db);
      const ms = performance.now() - started;
      this.metrics.embeddedVacuum.observe({ upkeep }, ms / 1000);
      this.log.info({ ...activity, upkeep, ms: Math.round(ms) }, 'embedded database upkeep');
      done.push({ table: activity.table, upkeep, ms });
    }
    return done;
  }

  /** Runs `run` every `intervalMs` (one at a time); 0 leaves it to the caller. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a run under way. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
