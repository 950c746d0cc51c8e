import type { BotWebhookEvent, ConversationEvent, EscalationReason, FlowInput, FlowState } from '@parley/protocol';
import type { Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import { defineJob, type JobQueue } from '../../infra/jobs/index.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConsumerDetailsService, ConversationActivity, ConversationEventSink, ConversationService } from '../conversations/index.ts';
import type { ConversationsTable } from '../conversations/tables.ts';
import type { RoutingService } from '../routing/index.ts';
import type { OutboundFetch } from '../../infra/outbound/outbound-http.ts';
import { postWebhook, signatureHeader } from '../webhooks/index.ts';
import type { BotDirectory, BotProfile } from './bot-directory.ts';
import { flowTurn } from './flow/flow-engine.ts';
import { findPhrase } from './phrase-match.ts';

type Trx = Transaction<Database>;
type ConversationRow = Selectable<ConversationsTable>;

/** Attempts to reach a webhook bot before Parley gives up and escalates (the reply deadline may escalate sooner). */
export const BOT_DELIVERY_ATTEMPTS = 3;
const MAX_TRANSCRIPT_EVENTS = 500;

export interface BotRuntimeHooks {
  onEscalated?(reason: EscalationReason): void;
  onDelivery?(outcome: 'delivered' | 'retry' | 'failed', ms: number): void;
}

const DeliverPayload = z.object({
  accountId: z.uuid(),
  botId: z.uuid(),
  conversationId: z.uuid(),
  kind: z.enum(['assigned', 'message', 'closed']),
  eventId: z.uuid(),
  sequence: z.number().int().min(0),
});
const FlowPayload = z.object({ accountId: z.uuid(), botId: z.uuid(), conversationId: z.uuid(), sequence: z.number().int().min(0).nullable() });
const EscalatePayload = z.object({
  accountId: z.uuid(),
  botId: z.uuid(),
  conversationId: z.uuid(),
  reason: z.enum(['bot_requested', 'consumer_requested', 'bot_timeout', 'bot_error']),
  skillId: z.uuid().nullable(),
});

/**
 * Bots at work in conversations. As a conversation event sink it notices, in the storing transaction, a bot receiving
 * a conversation, a consumer writing to a bot, a bot answering and a bot's conversation closing; it records the reply
 * deadline and enqueues durable jobs (ordered per conversation) that reach the bot: a signed POST to a webhook bot,
 * a turn of the built-in flow bot. Websocket bots read the conversation over the realtime protocol like agents.
 * Whatever the bot, a consumer who asks for a person, a bot that does not answer in time and an endpoint that keeps
 * failing all lead to people (routing's escalation), so nobody is left with a dead bot.
 */
export class BotRuntime implements ConversationEventSink {
  constructor(
    private readonly db: Db,
    private readonly directory: BotDirectory,
    private readonly conversations: ConversationService,
    private readonly routing: RoutingService,
    private readonly consumerDetails: ConsumerDetailsService,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Parley's outbound HTTP client (infra/outbound): refuses addresses a tenant may not reach. */
    private readonly fetch: OutboundFetch,
    private readonly hooks: BotRuntimeHooks = {},
  ) {
    jobs.register(this.deliverJob);
    jobs.register(this.flowJob);
    jobs.register(this.escalateJob);
  }

  readonly deliverJob = defineJob({
    queue: 'bots.deliver',
    version: 1,
    payload: DeliverPayload,
    maxAttempts: BOT_DELIVERY_ATTEMPTS,
    backoff: { baseMs: 500, maxMs: 2_000 },
    handle: (payload, context) => this.deliver(payload, context.jobId, context.attempt),
  });

  readonly flowJob = defineJob({
    queue: 'bots.flow',
    version: 1,
    payload: FlowPayload,
    maxAttempts: 5,
    backoff: { baseMs: 500, maxMs: 5_000 },
    handle: (payload) => this.runFlow(payload),
  });

  readonly escalateJob = defineJob({
    queue: 'bots.escalate',
    version: 1,
    payload: EscalatePayload,
    maxAttempts: 10,
    backoff: { baseMs: 500, maxMs: 10_000 },
    handle: async (payload) => {
      await this.escalate(payload.accountId, payload.conversationId, payload.botId, payload.reason, payload.skillId);
    },
  });

  // ---------- in the storing transaction ----------

  async eventsStored(trx: Trx, conversation: ConversationRow, events: readonly ConversationEvent[]): Promise<void> {
    const bots = await this.directory.botsOf(trx, conversation.account_id);
    if (bots.size === 0) return;
    // The row was read when the transaction locked it; an assignment in this transaction shows as a participant event.
    let holder = conversation.assigned_agent_id;
    for (const event of events) {
      if (event.type === 'participant') {
        if (event.change === 'joined' && (event.participant.role === 'bot' || event.participant.role === 'assigned_agent')) {
          holder = event.participant.id;
          const bot = bots.get(holder);
          if (bot) await this.received(trx, conversation, bot, event);
        } else if (event.change === 'left' && event.participant.id === holder) {
          // A bot's conversation leaving it: an escalation records itself (activity); anything else is a release.
          if (bots.has(holder))
            await trx
              .updateTable('bot_conversations')
              .set({ released_at: this.clock.now(), reply_due_at: null })
              .where('conversation_id', '=', conversation.id)
              .where('escalated_at', 'is', null)
              .where('closed_at', 'is', null)
              .execute();
          holder = null;
        }
        continue;
      }
      const bot = holder ? bots.get(holder) : undefined;
      if (!bot) continue;
      if ((event.type === 'content' || event.type === 'rich_content') && event.audience === 'all') {
        if (event.originator.role === 'consumer') await this.consumerWrote(trx, conversation, bot, event);
        else if (event.originator.id === bot.id) await trx.updateTable('bot_conversations').set({ reply_due_at: null }).where('conversation_id', '=', conversation.id).execute();
      } else if (event.type === 'conversation_state' && event.state === 'closed') {
        await trx.updateTable('bot_conversations').set({ closed_at: this.clock.now(), reply_due_at: null }).where('conversation_id', '=', conversation.id).execute();
        if (bot.delivery === 'webhook') await this.enqueueDelivery(trx, conversation, bot, 'closed', event.sequence);
      }
    }
  }

  async activity(trx: Trx, conversation: ConversationRow, activity: ConversationActivity): Promise<void> {
    if (activity.type !== 'transferred' || !activity.escalation || !activity.fromAgentId) return;
    const bots = await this.directory.botsOf(trx, conversation.account_id);
    if (!bots.has(activity.fromAgentId)) return;
    await trx
      .updateTable('bot_conversations')
      .set({ escalated_at: this.clock.now(), escalation_reason: activity.escalation.reason, reply_due_at: null, released_at: null })
      .where('conversation_id', '=', conversation.id)
      .where('escalated_at', 'is', null)
      .execute();
    this.hooks.onEscalated?.(activity.escalation.reason);
  }

  committed(): void {
    this.jobs.kick();
  }

  private async received(trx: Trx, conversation: ConversationRow, bot: BotProfile, event: ConversationEvent): Promise<void> {
    const now = this.clock.now();
    // The consumer wrote to get here: the bot owes an answer.
    const due = new Date(now.getTime() + bot.responseTimeoutSeconds * 1000);
    await trx
      .insertInto('bot_conversations')
      .values({ conversation_id: conversation.id, account_id: conversation.account_id, bot_id: bot.id, assigned_at: now, reply_due_at: due, flow_state: null })
      .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ bot_id: bot.id, reply_due_at: due, flow_state: null, released_at: null }))
      .execute();
    if (bot.delivery === 'webhook') await this.enqueueDelivery(trx, conversation, bot, 'assigned', event.sequence);
    if (bot.delivery === 'flow')
      await this.jobs.enqueue(trx, this.flowJob, { accountId: conversation.account_id, botId: bot.id, conversationId: conversation.id, sequence: null }, { orderingKey: orderingKey(conversation.id) });
  }

  private async consumerWrote(trx: Trx, conversation: ConversationRow, bot: BotProfile, event: ConversationEvent): Promise<void> {
    const text = textOf(event);
    if (text !== null && findPhrase(text, bot.escalationPhrases) !== undefined) {
      await this.jobs.enqueue(
        trx,
        this.escalateJob,
        { accountId: conversation.account_id, botId: bot.id, conversationId: conversation.id, reason: 'consumer_requested', skillId: bot.escalationSkillId },
        { orderingKey: orderingKey(conversation.id) },
      );
      return;
    }
    const due = new Date(this.clock.now().getTime() + bot.responseTimeoutSeconds * 1000);
    await trx
      .updateTable('bot_conversations')
      .set((eb) => ({ reply_due_at: eb.fn.coalesce('reply_due_at', eb.val(due)) }))
      .where('conversation_id', '=', conversation.id)
      .execute();
    if (bot.delivery === 'webhook') await this.enqueueDelivery(trx, conversation, bot, 'message', event.sequence);
    if (bot.delivery === 'flow')
      await this.jobs.enqueue(
        trx,
        this.flowJob,
        { accountId: conversation.account_id, botId: bot.id, conversationId: conversation.id, sequence: event.sequence },
        { orderingKey: orderingKey(conversation.id) },
      );
  }

  private async enqueueDelivery(trx: Trx, conversation: ConversationRow, bot: BotProfile, kind: 'assigned' | 'message' | 'closed', sequence: number): Promise<void> {
    await this.jobs.enqueue(
      trx,
      this.deliverJob,
      { accountId: conversation.account_id, botId: bot.id, conversationId: conversation.id, kind, eventId: crypto.randomUUID(), sequence },
      { orderingKey: orderingKey(conversation.id) },
    );
  }

  // ---------- jobs ----------

  /** POSTs one signed event to a webhook bot. The last failed attempt escalates instead of failing the job. */
  private async deliver(payload: z.infer<typeof DeliverPayload>, deliveryId: string, attempt: number): Promise<void> {
    const bot = await this.directory.current(this.db, payload.accountId, payload.botId);
    if (bot?.delivery !== 'webhook' || !bot.webhookUrl || !bot.enabled) return;
    const summary = (await this.conversations.summariesOf([payload.conversationId])).get(payload.conversationId);
    if (!summary) return;
    // Moved on (escalated, back to the queue) since: the bot has nothing more to do with it.
    if (payload.kind !== 'closed' && (summary.assignedAgentId !== bot.id || summary.state !== 'open')) return;
    const events =
      payload.kind === 'assigned'
        ? await this.conversations.readEventsFrom(payload.conversationId, 1, MAX_TRANSCRIPT_EVENTS)
        : await this.conversations.readEventsFrom(payload.conversationId, payload.sequence, 1, payload.sequence);
    const body: BotWebhookEvent = {
      id: payload.eventId,
      type: `conversation.${payload.kind}`,
      createdAt: this.clock.now().toISOString(),
      accountId: payload.accountId,
      botId: bot.id,
      conversationId: payload.conversationId,
      conversation: summary,
      events: events.filter((e) => e.audience === 'all'),
    };
    const raw = JSON.stringify(body);
    const result = await postWebhook(this.fetch, {
      url: bot.webhookUrl,
      body: raw,
      headers: {
        'parley-event-id': payload.eventId,
        'parley-event-type': body.type,
        'parley-delivery-id': deliveryId,
        'parley-signature': signatureHeader(raw, bot.signingSecrets, Math.floor(this.clock.now().getTime() / 1000)),
      },
      timeoutMs: Math.min(10_000, bot.responseTimeoutSeconds * 1000),
    });
    const log = this.logger.child({ botId: bot.id, conversationId: payload.conversationId, kind: payload.kind, attempt });
    if (result.ok) {
      this.hooks.onDelivery?.('delivered', result.durationMs);
      return;
    }
    if (attempt < BOT_DELIVERY_ATTEMPTS) {
      this.hooks.onDelivery?.('retry', result.durationMs);
      throw new Error(`bot endpoint failed: ${result.error ?? 'unknown error'}`);
    }
    this.hooks.onDelivery?.('failed', result.durationMs);
    log.warn({ error: result.error, statusCode: result.statusCode }, 'bot endpoint failed on every attempt; escalating to people');
    if (payload.kind !== 'closed') await this.escalate(payload.accountId, payload.conversationId, bot.id, 'bot_error', bot.escalationSkillId);
  }

  /** One turn of the built-in flow bot: its replies are sent as the bot (idempotently), then its actions applied. */
  private async runFlow(payload: z.infer<typeof FlowPayload>): Promise<void> {
    const bot = await this.directory.current(this.db, payload.accountId, payload.botId);
    if (bot?.delivery !== 'flow' || !bot.flow || !bot.enabled) return;
    const summary = (await this.conversations.summariesOf([payload.conversationId])).get(payload.conversationId);
    if (summary?.state !== 'open' || summary.assignedAgentId !== bot.id) return;
    const record = await this.db.selectFrom('bot_conversations').select('flow_state').where('conversation_id', '=', payload.conversationId).executeTakeFirst();
    let state: FlowState | null = payload.sequence === null ? null : (record?.flow_state ?? null);
    const inputs: { input: FlowInput; key: string; optional: boolean }[] = [];
    if (payload.sequence === null) {
      inputs.push({ input: { type: 'start' }, key: 'start', optional: false });
      // The consumer wrote to be routed here: answer that message too when it asks something the bot knows.
      const events = await this.conversations.readEventsFrom(payload.conversationId, 1, MAX_TRANSCRIPT_EVENTS);
      const first = events
        .filter((e) => e.originator.role === 'consumer' && e.audience === 'all')
        .map(textOf)
        .findLast((t) => t !== null);
      if (first) inputs.push({ input: { type: 'message', text: first }, key: 'start-first', optional: true });
    } else {
      const [event] = await this.conversations.readEventsFrom(payload.conversationId, payload.sequence, 1, payload.sequence);
      const text = event ? textOf(event) : null;
      if (text === null) return;
      inputs.push({ input: { type: 'message', text }, key: `m${payload.sequence}`, optional: false });
    }
    const principal: Principal = { kind: 'user', userId: bot.id, accountId: payload.accountId, role: 'bot', name: bot.name };
    for (const { input, key, optional } of inputs) {
      const before = state;
      const turn = flowTurn(bot.flow, state, input);
      // An opening message the bot does not recognise ("hi") is answered by the greeting alone.
      if (optional && turn.actions.length === 0 && turn.state.fallbacks > (before?.fallbacks ?? 0)) continue;
      state = turn.state;
      for (const [i, reply] of turn.replies.entries()) {
        await this.conversations.send(principal, payload.conversationId, {
          clientMessageId: `flow-${key}-${i}`,
          audience: 'all',
          event: {
            type: 'content',
            content: {
              contentType: 'text/plain',
              message: reply.text,
              ...(reply.choices.length > 0
                ? {
                    quickReplies: {
                      type: 'quickReplies',
                      itemsPerRow: 8,
                      replies: reply.choices.map((c) => ({ type: 'button', title: c.title, click: { actions: [{ type: 'publishText', text: c.title }] } })),
                    },
                  }
                : {}),
            },
          },
        });
      }
      await this.db
        .updateTable('bot_conversations')
        .set({ flow_state: JSON.stringify(state) })
        .where('conversation_id', '=', payload.conversationId)
        .execute();
      for (const action of turn.actions) {
        if (action.type === 'set_fields') await this.consumerDetails.updateProfile(principal, summary.consumerId, action.fields);
        if (action.type === 'escalate') await this.escalate(payload.accountId, payload.conversationId, bot.id, action.reason, action.skillId ?? bot.escalationSkillId, state);
        if (action.type === 'close') await this.conversations.close(principal, payload.conversationId);
      }
    }
  }

  // ---------- escalation ----------

  /** Hands the bot's conversation to people (does nothing when the bot no longer holds it). */
  private async escalate(accountId: string, conversationId: string, botId: string, reason: EscalationReason, skillId: string | null, flowState?: FlowState | null): Promise<boolean> {
    const bot = await this.directory.current(this.db, accountId, botId);
    const recap = flowState ? flowRecap(flowState) : null;
    return this.routing.escalateFromBot(accountId, conversationId, { botId, botName: bot?.name ?? 'Bot', reason, skillId: skillId ?? bot?.escalationSkillId ?? null, note: recap });
  }

  /** Bots that owe an answer past their deadline hand the conversation to people. Run by every node, effective once. */
  async sweep(): Promise<number> {
    const due = await this.db
      .selectFrom('bot_conversations')
      .select(['conversation_id', 'account_id', 'bot_id', 'reply_due_at'])
      .where('reply_due_at', '<=', this.clock.now())
      .where('escalated_at', 'is', null)
      .where('closed_at', 'is', null)
      .limit(200)
      .execute();
    let escalated = 0;
    for (const row of due) {
      const bot = await this.directory.current(this.db, row.account_id, row.bot_id);
      const done = await this.escalate(row.account_id, row.conversation_id, row.bot_id, 'bot_timeout', bot?.escalationSkillId ?? null);
      if (done) {
        escalated += 1;
        this.logger.info({ botId: row.bot_id, conversationId: row.conversation_id }, 'bot did not answer in time; escalated to people');
      } else if (row.reply_due_at) {
        // The bot no longer holds it (someone moved it): nothing is owed any more.
        await this.db.updateTable('bot_conversations').set({ reply_due_at: null }).where('conversation_id', '=', row.conversation_id).where('reply_due_at', '=', row.reply_due_at).execute();
      }
    }
    return escalated;
  }
}

function orderingKey(conversationId: string): string {
  return `bot:${conversationId}`;
}

function textOf(event: ConversationEvent): string | null {
  if (event.type === 'content' && event.content.contentType === 'text/plain') return event.content.message;
  if (event.type === 'rich_content') return event.fallbackText ?? null;
  return null;
}

/** What the agent reads when a flow bot hands over: what it understood and collected. */
function flowRecap(state: FlowState): string | null {
  const parts: string[] = [];
  if (state.intents.length > 0) parts.push(`Intents: ${[...new Set(state.intents)].join(', ')}.`);
  const fields = Object.entries(state.fields);
  if (fields.length > 0) parts.push(`Collected: ${fields.map(([k, v]) => `${k} = ${v}`).join(', ')}.`);
  return parts.length > 0 ? parts.join(' ') : null;
}
