import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import type {
  Channel,
  ChatState,
  ConversationRouting,
  ConversationEvent,
  ConversationSummary,
  DeviceType,
  EventPageSchema,
  ListConversationsQuerySchema,
  ListEventsQuerySchema,
  ParticipantRole,
  QuickReplies,
  ReceiptRequestSchema,
  SendAck,
  SendEventRequest,
  StartConversationRequestSchema,
} from '@parley/protocol';
import { type Selectable, sql, type Transaction } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import { isSupervisor, type Principal, principalId, requireUser } from '../../core/principal.ts';
import { topics, type EventBus } from '../../infra/bus/event-bus.ts';
import type { Db } from '../../infra/db/database.ts';
import { arrayParameter, batchRows } from '../../infra/db/batch-rows.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import { preparedStatement } from '../../infra/db/prepared.ts';
import type { Database } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { assertCanView, canView, principalName, seesInternalEvents, writerRole } from './access.ts';
import { newEventId } from './event-ids.ts';
import { payloadOf, toSummary, toWireEvent } from './event-mapping.ts';
import { type BatchReport, GroupCommit, type Settler } from './group-commit.ts';
import type { ConversationEventsTable, ConversationsTable, EventPayload } from './tables.ts';

type Trx = Transaction<Database>;
type ConversationRow = Selectable<ConversationsTable>;

/**
 * The group commit's row locks: the open conversations of a batch, by one index lookup each in the order of the sorted
 * ids (why, in `sendTogether`). $1: the ids.
 */
const SEND_LOCK = preparedStatement<ConversationRow>(
  'send.lock',
  `select c.* from unnest((select $1::uuid[])) as i (id)
  cross join lateral (select * from conversations where id = i.id and state = 'open' for update) c`,
);

/** A message of a group commit as the store takes it: each with its place k among its conversation's sends. */
interface EventRow {
  k: number;
  id: string;
  conversation_id: string;
  account_id: string;
  type: ConversationEvent['type'];
  originator_id: string;
  originator_role: ParticipantRole | 'system';
  originator_name: string | null;
  audience: 'all' | 'agents_and_managers';
  client_message_id: string | null;
  payload: EventPayload;
}

const EVENT_ROWS = batchRows<EventRow>('v', [
  ['k', 'int'],
  ['id', 'uuid'],
  ['conversation_id', 'uuid'],
  ['account_id', 'uuid'],
  ['type', 'text'],
  ['originator_id', 'uuid'],
  ['originator_role', 'text'],
  ['originator_name', 'text'],
  ['audience', 'text'],
  ['client_message_id', 'text'],
  ['payload', 'jsonb'],
]);
const NOW = `$${EVENT_ROWS.nextParameter}::timestamptz`;

/**
 * The group commit's store: every check, the sequences and the events of a batch in one statement (why, in
 * `sendTogether`). The events as a batch of rows (`EVENT_ROWS`), then the time.
 */
const SEND_STORE = preparedStatement<{ id: string; base: number }>(
  'send.store',
  `with v as (
    select * from ${EVENT_ROWS.sql}
  ), refused as (
    select v.conversation_id from v
      left join lateral (select true as present from conversation_participants p
        where p.conversation_id = v.conversation_id and p.participant_id = v.originator_id and p.left_at is null limit 1) p on true
      left join lateral (select true as resent from conversation_events e
        where e.conversation_id = v.conversation_id and e.originator_id = v.originator_id and e.client_message_id = v.client_message_id limit 1) e on true
    where p.present is null or e.resent
  ), counts as (
    select conversation_id, count(*)::int as n from v where conversation_id not in (select conversation_id from refused) group by conversation_id
  ), bumped as (
    update conversations c set last_seq = c.last_seq + counts.n, updated_at = ${NOW}
    from counts where c.id = counts.conversation_id and c.id = any(array(select conversation_id from counts))
    returning c.id, c.last_seq - counts.n as base
  ), stored as (
    insert into conversation_events (id, conversation_id, account_id, seq, type, originator_id, originator_role, originator_name, audience, client_message_id, payload, created_at)
    select v.id, v.conversation_id, v.account_id, b.base + v.k, v.type, v.originator_id, v.originator_role, v.originator_name, v.audience, v.client_message_id, v.payload, ${NOW}
    from v join bumped b on b.id = v.conversation_id
  )
  select id, base from bumped`,
);

/** A conversation of a routing pass joined by its new agent (`assignAgents`). */
interface JoinRow {
  conversation_id: string;
  agent_id: string;
  role: 'assigned_agent' | 'bot';
  name: string | null;
  event_id: string;
  payload: EventPayload;
}

const JOIN_ROWS = batchRows<JoinRow>('v', [
  ['conversation_id', 'uuid'],
  ['agent_id', 'uuid'],
  ['role', 'text'],
  ['name', 'text'],
  ['event_id', 'uuid'],
  ['payload', 'jsonb'],
]);
const JOIN_TIME = `$${JOIN_ROWS.nextParameter}::timestamptz`;

/**
 * A routing pass's assignments in one statement (`assignAgents`): each conversation with no agent, whose agent is not
 * in it yet, gets the agent as participant and as assigned agent, and the `joined` event at its next sequence. Returns
 * the conversations it assigned with that sequence; the others (a previous agent to leave first, an agent already in
 * to promote) are left to `assignAgent`. The caller holds the rows' locks.
 */
const ASSIGN_STORE = preparedStatement<{ id: string; seq: number }>(
  'assign.store',
  `with v as (
    select * from ${JOIN_ROWS.sql}
  ), fresh as (
    select v.* from v
    join conversations c on c.id = v.conversation_id and c.assigned_agent_id is null
    where not exists (select 1 from conversation_participants p
      where p.conversation_id = v.conversation_id and p.participant_id = v.agent_id and p.left_at is null)
  ), joined as (
    insert into conversation_participants (conversation_id, participant_id, role, name, left_at)
    select conversation_id, agent_id, role, name, null from fresh
  ), bumped as (
    update conversations c set assigned_agent_id = fresh.agent_id, last_seq = c.last_seq + 1, updated_at = ${JOIN_TIME}
    from fresh where c.id = fresh.conversation_id
    returning c.id, c.account_id, c.last_seq
  ), stored as (
    insert into conversation_events (id, conversation_id, account_id, seq, type, originator_id, originator_role, originator_name, audience, client_message_id, payload, created_at)
    select fresh.event_id, fresh.conversation_id, b.account_id, b.last_seq, 'participant', fresh.agent_id, fresh.role, fresh.name, 'all', null, fresh.payload, ${JOIN_TIME}
    from fresh join bumped b on b.id = fresh.conversation_id
  )
  select id, last_seq as seq from bumped`,
);

/** A send waiting for the group commit. */
interface PendingSend {
  principal: Principal;
  conversationId: string;
  request: SendEventRequest;
}

/** The most sends stored in one transaction (a bound on the statements' size; more wait for the next one). */
const MAX_SENDS_PER_COMMIT = 256;
/** A group commit that takes this long (ms) is logged with the time of each of its phases. */
const SLOW_BATCH_MS = 50;

/** Times the phases of a piece of work: each mark records the time since the previous one (ms). */
class PhaseClock {
  private readonly started = performance.now();
  private last = this.started;
  readonly phases: Record<string, number> = {};

  mark(phase: string): void {
    const now = performance.now();
    this.phases[phase] = Math.round((now - this.last) * 100) / 100;
    this.last = now;
  }

  get totalMs(): number {
    return this.last - this.started;
  }
}

interface NewEvent {
  type: ConversationEvent['type'];
  originatorId: string;
  originatorRole: ParticipantRole | 'system';
  originatorName: string | null;
  audience: 'all' | 'agents_and_managers';
  clientMessageId: string | null;
  payload: EventPayload;
}

/** The event a send asks to store, written by `senderId` in `role` (the principal's role in the conversation). */
function messageOf(principal: Principal, role: ParticipantRole, senderId: string, request: SendEventRequest, payload: EventPayload): NewEvent {
  return {
    type: request.event.type,
    originatorId: senderId,
    originatorRole: role,
    originatorName: principalName(principal),
    audience: request.audience,
    clientMessageId: request.clientMessageId,
    payload,
  };
}

/** The originator of messages Parley itself writes (queue notices, auto-close warnings). */
export const SYSTEM_ORIGINATOR_ID = '00000000-0000-0000-0000-000000000000';

/**
 * What routing does inside the conversation's own transactions, so a conversation can never exist, take a message
 * or close without routing knowing (the routing module implements it; this module does not depend on routing).
 */
export interface ConversationRoutingPort {
  /** A conversation started: routing records its entry point (skill). May throw a validation error. */
  opened(trx: Trx, conversation: ConversationRow, entry: { skillId?: string | undefined }): Promise<void>;
  /** A closed conversation opened again because its consumer came back within the reopen window. */
  reopened(trx: Trx, conversation: ConversationRow, previousAgentId: string | null): Promise<void>;
  /** Within the reopen window of this account: how long after a close a consumer reopens it (0: never). */
  reopenWindowSeconds(accountId: string): Promise<number>;
  /**
   * A content or rich-content event was stored. Resolves to true when it changed what a conversation list shows of
   * routing (the conversation entered the queue, or an answer ended a breach), so the service publishes a new summary
   * only then.
   */
  messageStored(trx: Trx, conversation: ConversationRow, role: ParticipantRole | 'system', audience: 'all' | 'agents_and_managers'): Promise<boolean>;
  /**
   * The same for messages stored together in one transaction (a group commit), possibly in several conversations, in
   * two steps: called just before the conversations' row locks with the conversations the messages may go to, routing's
   * read of their rows is held to go right after the locks, in their round trip (infra/db/prepared.ts,
   * `runAfterNext`); the function it resolves to records the messages once stored, in the order they were stored, and
   * resolves to the conversations whose routing, as the lists show it, changed.
   */
  startMessagesStored(trx: Trx, conversationIds: readonly string[]): Promise<(messages: readonly StoredMessage[]) => Promise<Set<string>>>;
  /**
   * Serialises with the routing decisions of the account: called first in a transaction that gives a conversation to an
   * agent outside routing (take), so its capacity check and a concurrent routing pass cannot both fill the last place.
   */
  lockAccount(trx: Trx, accountId: string): Promise<void>;
  /** An agent took the conversation from the queue. May refuse (capacity). */
  taken(trx: Trx, conversation: ConversationRow, agentId: string): Promise<void>;
  closed(trx: Trx, conversation: ConversationRow, reason: 'consumer' | 'agent' | 'system' | 'timeout'): Promise<void>;
  /** The routing part of summaries. */
  describe(db: Db | Trx, conversationIds: string[]): Promise<Map<string, ConversationRouting>>;
  /** After commit: something routing acts on happened in this account (a message queued, capacity freed). */
  changed(accountId: string): void;
}

/** A message stored in a transaction, as routing sees it. */
export interface StoredMessage {
  /** The conversation row as the transaction locked it. */
  conversation: ConversationRow;
  role: ParticipantRole | 'system';
  audience: 'all' | 'agents_and_managers';
}

/**
 * What happened to a conversation that its event stream alone does not say (a transfer and a return to the queue
 * both look like the agent leaving). Other modules (routing, bots) record it; sinks receive it in the same
 * transaction.
 */
export type ConversationActivity =
  | {
      type: 'transferred';
      /** Who transferred it: an agent, a bot, an API key or the system. */
      byId: string;
      fromAgentId: string | null;
      /** The skill it had before the transfer (transfers are attributed to the initiating skill and agent). */
      fromSkillId?: string | null;
      toSkillId: string | null;
      toAgentId: string | null;
      note: string | null;
      /** Set when a bot handed the conversation to humans. */
      escalation: { reason: 'bot_requested' | 'consumer_requested' | 'bot_timeout' | 'bot_error' } | null;
      /** How long `fromAgentId` held it, from their assignment (null when nobody held it). */
      heldMs?: number | null;
    }
  // Routing's facts for the analytics record (derived from the routing row the transaction already holds).
  /** A conversation started, with the skill routing gave it. */
  | { type: 'opened'; skillId: string | null }
  /**
   * A message visible to the consumer was stored (system messages and internal notes excluded). `queued`: this consumer
   * message put the conversation in the queue. `responseMs`: an answer to a waiting consumer, from the first of their
   * unanswered messages; `firstResponse`: the conversation's first such answer.
   */
  | { type: 'message'; role: 'consumer' | 'agent' | 'bot'; skillId: string | null; agentId: string | null; queued: boolean; responseMs: number | null; firstResponse: boolean }
  /** An agent or bot got the conversation; `waitMs` from entering the queue (null when it was not queued). */
  | { type: 'assigned'; agentId: string; isBot: boolean; skillId: string | null; waitMs: number | null }
  /** Closed; `handleMs` from the last holder's assignment (null when nobody held it). */
  | { type: 'closed'; reason: 'consumer' | 'agent' | 'system' | 'timeout'; skillId: string | null; agentId: string | null; handleMs: number | null }
  /**
   * The agent stopped holding it without a close or a transfer: they went offline (or lost their connection) and it
   * went back to the queue, or a manager gave it to someone else. `heldMs` from their assignment.
   */
  | { type: 'released'; reason: 'offline' | 'reassigned'; agentId: string; skillId: string | null; heldMs: number | null };

/**
 * Something that must happen in the same transaction as a conversation's events are stored: outbound webhook
 * deliveries, bot deliveries, the analytics record. A sink must be cheap when it has nothing to do (no statement for
 * an account without subscriptions), because it runs for every stored event.
 */
export interface ConversationEventSink {
  /**
   * Inside the storing transaction, once per conversation with its events in order; the conversation row is locked
   * (its assigned agent may be about to change). A group commit stores the messages of several conversations in one
   * transaction: then this is called for each of them.
   */
  eventsStored(trx: Trx, conversation: ConversationRow, events: readonly ConversationEvent[]): Promise<void>;
  /** Inside the transaction that recorded it. */
  activity?(trx: Trx, conversation: ConversationRow, activity: ConversationActivity): Promise<void>;
  /**
   * Several activities of one transaction, possibly of several conversations (a group commit stores the messages of
   * many conversations in one transaction), in order. Without it, `activity` is called for each.
   */
  activities?(trx: Trx, items: ReadonlyArray<{ conversation: ConversationRow; activity: ConversationActivity }>): Promise<void>;
  /**
   * After the transaction committed (to wake the workers that deliver what `eventsStored` enqueued). Called once per
   * transaction, also when it stored the events of several conversations.
   */
  committed?(): void;
}

export interface ConversationHooks {
  /** Called after commit for each stored event (metrics). */
  onEventStored?(event: ConversationEvent): void;
  onDuplicateSend?(): void;
  /** Called after each group commit of sends with its size and timings (metrics). */
  onSendBatch?(report: BatchReport): void;
}

/**
 * Conversations and their sequenced events. Every write runs in one transaction that locks the conversation row, so
 * sequence numbers are assigned one at a time per conversation, and a message is committed before it is acknowledged
 * and before it is published on the bus.
 */
export class ConversationService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly hooks: ConversationHooks = {},
    options: { minBatchIntervalMs?: number } = {},
  ) {
    this.groupCommit = new GroupCommit(
      (batch) => this.storeSends(batch),
      MAX_SENDS_PER_COMMIT,
      options.minBatchIntervalMs ?? 0,
      (report) => this.hooks.onSendBatch?.(report),
    );
  }

  private routing: ConversationRoutingPort | undefined;

  private readonly sinks: ConversationEventSink[] = [];

  /** Wired by the composition root: modules that act on every stored event, in the storing transaction. */
  addEventSink(sink: ConversationEventSink): void {
    this.sinks.push(sink);
  }

  /** Wired once by the composition root (routing depends on this service, so it is set after construction). */
  attachRouting(routing: ConversationRoutingPort): void {
    this.routing = routing;
  }

  // ---------- reading ----------

  async get(principal: Principal, conversationId: string): Promise<ConversationSummary> {
    const row = assertCanView(principal, await this.findRow(this.db, conversationId));
    return this.summarize(this.db, row);
  }

  async list(principal: Principal, query: z.infer<typeof ListConversationsQuerySchema>): Promise<{ items: ConversationSummary[]; nextCursor: string | null }> {
    let q = this.db.selectFrom('conversations').selectAll().where('account_id', '=', principal.accountId);
    if (principal.kind === 'consumer') {
      q = q.where('consumer_id', '=', principal.consumerId);
    } else if (principal.kind === 'user' && !(query.scope === 'all' && isSupervisor(principal))) {
      if (query.scope === 'all') throw new AppError('FORBIDDEN', 'Only managers and admins may list all conversations');
      q = query.scope === 'unassigned' && principal.role !== 'bot' ? q.where('assigned_agent_id', 'is', null).where('state', '=', 'open') : q.where('assigned_agent_id', '=', principal.userId);
    }
    if (query.state !== 'all') q = q.where('state', '=', query.state);
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor);
      q = q.where((eb) => eb.or([eb('created_at', '<', cursor.createdAt), eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '<', cursor.id)])]));
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const items = await this.summarizeMany(this.db, page);
    return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  async listEvents(principal: Principal, conversationId: string, query: z.infer<typeof ListEventsQuerySchema>): Promise<z.infer<typeof EventPageSchema>> {
    const conversation = assertCanView(principal, await this.findRow(this.db, conversationId));
    let q = this.db.selectFrom('conversation_events').selectAll().where('conversation_id', '=', conversation.id);
    if (!seesInternalEvents(principal)) q = q.where('audience', '=', 'all');
    const ascending = query.fromSeq !== undefined;
    if (query.fromSeq !== undefined) q = q.where('seq', '>=', query.fromSeq);
    if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
    const rows = await q
      .orderBy('seq', ascending ? 'asc' : 'desc')
      .limit(query.limit + 1)
      .execute();
    return {
      items: rows.slice(0, query.limit).map(toWireEvent),
      order: ascending ? 'asc' : 'desc',
      lastSequence: conversation.last_seq,
      hasMore: rows.length > query.limit,
    };
  }

  /**
   * For the realtime feed: every event (whatever its audience) from a sequence on, oldest first. The caller filters
   * by audience, so it can tell a hidden event from a gap.
   */
  async readEventsFrom(conversationId: string, fromSeq: number, limit: number, toSeq?: number): Promise<ConversationEvent[]> {
    let q = this.db.selectFrom('conversation_events').selectAll().where('conversation_id', '=', conversationId).where('seq', '>=', fromSeq);
    if (toSeq !== undefined) q = q.where('seq', '<=', toSeq);
    const rows = await q.orderBy('seq', 'asc').limit(limit).execute();
    return rows.map(toWireEvent);
  }

  /** Authorises a realtime subscription and returns what the feed needs. */
  async openFeed(principal: Principal, conversationId: string): Promise<{ accountId: string; lastSequence: number; seesInternal: boolean }> {
    const row = assertCanView(principal, await this.findRow(this.db, conversationId));
    return { accountId: row.account_id, lastSequence: row.last_seq, seesInternal: seesInternalEvents(principal) };
  }

  canSee(principal: Principal, conversation: ConversationSummary): boolean {
    return canView(principal, {
      account_id: conversation.accountId,
      consumer_id: conversation.consumerId,
      assigned_agent_id: conversation.assignedAgentId,
      state: conversation.state,
    } as ConversationRow);
  }

  // ---------- writing ----------

  /** A consumer continues their open conversation, or starts one. */
  async start(principal: Principal, input: z.infer<typeof StartConversationRequestSchema>): Promise<{ conversation: ConversationSummary; created: boolean }> {
    if (principal.kind !== 'consumer') throw new AppError('FORBIDDEN', 'Only consumers start conversations');
    const existing = await this.findOpen(principal.accountId, principal.consumerId);
    if (existing) return { conversation: await this.summarize(this.db, existing), created: false };
    const reopened = await this.reopenRecent(principal.accountId, principal.consumerId);
    if (reopened) return { conversation: reopened, created: false };
    if (input.lineOfBusinessId) {
      const lob = await this.db.selectFrom('lines_of_business').select('id').where('account_id', '=', principal.accountId).where('id', '=', input.lineOfBusinessId).executeTakeFirst();
      if (!lob) throw new AppError('VALIDATION_FAILED', 'Unknown line of business', { issues: [{ path: 'lineOfBusinessId', message: 'Unknown line of business', code: 'not_found' }] });
    }
    try {
      const { summary, events } = await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('conversations')
          .values({
            account_id: principal.accountId,
            consumer_id: principal.consumerId,
            state: 'open',
            channel: input.channel,
            device: input.device ?? deviceOfChannel(input.channel),
            // The service's clock, like every other time of a conversation (the database's own now() would differ
            // from it under a test clock, and break comparisons such as a conversion's attribution).
            created_at: this.clock.now(),
            line_of_business_id: input.lineOfBusinessId ?? null,
            assigned_agent_id: null,
            updated_at: this.clock.now(),
            closed_at: null,
            close_reason: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        const events = await this.join(trx, row, principal.consumerId, 'consumer', null);
        await this.routing?.opened(trx, row, { skillId: input.skillId });
        return { summary: await this.summarize(trx, await this.lockRow(trx, row.id)), events };
      });
      await this.publish(summary, events);
      return { conversation: summary, created: true };
    } catch (error) {
      // Two devices of one consumer started at once: the other one won, continue its conversation.
      if (!isUniqueViolation(error, 'conversations_one_open_per_consumer')) throw error;
      const winner = await this.findOpen(principal.accountId, principal.consumerId);
      if (!winner) throw error;
      return { conversation: await this.summarize(this.db, winner), created: false };
    }
  }

  /**
   * Stores a content or rich-content event, once per clientMessageId. Sends that arrive while others are being stored
   * are stored together, in one transaction (group commit); each still gets its own acknowledgement or error.
   */
  async send(principal: Principal, conversationId: string, request: SendEventRequest): Promise<SendAck> {
    if (request.audience === 'agents_and_managers' && principal.kind !== 'user') throw new AppError('FORBIDDEN', 'Only agents and managers write internal notes');
    return this.groupCommit.submit({ principal, conversationId, request });
  }

  private readonly groupCommit: GroupCommit<PendingSend, SendAck>;

  /**
   * A batch of sends, even of one: together, with the fixed statements of `sendTogether` (three round trips); what
   * that cannot store, it leaves to the one-by-one path below, which also takes every send of a batch whose
   * transaction failed.
   */
  private async storeSends(batch: Array<Settler<PendingSend, SendAck>>): Promise<void> {
    try {
      await this.sendTogether(batch);
    } catch (error) {
      // Nothing of it was committed (a deadlock with a routing pass, a lost connection): each send on its own.
      this.logger.warn({ err: error, sends: batch.length }, 'storing sends together failed; storing them one by one');
    }
    for (const s of batch) {
      if (s.settled) continue;
      try {
        s.succeed(await this.sendOne(s.item.principal, s.item.conversationId, s.item.request));
      } catch (error) {
        s.fail(error);
      }
    }
  }

  /**
   * Stores several sends, of any conversations, in one transaction with set-based statements: the conversations
   * locked in id order, then one statement for every duplicate and participant check, the sequences and the insert of
   * every event, then routing's rows and the sinks' records together. Settles the sends it stored (after the commit) and
   * those refused (not allowed to write there); leaves unsettled, for the one-by-one path, every send of a conversation
   * where one of them needs more than a message (a participant joining first, a resent clientMessageId, a file, a closed
   * conversation), so the messages of a conversation keep their order. A consumer's first message, which queues its
   * conversation, is stored here too: a campaign's burst of new conversations goes in a few commits, not one by one.
   */
  private async sendTogether(batch: Array<Settler<PendingSend, SendAck>>): Promise<void> {
    const ids = [...new Set(batch.map((s) => s.item.conversationId))].sort();
    const refused: Array<[Settler<PendingSend, SendAck>, unknown]> = [];
    const timing = new PhaseClock();
    const result = await this.db.transaction().execute(async (trx) => {
      timing.mark('begin');
      // Only open conversations are locked here, in id order: so do other batches and a routing pass (`lockManyForUpdate`),
      // so none of them can deadlock with another; the one-by-one path serves the closed ones.
      // A fixed text with its list as an array in a sub-select, prepared once per connection with a generic plan
      // (infra/db/prepared.ts, batch-rows.ts), as is the store below. Each row is locked by its own lookup (a lateral
      // index scan, in the order of the sorted ids): `id = any(...)` gets a bitmap scan in the generic plan, which
      // cannot mark the index entries of dead row versions as dead, so under a steady stream of updates every batch
      // walked them all again (1,953 buffers a call, ADR 16).
      // Routing's read of these conversations' rows goes right after the locks, in their round trip.
      const recordRouting = this.routing ? await this.routing.startMessagesStored(trx, ids) : undefined;
      const { rows: locked } = await SEND_LOCK.run(trx, [arrayParameter(ids)]);
      timing.mark('lock');
      const rows = new Map(locked.map((row) => [row.id, row] as const));
      const leftOut = new Set<string>();
      const seen = new Set<string>();
      const accepted: Array<{ settler: Settler<PendingSend, SendAck>; conversation: ConversationRow; message: NewEvent }> = [];
      for (const settler of batch) {
        const { principal, conversationId, request } = settler.item;
        try {
          const row = rows.get(conversationId);
          if (!row) {
            leftOut.add(conversationId);
            continue;
          }
          const conversation = assertCanView(principal, row.account_id === principal.accountId ? row : undefined);
          const senderId = principalId(principal);
          const key = `${conversationId}:${senderId}:${request.clientMessageId}`;
          const isFile = request.event.type === 'content' && request.event.content.contentType !== 'text/plain';
          if (isFile || seen.has(key)) {
            leftOut.add(conversationId);
            continue;
          }
          seen.add(key);
          const payload: EventPayload = request.event.type === 'rich_content' ? payloadOf(request.event) : { content: request.event.content };
          accepted.push({ settler, conversation, message: messageOf(principal, writerRole(principal, conversation), senderId, request, payload) });
        } catch (error) {
          refused.push([settler, error]);
        }
      }
      // Every send of a conversation where one was left out goes to the one-by-one path, so its messages keep their order.
      const storing = accepted.filter((a) => !leftOut.has(a.conversation.id));
      if (storing.length === 0) return { stored: [], summaries: new Map<string, ConversationSummary>() };
      // One statement checks every send (its sender still a participant, its clientMessageId not used before), moves
      // the sequences of the conversations where every send passed, and inserts their events; the rows go as one array
      // per column. Each send's place among its conversation's sends (k) makes its sequence: the statement returns each
      // stored conversation's sequence before the batch. The events' ids are made here, so nothing comes back to parse.
      // The statement is planned once for any batch (a generic plan that assumes 10 rows): the checks are lateral
      // lookups and the update names its rows by id, so that plan probes indexes instead of hashing whole tables.
      const now = this.clock.now();
      const place = new Map<string, number>();
      const eventRows = storing.map((a): EventRow => {
        const k = (place.get(a.conversation.id) ?? 0) + 1;
        place.set(a.conversation.id, k);
        return {
          k,
          id: newEventId(),
          conversation_id: a.conversation.id,
          account_id: a.conversation.account_id,
          type: a.message.type,
          originator_id: a.message.originatorId,
          originator_role: a.message.originatorRole,
          originator_name: a.message.originatorName,
          audience: a.message.audience,
          client_message_id: a.message.clientMessageId,
          payload: a.message.payload,
        };
      });
      const { rows: bumped } = await SEND_STORE.run(trx, [...EVENT_ROWS.parameters(eventRows), now]);
      timing.mark('store');
      if (bumped.length === 0) return { stored: [], summaries: new Map<string, ConversationSummary>() };
      const bases = new Map(bumped.map((b) => [b.id, b.base] as const));
      const stored = storing.flatMap((a, i) => {
        const base = bases.get(a.conversation.id);
        const row = eventRows[i];
        if (base === undefined || !row) return [];
        // Literals, not spreads (`{ ...a, event }`): see toWireEvent.
        const event = toWireEvent({
          id: row.id,
          conversation_id: row.conversation_id,
          account_id: row.account_id,
          seq: base + row.k,
          type: row.type,
          originator_id: row.originator_id,
          originator_role: row.originator_role,
          originator_name: row.originator_name,
          audience: row.audience,
          client_message_id: row.client_message_id,
          payload: row.payload,
          created_at: now,
        });
        return [{ settler: a.settler, conversation: a.conversation, message: a.message, event }];
      });
      // The sinks, one call per conversation with its events in order (as when they are stored one by one).
      const byConversation = new Map<string, { conversation: ConversationRow; events: ConversationEvent[] }>();
      for (const s of stored) {
        const entry = byConversation.get(s.conversation.id) ?? { conversation: s.conversation, events: [] };
        entry.events.push(s.event);
        byConversation.set(s.conversation.id, entry);
      }
      for (const { conversation, events } of byConversation.values()) for (const sink of this.sinks) await sink.eventsStored(trx, conversation, events);
      timing.mark('sinks');
      const changed = recordRouting ? await recordRouting(stored.map((s) => ({ conversation: s.conversation, role: s.message.originatorRole, audience: s.message.audience }))) : new Set<string>();
      const summaries = new Map<string, ConversationSummary>();
      if (changed.size > 0) {
        const fresh = await trx
          .selectFrom('conversations')
          .selectAll()
          .where('id', 'in', [...changed])
          .execute();
        for (const summary of await this.summarizeMany(trx, fresh)) summaries.set(summary.id, summary);
      }
      timing.mark('routing');
      return { stored, summaries };
    });
    timing.mark('commit');
    for (const [settler, error] of refused) settler.fail(error);
    if (result.stored.length === 0) return;
    const published = new Map<string, { accountId: string; events: ConversationEvent[] }>();
    for (const s of result.stored) {
      const entry = published.get(s.conversation.id) ?? { accountId: s.conversation.account_id, events: [] };
      entry.events.push(s.event);
      published.set(s.conversation.id, entry);
    }
    await Promise.all([...published].map(([conversationId, { accountId, events }]) => this.publish(result.summaries.get(conversationId) ?? null, events, { sinksTold: true, accountId })));
    // Routing looks again, once per account, where a message may have queued its conversation.
    const routingMayChange = new Set(result.stored.filter((s) => mayChangeRouting(s.message.originatorRole, s.conversation)).map((s) => s.conversation.account_id));
    for (const accountId of routingMayChange) this.routing?.changed(accountId);
    timing.mark('publish');
    if (timing.totalMs >= SLOW_BATCH_MS) {
      // Where a slow batch spent its time (ms): a statement, the commit's WAL flush, or waiting for the CPU between them.
      this.logger.warn({ sends: batch.length, stored: result.stored.length, conversations: ids.length, phasesMs: timing.phases }, 'slow group commit');
    }
    for (const sink of this.sinks) sink.committed?.();
    for (const s of result.stored) {
      s.settler.succeed({ eventId: s.event.id, conversationId: s.conversation.id, sequence: s.event.sequence, duplicate: false, createdAt: s.event.createdAt });
    }
  }

  /** Stores one send in its own transaction (and what a group commit leaves to it). */
  private async sendOne(principal: Principal, conversationId: string, request: SendEventRequest): Promise<SendAck> {
    const senderId = principalId(principal);
    const result = await this.db.transaction().execute(async (trx) => {
      const conversation = assertCanView(principal, await this.lockRow(trx, conversationId, principal.accountId));
      const payload = await this.buildPayload(trx, conversation, request);
      const duplicateOf = (previous: Selectable<ConversationEventsTable>) => {
        if (previous.type !== request.event.type || previous.audience !== request.audience || !isDeepStrictEqual(normalise(previous.payload), normalise(payload))) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', `clientMessageId "${request.clientMessageId}" was already used for a different message`, { sequence: previous.seq });
        }
        return {
          ack: { eventId: previous.id, conversationId: conversation.id, sequence: previous.seq, duplicate: true, createdAt: previous.created_at.toISOString() },
          events: [],
          summary: null,
          routingMayChange: false,
        };
      };
      if (conversation.state !== 'open') {
        // A resend of a message stored before the close still gets its acknowledgement.
        const previous = await this.findPrevious(trx, conversation.id, senderId, request.clientMessageId);
        if (previous) return duplicateOf(previous);
        throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed; start a new one');
      }
      const role = writerRole(principal, conversation);
      const message = messageOf(principal, role, senderId, request, payload);
      const events: ConversationEvent[] = [];
      let outcome = await this.insertMessage(trx, conversation, message);
      if (outcome.kind === 'not_participant') {
        // The sender's first message here: they join first (an event of its own), then the message is stored.
        events.push(...(await this.join(trx, conversation, senderId, role, principalName(principal))));
        outcome = await this.insertMessage(trx, conversation, message);
      }
      if (outcome.kind === 'duplicate') return duplicateOf(outcome.previous);
      if (outcome.kind !== 'stored') throw new Error('the sender joined but the message was not stored');
      const stored = toWireEvent(outcome.row);
      for (const sink of this.sinks) await sink.eventsStored(trx, conversation, [stored]);
      events.push(stored);
      const routingListChanged = (await this.routing?.messageStored(trx, conversation, role, request.audience)) ?? false;
      // The conversation lists change only when someone joined or routing moved it (queued); a message alone is not
      // news to a list (its subscribers get the event itself), so no summary is built or published for it.
      const summary = events.length > 1 || routingListChanged ? await this.summarize(trx, await this.lockRow(trx, conversation.id)) : null;
      const routingMayChange = mayChangeRouting(role, conversation);
      return { ack: { eventId: stored.id, conversationId: conversation.id, sequence: stored.sequence, duplicate: false, createdAt: stored.createdAt }, events, summary, routingMayChange };
    });
    if (result.ack.duplicate) this.hooks.onDuplicateSend?.();
    await this.publish(result.summary, result.events);
    if (result.routingMayChange) this.routing?.changed(principal.accountId);
    return result.ack;
  }

  /** Accept (delivered) or read receipts over a list of sequences; a sequenced event itself. */
  async receipt(principal: Principal, conversationId: string, input: z.infer<typeof ReceiptRequestSchema>): Promise<SendAck> {
    const senderId = principalId(principal);
    const { event } = await this.db.transaction().execute(async (trx) => {
      const conversation = assertCanView(principal, await this.lockRow(trx, conversationId, principal.accountId));
      const beyond = input.sequences.filter((s) => s > conversation.last_seq);
      if (beyond.length > 0) {
        throw new AppError('VALIDATION_FAILED', `Sequences beyond the conversation's last (${conversation.last_seq}): ${beyond.join(', ')}`, {
          issues: [{ path: 'sequences', message: 'Unknown sequence', code: 'too_big' }],
        });
      }
      const role: ParticipantRole =
        principal.kind === 'consumer'
          ? 'consumer'
          : principal.kind === 'api_key'
            ? 'integration'
            : conversation.assigned_agent_id === senderId
              ? principal.role === 'bot'
                ? 'bot'
                : 'assigned_agent'
              : isSupervisor(principal)
                ? 'manager'
                : 'agent';
      const [stored] = await this.append(trx, conversation, [
        {
          type: 'accept_status',
          originatorId: senderId,
          originatorRole: role,
          originatorName: principalName(principal),
          audience: 'all',
          clientMessageId: null,
          payload: { status: input.status, sequences: [...new Set(input.sequences)].sort((a, b) => a - b) },
        },
      ]);
      if (!stored) throw new Error('append returned no event');
      return { event: stored };
    });
    await this.publish(null, [event]);
    return { eventId: event.id, conversationId, sequence: event.sequence, duplicate: false, createdAt: event.createdAt };
  }

  /** Typing and presence in the conversation: relayed to the others, never stored. */
  async chatState(principal: Principal, conversationId: string, chatState: ChatState): Promise<void> {
    const conversation = assertCanView(principal, await this.findRow(this.db, conversationId));
    const role = principal.kind === 'consumer' ? 'consumer' : principal.kind === 'api_key' ? 'integration' : principal.role === 'bot' ? 'bot' : 'agent';
    await this.bus.publish(topics.conversation(conversation.id), {
      kind: 'chat_state',
      accountId: conversation.account_id,
      conversationId: conversation.id,
      participantId: principalId(principal),
      role,
      chatState,
    });
  }

  /** An agent takes an unassigned open conversation. Atomic: of two agents taking at once, exactly one wins. */
  async take(principal: Principal, conversationId: string): Promise<ConversationSummary> {
    const user = requireUser(principal);
    const { summary, events } = await this.db.transaction().execute(async (trx) => {
      await this.routing?.lockAccount(trx, user.accountId);
      const taken = await trx
        .updateTable('conversations')
        .set({ assigned_agent_id: user.userId, updated_at: this.clock.now() })
        .where('id', '=', conversationId)
        .where('account_id', '=', user.accountId)
        .where('state', '=', 'open')
        .where('assigned_agent_id', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!taken) {
        const current = await this.findRow(trx, conversationId);
        if (!current || current.account_id !== user.accountId) throw new AppError('NOT_FOUND', 'Conversation not found');
        if (current.state !== 'open') throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed');
        if (current.assigned_agent_id === user.userId) return { summary: await this.summarize(trx, current), events: [] };
        throw new AppError('ALREADY_ASSIGNED', 'Another agent already holds this conversation');
      }
      await this.routing?.taken(trx, taken, user.userId);
      const events = await this.ensureAssignedParticipant(trx, taken, user.userId, user.name);
      return { summary: await this.summarize(trx, await this.lockRow(trx, taken.id)), events };
    });
    await this.publish(summary, events);
    this.routing?.changed(user.accountId);
    return summary;
  }

  async close(principal: Principal, conversationId: string): Promise<ConversationSummary> {
    const { summary, events } = await this.db.transaction().execute(async (trx) => {
      const conversation = assertCanView(principal, await this.lockRow(trx, conversationId, principal.accountId));
      if (conversation.state === 'closed') return { summary: await this.summarize(trx, conversation), events: [] };
      const role = writerRole(principal, conversation);
      const reason = principal.kind === 'consumer' ? 'consumer' : principal.kind === 'api_key' ? 'system' : 'agent';
      const now = this.clock.now();
      const events = await this.append(trx, conversation, [
        {
          type: 'conversation_state',
          originatorId: principalId(principal),
          originatorRole: role,
          originatorName: principalName(principal),
          audience: 'all',
          clientMessageId: null,
          payload: { state: 'closed', reason },
        },
      ]);
      await trx.updateTable('conversations').set({ state: 'closed', closed_at: now, close_reason: reason, updated_at: now }).where('id', '=', conversation.id).execute();
      await this.routing?.closed(trx, conversation, reason);
      return { summary: await this.summarize(trx, await this.lockRow(trx, conversation.id)), events };
    });
    await this.publish(summary, events);
    this.routing?.changed(summary.accountId);
    return summary;
  }

  /**
   * The consumer went on writing from another channel (the web, then SMS): the conversation is the same object, now
   * carried by that channel, so replies reach them where they are. The agents are told in an internal note.
   */
  async continueOn(conversationId: string, channel: Channel, note: string): Promise<void> {
    const result = await this.db.transaction().execute(async (trx) => {
      const row = await this.lockRow(trx, conversationId);
      if (row.channel === channel) return null;
      await trx.updateTable('conversations').set({ channel, updated_at: this.clock.now() }).where('id', '=', row.id).execute();
      const events = await this.appendSystemMessage(trx, { ...row, channel }, note, 'agents_and_managers');
      return { events, summary: await this.summarize(trx, await this.lockRow(trx, row.id)) };
    });
    if (result) await this.publish(result.summary, result.events);
  }

  // ---------- for routing: operations inside a transaction the caller holds ----------

  /** Tells the sinks what happened to the (locked) conversation, in the caller's transaction. */
  async recordActivity(trx: Trx, conversation: ConversationRow, activity: ConversationActivity): Promise<void> {
    for (const sink of this.sinks) await sink.activity?.(trx, conversation, activity);
  }

  /** The same for several activities of the caller's transaction, possibly of several conversations, in order. */
  async recordActivities(trx: Trx, items: ReadonlyArray<{ conversation: ConversationRow; activity: ConversationActivity }>): Promise<void> {
    if (items.length === 0) return;
    for (const sink of this.sinks) {
      if (sink.activities) await sink.activities(trx, items);
      else if (sink.activity) for (const { conversation, activity } of items) await sink.activity(trx, conversation, activity);
    }
  }

  /** Locks the conversation row for the rest of the caller's transaction. */
  lockForUpdate(trx: Trx, conversationId: string, accountId?: string): Promise<ConversationRow> {
    return this.lockRow(trx, conversationId, accountId);
  }

  /** Gives the (locked) conversation to an agent: the previous agent leaves, the new one joins as assigned agent. */
  async assignAgent(trx: Trx, conversation: ConversationRow, agent: { id: string; name: string; isBot?: boolean }): Promise<ConversationEvent[]> {
    const events: ConversationEvent[] = [];
    if (conversation.assigned_agent_id && conversation.assigned_agent_id !== agent.id) events.push(...(await this.leave(trx, conversation, conversation.assigned_agent_id)));
    await trx.updateTable('conversations').set({ assigned_agent_id: agent.id, updated_at: this.clock.now() }).where('id', '=', conversation.id).execute();
    events.push(...(await this.ensureAssignedParticipant(trx, conversation, agent.id, agent.name, agent.isBot ? 'bot' : 'assigned_agent')));
    return events;
  }

  /**
   * Gives each of several (locked) conversations to its agent, as `assignAgent` does one: a routing pass's assignments.
   * The usual case, a conversation with no agent that its agent is not in yet, is done for all of them in one statement
   * (`ASSIGN_STORE`), where `assignAgent` takes six round trips a conversation; the others go through `assignAgent`.
   * Resolves to each conversation's new events, in order.
   */
  async assignAgents(trx: Trx, items: ReadonlyArray<{ conversation: ConversationRow; agent: { id: string; name: string; isBot?: boolean } }>): Promise<Map<string, ConversationEvent[]>> {
    const events = new Map<string, ConversationEvent[]>();
    const now = this.clock.now();
    const rows = new Map<string, JoinRow>();
    for (const { conversation, agent } of items) {
      if (conversation.assigned_agent_id !== null) continue;
      const role = agent.isBot ? 'bot' : 'assigned_agent';
      rows.set(conversation.id, {
        conversation_id: conversation.id,
        agent_id: agent.id,
        role,
        name: agent.name,
        event_id: newEventId(),
        payload: { change: 'joined', participant: { id: agent.id, role, name: agent.name } },
      });
    }
    const assigned = new Map<string, number>();
    if (rows.size > 0) {
      const { rows: done } = await ASSIGN_STORE.run(trx, [...JOIN_ROWS.parameters([...rows.values()]), now]);
      for (const { id, seq } of done) assigned.set(id, seq);
    }
    for (const { conversation, agent } of items) {
      const row = rows.get(conversation.id);
      const seq = assigned.get(conversation.id);
      if (!row || seq === undefined) {
        events.set(conversation.id, await this.assignAgent(trx, conversation, agent));
        continue;
      }
      const event = toWireEvent({
        id: row.event_id,
        conversation_id: conversation.id,
        account_id: conversation.account_id,
        seq,
        type: 'participant',
        originator_id: agent.id,
        originator_role: row.role,
        originator_name: row.name,
        audience: 'all',
        client_message_id: null,
        payload: row.payload,
        created_at: now,
      });
      for (const sink of this.sinks) await sink.eventsStored(trx, conversation, [event]);
      events.set(conversation.id, [event]);
    }
    return events;
  }

  /**
   * Locks several conversations of the account for the rest of the caller's transaction, in id order (so two such
   * transactions cannot deadlock); those not found (or of another account) are missing from the result.
   */
  async lockManyForUpdate(trx: Trx, conversationIds: readonly string[], accountId: string): Promise<Map<string, ConversationRow>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await trx
      .selectFrom('conversations')
      .selectAll()
      .where('id', 'in', [...conversationIds])
      .where('account_id', '=', accountId)
      .orderBy('id')
      .forUpdate()
      .execute();
    return new Map(rows.map((row) => [row.id, row] as const));
  }

  /** Takes the (locked) conversation away from its agent (back to the queue, transfer). */
  async unassignAgent(trx: Trx, conversation: ConversationRow): Promise<ConversationEvent[]> {
    if (!conversation.assigned_agent_id) return [];
    const events = await this.leave(trx, conversation, conversation.assigned_agent_id);
    await trx.updateTable('conversations').set({ assigned_agent_id: null, updated_at: this.clock.now() }).where('id', '=', conversation.id).execute();
    return events;
  }

  /** A message from Parley itself (queue position, off hours, auto-close warning, transfer note). */
  appendSystemMessage(trx: Trx, conversation: ConversationRow, message: string, audience: 'all' | 'agents_and_managers' = 'all', quickReplies?: QuickReplies): Promise<ConversationEvent[]> {
    return this.append(trx, conversation, [
      {
        type: 'content',
        originatorId: SYSTEM_ORIGINATOR_ID,
        originatorRole: 'system',
        originatorName: 'Parley',
        audience,
        clientMessageId: null,
        payload: { content: { contentType: 'text/plain', message, ...(quickReplies ? { quickReplies } : {}) } },
      },
    ]);
  }

  /** Closes the (locked) conversation on the system's behalf (auto-close). */
  async closeBySystem(trx: Trx, conversation: ConversationRow, reason: 'timeout' | 'system'): Promise<ConversationEvent[]> {
    const now = this.clock.now();
    const events = await this.append(trx, conversation, [
      {
        type: 'conversation_state',
        originatorId: SYSTEM_ORIGINATOR_ID,
        originatorRole: 'system',
        originatorName: 'Parley',
        audience: 'all',
        clientMessageId: null,
        payload: { state: 'closed', reason },
      },
    ]);
    await trx.updateTable('conversations').set({ state: 'closed', closed_at: now, close_reason: reason, updated_at: now }).where('id', '=', conversation.id).execute();
    await this.routing?.closed(trx, conversation, reason);
    return events;
  }

  /** Summaries of committed conversations, read in one go without locking (to publish them after a commit). */
  async summariesOf(conversationIds: readonly string[]): Promise<Map<string, ConversationSummary>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', 'in', [...conversationIds])
      .execute();
    const summaries = await this.summarizeMany(this.db, rows);
    return new Map(summaries.map((s) => [s.id, s]));
  }

  summaryInTransaction(trx: Trx, conversationId: string): Promise<ConversationSummary> {
    return this.lockRow(trx, conversationId).then((row) => this.summarize(trx, row));
  }

  /** After the caller's commit: tells subscribers (bus) about the stored events and the summary. */
  publishCommitted(summary: ConversationSummary | null, events: ConversationEvent[]): Promise<void> {
    return this.publish(summary, events);
  }

  /** The consumer's most recent conversation, opened again when it closed within the account's reopen window. */
  private async reopenRecent(accountId: string, consumerId: string): Promise<ConversationSummary | undefined> {
    if (!this.routing) return undefined;
    const window = await this.routing.reopenWindowSeconds(accountId);
    if (window <= 0) return undefined;
    const since = new Date(this.clock.now().getTime() - window * 1000);
    const recent = await this.db
      .selectFrom('conversations')
      .select('id')
      .where('account_id', '=', accountId)
      .where('consumer_id', '=', consumerId)
      .where('state', '=', 'closed')
      .where('close_reason', '!=', 'consumer')
      .where('closed_at', '>=', since)
      .orderBy('closed_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!recent) return undefined;
    try {
      const result = await this.db.transaction().execute(async (trx) => {
        const row = await this.lockRow(trx, recent.id);
        if (row.state !== 'closed') return undefined;
        const previousAgentId = row.assigned_agent_id;
        const events = await this.append(trx, row, [
          {
            type: 'conversation_state',
            originatorId: consumerId,
            originatorRole: 'consumer',
            originatorName: null,
            audience: 'all',
            clientMessageId: null,
            payload: { state: 'open', reason: 'reopened' },
          },
        ]);
        await trx.updateTable('conversations').set({ state: 'open', closed_at: null, close_reason: null, updated_at: this.clock.now() }).where('id', '=', row.id).execute();
        if (previousAgentId) events.push(...(await this.unassignAgent(trx, { ...row, state: 'open' })));
        await this.routing?.reopened(trx, row, previousAgentId);
        return { summary: await this.summarize(trx, await this.lockRow(trx, row.id)), events };
      });
      if (!result) return undefined;
      await this.publish(result.summary, result.events);
      this.routing?.changed(accountId);
      return result.summary;
    } catch (error) {
      // Another device of the consumer opened a conversation meanwhile: the caller continues that one.
      if (isUniqueViolation(error, 'conversations_one_open_per_consumer')) return undefined;
      throw error;
    }
  }

  private async leave(trx: Trx, conversation: ConversationRow, participantId: string): Promise<ConversationEvent[]> {
    const left = await trx
      .updateTable('conversation_participants')
      .set({ left_at: this.clock.now() })
      .where('conversation_id', '=', conversation.id)
      .where('participant_id', '=', participantId)
      .where('left_at', 'is', null)
      .returning(['role', 'name'])
      .executeTakeFirst();
    if (!left) return [];
    return this.append(trx, conversation, [
      {
        type: 'participant',
        originatorId: participantId,
        originatorRole: left.role,
        originatorName: left.name,
        audience: 'all',
        clientMessageId: null,
        payload: { change: 'left', participant: { id: participantId, role: left.role, name: left.name } },
      },
    ]);
  }

  /**
   * Joins the agent as the one holding the conversation (role `assigned_agent`, or `bot` for a bot, so clients can
   * say who they talk to), or promotes them when they are already in (as manager, say).
   */
  private async ensureAssignedParticipant(
    trx: Trx,
    conversation: ConversationRow,
    agentId: string,
    name: string | null,
    role: 'assigned_agent' | 'bot' = 'assigned_agent',
  ): Promise<ConversationEvent[]> {
    const present = await trx
      .selectFrom('conversation_participants')
      .select(['id', 'role'])
      .where('conversation_id', '=', conversation.id)
      .where('participant_id', '=', agentId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    if (!present) return this.join(trx, conversation, agentId, role, name);
    if (present.role === role) return [];
    await trx.updateTable('conversation_participants').set({ role }).where('id', '=', present.id).execute();
    return this.append(trx, conversation, [
      {
        type: 'participant',
        originatorId: agentId,
        originatorRole: role,
        originatorName: name,
        audience: 'all',
        clientMessageId: null,
        payload: { change: 'joined', participant: { id: agentId, role, name } },
      },
    ]);
  }

  // ---------- internals ----------

  private findPrevious(trx: Trx, conversationId: string, senderId: string, clientMessageId: string): Promise<Selectable<ConversationEventsTable> | undefined> {
    return trx
      .selectFrom('conversation_events')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('originator_id', '=', senderId)
      .where('client_message_id', '=', clientMessageId)
      .executeTakeFirst();
  }

  /**
   * Stores a sender's message in the (locked) conversation in one statement: the duplicate check (same sender and
   * clientMessageId), the participant check, the sequence and the insert. Nothing is written when the message is a
   * duplicate (the stored original comes back) or the sender is not a participant (the caller joins them first).
   * The statement starts after the row lock is held, so its snapshot sees every committed message and participant of
   * the conversation; the idempotency index backs it.
   */
  private async insertMessage(
    trx: Trx,
    conversation: ConversationRow,
    message: NewEvent,
  ): Promise<{ kind: 'stored'; row: Selectable<ConversationEventsTable> } | { kind: 'duplicate'; previous: Selectable<ConversationEventsTable> } | { kind: 'not_participant' }> {
    const now = this.clock.now();
    const { rows } = await sql<Selectable<ConversationEventsTable> & { is_new: boolean }>`
      with previous as (
        select * from conversation_events
        where conversation_id = ${conversation.id} and originator_id = ${message.originatorId} and client_message_id = ${message.clientMessageId}
      ), bumped as (
        update conversations set last_seq = last_seq + 1, updated_at = ${now}
        where id = ${conversation.id}
          and not exists (select 1 from previous)
          and exists (select 1 from conversation_participants where conversation_id = ${conversation.id} and participant_id = ${message.originatorId} and left_at is null)
        returning last_seq
      ), stored as (
        insert into conversation_events (id, conversation_id, account_id, seq, type, originator_id, originator_role, originator_name, audience, client_message_id, payload, created_at)
        select ${newEventId()}::uuid, ${conversation.id}::uuid, ${conversation.account_id}::uuid, last_seq, ${message.type}, ${message.originatorId}::uuid, ${message.originatorRole}, ${message.originatorName}::text,
          ${message.audience}, ${message.clientMessageId}::text, ${JSON.stringify(message.payload)}::jsonb, ${now}::timestamptz
        from bumped
        returning *
      )
      select true as is_new, stored.* from stored
      union all
      select false as is_new, previous.* from previous`.execute(trx);
    const [first] = rows;
    if (!first) return { kind: 'not_participant' };
    const { is_new: isNew, ...row } = first;
    return isNew ? { kind: 'stored', row } : { kind: 'duplicate', previous: row };
  }

  private async buildPayload(trx: Trx, conversation: ConversationRow, request: SendEventRequest): Promise<EventPayload> {
    const event = request.event;
    if (event.type === 'rich_content') return payloadOf(event);
    const content = event.content;
    if (content.contentType === 'text/plain') return { content };
    const file = await trx.selectFrom('files').selectAll().where('id', '=', content.fileId).where('conversation_id', '=', conversation.id).executeTakeFirst();
    if (!file) throw new AppError('UNKNOWN_FILE', 'Upload the file to this conversation before sending it', { fileId: content.fileId });
    const stored: EventPayload = {
      content: {
        contentType: 'hosted/file',
        file: { fileId: file.id, name: file.name, contentType: file.content_type, size: file.size, ...(content.caption ? { caption: content.caption } : {}) },
        ...(content.quickReplies ? { quickReplies: content.quickReplies } : {}),
      },
    };
    return stored;
  }

  private async join(trx: Trx, conversation: ConversationRow, id: string, role: ParticipantRole, name: string | null): Promise<ConversationEvent[]> {
    await trx.insertInto('conversation_participants').values({ conversation_id: conversation.id, participant_id: id, role, name, left_at: null }).execute();
    return this.append(trx, conversation, [
      { type: 'participant', originatorId: id, originatorRole: role, originatorName: name, audience: 'all', clientMessageId: null, payload: { change: 'joined', participant: { id, role, name } } },
    ]);
  }

  /** Assigns the next sequences and stores the events. The caller holds the conversation row lock. */
  private async append(trx: Trx, conversation: ConversationRow, events: NewEvent[]): Promise<ConversationEvent[]> {
    const bumped = await trx
      .updateTable('conversations')
      .set((eb) => ({ last_seq: eb('last_seq', '+', events.length), updated_at: this.clock.now() }))
      .where('id', '=', conversation.id)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    const first = bumped.last_seq - events.length + 1;
    const rows = await trx
      .insertInto('conversation_events')
      .values(
        events.map((e, i) => ({
          id: newEventId(),
          conversation_id: conversation.id,
          account_id: conversation.account_id,
          seq: first + i,
          type: e.type,
          originator_id: e.originatorId,
          originator_role: e.originatorRole,
          originator_name: e.originatorName,
          audience: e.audience,
          client_message_id: e.clientMessageId,
          payload: JSON.stringify(e.payload),
          created_at: this.clock.now(),
        })),
      )
      .returningAll()
      .execute();
    const stored = rows.map(toWireEvent);
    for (const sink of this.sinks) await sink.eventsStored(trx, conversation, stored);
    return stored;
  }

  /** `sinksTold`: the caller tells the sinks itself, once for a transaction that stored several conversations. */
  private async publish(summary: ConversationSummary | null, events: ConversationEvent[], options: { sinksTold?: boolean; accountId?: string } = {}): Promise<void> {
    for (const event of events) {
      this.hooks.onEventStored?.(event);
    }
    if (events.length > 0 && !options.sinksTold) for (const sink of this.sinks) sink.committed?.();
    try {
      // Issued one after the other without waiting for each: a bus keeps the order of one publisher's messages (the
      // contract). Each resolves once this node's subscribers have it; over Redis the other nodes get it after.
      const publishes: Array<Promise<void>> = [];
      for (const event of events) {
        const accountId = summary?.accountId ?? options.accountId ?? (await this.accountOf(event.conversationId));
        publishes.push(this.bus.publish(topics.conversation(event.conversationId), { kind: 'conversation_event', accountId, conversationId: event.conversationId, event }));
      }
      if (summary) publishes.push(this.bus.publish(topics.account(summary.accountId), { kind: 'conversation_updated', accountId: summary.accountId, conversation: summary }));
      await Promise.all(publishes);
    } catch (error) {
      // The events are committed; subscribers recover them from the database by sequence.
      this.logger.error({ err: error }, 'publishing committed events failed');
    }
  }

  private accountCache = new Map<string, string>();
  private async accountOf(conversationId: string): Promise<string> {
    const cached = this.accountCache.get(conversationId);
    if (cached) return cached;
    const row = await this.db.selectFrom('conversations').select('account_id').where('id', '=', conversationId).executeTakeFirstOrThrow();
    if (this.accountCache.size > 10_000) this.accountCache.clear();
    this.accountCache.set(conversationId, row.account_id);
    return row.account_id;
  }

  /** The consumer's open conversation, if any (at most one, by a partial unique index). */
  private findOpen(accountId: string, consumerId: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('consumer_id', '=', consumerId).where('state', '=', 'open').executeTakeFirst();
  }

  private findRow(db: Db | Trx, conversationId: string): Promise<ConversationRow | undefined> {
    return db.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst();
  }

  private lockRow(trx: Trx, conversationId: string, accountId?: string): Promise<ConversationRow> {
    let q = trx.selectFrom('conversations').selectAll().where('id', '=', conversationId);
    if (accountId) q = q.where('account_id', '=', accountId);
    return q
      .forUpdate()
      .executeTakeFirst()
      .then((row) => {
        if (!row) throw new AppError('NOT_FOUND', 'Conversation not found');
        return row;
      });
  }

  private async summarize(db: Db | Trx, row: ConversationRow): Promise<ConversationSummary> {
    const [summary] = await this.summarizeMany(db, [row]);
    if (!summary) throw new Error('summary missing');
    return summary;
  }

  private async summarizeMany(db: Db | Trx, rows: ConversationRow[]): Promise<ConversationSummary[]> {
    if (rows.length === 0) return [];
    const participants = await db
      .selectFrom('conversation_participants')
      .selectAll()
      .where(
        'conversation_id',
        'in',
        rows.map((r) => r.id),
      )
      .where('left_at', 'is', null)
      .orderBy('joined_at')
      .execute();
    const routing = this.routing
      ? await this.routing.describe(
          db,
          rows.map((r) => r.id),
        )
      : new Map<string, ConversationRouting>();
    return rows.map((row) =>
      toSummary(
        row,
        participants.filter((p) => p.conversation_id === row.id),
        routing.get(row.id) ?? null,
      ),
    );
  }
}

/** Only a consumer's message in a conversation nobody holds can change who gets what (it may queue it). */
function mayChangeRouting(role: ParticipantRole | 'system', conversation: ConversationRow): boolean {
  return role === 'consumer' && conversation.assigned_agent_id === null;
}

function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new AppError('VALIDATION_FAILED', 'Malformed cursor', { issues: [{ path: 'cursor', message: 'Malformed cursor', code: 'invalid' }] });
  return { createdAt, id };
}

/** The device a conversation comes from when the client does not say: what its channel implies. */
function deviceOfChannel(channel: Channel): DeviceType {
  switch (channel) {
    case 'in_app':
    case 'sms':
    case 'messenger':
    case 'whatsapp':
      return channel;
    default:
      return 'other';
  }
}
