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
 * Full-text search over the account's transcripts (PostgreSQL text search on an expression GIN index, see
 * `message-text.ts`). It reads the conversations module's events and conversations and routing's
 * `conversation_routing` (skill and agent filters) read-only: search is a reader across modules, it writes nothing.
 *
 * Who finds what: managers, admins and API keys with `conversations:read` search the whole account, internal notes
 * included. Agents find only what they may open (the conversations module's read rule): the conversations they hold
 * or held last, and the open, unassigned queue; internal notes of those too, as in the workspace.
 */
export class MessageSearchService {
  constructor(private readonly db: Db) {}

  async search(principal: Principal, query: SearchMessagesQuery): Promise<MessageSearchResult> {
    if (principal.kind === 'consumer') throw new AppError('FORBIDDEN', 'Consumers cannot search transcripts');
    if (principal.kind === 'user' && principal.role === 'bot') throw new AppError('FORBIDDEN', 'Bots cannot search transcripts');
    const accountId = principal.accountId;
    const tsquery = sql`websearch_to_tsquery(${sql.raw(`'${SEARCH_CONFIG}'::regconfig`)}, ${query.q})`;
    const lexemes = await sql<{ nodes: number }>`select numnode(${tsquery}) as nodes`.execute(this.db);
    if (Number(lexemes.rows[0]?.nodes ?? 0) === 0) {
      throw new AppError('VALIDATION_FAILED', 'The query has no words to search for', { issues: [{ path: 'q', message: 'The query has no words to search for', code: 'invalid_query' }] });
    }

    const filters: RawBuilder<unknown>[] = [sql`e.account_id = ${accountId}`, sql`c.account_id = ${accountId}`];
    if (query.from) filters.push(sql`e.created_at >= ${query.from}::timestamptz`);
    if (query.to) filters.push(sql`e.created_at < ${query.to}::timestamptz`);
    if (query.channel) filters.push(sql`c.channel = ${query.channel}`);
    if (query.device) filters.push(sql`c.device = ${query.device}`);
    if (query.skillId) filters.push(sql`r.skill_id = ${query.skillId}`);
    if (query.agentId) filters.push(sql`coalesce(r.agent_id, c.assigned_agent_id) = ${query.agentId}`);
    if (principal.kind === 'user' && !isSupervisor(principal)) {
      filters.push(sql`(c.assigned_agent_id = ${principal.userId} or (c.assigned_agent_id is null and c.state = 'open'))`);
    }
    if (query.cursor) {
      const cursor = decodeSearchCursor(query.cursor);
      if (!cursor) throw new AppError('VALIDATION_FAILED', 'Bad cursor', { issues: [{ path: 'cursor', message: 'Bad cursor', code: 'invalid_cursor' }] });
      filters.push(sql`(e.created_at, e.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`);
    }

    const vector = sql.raw(messageVectorSql('e.payload'));
    const text = sql.raw(messageTextSql('m.payload'));
    // The inner query finds and orders the page through the index; the headline (the costly part) is made for that page only.
    const rows = await sql<HitRow>`
      select m.*, ts_headline(${sql.raw(`'${SEARCH_CONFIG}'::regconfig`)}, translate(${text}, ${`${SNIPPET_START}${SNIPPET_STOP}`}, ''), ${tsquery}, ${HEADLINE_OPTIONS}) as snippet
      from (
        select e.id, e.conversation_id, e.seq, e.originator_role, e.originator_name, e.audience, e.created_at, e.payload,
               to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at,
               c.channel, c.device, c.state
        from conversation_events e
        join conversations c on c.id = e.conversation_id
        left join conversation_routing r on r.conversation_id = e.conversation_id
        where e.type in ('content', 'rich_content')
          and ${vector} @@ ${tsquery}
          and ${sql.join(filters, sql` and `)}
        order by e.created_at desc, e.id desc
        limit ${query.limit + 1}
      ) m
      order by m.created_at desc, m.id desc`.execute(this.db);

    const page = rows.rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toHit),
      nextCursor: rows.rows.length > query.limit && last ? encodeSearchCursor({ at: last.cursor_at, id: last.id }) : null,
    };
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
