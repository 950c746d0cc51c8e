/**
 * The searchable text of a stored event, as one SQL expression: the message of a text event, the caption of a file,
 * the fallback text of structured content. The GIN index of the migration and the search query must use exactly this
 * expression (PostgreSQL uses an expression index only for an identical expression), so both take it from here.
 *
 * `simple` configuration: lower-cased words, no stemming and no stop words, so it works the same for every language
 * and a word matches only itself.
 */
export const SEARCH_CONFIG = 'simple';

export function messageTextSql(payloadColumn: string): string {
  return `coalesce(${payloadColumn} -> 'content' ->> 'message', ${payloadColumn} -> 'content' -> 'file' ->> 'caption', ${payloadColumn} ->> 'fallbackText', '')`;
}

export function messageVectorSql(payloadColumn: string): string {
  return `to_tsvector('${SEARCH_CONFIG}'::regconfig, ${messageTextSql(payloadColumn)})`;
}

/** The GIN index over `messageVectorSql` (search-index-upkeep.ts keeps its pending list short). */
export const MESSAGE_SEARCH_INDEX = 'conversation_events_message_search';

/** The event types that carry text. The index is partial on them; queries repeat the predicate so it applies. */
export const SEARCHABLE_TYPES_SQL = `type in ('content', 'rich_content')`;
