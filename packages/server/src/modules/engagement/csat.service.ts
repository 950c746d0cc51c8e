import type { ConversationEvent, CsatResponse, CsatSurvey, ListCsatQuerySchema, QuickReplies, SubmitCsatRequestSchema } from '@parley/protocol';
import { type Selectable, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import { defineJob, type JobDefinition, type JobQueue } from '../../infra/jobs/index.ts';
import type { ConversationEventSink, ConversationService } from '../conversations/index.ts';
import type { ConversationsTable } from '../conversations/tables.ts';
import { decodeCursor, encodeCursor, periodOf } from './paging.ts';
import type { CsatResponsesTable, CsatSurveysTable } from './tables.ts';

type Trx = Transaction<Database>;
type ConversationRow = Selectable<ConversationsTable>;
type SurveyRow = Selectable<CsatSurveysTable>;

/** Channels whose consumers get the survey as a message (the widget shows its own form on the web). */
const MESSAGE_CHANNELS = new Set(['sms', 'messenger', 'whatsapp']);

export const SURVEY_QUESTION = 'How would you rate this conversation?';
export const SURVEY_THANKS = 'Thank you for your feedback!';
const SCORE_TITLES = ['Very poor', 'Poor', 'OK', 'Good', 'Excellent'] as const;
/** The survey's options: the title shows (numbered over SMS), the payload is the score. */
export const SURVEY_QUICK_REPLIES: QuickReplies = {
  type: 'quickReplies',
  itemsPerRow: 5,
  replies: SCORE_TITLES.map((title, i) => ({ type: 'button', title, click: { actions: [{ type: 'publishText', text: String(i + 1) }] } })),
};

const AskPayload = z.object({ conversationId: z.uuid() });

export interface CsatHooks {
  onAsked?(channel: string): void;
  onAnswered?(channel: string, score: number): void;
}

/**
 * The post-conversation CSAT survey. As a conversation event sink it notices a close, in the closing transaction, and
 * records the pending survey (one statement, which reads the account's setting itself; nothing for any other event,
 * nor for a conversation nobody held). The widget asks its consumer with a form (`GET` then `POST
 * /v1/conversations/:id/csat`); SMS, Messenger and WhatsApp consumers get the question as a message with the five
 * options (a job appends it to the closed conversation after the close commits, and the channel's outbound sends it),
 * and their next message on the channel, when it is a score, is taken as the answer (`takeChannelAnswer`, called by
 * the channel inbound before it would start a conversation).
 */
export class CsatService implements ConversationEventSink {
  readonly askJob: JobDefinition<z.infer<typeof AskPayload>>;

  constructor(
    private readonly db: Db,
    private readonly conversations: ConversationService,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly hooks: CsatHooks = {},
  ) {
    this.askJob = defineJob({
      queue: 'engagement.csat-question',
      version: 1,
      payload: AskPayload,
      maxAttempts: 5,
      backoff: { baseMs: 1_000, maxMs: 30_000 },
      handle: (payload) => this.sendQuestion(payload.conversationId),
    });
    jobs.register(this.askJob);
  }

  // ---------- in the storing transaction ----------

  async eventsStored(trx: Trx, conversation: ConversationRow, events: readonly ConversationEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type !== 'conversation_state') continue;
      if (event.state === 'closed') await this.closed(trx, conversation);
      else if (event.reason === 'reopened') {
        // Back in conversation: an unanswered survey is withdrawn (the next close asks again).
        await trx
          .updateTable('csat_surveys')
          .set({ expires_at: this.clock.now() })
          .where('conversation_id', '=', conversation.id)
          .where('answered_at', 'is', null)
          .where('expires_at', '>', this.clock.now())
          .execute();
      }
    }
  }

  committed(): void {
    this.jobs.kick();
  }

  private async closed(trx: Trx, conversation: ConversationRow): Promise<void> {
    // Nobody held it (the consumer opened the widget and left): nothing to rate, and no statement.
    if (!conversation.assigned_agent_id) return;
    const now = this.clock.now();
    // One statement: the account's setting (no row: the defaults) decides whether, and for how long, it is asked.
    const asked = await sql<{ conversation_id: string }>`
      insert into csat_surveys (conversation_id, account_id, consumer_id, channel, agent_id, asked_at, expires_at)
      select ${conversation.id}, ${conversation.account_id}, ${conversation.consumer_id}, ${conversation.channel}, ${conversation.assigned_agent_id},
             ${now}::timestamptz, ${now}::timestamptz + make_interval(hours => coalesce(s.csat_window_hours, 24))
      from (select 1) as one
      left join engagement_settings s on s.account_id = ${conversation.account_id}
      where coalesce(s.csat_enabled, true)
      on conflict (conversation_id) do update
        set asked_at = excluded.asked_at, expires_at = excluded.expires_at, agent_id = excluded.agent_id, channel = excluded.channel, question_sent_at = null
        where csat_surveys.answered_at is null
      returning conversation_id`.execute(trx);
    if (asked.rows.length === 0) return;
    this.hooks.onAsked?.(conversation.channel);
    if (MESSAGE_CHANNELS.has(conversation.channel)) {
      await this.jobs.enqueue(trx, this.askJob, { conversationId: conversation.id }, { orderingKey: `channel:${conversation.id}` });
    }
  }

  /** Appends the question (with the five options) to the closed conversation; the channel's outbound sends it. */
  private async sendQuestion(conversationId: string): Promise<void> {
    const events = await this.db.transaction().execute(async (trx) => {
      const row = await this.conversations.lockForUpdate(trx, conversationId);
      const now = this.clock.now();
      const claimed = await trx
        .updateTable('csat_surveys')
        .set({ question_sent_at: now })
        .where('conversation_id', '=', conversationId)
        .where('question_sent_at', 'is', null)
        .where('answered_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('conversation_id')
        .executeTakeFirst();
      if (!claimed || row.state !== 'closed') return [];
      return this.conversations.appendSystemMessage(trx, row, SURVEY_QUESTION, 'all', SURVEY_QUICK_REPLIES);
    });
    await this.conversations.publishCommitted(null, events);
  }

  // ---------- answers ----------

  /**
   * A message the consumer sent on a channel (SMS, Messenger, WhatsApp), before it becomes a conversation message:
   * true when it answered their pending survey (it is recorded, thanked for, and must go no further). A message that
   * is not a score withdraws the survey, so a later "5" meant for an agent is not taken as one. `ref` identifies the
   * provider's message: its redelivery is consumed again without a second answer.
   */
  async takeChannelAnswer(accountId: string, consumerId: string, text: string, ref: string): Promise<boolean> {
    const now = this.clock.now();
    const survey = await this.db
      .selectFrom('csat_surveys')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('consumer_id', '=', consumerId)
      .where('question_sent_at', 'is not', null)
      .where((eb) => eb.or([eb.and([eb('answered_at', 'is', null), eb('expires_at', '>', now)]), eb('answer_ref', '=', ref)]))
      .orderBy('asked_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!survey) return false;
    if (survey.answered_at) return survey.answer_ref === ref;
    const score = scoreOf(text);
    if (score === null) {
      await this.db.updateTable('csat_surveys').set({ expires_at: now }).where('conversation_id', '=', survey.conversation_id).where('answered_at', 'is', null).execute();
      return false;
    }
    const result = await this.db
      .transaction()
      .execute(async (trx) => {
        const row = await this.conversations.lockForUpdate(trx, survey.conversation_id);
        // Reopened meanwhile: the digit belongs to the conversation, not to the survey.
        if (row.state !== 'closed') return null;
        await this.record(trx, row, survey, score, null, ref);
        return { events: await this.conversations.appendSystemMessage(trx, row, SURVEY_THANKS, 'all') };
      })
      .catch((error: unknown) => {
        // Answered meanwhile (the same message twice at once): consumed, nothing more to say.
        if (error instanceof AppError && error.code === 'CONFLICT') return { events: [] };
        throw error;
      });
    if (!result) return false;
    await this.conversations.publishCommitted(null, result.events);
    this.jobs.kick();
    return true;
  }

  /** The consumer answers from the widget (or any client): once, while pending. */
  async submit(principal: Principal, conversationId: string, body: z.infer<typeof SubmitCsatRequestSchema>): Promise<CsatSurvey> {
    if (principal.kind !== 'consumer') throw new AppError('FORBIDDEN', 'Only the consumer of the conversation answers its survey');
    const comment = body.comment?.trim() || null;
    const survey = await this.db.transaction().execute(async (trx) => {
      const row = await this.conversations.lockForUpdate(trx, conversationId, principal.accountId).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined;
        throw error;
      });
      if (!row || row.consumer_id !== principal.consumerId) throw new AppError('NOT_FOUND', 'Conversation not found');
      const pending = await trx.selectFrom('csat_surveys').selectAll().where('conversation_id', '=', row.id).executeTakeFirst();
      if (!pending) throw conflict('not_asked', 'No survey was asked for this conversation (it is open, nobody answered it, or surveys are off)');
      if (pending.answered_at) throw conflict('already_answered', 'This survey was already answered');
      if (pending.expires_at.getTime() <= this.clock.now().getTime()) throw conflict('expired', 'The time to answer this survey has passed');
      await this.record(trx, row, pending, body.score, comment, null);
      return trx.selectFrom('csat_surveys').selectAll().where('conversation_id', '=', row.id).executeTakeFirstOrThrow();
    });
    return this.describe(survey);
  }

  /** The survey of a conversation the principal may see. */
  async get(principal: Principal, conversationId: string): Promise<CsatSurvey> {
    await this.conversations.get(principal, conversationId);
    const survey = await this.db.selectFrom('csat_surveys').selectAll().where('conversation_id', '=', conversationId).executeTakeFirst();
    if (!survey) return { conversationId, status: 'none', askedAt: null, expiresAt: null, response: null };
    return this.describe(survey);
  }

  private async describe(survey: SurveyRow): Promise<CsatSurvey> {
    const response = survey.answered_at ? await this.db.selectFrom('csat_responses').selectAll().where('conversation_id', '=', survey.conversation_id).executeTakeFirst() : undefined;
    const status = survey.answered_at ? 'answered' : survey.expires_at.getTime() > this.clock.now().getTime() ? 'pending' : 'expired';
    return {
      conversationId: survey.conversation_id,
      status,
      askedAt: survey.asked_at.toISOString(),
      expiresAt: survey.expires_at.toISOString(),
      response: response ? toResponse(response) : null,
    };
  }

  /** Stores the answer (the conversation row is locked); CONFLICT when it was answered meanwhile. */
  private async record(trx: Trx, conversation: ConversationRow, survey: SurveyRow, score: number, comment: string | null, ref: string | null): Promise<CsatResponse> {
    const routing = await trx.selectFrom('conversation_routing').select('skill_id').where('conversation_id', '=', conversation.id).executeTakeFirst();
    const now = this.clock.now();
    const inserted = await trx
      .insertInto('csat_responses')
      .values({
        conversation_id: conversation.id,
        account_id: conversation.account_id,
        consumer_id: conversation.consumer_id,
        score,
        comment,
        at: now,
        agent_id: conversation.assigned_agent_id ?? survey.agent_id,
        skill_id: routing?.skill_id ?? null,
        channel: conversation.channel,
        device: conversation.device,
      })
      .onConflict((oc) => oc.column('conversation_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) throw conflict('already_answered', 'This survey was already answered');
    await trx.updateTable('csat_surveys').set({ answered_at: now, answer_ref: ref }).where('conversation_id', '=', conversation.id).execute();
    this.hooks.onAnswered?.(conversation.channel, score);
    return toResponse(inserted);
  }

  // ---------- for supervisors and reports ----------

  async list(principal: Principal, query: z.infer<typeof ListCsatQuerySchema>) {
    const { from, to } = periodOf(query, this.clock.now());
    let q = this.db.selectFrom('csat_responses').selectAll().where('account_id', '=', principal.accountId).where('at', '>=', from);
    if (to) q = q.where('at', '<', to);
    if (query.agentId) q = q.where('agent_id', '=', query.agentId);
    if (query.skillId) q = q.where('skill_id', '=', query.skillId);
    if (query.channel) q = q.where('channel', '=', query.channel);
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor);
      q = q.where((eb) => eb.or([eb('at', '<', cursor.at), eb.and([eb('at', '=', cursor.at), eb('conversation_id', '<', cursor.id)])]));
    }
    const rows = await q
      .orderBy('at', 'desc')
      .orderBy('conversation_id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);

    // The period's figures, over the surveys asked in it (a response counts with its survey).
    let s = this.db
      .selectFrom('csat_surveys as s')
      .leftJoin('csat_responses as r', 'r.conversation_id', 's.conversation_id')
      .where('s.account_id', '=', principal.accountId)
      .where('s.asked_at', '>=', from);
    if (to) s = s.where('s.asked_at', '<', to);
    if (query.agentId) s = s.where('s.agent_id', '=', query.agentId);
    if (query.channel) s = s.where('s.channel', '=', query.channel);
    if (query.skillId) s = s.innerJoin('conversation_routing as cr', 'cr.conversation_id', 's.conversation_id').where('cr.skill_id', '=', query.skillId);
    const figures = await s
      .select([
        sql<string>`count(*)`.as('surveys'),
        sql<string>`count(r.conversation_id)`.as('responses'),
        sql<string | null>`avg(r.score)`.as('average'),
        sql<string>`count(*) filter (where r.score >= 4)`.as('satisfied'),
      ])
      .executeTakeFirstOrThrow();
    const surveys = Number(figures.surveys);
    const responses = Number(figures.responses);
    return {
      items: page.map(toResponse),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.at, last.conversation_id) : null,
      summary: {
        surveys,
        responses,
        responseRate: surveys > 0 ? responses / surveys : null,
        averageScore: figures.average === null ? null : Math.round(Number(figures.average) * 100) / 100,
        csatScore: responses > 0 ? Number(figures.satisfied) / responses : null,
      },
    };
  }
}

/** A score in a channel message: "4", "4.", "#4", "4 - good", or an option's title ("Good"). */
export function scoreOf(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  const digit = /^#?\s*([1-5])(?:\s*[.)]?\s*(?:[-–:]\s*)?(?:[a-z ]*)?)?[.!]*$/.exec(trimmed);
  if (digit?.[1]) {
    const score = Number(digit[1]);
    const rest = trimmed.replace(/^#?\s*[1-5]\s*[.)]?\s*(?:[-–:]\s*)?/, '').replace(/[.!]+$/, '');
    // "4" alone, or "4" with its own title ("4. Good"); "5 minutes ago" is not an answer.
    if (rest === '' || rest === SCORE_TITLES[score - 1]?.toLowerCase()) return score;
    return null;
  }
  const title = SCORE_TITLES.findIndex((t) => t.toLowerCase() === trimmed.replace(/[.!]+$/, ''));
  return title >= 0 ? title + 1 : null;
}

function conflict(reason: 'not_asked' | 'already_answered' | 'expired', message: string): AppError {
  return new AppError('CONFLICT', message, { reason });
}

function toResponse(row: Selectable<CsatResponsesTable>): CsatResponse {
  return {
    conversationId: row.conversation_id,
    consumerId: row.consumer_id,
    score: row.score,
    comment: row.comment,
    at: row.at.toISOString(),
    agentId: row.agent_id,
    skillId: row.skill_id,
    channel: row.channel,
    device: row.device,
  };
}
