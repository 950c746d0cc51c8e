import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type {
  CreateWebhookRequestSchema,
  ListWebhookDeliveriesQuerySchema,
  RotateWebhookSecretRequestSchema,
  UpdateWebhookRequestSchema,
  WebhookDelivery,
  WebhookDeliveryType,
  WebhookDisabledNotice,
  WebhookPayload,
  WebhookSubscription,
} from '@parley/protocol';
import type { Selectable, Transaction } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import { defineJob, type JobDefinition, type JobQueue } from '../../infra/jobs/index.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { ConversationEventSink } from '../conversations/index.ts';
import { postWebhook } from './post-webhook.ts';
import { newWebhookSecret, secretPrefix, signatureHeader } from './sign-webhook.ts';
import { type ActiveSubscription, SubscriptionCache } from './subscription-cache.ts';
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from './tables.ts';
import { payloadForActivity, payloadForEvent } from './webhook-events.ts';
import { SecretBox } from '../../infra/crypto/secret-box.ts';
import type { OutboundFetch } from '../../infra/outbound/outbound-http.ts';

type Trx = Transaction<Database>;
type SubscriptionRow = Selectable<WebhookSubscriptionsTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export interface WebhookOptions {
  timeoutMs: number;
  retryBaseMs: number;
  maxAttempts: number;
  disableAfterFailures: number;
  disableMinFailingMs: number;
}

export interface WebhookHooks {
  onAttempt?(outcome: 'delivered' | 'retry' | 'failed', durationMs: number): void;
  /** Parley disabled a subscription after repeated failures: tell the account's admins (after commit). */
  onDisabled?(accountId: string, notice: WebhookDisabledNotice): void;
}

const DeliveryJobPayload = z.object({ deliveryId: z.uuid() });
const DEFAULT_GRACE_SECONDS = 24 * 3600;
const RETRY_MAX_DELAY_MS = 3600_000;
const DISABLED_NOT_SENT = 'Not sent: the subscription is disabled';

/** The associated data of a subscription's sealed secrets: a sealed secret moved to another row does not open. */
const secretContext = (subscriptionId: string) => `webhook-subscription:${subscriptionId}`;

function toSubscription(row: SubscriptionRow, now: Date, secret: string): WebhookSubscription {
  const graceActive = row.previous_secret !== null && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    description: row.description,
    status: row.status,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at?.toISOString() ?? null,
    consecutiveFailures: row.consecutive_failures,
    secretPrefix: secretPrefix(secret),
    previousSecretExpiresAt: graceActive ? (row.previous_secret_expires_at?.toISOString() ?? null) : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toDelivery(row: DeliveryRow & { run_at: Date | null }): WebhookDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventType: row.event_type,
    conversationId: row.conversation_id,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    durationMs: row.duration_ms,
    replayOf: row.replay_of,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    nextAttemptAt: row.status === 'pending' && row.run_at ? row.run_at.toISOString() : null,
  };
}

/** Webhooks are an admin's business (or an integration's with a `webhooks:*` scope; the route checks which). */
function accountOf(principal: Principal): string {
  if (principal.kind === 'consumer' || (principal.kind === 'user' && principal.role !== 'admin')) throw new AppError('FORBIDDEN', 'Only admins manage webhooks');
  return principal.accountId;
}

const notFound = () => new AppError('NOT_FOUND', 'Webhook subscription not found');

/**
 * Outbound webhooks: subscriptions of an account's URLs to conversation event types, and their deliveries.
 *
 * Producing: `sink` is a conversation event sink. In the transaction that stores a conversation's events it inserts a
 * delivery row and enqueues its job for every matching active subscription (known from an in-memory cache, so an
 * account without subscriptions costs no statement). Jobs of one subscription and conversation share an ordering
 * key, so they are delivered one at a time in event order: a later one waits while an earlier one is retried.
 *
 * Delivering: the `webhook-delivery` job signs and POSTs the stored body. A non-2xx answer, a network error or a time-out
 * is retried with exponential back-off up to `maxAttempts`; each attempt is recorded on the delivery row. Failed attempts
 * are counted per subscription (reset by a success); past `disableAfterFailures`, when it has failed for at least
 * `disableMinFailingMs`, the subscription is disabled with the reason, its pending deliveries are marked failed, and
 * the admins are told.
 */
export class WebhookService {
  private readonly cache: SubscriptionCache<Trx>;
  readonly deliveryJob: JobDefinition<{ deliveryId: string }>;
  readonly sink: ConversationEventSink;

  constructor(
    private readonly db: Db,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Parley's outbound HTTP client (infra/outbound): refuses addresses a tenant may not reach. */
    private readonly fetch: OutboundFetch,
    /** Seals the signing secrets at rest, as channel credentials are (infra/crypto). */
    private readonly box: SecretBox,
    private readonly options: WebhookOptions,
    private readonly hooks: WebhookHooks = {},
  ) {
    this.cache = new SubscriptionCache<Trx>((trx, accountId) => this.loadActive(trx, accountId));
    this.deliveryJob = defineJob({
      queue: 'webhook-delivery',
      version: 1,
      payload: DeliveryJobPayload,
      maxAttempts: options.maxAttempts,
      backoff: { baseMs: options.retryBaseMs, maxMs: Math.max(options.retryBaseMs, RETRY_MAX_DELAY_MS) },
      handle: ({ deliveryId }) => this.deliver(deliveryId),
    });
    jobs.register(this.deliveryJob);
    this.sink = {
      eventsStored: async (trx, conversation, events) => {
        const subscriptions = await this.cache.get(trx, conversation.account_id);
        if (subscriptions.length === 0) return;
        const payloads: WebhookPayload[] = [];
        for (const event of events) {
          const payload = payloadForEvent({ id: randomUUID(), createdAt: event.createdAt, accountId: conversation.account_id }, event);
          if (payload) payloads.push(payload);
        }
        await this.enqueue(trx, conversation.account_id, subscriptions, payloads);
      },
      activity: async (trx, conversation, activity) => {
        if (activity.type !== 'transferred') return;
        const subscriptions = await this.cache.get(trx, conversation.account_id);
        if (subscriptions.length === 0) return;
        const base = { id: randomUUID(), createdAt: this.clock.now().toISOString(), accountId: conversation.account_id };
        await this.enqueue(trx, conversation.account_id, subscriptions, [payloadForActivity(base, conversation.id, activity)]);
      },
      committed: () => this.jobs.kick(),
    };
  }

  // ---------- subscriptions ----------

  async list(principal: Principal): Promise<WebhookSubscription[]> {
    const accountId = accountOf(principal);
    const rows = await this.db.selectFrom('webhook_subscriptions').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    const now = this.clock.now();
    return rows.map((row) => this.toSubscription(row, now));
  }

  async get(principal: Principal, id: string): Promise<WebhookSubscription> {
    return this.toSubscription(await this.find(accountOf(principal), id), this.clock.now());
  }

  async create(principal: Principal, input: z.infer<typeof CreateWebhookRequestSchema>): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const accountId = accountOf(principal);
    const secret = newWebhookSecret();
    const now = this.clock.now();
    const id = randomUUID();
    const row = await this.db
      .insertInto('webhook_subscriptions')
      .values({
        id,
        account_id: accountId,
        url: input.url,
        event_types: JSON.stringify(input.eventTypes),
        description: input.description,
        status: 'active',
        disabled_reason: null,
        disabled_at: null,
        secret: this.box.seal(secret, secretContext(id)),
        previous_secret: null,
        previous_secret_expires_at: null,
        failing_since: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.cache.invalidate(accountId);
    return { subscription: toSubscription(row, now, secret), secret };
  }

  async update(principal: Principal, id: string, input: z.infer<typeof UpdateWebhookRequestSchema>): Promise<WebhookSubscription> {
    const accountId = accountOf(principal);
    const now = this.clock.now();
    const row = await this.db.transaction().execute(async (trx) => {
      const current = await this.find(accountId, id, trx, { forUpdate: true });
      const changes: Partial<{
        url: string;
        event_types: string;
        description: string;
        status: 'active' | 'disabled';
        disabled_reason: string | null;
        disabled_at: Date | null;
        consecutive_failures: number;
        failing_since: Date | null;
        updated_at: Date;
      }> = { updated_at: now };
      if (input.url !== undefined) changes.url = input.url;
      if (input.eventTypes !== undefined) changes.event_types = JSON.stringify(input.eventTypes);
      if (input.description !== undefined) changes.description = input.description;
      if (input.status === 'active' && current.status !== 'active')
        Object.assign(changes, { status: 'active', disabled_reason: null, disabled_at: null, consecutive_failures: 0, failing_since: null });
      if (input.status === 'disabled' && current.status !== 'disabled') {
        const by = principal.kind === 'user' ? principal.name : 'an API key';
        Object.assign(changes, { status: 'disabled', disabled_reason: `Disabled by ${by}`, disabled_at: now });
        await this.failPending(trx, id, DISABLED_NOT_SENT);
      }
      return trx.updateTable('webhook_subscriptions').set(changes).where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    });
    this.cache.invalidate(accountId);
    return this.toSubscription(row, now);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const accountId = accountOf(principal);
    const deleted = await this.db.deleteFrom('webhook_subscriptions').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound();
    // Its deliveries went with it (cascade); their jobs find nothing to do.
    this.cache.invalidate(accountId);
  }

  async rotateSecret(principal: Principal, id: string, input: z.infer<typeof RotateWebhookSecretRequestSchema>): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const accountId = accountOf(principal);
    const current = await this.find(accountId, id);
    const secret = newWebhookSecret();
    const now = this.clock.now();
    const graceSeconds = input.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const row = await this.db
      .updateTable('webhook_subscriptions')
      .set({
        secret: this.box.seal(secret, secretContext(id)),
        previous_secret: graceSeconds > 0 ? this.box.seal(this.openSecret(id, current.secret), secretContext(id)) : null,
        previous_secret_expires_at: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null,
        updated_at: now,
      })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound();
    return { subscription: toSubscription(row, now, secret), secret };
  }

  /**
   * Seals the signing secrets of subscriptions stored before they were sealed (kept as they were, `whsec_…`). Run at
   * start-up; each row is changed only if it still holds what was read, so nodes starting together do it once.
   */
  async sealStoredSecrets(): Promise<number> {
    const rows = await this.db
      .selectFrom('webhook_subscriptions')
      .select(['id', 'secret', 'previous_secret'])
      .where((eb) => eb.or([eb('secret', 'not like', `${SecretBox.sealedPrefix}%`), eb('previous_secret', 'not like', `${SecretBox.sealedPrefix}%`)]))
      .execute();
    let sealed = 0;
    for (const row of rows) {
      const seal = (stored: string) => (SecretBox.isSealed(stored) ? stored : this.box.seal(stored, secretContext(row.id)));
      const changed = await this.db
        .updateTable('webhook_subscriptions')
        .set({ secret: seal(row.secret), previous_secret: row.previous_secret === null ? null : seal(row.previous_secret) })
        .where('id', '=', row.id)
        .where('secret', '=', row.secret)
        .executeTakeFirst();
      sealed += Number(changed.numUpdatedRows);
    }
    if (sealed > 0) this.logger.info({ subscriptions: sealed }, 'sealed the signing secrets of subscriptions stored before they were sealed');
    return sealed;
  }

  /** A stored signing secret in the clear (one stored before secrets were sealed is as it was). */
  private openSecret(subscriptionId: string, stored: string): string {
    return this.box.openStored(stored, secretContext(subscriptionId));
  }

  private toSubscription(row: SubscriptionRow, now: Date): WebhookSubscription {
    return toSubscription(row, now, this.openSecret(row.id, row.secret));
  }

  // ---------- the delivery log ----------

  async listDeliveries(principal: Principal, id: string, query: z.infer<typeof ListWebhookDeliveriesQuerySchema>): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    const accountId = accountOf(principal);
    await this.find(accountId, id);
    let select = this.db
      .selectFrom('webhook_deliveries as d')
      .leftJoin('jobs as j', 'j.id', 'd.job_id')
      .selectAll('d')
      .select('j.run_at')
      .where('d.account_id', '=', accountId)
      .where('d.subscription_id', '=', id);
    if (query.before) select = select.where('d.seq', '<', query.before);
    const rows = await select
      .orderBy('d.seq', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(toDelivery), nextCursor: rows.length > query.limit && last ? String(last.seq) : null };
  }

  /** A new delivery of the same event (same event id and body), queued behind the conversation's pending ones. */
  async replay(principal: Principal, id: string, deliveryId: string): Promise<WebhookDelivery> {
    const accountId = accountOf(principal);
    const subscription = await this.find(accountId, id);
    const original = await this.db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', accountId).where('subscription_id', '=', id).where('id', '=', deliveryId).executeTakeFirst();
    if (!original) throw new AppError('NOT_FOUND', 'Delivery not found');
    if (subscription.status !== 'active' && original.event_type !== 'ping') throw new AppError('CONFLICT', 'The subscription is disabled: enable it before replaying deliveries');
    const row = await this.db.transaction().execute((trx) =>
      this.insertDelivery(trx, {
        accountId,
        subscriptionId: id,
        eventId: original.event_id,
        eventType: original.event_type,
        conversationId: original.conversation_id,
        body: original.body,
        replayOf: original.id,
      }),
    );
    this.jobs.kick();
    return toDelivery({ ...row, run_at: row.created_at });
  }

  /** Sends a `ping` event (also to a disabled subscription, to check the receiver before enabling it again). */
  async ping(principal: Principal, id: string): Promise<WebhookDelivery> {
    const accountId = accountOf(principal);
    await this.find(accountId, id);
    const payload: WebhookPayload = {
      id: randomUUID(),
      type: 'ping',
      createdAt: this.clock.now().toISOString(),
      accountId,
      conversationId: null,
      data: { subscriptionId: id, message: 'A test delivery from Parley.' },
    };
    const row = await this.db
      .transaction()
      .execute((trx) => this.insertDelivery(trx, { accountId, subscriptionId: id, eventId: payload.id, eventType: 'ping', conversationId: null, body: JSON.stringify(payload), replayOf: null }));
    this.jobs.kick();
    return toDelivery({ ...row, run_at: row.created_at });
  }

  // ---------- producing ----------

  private async loadActive(trx: Trx, accountId: string): Promise<ActiveSubscription[]> {
    const rows = await trx.selectFrom('webhook_subscriptions').select(['id', 'event_types']).where('account_id', '=', accountId).where('status', '=', 'active').execute();
    return rows.map((row) => ({ id: row.id, eventTypes: new Set(row.event_types) }));
  }

  private async enqueue(trx: Trx, accountId: string, subscriptions: readonly ActiveSubscription[], payloads: readonly WebhookPayload[]): Promise<void> {
    for (const payload of payloads) {
      if (payload.type === 'ping') continue;
      const body = JSON.stringify(payload);
      for (const subscription of subscriptions) {
        if (!subscription.eventTypes.has(payload.type)) continue;
        await this.insertDelivery(trx, { accountId, subscriptionId: subscription.id, eventId: payload.id, eventType: payload.type, conversationId: payload.conversationId, body, replayOf: null });
      }
    }
  }

  private async insertDelivery(
    trx: Trx,
    d: { accountId: string; subscriptionId: string; eventId: string; eventType: WebhookDeliveryType; conversationId: string | null; body: string; replayOf: string | null },
  ): Promise<DeliveryRow> {
    const id = randomUUID();
    // One key per subscription and conversation: its deliveries go one at a time, in the order they were enqueued.
    const orderingKey = `webhook:${d.subscriptionId}:${d.conversationId ?? 'ping'}`;
    const jobId = await this.jobs.enqueue(trx, this.deliveryJob, { deliveryId: id }, { orderingKey });
    return trx
      .insertInto('webhook_deliveries')
      .values({
        id,
        account_id: d.accountId,
        subscription_id: d.subscriptionId,
        event_id: d.eventId,
        event_type: d.eventType,
        conversation_id: d.conversationId,
        body: d.body,
        status: 'pending',
        last_status_code: null,
        last_error: null,
        duration_ms: null,
        job_id: jobId,
        replay_of: d.replayOf,
        created_at: this.clock.now(),
        delivered_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  // ---------- delivering ----------

  /** The job: one attempt. Throws to be retried; returns when the delivery is settled (or has nothing left to do). */
  private async deliver(deliveryId: string): Promise<void> {
    const found = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .select([
        'd.id',
        'd.account_id',
        'd.event_id',
        'd.event_type',
        'd.body',
        'd.status',
        'd.attempts',
        's.id as subscription_id',
        's.url',
        's.status as subscription_status',
        's.secret',
        's.previous_secret',
        's.previous_secret_expires_at',
      ])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    if (found?.status !== 'pending') return; // deleted with its subscription, or settled by an earlier run
    if (found.subscription_status !== 'active' && found.event_type !== 'ping') {
      await this.db.updateTable('webhook_deliveries').set({ status: 'failed', last_error: DISABLED_NOT_SENT }).where('id', '=', deliveryId).where('status', '=', 'pending').execute();
      return;
    }
    const now = this.clock.now();
    const secrets = [this.openSecret(found.subscription_id, found.secret)];
    if (found.previous_secret && found.previous_secret_expires_at && found.previous_secret_expires_at > now) secrets.push(this.openSecret(found.subscription_id, found.previous_secret));
    const result = await postWebhook(this.fetch, {
      url: found.url,
      body: found.body,
      timeoutMs: this.options.timeoutMs,
      headers: {
        'parley-event-id': found.event_id,
        'parley-event-type': found.event_type,
        'parley-delivery-id': found.id,
        'parley-signature': signatureHeader(found.body, secrets, Math.floor(now.getTime() / 1000)),
      },
    });
    const attempts = found.attempts + 1;
    if (result.ok) {
      await this.db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', attempts, last_status_code: result.statusCode, last_error: null, duration_ms: result.durationMs, delivered_at: this.clock.now() })
        .where('id', '=', deliveryId)
        .execute();
      await this.db.updateTable('webhook_subscriptions').set({ consecutive_failures: 0, failing_since: null }).where('id', '=', found.subscription_id).where('consecutive_failures', '>', 0).execute();
      this.hooks.onAttempt?.('delivered', result.durationMs);
      return;
    }
    // Counted first: when this failure disables the subscription, this delivery is not retried either.
    const disabled = await this.countFailure(found.account_id, found.subscription_id, found.url);
    const settled = disabled || attempts >= this.options.maxAttempts;
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: settled ? 'failed' : 'pending', attempts, last_status_code: result.statusCode, last_error: result.error, duration_ms: result.durationMs })
      .where('id', '=', deliveryId)
      .execute();
    this.hooks.onAttempt?.(settled ? 'failed' : 'retry', result.durationMs);
    if (settled) return;
    throw new Error(result.error ?? 'Delivery failed');
  }

  /** Counts a failed attempt; disables the subscription at the threshold. Returns whether it is disabled now. */
  private async countFailure(accountId: string, subscriptionId: string, url: string): Promise<boolean> {
    const now = this.clock.now();
    const counted = await this.db
      .updateTable('webhook_subscriptions')
      .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1), failing_since: eb.fn.coalesce('failing_since', eb.val(now)) }))
      .where('id', '=', subscriptionId)
      .returning(['consecutive_failures', 'failing_since', 'status'])
      .executeTakeFirst();
    if (counted?.status !== 'active') return counted?.status === 'disabled';
    const failingMs = now.getTime() - (counted.failing_since ?? now).getTime();
    if (counted.consecutive_failures < this.options.disableAfterFailures || failingMs < this.options.disableMinFailingMs) return false;
    const reason = `Disabled by Parley after ${counted.consecutive_failures} failed delivery attempts in a row (failing since ${(counted.failing_since ?? now).toISOString()})`;
    const disabled = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('webhook_subscriptions')
        .set({ status: 'disabled', disabled_reason: reason, disabled_at: now, updated_at: now })
        .where('id', '=', subscriptionId)
        .where('status', '=', 'active')
        .returning('id')
        .executeTakeFirst();
      if (row) await this.failPending(trx, subscriptionId, DISABLED_NOT_SENT);
      return row !== undefined;
    });
    if (!disabled) return true; // another node disabled it first and told the admins
    this.cache.invalidate(accountId);
    this.logger.warn({ accountId, subscriptionId, url, failures: counted.consecutive_failures }, 'webhook subscription disabled after repeated failures');
    this.hooks.onDisabled?.(accountId, { kind: 'webhook_disabled', subscriptionId, url, reason, at: now.toISOString() });
    return true;
  }

  private async failPending(trx: Trx, subscriptionId: string, reason: string): Promise<void> {
    await trx.updateTable('webhook_deliveries').set({ status: 'failed', last_error: reason }).where('subscription_id', '=', subscriptionId).where('status', '=', 'pending').execute();
  }

  private async find(accountId: string, id: string, handle: Db | Trx = this.db, options: { forUpdate?: boolean } = {}): Promise<SubscriptionRow> {
    let select = handle.selectFrom('webhook_subscriptions').selectAll().where('account_id', '=', accountId).where('id', '=', id);
    if (options.forUpdate) select = select.forUpdate();
    const row = await select.executeTakeFirst();
    if (!row) throw notFound();
    return row;
  }
}
