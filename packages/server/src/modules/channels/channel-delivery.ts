import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ConversationEvent, DeviceType, SendAck } from '@parley/protocol';
import type { Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { type InboundItem, type InboundMessage, InboundRejected, type InboundRequest, type InboundStatus, type OutboundMessage, ProviderError } from '../../connectors/channel-connector.ts';
import { optOutKeyword, resolveNumberedReply } from '../../connectors/twilio/index.ts';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import { isSupervisor, type Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import { defineJob, type JobDefinition, type JobQueue } from '../../infra/jobs/index.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConsumerService } from '../consumers/index.ts';
import type { ConversationEventSink, ConversationService, FileService } from '../conversations/index.ts';
import type { ConversationsTable } from '../conversations/tables.ts';
import { type ChannelRow, type ChannelService, channelLabel } from './channel.service.ts';
import { CONNECTORS, CONVERSATION_CHANNEL } from './connectors.ts';
import type { MediaLinks } from './media-links.ts';

type Trx = Transaction<Database>;
type ConversationRow = Selectable<ConversationsTable>;

const CHANNEL_CONVERSATIONS = new Set(['sms', 'messenger', 'whatsapp', 'api']);
const STATUS_RANK = { sent: 0, delivered: 1, read: 2, failed: 3 } as const;

export interface ChannelDeliveryOptions {
  retryBaseMs: number;
  maxAttempts: number;
}

export interface ChannelDeliveryHooks {
  onInbound?(kind: string, outcome: 'stored' | 'duplicate' | 'rejected'): void;
  onOutbound?(kind: string, outcome: 'sent' | 'retry' | 'failed'): void;
}

/** Takes a consumer's inbound text when it answers their pending CSAT survey (true: consumed, go no further). */
export interface ChannelSurveyAnswers {
  takeChannelAnswer(accountId: string, consumerId: string, text: string, ref: string): Promise<boolean>;
}

const DeliverPayload = z.object({ conversationId: z.uuid(), sequence: z.number().int().min(1) });

/**
 * Messages in and out of channels. Inbound: a provider webhook is verified and parsed by its connector; each message
 * becomes the consumer's (found by their address, or by the phone number a brand vouched for) in their open
 * conversation or a new one on the channel's default skill, stored once per provider message id; delivery statuses
 * become receipts. Outbound: as a conversation event sink it enqueues, in the storing transaction, a durable job per
 * message the consumer should see; the job sends it through the connector (retried with back-off), records the
 * provider's id for statuses, and tells the agent in an internal note when it cannot be delivered.
 */
export class ChannelDelivery implements ConversationEventSink {
  constructor(
    private readonly db: Db,
    private readonly channels: ChannelService,
    private readonly consumers: ConsumerService,
    private readonly conversations: ConversationService,
    private readonly files: FileService,
    private readonly media: MediaLinks,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ChannelDeliveryOptions,
    private readonly hooks: ChannelDeliveryHooks = {},
  ) {
    this.deliverJob = defineJob({
      queue: 'channels.deliver',
      version: 1,
      payload: DeliverPayload,
      maxAttempts: options.maxAttempts,
      backoff: { baseMs: options.retryBaseMs, maxMs: 60_000 },
      handle: (payload, context) => this.deliver(payload.conversationId, payload.sequence, context.attempt),
    });
    jobs.register(this.deliverJob);
  }

  readonly deliverJob: JobDefinition<z.infer<typeof DeliverPayload>>;

  /** The CSAT survey (engagement module): offered each inbound message first, wired by the composition root. */
  private surveyAnswers: ChannelSurveyAnswers | undefined;
  attachSurveyAnswers(answers: ChannelSurveyAnswers): void {
    this.surveyAnswers = answers;
  }

  // ---------- inbound ----------

  /** A provider webhook for a channel: verified, parsed, applied. Answers what the provider expects. */
  async receive(channelId: string, request: InboundRequest): Promise<{ status: number; contentType: string; body: string }> {
    const channel = await this.channels.forWebhook(channelId);
    const connector = CONNECTORS[channel.kind];
    let result: ReturnType<typeof connector.handleInbound>;
    try {
      result = connector.handleInbound(request, this.channels.connectorChannel(channel));
    } catch (error) {
      if (error instanceof InboundRejected) {
        this.hooks.onInbound?.(channel.kind, 'rejected');
        this.logger.warn({ channelId, kind: channel.kind, reason: error.message }, 'provider webhook rejected');
        throw new AppError(error.status === 400 ? 'VALIDATION_FAILED' : 'INVALID_WEBHOOK_SIGNATURE', error.message);
      }
      throw error;
    }
    if (result.kind === 'challenge') return { status: 200, contentType: 'text/plain', body: result.body };
    if (!channel.enabled) {
      // Accepted (so the provider does not retry for days) but not applied; the admin disabled the channel.
      this.logger.info({ channelId }, 'webhook for a disabled channel ignored');
      return result.response;
    }
    for (const item of result.items) await this.apply(channel, item);
    return result.response;
  }

  private async apply(channel: ChannelRow, item: InboundItem): Promise<void> {
    if (item.type === 'message') await this.inboundMessage(channel, item);
    else await this.inboundStatus(channel, item);
  }

  private async inboundMessage(channel: ChannelRow, item: InboundMessage): Promise<void> {
    const contact = await this.contact(channel, item.from);
    const principal: Principal = { kind: 'consumer', consumerId: contact.consumer_id, accountId: channel.account_id };
    const optOut = channel.kind === 'sms' ? (optOutOf(item) ?? (item.text ? optOutKeyword(item.text) : null)) : null;
    // A score answering the survey of their closed conversation is recorded there; it starts no new conversation.
    const surveyRef = inboundRef(channel.kind, item.providerMessageId);
    if (!optOut && item.text && item.media.length === 0 && (await this.surveyAnswers?.takeChannelAnswer(channel.account_id, contact.consumer_id, item.text, surveyRef))) {
      await this.db.updateTable('channel_contacts').set({ last_inbound_at: this.clock.now() }).where('channel_id', '=', channel.id).where('address', '=', item.from).execute();
      this.hooks.onInbound?.(channel.kind, 'stored');
      return;
    }
    const { conversation } = await this.conversations.start(principal, {
      channel: CONVERSATION_CHANNEL[channel.kind],
      device: deviceOf(channel.kind),
      ...(channel.default_skill_id ? { skillId: channel.default_skill_id } : {}),
    });
    await this.db
      .insertInto('channel_conversations')
      .values({ conversation_id: conversation.id, channel_id: channel.id, address: item.from })
      .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ channel_id: channel.id, address: item.from }))
      .execute();
    if (conversation.channel !== CONVERSATION_CHANNEL[channel.kind]) {
      // Their open conversation started elsewhere (the web widget): it goes on here, and replies follow them.
      await this.conversations.continueOn(conversation.id, CONVERSATION_CHANNEL[channel.kind], `The consumer continued this conversation by ${channelLabel(channel.kind)}: replies go there now.`);
    }
    await this.db
      .updateTable('channel_contacts')
      .set({
        last_inbound_at: this.clock.now(),
        ...(optOut === 'stop' ? { opted_out_at: this.clock.now() } : {}),
        ...(optOut === 'start' ? { opted_out_at: null } : {}),
      })
      .where('channel_id', '=', channel.id)
      .where('address', '=', item.from)
      .execute();

    const idBase = inboundRef(channel.kind, item.providerMessageId);
    let text = item.text?.trim() || null;
    // A numbered option over SMS (or WhatsApp's text fallback) reads back as the option's text.
    if (text && contact.last_offered.length > 0) text = resolveNumberedReply(text, contact.last_offered) ?? text;
    let stored = false;
    for (const [i, media] of item.media.entries()) {
      const fileId = await this.storeMedia(channel, principal, conversation.id, media.url, media.contentType);
      const caption = i === 0 ? (media.caption ?? text ?? undefined) : media.caption;
      if (fileId) {
        const ack = await this.conversations.send(principal, conversation.id, {
          clientMessageId: `${idBase}:m${i}`,
          audience: 'all',
          event: { type: 'content', content: { contentType: 'hosted/file', fileId, ...(caption ? { caption: caption.slice(0, 1000) } : {}) } },
        });
        stored ||= !ack.duplicate;
        if (i === 0 && caption === text) text = null;
      } else {
        text = [text, `(a file could not be received: ${media.contentType ?? 'unknown type'})`].filter(Boolean).join('\n');
      }
    }
    if (text) {
      const ack = await this.conversations.send(principal, conversation.id, {
        clientMessageId: idBase,
        audience: 'all',
        event: { type: 'content', content: { contentType: 'text/plain', message: text } },
      });
      stored ||= !ack.duplicate;
    }
    this.hooks.onInbound?.(channel.kind, stored ? 'stored' : 'duplicate');
    if (stored && optOut === 'stop')
      await this.noteToAgents(conversation.id, `The consumer opted out of ${channelLabel(channel.kind)} (they texted STOP): Parley sends them nothing until they text START.`);
    if (stored && optOut === 'start') await this.noteToAgents(conversation.id, `The consumer opted back in to ${channelLabel(channel.kind)}.`);
  }

  /** Downloads a file the consumer sent and stores it in the conversation; null when it cannot be received. */
  private async storeMedia(channel: ChannelRow, principal: Principal, conversationId: string, url: string, contentType: string | null): Promise<string | null> {
    try {
      const connector = CONNECTORS[channel.kind];
      const target = this.channels.connectorChannel(channel);
      // The provider's URL (Twilio's redirects to its storage); through Parley's outbound client like every call.
      const fetched = connector.fetchMedia
        ? await connector.fetchMedia(target, url)
        : await target.fetch(url, { signal: AbortSignal.timeout(15_000), redirect: 'follow' }).then(async (r) => {
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
            return { body: new Uint8Array(await r.arrayBuffer()), contentType: r.headers.get('content-type') ?? contentType ?? 'application/octet-stream' };
          });
      const type = (fetched.contentType || contentType || 'application/octet-stream').split(';')[0] ?? 'application/octet-stream';
      const name = url.split('/').pop()?.split('?')[0] || 'file';
      const record = await this.files.upload(principal, conversationId, { name, contentType: type, content: Readable.from(Buffer.from(fetched.body)) });
      return record.id;
    } catch (error) {
      this.logger.warn({ err: error, channelId: channel.id }, 'an inbound file could not be stored');
      return null;
    }
  }

  private async inboundStatus(channel: ChannelRow, item: InboundStatus): Promise<void> {
    let q = this.db.selectFrom('channel_messages').selectAll().where('channel_id', '=', channel.id);
    if (item.providerMessageId === '*') {
      if (!item.from || !item.upTo) return;
      // A watermark (Messenger): everything sent to that person up to then, with a little tolerance for clock skew.
      q = q.where('address', '=', item.from).where('created_at', '<=', new Date(item.upTo.getTime() + 5_000));
    } else {
      q = q.where('provider_message_id', '=', item.providerMessageId);
    }
    let rows = await q.execute();
    // A status can overtake the recording of its message (WhatsApp posts `sent` as it answers the send, before Parley
    // has stored the id it answered): look again a few times, over about 1.5 s, before taking it for another sender's.
    for (let wait = 100; rows.length === 0 && item.providerMessageId !== '*' && wait <= 800; wait *= 2) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      rows = await q.execute();
    }
    for (const row of rows) {
      if (STATUS_RANK[item.status] <= STATUS_RANK[row.status] || row.status === 'failed') continue;
      const updated = await this.db
        .updateTable('channel_messages')
        .set({ status: item.status, error: item.error ? `${item.error.code}: ${item.error.message}` : null, updated_at: this.clock.now() })
        .where('id', '=', row.id)
        .where('status', '=', row.status)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) continue;
      if (item.status === 'failed') {
        const outsideWindow = item.error?.code === '131047';
        const reason = outsideWindow ? windowText(channel) : (item.error?.message ?? 'the provider reported a failure');
        await this.noteToAgents(row.conversation_id, `Not delivered by ${channelLabel(channel.kind)}: ${reason}`);
        continue;
      }
      const contact = await this.db.selectFrom('channel_contacts').select('consumer_id').where('channel_id', '=', channel.id).where('address', '=', row.address).executeTakeFirst();
      if (!contact) continue;
      const consumer: Principal = { kind: 'consumer', consumerId: contact.consumer_id, accountId: channel.account_id };
      await this.conversations
        .receipt(consumer, row.conversation_id, { status: item.status === 'read' ? 'read' : 'accept', sequences: [row.sequence] })
        .catch((error: unknown) => this.logger.warn({ err: error, conversationId: row.conversation_id }, 'a delivery status could not be recorded as a receipt'));
    }
  }

  /** The contact for an address, creating it (and its consumer) the first time. */
  private async contact(channel: ChannelRow, address: string) {
    const existing = await this.db.selectFrom('channel_contacts').selectAll().where('channel_id', '=', channel.id).where('address', '=', address).executeTakeFirst();
    if (existing) return existing;
    const consumerId = await this.consumers.forChannelAddress(channel.account_id, { phoneNumber: phoneOf(channel.kind, address) });
    await this.db
      .insertInto('channel_contacts')
      .values({ channel_id: channel.id, address, account_id: channel.account_id, consumer_id: consumerId, last_offered: '[]' })
      .onConflict((oc) => oc.columns(['channel_id', 'address']).doNothing())
      .execute();
    return this.db.selectFrom('channel_contacts').selectAll().where('channel_id', '=', channel.id).where('address', '=', address).executeTakeFirstOrThrow();
  }

  /**
   * IVR deflection: a caller's number gets an SMS conversation, opened by the brand's first message (sent by
   * Parley). The conversation waits for the consumer's answer before it queues, so no agent is taken until then.
   */
  async deflect(principal: Principal, channelId: string, input: { phoneNumber: string; message?: string | undefined }) {
    const channel = await this.channels.row(principal.accountId, channelId);
    if (channel.kind !== 'sms') throw new AppError('VALIDATION_FAILED', 'Calls are deflected to SMS channels', { issues: [{ path: 'channelId', message: 'Not an SMS channel', code: 'invalid' }] });
    if (!channel.enabled) throw new AppError('VALIDATION_FAILED', 'The channel is disabled', { issues: [{ path: 'channelId', message: 'Disabled', code: 'invalid' }] });
    const message = input.message ?? channel.greeting ?? 'Thanks for calling! Reply to this message and we will help you here.';
    const contact = await this.contact(channel, input.phoneNumber);
    if (contact.opted_out_at) throw new AppError('CHANNEL_DELIVERY_FAILED', 'This number opted out of SMS (texted STOP)', { providerCode: 'opted_out', retryable: false });
    const consumer: Principal = { kind: 'consumer', consumerId: contact.consumer_id, accountId: channel.account_id };
    const started = await this.conversations.start(consumer, {
      channel: 'sms',
      device: 'sms',
      ...(channel.default_skill_id ? { skillId: channel.default_skill_id } : {}),
    });
    const conversationId = started.conversation.id;
    await this.db
      .insertInto('channel_conversations')
      .values({ conversation_id: conversationId, channel_id: channel.id, address: input.phoneNumber })
      .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ channel_id: channel.id, address: input.phoneNumber }))
      .execute();
    const { events } = await this.db.transaction().execute(async (trx) => {
      const row = await this.conversations.lockForUpdate(trx, conversationId);
      return { events: await this.conversations.appendSystemMessage(trx, row, message, 'all') };
    });
    await this.conversations.publishCommitted(null, events);
    this.jobs.kick();
    return { conversationId, consumerId: contact.consumer_id, created: started.created };
  }

  // ---------- outbound ----------

  async eventsStored(trx: Trx, conversation: ConversationRow, events: readonly ConversationEvent[]): Promise<void> {
    if (!CHANNEL_CONVERSATIONS.has(conversation.channel)) return;
    for (const event of events) {
      if (event.type !== 'content' && event.type !== 'rich_content') continue;
      if (event.audience !== 'all' || event.originator.role === 'consumer') continue;
      const template = event.clientMessageId ? this.templatesBeingStored.get(`${conversation.id}:${event.clientMessageId}`) : undefined;
      if (template) {
        // Already sent by `sendTemplate`: recorded with its sequence in this transaction, and no delivery job.
        await trx
          .insertInto('channel_messages')
          .values({ ...template, conversation_id: conversation.id, sequence: event.sequence, status: 'sent', error: null, updated_at: this.clock.now() })
          .execute();
        continue;
      }
      await this.jobs.enqueue(trx, this.deliverJob, { conversationId: conversation.id, sequence: event.sequence }, { orderingKey: `channel:${conversation.id}` });
    }
  }

  committed(): void {
    this.jobs.kick();
  }

  /** Sends one event through the conversation's channel. Retries what the provider may accept later. */
  private async deliver(conversationId: string, sequence: number, attempt: number): Promise<void> {
    const link = await this.db.selectFrom('channel_conversations').selectAll().where('conversation_id', '=', conversationId).executeTakeFirst();
    if (!link) return;
    const already = await this.db.selectFrom('channel_messages').select('id').where('conversation_id', '=', conversationId).where('sequence', '=', sequence).executeTakeFirst();
    if (already) return;
    const channel = await this.channels.byId(link.channel_id);
    if (!channel) return;
    const label = channelLabel(channel.kind);
    const fail = (reason: string) => {
      this.hooks.onOutbound?.(channel.kind, 'failed');
      this.logger.warn({ conversationId, sequence, channelId: channel.id, reason }, 'a message could not be delivered through its channel');
      return this.noteToAgents(conversationId, `Not delivered by ${label}: ${reason}`);
    };
    if (!channel.enabled || channel.deleted_at) return fail('the channel is disabled.');
    const contact = await this.db.selectFrom('channel_contacts').selectAll().where('channel_id', '=', channel.id).where('address', '=', link.address).executeTakeFirst();
    if (contact?.opted_out_at) return fail('the consumer opted out (texted STOP); nothing is sent until they text START.');
    const connector = CONNECTORS[channel.kind];
    if (connector.replyWindowHours !== null) {
      const last = contact?.last_inbound_at?.getTime() ?? 0;
      if (this.clock.now().getTime() - last > connector.replyWindowHours * 3600_000) return fail(windowText(channel));
    }
    const [event] = await this.conversations.readEventsFrom(conversationId, sequence, 1, sequence);
    if (!event) return;
    const message = await this.toOutbound(channel, event);
    if (!message) return;
    let result: { providerMessageId: string };
    try {
      result = await connector.send(this.channels.connectorChannel(channel), link.address, message);
    } catch (error) {
      const providerError = error instanceof ProviderError ? error : new ProviderError(error instanceof Error ? error.message : String(error), true);
      if (providerError.code === '21610') {
        await this.db.updateTable('channel_contacts').set({ opted_out_at: this.clock.now() }).where('channel_id', '=', channel.id).where('address', '=', link.address).execute();
      }
      if (providerError.retryable && attempt < this.options.maxAttempts) {
        this.hooks.onOutbound?.(channel.kind, 'retry');
        // Thrown to the job queue, which tries again after its back-off (the job stays first in this conversation's order).
        throw providerError;
      }
      return fail(providerError.code === 'outside_window' ? windowText(channel) : `${providerError.message}${providerError.retryable ? ` (gave up after ${attempt} attempts)` : ''}`);
    }
    await this.db
      .insertInto('channel_messages')
      .values({
        channel_id: channel.id,
        conversation_id: conversationId,
        sequence,
        provider_message_id: result.providerMessageId,
        address: link.address,
        status: 'sent',
        error: null,
        updated_at: this.clock.now(),
      })
      .onConflict((oc) => oc.columns(['channel_id', 'provider_message_id']).doNothing())
      .execute();
    await this.db
      .updateTable('channel_contacts')
      .set({ last_offered: JSON.stringify(message.quickReplies.map((q) => q.payload)) })
      .where('channel_id', '=', channel.id)
      .where('address', '=', link.address)
      .execute();
    this.hooks.onOutbound?.(channel.kind, 'sent');
  }

  // ---------- templates (WhatsApp) ----------

  /** Template messages `sendTemplate` already sent, while it stores them (key: conversation id and clientMessageId). */
  private readonly templatesBeingStored = new Map<string, { channel_id: string; address: string; provider_message_id: string }>();

  /**
   * Sends an approved WhatsApp template in a WhatsApp conversation (the only message WhatsApp allows once 24 hours
   * have passed since the consumer last wrote), then stores it in the conversation as the sender's message. It is sent
   * here, at once, so a refusal (an unknown template, wrong parameters) is the caller's CHANNEL_DELIVERY_FAILED and
   * nothing is stored. It can never be sent a second time by the outbound job: the stored event's clientMessageId is
   * known to `eventsStored` (in this process, during this call), which records its `channel_messages` row (sequence and
   * WhatsApp's id, for statuses) in the very transaction that stores the event instead of enqueuing a delivery job.
   */
  async sendTemplate(principal: Principal, conversationId: string, input: { name: string; language: string; parameters: string[] }): Promise<SendAck> {
    const conversation = await this.conversations.get(principal, conversationId);
    if (principal.kind === 'consumer') throw new AppError('FORBIDDEN', 'Consumers do not send templates');
    if (principal.kind === 'user' && conversation.assignedAgentId !== principal.userId && !isSupervisor(principal)) {
      throw new AppError('NOT_A_PARTICIPANT', 'Take the conversation before writing to it');
    }
    if (conversation.state !== 'open') throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed; start a new one');
    const link = await this.db.selectFrom('channel_conversations').selectAll().where('conversation_id', '=', conversation.id).executeTakeFirst();
    const channel = link ? await this.channels.byId(link.channel_id) : undefined;
    const notHere = (message: string) => new AppError('VALIDATION_FAILED', message, { issues: [{ path: 'conversationId', message, code: 'invalid' }] });
    if (!link || channel?.kind !== 'whatsapp') throw notHere('Templates are WhatsApp messages: this conversation is not on a WhatsApp channel');
    if (!channel.enabled || channel.deleted_at) throw notHere('The WhatsApp channel of this conversation is disabled');
    const template = { name: input.name, language: input.language, parameters: input.parameters };
    const text = templateText(template);
    let sent: { providerMessageId: string };
    try {
      sent = await CONNECTORS.whatsapp.send(this.channels.connectorChannel(channel), link.address, { text, quickReplies: [], media: null, template });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      this.hooks.onOutbound?.(channel.kind, 'failed');
      throw new AppError('CHANNEL_DELIVERY_FAILED', `The template was not sent: ${error.message}`, { providerCode: error.code, retryable: error.retryable });
    }
    this.hooks.onOutbound?.(channel.kind, 'sent');
    const clientMessageId = `template:${sent.providerMessageId}`.slice(0, 128);
    const key = `${conversation.id}:${clientMessageId}`;
    this.templatesBeingStored.set(key, { channel_id: channel.id, address: link.address, provider_message_id: sent.providerMessageId });
    try {
      return await this.conversations.send(principal, conversation.id, { clientMessageId, audience: 'all', event: { type: 'content', content: { contentType: 'text/plain', message: text } } });
    } catch (error) {
      this.logger.error({ err: error, conversationId, providerMessageId: sent.providerMessageId }, 'a template was sent but could not be stored in its conversation');
      throw error;
    } finally {
      this.templatesBeingStored.delete(key);
    }
  }

  private async toOutbound(channel: ChannelRow, event: ConversationEvent): Promise<OutboundMessage | null> {
    if (event.type === 'rich_content') {
      const text = event.fallbackText ?? '';
      return text ? { text, quickReplies: quickRepliesOf(event.quickReplies), media: null } : null;
    }
    if (event.type !== 'content') return null;
    const content = event.content;
    if (content.contentType === 'text/plain') return { text: content.message, quickReplies: quickRepliesOf(content.quickReplies), media: null };
    const url = this.media.urlFor(channel.account_id, content.file.fileId);
    return {
      text: content.file.caption ?? '',
      quickReplies: quickRepliesOf(content.quickReplies),
      media: { url, contentType: content.file.contentType, fileName: content.file.name, ...(content.file.caption ? { caption: content.file.caption } : {}) },
    };
  }

  /** An internal note (agents and managers only) in the conversation, published like any event. */
  private async noteToAgents(conversationId: string, text: string): Promise<void> {
    const events = await this.db.transaction().execute(async (trx) => {
      const row = await this.conversations.lockForUpdate(trx, conversationId);
      return this.conversations.appendSystemMessage(trx, row, text, 'agents_and_managers');
    });
    await this.conversations.publishCommitted(null, events);
  }
}

function quickRepliesOf(replies: { replies: { title: string; click: { actions: { text: string }[] } }[] } | undefined): OutboundMessage['quickReplies'] {
  return (replies?.replies ?? []).map((r) => ({ title: r.title, payload: r.click.actions[0]?.text ?? r.title }));
}

/**
 * The idempotency id of an inbound message (its events' clientMessageId, at most 128 characters with their suffix):
 * the kind and the provider's id, or the id's SHA-256 when that is too long. Never cut: the Connector API allows ids of
 * 200 characters, and two ids sharing their beginning are different messages.
 */
function inboundRef(kind: ChannelRow['kind'], providerMessageId: string): string {
  const ref = `${kind}:${providerMessageId}`;
  return ref.length <= 120 ? ref : `${kind}:sha256:${createHash('sha256').update(providerMessageId).digest('base64url')}`;
}

/** What the conversation shows of a template (its body is kept by Meta, not by Parley): its name, language and values. */
function templateText(template: { name: string; language: string; parameters: string[] }): string {
  const values = template.parameters.length > 0 ? `: ${template.parameters.join(' · ')}` : '';
  return `WhatsApp template ${template.name} (${template.language})${values}`;
}

function windowText(channel: ChannelRow): string {
  return channel.kind === 'whatsapp'
    ? "more than 24 hours have passed since the consumer's last message: WhatsApp allows only an approved template until they write again."
    : `more than 24 hours have passed since the consumer's last message: ${channelLabel(channel.kind)} lets the brand write only within 24 hours of it, until they write again.`;
}

function deviceOf(kind: ChannelRow['kind']): DeviceType {
  return kind === 'connector' ? 'other' : kind;
}

/** The phone number an address stands for, when it is one (SMS: E.164; WhatsApp: the wa_id's digits). */
function phoneOf(kind: ChannelRow['kind'], address: string): string | null {
  if (kind === 'sms') return /^\+[1-9]\d{6,14}$/.test(address) ? address : null;
  if (kind === 'whatsapp') return /^\+?[1-9]\d{6,14}$/.test(address) ? `+${address.replace(/^\+/, '')}` : null;
  return null;
}

function optOutOf(item: InboundMessage): 'stop' | 'start' | 'help' | null {
  const value = (item as InboundMessage & { optOut?: unknown }).optOut;
  return value === 'stop' || value === 'start' || value === 'help' ? value : null;
}
