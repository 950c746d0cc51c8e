import type { Channel, ConversationState, DeviceType, MessageSearchHit, MessageSearchResult, SearchMessagesQuery } from '@parley/protocol';
import { type RawBuilder, sql } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import { isSupervisor, type Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { messageTextSql, messageVectorSql, SEARCH_CONFIG } from './message-text.ts';
import { decodeSearchCursor, encodeSearchCursor, markSnippet, SNIPPET_START, SNIPPET_STOP } from './snippet.ts';

interface HitRow {
  id: string;
  conversation_id: string;
  seq: string | number;
  originator_role: string;
  originator_name: string | null;
  audience: string;
  created_at: Date;
  cursor_at: string;
  channel: Channel;
  device: DeviceType;
  state: ConversationState;
  snippet: string;
}

// One window of 12 to 30 words around the best match (the whole text when shorter), cut at no short word.
const HEADLINE_OPTIONS = `StartSel=${SNIPPET_START}, StopSel=${SNIPPET_STOP}, MaxWords=30, MinWords=12, ShortWord=0`;

/**
 * How a page is found (each step only when the one before did not answer; figures in docs/performance.md):
 * 1. the newest `recentEvents` events of the account (and period): a common word fills its page there, in a few ms;
 * 2. the GIN index's matches, at most `rareMatches` + 1: none ends the search; at most `rareMatches` are the only
 *    candidates, fetched by id and sorted (about 20 ms at the bound on a 600,000-event account);
 * 3. more: newest first over the account's events, which meets a match every few hundred events.
 * Newest first alone tests every event of the account for a term that matches nothing (3 s on 600,000 events); the
 * index alone fetches and sorts every match of a common word.
 */
const RECENT_EVENTS = 500;
const RARE_MATCHES = 2_000;

export interface MessageSearchOptions {
  /** Tests lower them to exercise every step on a small transcript. */
  recentEvents?: number;
  rareMatches?: number;
}

/**
 * Full-text search over the account's transcripts (PostgreSQL text search on an expression GIN index, see
 * `message-text.ts`). It reads the conversations module's events and conversations and routing's
 * `conversation_routing` (skill and agent filters) read-only: search is a reader across modules, it writes nothing.
 *
 * Who finds what: managers, admins and API keys with `conversations:read` search the whole account, internal notes
 * included. Agents find only what they may open (the conversations module's read rule): the conversations they hold
 * or held last, and the open, unassigned queue; internal notes of those too, as in the workspace.
 */
export class MessageSearchService {
  private readonly recentEvents: number;
  private readonly rareMatches: number;

  constructor(
    private readonly db: Db,
    options: MessageSearchOptions = {},
  ) {
    this.recentEvents = options.recentEvents ?? RECENT_EVENTS;
    this.rareMatches = options.rareMatches ?? RARE_MATCHES;
  }

  async search(principal: Principal, query: SearchMessagesQuery): Promise<MessageSearchResult> {
    if (principal.kind === 'consumer') throw new AppError('FORBIDDEN', 'Consumers cannot search transcripts');
    if (principal.kind === 'user' && principal.role === 'bot') throw new AppError('FORBIDDEN', 'Bots cannot search transcripts');
    const accountId = principal.accountId;
    const tsquery = sql`websearch_to_tsquery(${sql.raw(`'${SEARCH_CONFIG}'::regconfig`)}, ${query.q})`;
    const lexemes = await sql<{ nodes: number }>`select numnode(${tsquery}) as nodes`.execute(this.db);
    if (Number(lexemes.rows[0]?.nodes ?? 0) === 0) {
      throw new AppError('VALIDATION_FAILED', 'The query has no words to search for', { issues: [{ path: 'q', message: 'The query has no words to search for', code: 'invalid_query' }] });
    }

    // Filters on the event itself (they narrow the index's matches before anything is joined), then on its conversation.
    const eventFilters: RawBuilder<unknown>[] = [sql`e.account_id = ${accountId}`, sql`e.type in ('content', 'rich_content')`];
    if (query.from) eventFilters.push(sql`e.created_at >= ${query.from}::timestamptz`);
    if (query.to) eventFilters.push(sql`e.created_at < ${query.to}::timestamptz`);
    if (query.cursor) {
      const cursor = decodeSearchCursor(query.cursor);
      if (!cursor) throw new AppError('VALIDATION_FAILED', 'Bad cursor', { issues: [{ path: 'cursor', message: 'Bad cursor', code: 'invalid_cursor' }] });
      eventFilters.push(sql`(e.created_at, e.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`);
    }
    const filters: RawBuilder<unknown>[] = [sql`c.account_id = ${accountId}`];
    if (query.channel) filters.push(sql`c.channel = ${query.channel}`);
    if (query.device) filters.push(sql`c.device = ${query.device}`);
    if (query.skillId) filters.push(sql`r.skill_id = ${query.skillId}`);
    if (query.agentId) filters.push(sql`coalesce(r.agent_id, c.assigned_agent_id) = ${query.agentId}`);
    if (principal.kind === 'user' && !isSupervisor(principal)) {
      filters.push(sql`(c.assigned_agent_id = ${principal.userId} or (c.assigned_agent_id is null and c.state = 'open'))`);
    }
    const vector = sql.raw(messageVectorSql('e.payload'));
    const onEvent = sql.join(eventFilters, sql` and `);
    const matches = sql`${vector} @@ ${tsquery}`;
    const pageOf = (candidates: RawBuilder<unknown>) => this.page(candidates, sql`${matches} and ${sql.join(filters, sql` and `)}`, tsquery, query.limit + 1);

    // 1. The newest events.
    let rows = await pageOf(sql`(select e.* from conversation_events e where ${onEvent} order by e.created_at desc, e.id desc limit ${this.recentEvents})`);
    if (rows.length <= query.limit) {
      // 2. The index's matches, unordered (a bitmap scan of the GIN index that stops fetching rows at the bound).
      const probe = await sql<{ id: string }>`select e.id from conversation_events e where ${matches} and ${onEvent} limit ${this.rareMatches + 1}`.execute(this.db);
      if (probe.rows.length === 0) rows = [];
      else if (probe.rows.length <= this.rareMatches) {
        // Materialised with an exact row count, so the planner sorts these few rather than walking the account.
        rows = await pageOf(sql`materialized (select e.* from conversation_events e where e.id = any(${probe.rows.map((r) => r.id)}::uuid[]) and ${onEvent})`);
      } else {
        // 3. Newest first over the account.
        rows = await pageOf(sql`(select e.* from conversation_events e where ${onEvent})`);
      }
    }

    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toHit),
      nextCursor: rows.length > query.limit && last ? encodeSearchCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }

  /**
   * The newest `limit` candidates that match and pass the filters, with their conversation; the headline (the costly
   * part) is made for those only. `candidates` is the body of a CTE over `conversation_events` (`materialized (...)` or
   * `(...)`).
   */
  private async page(candidates: RawBuilder<unknown>, where: RawBuilder<unknown>, tsquery: RawBuilder<unknown>, limit: number): Promise<HitRow[]> {
    const text = sql.raw(messageTextSql('m.payload'));
    const result = await sql<HitRow>`
      with candidates as ${candidates}
      select m.*, ts_headline(${sql.raw(`'${SEARCH_CONFIG}'::regconfig`)}, translate(${text}, ${`${SNIPPET_START}${SNIPPET_STOP}`}, ''), ${tsquery}, ${HEADLINE_OPTIONS}) as snippet
      from (
        select e.id, e.conversation_id, e.seq, e.originator_role, e.originator_name, e.audience, e.created_at, e.payload,
               to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at,
               c.channel, c.device, c.state
        from candidates e
        join conversations c on c.id = e.conversation_id
        left join conversation_routing r on r.conversation_id = e.conversation_id
        where ${where}
        order by e.created_at desc, e.id desc
        limit ${limit}
      ) m
      order by m.created_at desc, m.id desc`.execute(this.db);
    return result.rows;
  }
}

function toHit(row: HitRow): MessageSearchHit {
  return {
    conversationId: row.conversation_id,
    eventId: row.id,
    sequence: Number(row.seq),
    snippet: markSnippet(row.snippet),
    originator: { role: row.originator_role as MessageSearchHit['originator']['role'], name: row.originator_name },
    internal: row.audience === 'agents_and_managers',
    createdAt: row.created_at.toISOString(),
    conversation: { channel: row.channel, device: row.device, state: row.state },
  };
}
