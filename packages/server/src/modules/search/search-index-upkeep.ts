import { sql } from 'kysely';
import type { Db } from '../../infra/db/database.ts';
import { isInsufficientPrivilege } from '../../infra/db/pg-errors.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { Metrics } from '../../infra/telemetry/metrics.ts';
import { Periodic } from '../../infra/timers/periodic.ts';
import { MESSAGE_SEARCH_INDEX } from './message-text.ts';

/**
 * Keeps the transcript-search index's pending list short, off the send path.
 *
 * The GIN index takes a new event's words into a "pending list" and moves that list into its main structure in bulk
 * (`fastupdate`, much cheaper per row than inserting each word in place). PostgreSQL makes the inserting transaction
 * do the move once the list outgrows the index's `gin_pending_list_limit`: at 1,000 messages a second that stalled a
 * message commit for about 100 ms every 10 s, and every message waiting behind it (docs/performance.md). This upkeep
 * moves the list from a timer instead, about every second (a few tens of ms of background work, which blocks no
 * insert), and a migration raised the limit so that inserts leave the move to it unless it falls far behind. Every
 * search reads the whole pending list, so keeping it short keeps searches fast too.
 *
 * Every node runs it; an advisory lock makes the others skip a turn rather than wait for the one at work.
 */
export class SearchIndexUpkeep {
  private readonly periodic = new Periodic(() => this.turn());

  constructor(
    private readonly db: Db,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /**
   * Moves the index's pending list into the index now. Returns the number of pending-list pages it emptied, or
   * `null` when another node (or connection) was doing it.
   */
  async movePending(): Promise<number | null> {
    const stop = this.metrics.searchIndexUpkeep.startTimer();
    const result = await sql<{ pages: string | number | null }>`
      select case when pg_try_advisory_xact_lock(hashtext('parley:search:index-upkeep'))
                  then gin_clean_pending_list(${MESSAGE_SEARCH_INDEX}::regclass) end as pages`.execute(this.db);
    const pages = result.rows[0]?.pages;
    if (pages === null || pages === undefined) return null;
    stop();
    this.metrics.searchIndexPendingPages.inc(Number(pages));
    return Number(pages);
  }

  /** Runs `movePending` every `intervalMs` (one at a time); 0 leaves it to the caller. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a move under way. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async turn(): Promise<void> {
    try {
      const pages = await this.movePending();
      if (pages) this.log.debug({ pages }, 'moved the search index pending list');
    } catch (error) {
      if (isInsufficientPrivilege(error)) {
        // Not the index's owner (the nodes connect as another role than the one that migrated): inserts do the
        // move as PostgreSQL does by default. Said once, not every second.
        this.log.warn({ err: error }, 'search index upkeep needs to own the index; leaving the pending list to PostgreSQL');
        this.periodic.cancel();
        return;
      }
      this.log.error({ err: error }, 'search index upkeep failed');
    }
  }
}
