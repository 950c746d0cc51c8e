import { type Kysely, type Migration, sql } from 'kysely';
import { messageVectorSql, SEARCHABLE_TYPES_SQL } from './message-text.ts';

/**
 * Transcript search owns no table: it reads the conversations module's events. Its migration adds the
 * expression GIN index that makes the search fast (partial on the events that carry text) and an index by account and time. Plain PostgreSQL 15 (no extension).
 */
export const searchMigrations: Record<string, Migration> = {
  '2026_12_10_0010_message_search_index': {
    async up(db: Kysely<unknown>) {
      // Events by account and time: the search's period filter and newest-first order, and the live view's messages per minute.
      await sql`create index conversation_events_account_time on conversation_events (account_id, created_at)`.execute(db);
      await sql.raw(`create index conversation_events_message_search on conversation_events using gin (${messageVectorSql('payload')}) where ${SEARCHABLE_TYPES_SQL}`).execute(db);
    },
  },
  '2026_12_15_0010_message_search_pending_list': {
    async up(db: Kysely<unknown>) {
      // New events' words wait in the index's pending list until they are moved in bulk. search-index-upkeep.ts moves
      // them every second; a limit of 16 MB (4 MB by default) leaves that move to it rather than to a message commit,
      // which otherwise paid for it every few seconds under load with a stall of about 100 ms.
      await sql`alter index conversation_events_message_search set (gin_pending_list_limit = 16384)`.execute(db);
    },
  },
  '2026_12_16_0010_message_search_statistics': {
    async up(db: Kysely<unknown>) {
      // ANALYZE of an expression index evaluates its expression over every sampled row (30,000): to_tsvector over them
      // was most of analysing the events (on PostgreSQL 15, 45,000 messages: 330 ms, 95 without it; embedded mode's
      // vacuum held its one session ~630 ms for it). The search does not need the words' statistics: it chooses its
      // strategy itself (newest events, then a bounded probe of this index, message-search.service.ts).
      await sql`alter index conversation_events_message_search alter column 1 set statistics 0`.execute(db);
    },
  },
};
