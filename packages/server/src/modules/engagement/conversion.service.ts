import type { Conversion, ListConversionsQuerySchema, ReportConversionRequestSchema } from '@parley/protocol';
import { type Selectable, sql } from 'kysely';
import type { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import type { EngagementSettingsService } from './engagement-settings.ts';
import { decodeCursor, encodeCursor, periodOf } from './paging.ts';
import type { ConversionsTable } from './tables.ts';

type ReportInput = z.infer<typeof ReportConversionRequestSchema>;
type ConversionRow = Selectable<ConversionsTable>;

/** How far back a brand's server may date a conversion, and how far ahead of the clock (skew). */
const MAX_AGE_MS = 90 * 24 * 3600_000;
const MAX_SKEW_MS = 5 * 60_000;
/** Participants whose message counts as the brand answering (people and bots, not the system's notices). */
const ANSWERING_ROLES = ['assigned_agent', 'agent', 'manager', 'bot'] as const;

export interface Attribution {
  conversationId: string;
  agentId: string | null;
  skillId: string | null;
}

/**
 * Purchases and other goals the brand reports, from the widget's page (the consumer) or its server (an API key that
 * names the consumer). Each is attributed once, when written, to the consumer's most recent conversation that a
 * person or a bot had answered before the conversion and that was open, or closed within the account's attribution
 * window, at that time. An `externalId` (the order number) makes reporting idempotent.
 */
export class ConversionService {
  constructor(
    private readonly db: Db,
    private readonly settings: EngagementSettingsService,
    private readonly clock: Clock,
  ) {}

  async report(principal: Principal, input: ReportInput): Promise<{ conversion: Conversion; created: boolean }> {
    const consumerId = await this.consumerOf(principal, input);
    const now = this.clock.now();
    // The widget's conversions happen now; a brand's server may date them (an order confirmed later).
    const occurredAt = principal.kind === 'api_key' && input.occurredAt ? new Date(input.occurredAt) : now;
    if (occurredAt.getTime() > now.getTime() + MAX_SKEW_MS || occurredAt.getTime() < now.getTime() - MAX_AGE_MS) {
      throw new AppError('VALIDATION_FAILED', 'occurredAt must be within the last 90 days and not in the future', {
        issues: [{ path: 'occurredAt', message: 'Out of range', code: 'invalid' }],
      });
    }
    const currency = input.currency ?? null;
    const datedAt = principal.kind === 'api_key' ? input.occurredAt : undefined;
    const externalId = input.externalId ?? null;
    if (externalId) {
      const earlier = await this.byExternalId(principal.accountId, externalId);
      if (earlier) return { conversion: this.same(earlier, consumerId, input, currency, datedAt), created: false };
    }
    const attribution = await this.attribute(principal.accountId, consumerId, occurredAt);
    try {
      const row = await this.db
        .insertInto('conversions')
        .values({
          account_id: principal.accountId,
          consumer_id: consumerId,
          type: input.type,
          value: input.value,
          currency,
          external_id: externalId,
          occurred_at: occurredAt,
          created_at: now,
          attributed_conversation_id: attribution?.conversationId ?? null,
          attributed_agent_id: attribution?.agentId ?? null,
          attributed_skill_id: attribution?.skillId ?? null,
          reported_by: principal.kind === 'api_key' ? 'api_key' : 'consumer',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { conversion: toConversion(row), created: true };
    } catch (error) {
      // The same externalId reported twice at once: the other one won.
      if (!externalId || !isUniqueViolation(error, 'conversions_account_external_id')) throw error;
      const winner = await this.byExternalId(principal.accountId, externalId);
      if (!winner) throw error;
      return { conversion: this.same(winner, consumerId, input, currency, datedAt), created: false };
    }
  }

  /**
   * The conversation a conversion at `occurredAt` is attributed to: the consumer's conversation started before it,
   * open then or closed at most `attributionWindowDays` before it, in which a person or a bot had written to the
   * consumer before it; the most recently active one wins. Null when there is none.
   */
  async attribute(accountId: string, consumerId: string, occurredAt: Date): Promise<Attribution | null> {
    const { attributionWindowDays } = await this.settings.forAccount(accountId);
    const since = new Date(occurredAt.getTime() - attributionWindowDays * 24 * 3600_000);
    const candidates = await this.db
      .selectFrom('conversations as c')
      .leftJoin('conversation_routing as r', 'r.conversation_id', 'c.id')
      .select(['c.id', 'c.assigned_agent_id', 'r.skill_id'])
      .select((eb) =>
        eb
          .selectFrom('conversation_events as e')
          .select('e.originator_id')
          .whereRef('e.conversation_id', '=', 'c.id')
          .where('e.type', 'in', ['content', 'rich_content'])
          .where('e.audience', '=', 'all')
          .where('e.originator_role', 'in', [...ANSWERING_ROLES])
          .where('e.created_at', '<=', occurredAt)
          .orderBy('e.seq', 'desc')
          .limit(1)
          .as('answered_by'),
      )
      .where('c.account_id', '=', accountId)
      .where('c.consumer_id', '=', consumerId)
      .where('c.created_at', '<=', occurredAt)
      .where((eb) => eb.or([eb('c.closed_at', 'is', null), eb('c.closed_at', '>=', since)]))
      // Still open at the conversion (or closed after it) ranks as active at the conversion.
      .orderBy(sql`least(coalesce(c.closed_at, ${occurredAt}::timestamptz), ${occurredAt}::timestamptz) desc`)
      .orderBy('c.created_at', 'desc')
      .limit(20)
      .execute();
    const chosen = candidates.find((c) => c.answered_by !== null);
    if (!chosen) return null;
    return { conversationId: chosen.id, agentId: chosen.assigned_agent_id ?? chosen.answered_by, skillId: chosen.skill_id ?? null };
  }

  async list(principal: Principal, query: z.infer<typeof ListConversionsQuerySchema>): Promise<{ items: Conversion[]; nextCursor: string | null }> {
    const { from, to } = periodOf(query, this.clock.now());
    let q = this.db.selectFrom('conversions').selectAll().where('account_id', '=', principal.accountId).where('occurred_at', '>=', from);
    if (to) q = q.where('occurred_at', '<', to);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.attributed === 'true') q = q.where('attributed_conversation_id', 'is not', null);
    if (query.attributed === 'false') q = q.where('attributed_conversation_id', 'is', null);
    if (query.agentId) q = q.where('attributed_agent_id', '=', query.agentId);
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor);
      q = q.where((eb) => eb.or([eb('occurred_at', '<', cursor.at), eb.and([eb('occurred_at', '=', cursor.at), eb('id', '<', cursor.id)])]));
    }
    const rows = await q
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(toConversion), nextCursor: rows.length > query.limit && last ? encodeCursor(last.occurred_at, last.id) : null };
  }

  /** Whom the conversion is for: consumers only for themselves; API keys name the consumer. */
  private async consumerOf(principal: Principal, input: ReportInput): Promise<string> {
    if (principal.kind === 'consumer') {
      if ((input.consumerId && input.consumerId !== principal.consumerId) || input.consumerExternalId) {
        throw new AppError('FORBIDDEN', 'A consumer reports conversions only for themselves');
      }
      return principal.consumerId;
    }
    if (principal.kind !== 'api_key') throw new AppError('FORBIDDEN', 'Conversions are reported by the consumer or with an API key');
    if (!input.consumerId && !input.consumerExternalId) {
      throw new AppError('VALIDATION_FAILED', 'Name the consumer: consumerId or consumerExternalId', {
        issues: [{ path: 'consumerId', message: 'Required (or consumerExternalId)', code: 'invalid' }],
      });
    }
    let q = this.db.selectFrom('consumers').select('id').where('account_id', '=', principal.accountId);
    q = input.consumerId ? q.where('id', '=', input.consumerId) : q.where('external_subject', '=', input.consumerExternalId ?? '');
    const consumer = await q.executeTakeFirst();
    if (!consumer) throw new AppError('NOT_FOUND', 'No such consumer in this account');
    return consumer.id;
  }

  private byExternalId(accountId: string, externalId: string): Promise<ConversionRow | undefined> {
    return this.db.selectFrom('conversions').selectAll().where('account_id', '=', accountId).where('external_id', '=', externalId).executeTakeFirst();
  }

  /** The earlier conversion with this externalId, when the report says the same; IDEMPOTENCY_KEY_REUSED otherwise. */
  private same(earlier: ConversionRow, consumerId: string, input: ReportInput, currency: string | null, datedAt: string | undefined): Conversion {
    const identical =
      earlier.consumer_id === consumerId &&
      earlier.type === input.type &&
      Number(earlier.value) === input.value &&
      (earlier.currency?.trim() ?? null) === currency &&
      (!datedAt || new Date(datedAt).getTime() === earlier.occurred_at.getTime());
    if (!identical) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'A conversion with this externalId was already reported with other values', { externalId: earlier.external_id });
    }
    return toConversion(earlier);
  }
}

function toConversion(row: ConversionRow): Conversion {
  return {
    id: row.id,
    consumerId: row.consumer_id,
    type: row.type,
    value: Number(row.value),
    currency: row.currency?.trim() ?? null,
    externalId: row.external_id,
    occurredAt: row.occurred_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    attribution: row.attributed_conversation_id ? { conversationId: row.attributed_conversation_id, agentId: row.attributed_agent_id, skillId: row.attributed_skill_id } : null,
  };
}
