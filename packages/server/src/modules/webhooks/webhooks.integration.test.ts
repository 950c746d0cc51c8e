import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebhookDelivery, type WebhookEventType, type WebhookPayload, WebhookPayloadSchema, WebhookSubscriptionSchema } from '@parley/protocol';
import { verifyWebhookSignature, type WebhookVerification } from '@parley/sdk/webhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';
import { newWebhookSecret } from './sign-webhook.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  payload: WebhookPayload;
  verification: WebhookVerification;
  answered: number;
}

/**
 * A webhook receiver as a brand would write one: it checks every delivery's signature with the SDK's documented
 * function and keeps what it got. `answer` decides each status code (200 unless told otherwise).
 */
async function startReceiver() {
  const received: Received[] = [];
  let secrets: string[] = [];
  let answer: (index: number) => number = () => 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verification = verifyWebhookSignature({ body, signatureHeader: req.headers['parley-signature'] as string | undefined, secrets });
      const status = verification.valid ? answer(received.length) : 401;
      received.push({ headers: req.headers, body, payload: WebhookPayloadSchema.parse(JSON.parse(body)), verification, answered: status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/parley`,
    received,
    /** Deliveries the receiver accepted (2xx), in arrival order. */
    accepted: () => received.filter((r) => r.answered < 300),
    useSecrets(list: string[]) {
      secrets = list;
    },
    answerWith(fn: (index: number) => number) {
      answer = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe(`outbound webhooks (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    t = await startTestServer({
      listen: true,
      env: { WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_MAX_ATTEMPTS: '6', WEBHOOK_DISABLE_AFTER_FAILURES: '5', WEBHOOK_DISABLE_MIN_FAILING_MS: '0' },
    });
    a = actors(t);
    admin = await a.adminToken();
  });
  afterEach(async () => {
    // Each test has its own subscriptions: remove them so the next test's receiver sees only its own deliveries.
    const list = await call(t.server.app, 'listWebhooks', { token: admin });
    for (const s of list.body.items) await call(t.server.app, 'deleteWebhook', { token: admin, params: { id: s.id } });
  });
  afterAll(async () => {
    await t.close();
    for (const r of receivers) await r.close();
  });

  async function subscribe(eventTypes: WebhookEventType[], token = admin) {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await call(t.server.app, 'createWebhook', { token, body: { url: receiver.url, eventTypes, description: 'test receiver' } });
    expect(created.status).toBe(201);
    receiver.useSecrets([created.body.secret]);
    return { receiver, subscription: created.body.subscription, secret: created.body.secret };
  }

  const deliveries = async (id: string, query: Record<string, string | number> = {}): Promise<WebhookDelivery[]> => {
    const r = await call(t.server.app, 'listWebhookDeliveries', { token: admin, params: { id }, query: query as never });
    expect(r.status).toBe(200);
    return r.body.items;
  };

  const send = async (token: string, conversationId: string, message: string) => {
    const r = await call(t.server.app, 'sendEvent', { token, params: { conversationId }, body: text(message) });
    expect(r.status).toBe(201);
  };

  /** The delivery log once no delivery is pending: the receiver sees a request before Parley records its answer. */
  const settledDeliveries = async (id: string): Promise<WebhookDelivery[]> => {
    let log: WebhookDelivery[] = [];
    await waitUntil(async () => {
      log = await deliveries(id);
      return log.every((d) => d.status !== 'pending');
    });
    return log;
  };

  it('delivers a conversation from opened to closed, signed, in order, with the documented headers', async () => {
    const { receiver, subscription } = await subscribe(['conversation.opened', 'conversation.message', 'conversation.assigned', 'conversation.transferred', 'conversation.closed']);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const m of ['one', 'two', 'three']) await send(consumer.token, conversationId, m);
    expect((await call(t.server.app, 'takeConversation', { token: admin, params: { conversationId } })).status).toBe(200);
    await send(admin, conversationId, 'Hello, I am here');
    const skill = await call(t.server.app, 'createSkill', { token: admin, body: { name: 'Billing' } });
    const skillId = skill.body.id;
    expect((await call(t.server.app, 'transferConversation', { token: admin, params: { conversationId }, body: { skillId, note: 'billing question' } })).status).toBe(200);
    expect((await call(t.server.app, 'closeConversation', { token: consumer.token, params: { conversationId } })).status).toBe(200);

    await waitUntil(() => receiver.received.some((r) => r.payload.type === 'conversation.closed'));
    const got = receiver.accepted();
    expect(got.every((r) => r.verification.valid)).toBe(true);
    const types = got.map((r) => r.payload.type);
    expect(types[0]).toBe('conversation.opened');
    expect(types.at(-1)).toBe('conversation.closed');
    expect(types).toContain('conversation.assigned');
    expect(types.filter((x) => x === 'conversation.transferred')).toHaveLength(1);
    // Messages everyone sees, in the conversation's order; the transfer note (internal) is not a message event.
    const texts = got.flatMap((r) =>
      r.payload.type === 'conversation.message' && r.payload.data.event.type === 'content' && r.payload.data.event.content.contentType === 'text/plain' ? [r.payload.data.event.content.message] : [],
    );
    expect(texts.filter((m) => ['one', 'two', 'three', 'Hello, I am here'].includes(m))).toEqual(['one', 'two', 'three', 'Hello, I am here']);
    expect(texts.some((m) => m.includes('billing question'))).toBe(false);
    const sequences = got.flatMap((r) => ('event' in r.payload.data ? [r.payload.data.event.sequence] : []));
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    const transferred = got.find((r) => r.payload.type === 'conversation.transferred')?.payload;
    expect(transferred).toMatchObject({ conversationId, accountId: t.accountId, data: { toSkillId: skillId, note: 'billing question', escalation: null } });
    expect(got[0]?.payload).toMatchObject({ type: 'conversation.opened', conversationId, data: { reopened: false } });

    const first = got[0];
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers['user-agent']).toBe('Parley-Webhooks/1');
    expect(first?.headers['parley-event-type']).toBe('conversation.opened');
    expect(first?.headers['parley-event-id']).toBe(first?.payload.id);
    expect(first?.headers['parley-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const log = await settledDeliveries(subscription.id);
    expect(log).toHaveLength(got.length);
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastStatusCode === 200 && d.deliveredAt !== null)).toBe(true);
    expect(log.map((d) => d.id)).toEqual(
      got
        .map((r) => r.headers['parley-delivery-id'])
        .slice()
        .reverse(),
    );
  });

  it('retries after the receiver answers 500, and keeps the conversation in order while it does', async () => {
    const { receiver, subscription } = await subscribe(['conversation.message']);
    receiver.answerWith((index) => (index < 2 ? 500 : 200));
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const m of ['first', 'second', 'third', 'fourth']) await send(consumer.token, conversationId, m);

    await waitUntil(() => receiver.accepted().filter((r) => r.payload.conversationId === conversationId).length >= 4);
    const mine = receiver.received.filter((r) => r.payload.conversationId === conversationId && r.payload.type === 'conversation.message');
    const message = (r: Received) =>
      r.payload.type === 'conversation.message' && r.payload.data.event.type === 'content' && r.payload.data.event.content.contentType === 'text/plain' ? r.payload.data.event.content.message : '';
    // Every request the receiver saw, in arrival order: the first message three times, then the others once each.
    expect(mine.map((r) => [message(r), r.answered])).toEqual([
      ['first', 500],
      ['first', 500],
      ['first', 200],
      ['second', 200],
      ['third', 200],
      ['fourth', 200],
    ]);
    // A retry is the same event and delivery, signed again.
    expect(new Set(mine.slice(0, 3).map((r) => r.headers['parley-delivery-id'])).size).toBe(1);
    expect(new Set(mine.slice(0, 3).map((r) => r.body)).size).toBe(1);

    const log = await settledDeliveries(subscription.id);
    const firstDelivery = log.find((d) => d.id === mine[0]?.headers['parley-delivery-id']);
    expect(firstDelivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(log.filter((d) => d.id !== firstDelivery?.id).every((d) => d.attempts === 1)).toBe(true);
    expect((await call(t.server.app, 'getWebhook', { token: admin, params: { id: subscription.id } })).body.consecutiveFailures).toBe(0);
  });

  it('records failed attempts in the delivery log, pages it newest first, and replays a delivery as a new delivery of the same event', async () => {
    const { receiver, subscription } = await subscribe(['conversation.message']);
    receiver.answerWith((index) => (index === 0 ? 503 : 200));
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const m of ['a', 'b', 'c']) await send(consumer.token, conversationId, m);
    await waitUntil(() => receiver.accepted().length >= 3);

    await settledDeliveries(subscription.id);
    const page1 = await deliveries(subscription.id, { limit: 2 });
    expect(page1).toHaveLength(2);
    const all = await deliveries(subscription.id);
    expect(all).toHaveLength(3);
    const next = await call(t.server.app, 'listWebhookDeliveries', { token: admin, params: { id: subscription.id }, query: { limit: 2 } });
    const page2 = await deliveries(subscription.id, { limit: 2, before: next.body.nextCursor ?? '' });
    expect([...page1, ...page2].map((d) => d.id)).toEqual(all.map((d) => d.id));
    const oldest = all.at(-1);
    expect(oldest).toMatchObject({ attempts: 2, status: 'delivered', lastStatusCode: 200 });

    const replayed = await call(t.server.app, 'replayWebhookDelivery', { token: admin, params: { id: subscription.id, deliveryId: oldest?.id ?? '' } });
    expect(replayed.status).toBe(201);
    expect(replayed.body).toMatchObject({ eventId: oldest?.eventId, replayOf: oldest?.id, status: 'pending', attempts: 0 });
    expect(replayed.body.id).not.toBe(oldest?.id);
    await waitUntil(() => receiver.received.some((r) => r.headers['parley-delivery-id'] === replayed.body.id));
    const again = receiver.received.find((r) => r.headers['parley-delivery-id'] === replayed.body.id);
    const original = receiver.accepted().find((r) => r.headers['parley-delivery-id'] === oldest?.id);
    expect(again?.verification.valid).toBe(true);
    expect(again?.headers['parley-event-id']).toBe(original?.headers['parley-event-id']);
    expect(again?.body).toBe(original?.body);
    await waitUntil(async () => (await deliveries(subscription.id)).find((d) => d.id === replayed.body.id)?.status === 'delivered');
  });

  it('keeps signing secrets sealed at rest, and seals at start-up one stored in the clear before, which still signs', async () => {
    const { receiver, subscription, secret } = await subscribe(['conversation.message']);
    const db = t.server.database.db;
    const stored = () => db.selectFrom('webhook_subscriptions').select(['secret', 'previous_secret']).where('id', '=', subscription.id).executeTakeFirstOrThrow();
    expect((await stored()).secret).toMatch(/^v1\./);
    expect(JSON.stringify(await stored())).not.toContain(secret);
    const rotated = await call(t.server.app, 'rotateWebhookSecret', { token: admin, params: { id: subscription.id }, body: {} });
    expect(rotated.status).toBe(200);
    const afterRotation = await stored();
    expect([afterRotation.secret, afterRotation.previous_secret]).toEqual([expect.stringMatching(/^v1\./), expect.stringMatching(/^v1\./)]);
    expect(JSON.stringify(afterRotation)).not.toContain(rotated.body.secret);
    expect(JSON.stringify(afterRotation)).not.toContain(secret);
    expect(rotated.body.subscription.secretPrefix).toBe(rotated.body.secret.slice(0, rotated.body.subscription.secretPrefix.length));

    // A subscription stored before secrets were sealed holds its secret in the clear: it still signs.
    const legacy = newWebhookSecret();
    await db.updateTable('webhook_subscriptions').set({ secret: legacy, previous_secret: null }).where('id', '=', subscription.id).execute();
    receiver.useSecrets([legacy]);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await send(consumer.token, conversationId, 'before sealing');
    await waitUntil(() => receiver.accepted().length >= 1);
    // The next start seals it; deliveries are signed with the same secret.
    expect(await t.server.services.webhooks.sealStoredSecrets()).toBe(1);
    expect(await t.server.services.webhooks.sealStoredSecrets()).toBe(0);
    expect((await stored()).secret).toMatch(/^v1\./);
    await send(consumer.token, conversationId, 'after sealing');
    await waitUntil(() => receiver.accepted().length >= 2);
    expect(receiver.received.every((r) => r.verification.valid)).toBe(true);
  });

  it('signs with both secrets during a rotation grace period, and only with the new one after it', async () => {
    const { receiver, subscription, secret: oldSecret } = await subscribe(['conversation.message']);
    const rotated = await call(t.server.app, 'rotateWebhookSecret', { token: admin, params: { id: subscription.id }, body: {} });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.subscription.secretPrefix).toBe(newSecret.slice(0, 12));
    expect(Date.parse(rotated.body.subscription.previousSecretExpiresAt ?? '') - Date.now()).toBeGreaterThan(23 * 3600_000);

    // A receiver that still knows only the old secret accepts (an answer it refused would be retried, and the retry
    // could pass for the next delivery).
    receiver.useSecrets([oldSecret]);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await send(consumer.token, conversationId, 'during the grace period');
    const carrying = (text: string) => receiver.received.find((r) => r.body.includes(JSON.stringify(text)));
    await waitUntil(() => carrying('during the grace period') !== undefined);
    const during = carrying('during the grace period');
    // Check the kept request with each secret on its own.
    for (const s of [oldSecret, newSecret]) expect(verifyWebhookSignature({ body: during?.body ?? '', signatureHeader: during?.headers['parley-signature'] as string, secrets: s }).valid).toBe(true);
    expect(String(during?.headers['parley-signature']).match(/v1=/g)).toHaveLength(2);

    const ended = await call(t.server.app, 'rotateWebhookSecret', { token: admin, params: { id: subscription.id }, body: { graceSeconds: 0 } });
    expect(ended.body.subscription.previousSecretExpiresAt).toBeNull();
    receiver.useSecrets([ended.body.secret]);
    await send(consumer.token, conversationId, 'after');
    await waitUntil(() => carrying('after') !== undefined);
    const after = carrying('after');
    expect(verifyWebhookSignature({ body: after?.body ?? '', signatureHeader: after?.headers['parley-signature'] as string, secrets: ended.body.secret }).valid).toBe(true);
    for (const s of [oldSecret, newSecret]) expect(verifyWebhookSignature({ body: after?.body ?? '', signatureHeader: after?.headers['parley-signature'] as string, secrets: s }).valid).toBe(false);
    expect(receiver.received.map((r) => r.answered)).toEqual([200, 200]);
  });

  it('disables a subscription whose endpoint keeps failing, says why, tells connected admins, and can be enabled again', async () => {
    const adminSocket = await WsTestClient.connect(t.baseUrl);
    expect((await adminSocket.request({ type: 'auth', token: admin })).ok).toBe(true);
    const agent = await a.createUser(admin, 'agent', 'Ada');
    const agentSocket = await WsTestClient.connect(t.baseUrl);
    expect((await agentSocket.request({ type: 'auth', token: agent.token })).ok).toBe(true);

    const { receiver, subscription } = await subscribe(['conversation.message']);
    receiver.answerWith(() => 500);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const m of ['x', 'y', 'z']) await send(consumer.token, conversationId, m);

    const notice = await adminSocket.waitFor((f) => f.type === 'notice', 15_000);
    expect(notice).toMatchObject({ type: 'notice', notice: { kind: 'webhook_disabled', subscriptionId: subscription.id, url: receiver.url } });
    const got = await call(t.server.app, 'getWebhook', { token: admin, params: { id: subscription.id } });
    expect(got.body).toMatchObject({ status: 'disabled', consecutiveFailures: 5 });
    expect(got.body.disabledReason).toMatch(/after 5 failed delivery attempts in a row/);
    expect(got.body.disabledAt).not.toBeNull();
    expect(receiver.received).toHaveLength(5);
    // Nothing more is tried: the undelivered events are marked failed, to replay after enabling it again.
    const log = await deliveries(subscription.id);
    expect(log.map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
    expect(log.at(-1)).toMatchObject({ attempts: 5, lastStatusCode: 500, lastError: 'HTTP 500: receiver says no' });
    expect(log[0]).toMatchObject({ attempts: 0, lastError: 'Not sent: the subscription is disabled' });
    await send(consumer.token, conversationId, 'while disabled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(5);
    expect(await deliveries(subscription.id)).toHaveLength(3);
    expect(agentSocket.frames.some((f) => f.type === 'notice')).toBe(false);
    expect(await t.server.metrics.webhookSubscriptionsDisabled.get()).toMatchObject({ values: [{ value: 1 }] });
    const refused = await call(t.server.app, 'replayWebhookDelivery', { token: admin, params: { id: subscription.id, deliveryId: log[0]?.id ?? '' } });
    expect(refused.status).toBe(409);

    receiver.answerWith(() => 200);
    const enabled = await call(t.server.app, 'updateWebhook', { token: admin, params: { id: subscription.id }, body: { status: 'active' } });
    expect(enabled.body).toMatchObject({ status: 'active', disabledReason: null, disabledAt: null, consecutiveFailures: 0 });
    const replay = await call(t.server.app, 'replayWebhookDelivery', { token: admin, params: { id: subscription.id, deliveryId: log[0]?.id ?? '' } });
    expect(replay.status).toBe(201);
    await send(consumer.token, conversationId, 'enabled again');
    await waitUntil(() => receiver.accepted().length >= 2);
    adminSocket.socket.close();
    agentSocket.socket.close();
  });

  it('lets an admin disable a subscription by hand, with the reason shown, and send it a test ping', async () => {
    const { receiver, subscription } = await subscribe(['conversation.closed']);
    const off = await call(t.server.app, 'updateWebhook', { token: admin, params: { id: subscription.id }, body: { status: 'disabled', eventTypes: ['conversation.closed', 'conversation.opened'] } });
    expect(off.body).toMatchObject({ status: 'disabled', eventTypes: ['conversation.closed', 'conversation.opened'] });
    expect(off.body.disabledReason).toMatch(/^Disabled by /);
    const consumer = await a.consumer();
    await a.conversation(consumer.token);
    const ping = await call(t.server.app, 'pingWebhook', { token: admin, params: { id: subscription.id } });
    expect(ping.status).toBe(201);
    expect(ping.body).toMatchObject({ eventType: 'ping', conversationId: null, status: 'pending' });
    await waitUntil(() => receiver.received.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.map((r) => r.payload.type)).toEqual(['ping']);
    expect(receiver.received[0]?.payload).toMatchObject({ type: 'ping', conversationId: null, accountId: t.accountId, data: { subscriptionId: subscription.id } });
    expect(receiver.received[0]?.verification.valid).toBe(true);
  });

  it('shows the secret only once and validates input, storing nothing that is refused', async () => {
    const { subscription, secret } = await subscribe(['conversation.opened']);
    expect(secret).toMatch(/^whsec_/);
    const listed = await call(t.server.app, 'listWebhooks', { token: admin });
    expect(listed.body.items).toHaveLength(1);
    expect(WebhookSubscriptionSchema.parse(listed.body.items[0])).toMatchObject({ id: subscription.id, secretPrefix: secret.slice(0, 12), status: 'active' });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify((await call(t.server.app, 'getWebhook', { token: admin, params: { id: subscription.id } })).body)).not.toContain(secret);

    const bad = [
      { url: 'ftp://example.com/hook', eventTypes: ['conversation.opened'] },
      { url: 'javascript:alert(1)', eventTypes: ['conversation.opened'] },
      { url: 'not a url', eventTypes: ['conversation.opened'] },
      { url: 'https://example.com/hook', eventTypes: ['conversation.csat'] },
      { url: 'https://example.com/hook', eventTypes: [] },
      { url: 'https://example.com/hook', eventTypes: ['conversation.opened', 'conversation.opened'] },
      { url: 'https://example.com/hook', eventTypes: ['conversation.opened'], secret: 'mine' },
    ];
    for (const body of bad) {
      const r = await call(t.server.app, 'createWebhook', { token: admin, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    }
    const patch = await call(t.server.app, 'updateWebhook', { token: admin, params: { id: subscription.id }, body: { url: 'file:///etc/passwd' } });
    expect(patch.status).toBe(400);
    expect((await call(t.server.app, 'listWebhooks', { token: admin })).body.items.map((s) => s.url)).toEqual([subscription.url]);
  });

  it('refuses agents, managers and API keys without the webhooks scope', async () => {
    const { subscription } = await subscribe(['conversation.opened']);
    const agent = await a.createUser(admin, 'agent', 'Agnes');
    const manager = await a.createUser(admin, 'manager', 'Manon');
    for (const token of [agent.token, manager.token]) {
      expect((await call(t.server.app, 'listWebhooks', { token })).status).toBe(403);
      expect((await call(t.server.app, 'createWebhook', { token, body: { url: 'https://example.com/h', eventTypes: ['conversation.opened'] } })).status).toBe(403);
      expect((await call(t.server.app, 'listWebhookDeliveries', { token, params: { id: subscription.id } })).status).toBe(403);
    }
    const key = async (scopes: string[]) => (await call(t.server.app, 'createApiKey', { token: admin, body: { name: scopes.join(' '), scopes } })).body.secret;
    const noScope = await key(['conversations:read', 'account:write']);
    const reader = await key(['webhooks:read']);
    const writer = await key(['webhooks:write']);
    const listWith = (token: string) => call(t.server.app, 'listWebhooks', { token });
    expect((await listWith(noScope)).status).toBe(403);
    expect((await listWith(noScope)).body.error?.code).toBe('FORBIDDEN');
    expect((await listWith(reader)).status).toBe(200);
    expect((await call(t.server.app, 'createWebhook', { token: reader, body: { url: 'https://example.com/h', eventTypes: ['conversation.opened'] } })).status).toBe(403);
    const byKey = await call(t.server.app, 'createWebhook', { token: writer, body: { url: 'https://example.com/h', eventTypes: ['conversation.opened'] } });
    expect(byKey.status).toBe(201);
    expect((await listWith(admin)).body.items).toHaveLength(2);
  });

  it('keeps accounts apart: another account neither sees, changes nor replays them, and gets none of their events', async () => {
    const { receiver, subscription } = await subscribe(['conversation.opened', 'conversation.message']);
    const consumer = await a.consumer();
    await a.conversation(consumer.token);
    await waitUntil(() => receiver.received.length >= 1);
    const [delivery] = await deliveries(subscription.id);

    const email = `b-admin-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const other = await createAccountWithAdmin(t.server.services, { accountName: 'Brand B', adminEmail: email, adminPassword: 'brand-b-admin-password' });
    const adminB = (await call(t.server.app, 'login', { body: { email, password: 'brand-b-admin-password' } })).body.accessToken;
    expect((await call(t.server.app, 'listWebhooks', { token: adminB })).body.items).toEqual([]);
    for (const r of [
      await call(t.server.app, 'getWebhook', { token: adminB, params: { id: subscription.id } }),
      await call(t.server.app, 'updateWebhook', { token: adminB, params: { id: subscription.id }, body: { status: 'disabled' } }),
      await call(t.server.app, 'rotateWebhookSecret', { token: adminB, params: { id: subscription.id }, body: {} }),
      await call(t.server.app, 'listWebhookDeliveries', { token: adminB, params: { id: subscription.id } }),
      await call(t.server.app, 'replayWebhookDelivery', { token: adminB, params: { id: subscription.id, deliveryId: delivery?.id ?? '' } }),
      await call(t.server.app, 'pingWebhook', { token: adminB, params: { id: subscription.id } }),
      await call(t.server.app, 'deleteWebhook', { token: adminB, params: { id: subscription.id } }),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error?.code).toBe('NOT_FOUND');
    }
    expect((await call(t.server.app, 'getWebhook', { token: admin, params: { id: subscription.id } })).body.status).toBe('active');

    // Brand B's own conversations produce no deliveries at all: it has no subscriptions.
    const before = receiver.received.length;
    const consumerB = (await call(t.server.app, 'consumerSession', { body: { widgetKey: other.widgetKey } })).body;
    const conversationB = (await call(t.server.app, 'startConversation', { token: consumerB.accessToken, body: {} })).body.conversation.id;
    await send(consumerB.accessToken, conversationB, 'hello from B');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.length).toBe(before);
    const rows = await t.server.database.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', other.accountId).execute();
    expect(rows).toEqual([]);
  });
});

describe(`outbound webhooks to addresses a tenant may not reach (${storageMode})`, () => {
  it('are refused unless the operator allows the network, with the reason in the delivery log, and the receiver gets nothing', async () => {
    // The default policy (OUTBOUND_ALLOWED_NETWORKS empty): public addresses only.
    const t = await startTestServer({ listen: true, env: { OUTBOUND_ALLOWED_NETWORKS: '', WEBHOOK_RETRY_BASE_MS: '600000', WEBHOOK_TIMEOUT_MS: '3000' } });
    const receiver = await startReceiver();
    try {
      const a = actors(t);
      const admin = await a.adminToken();
      const targets = [
        { url: receiver.url, refusal: /^Not allowed to call 127\.0\.0\.1: 127\.0\.0\.1 is in 127\.0\.0\.0\/8 \(loopback\)/ },
        { url: receiver.url.replace('127.0.0.1', 'localhost'), refusal: /^Not allowed to call localhost: .* \(loopback\)/ },
        { url: 'http://169.254.169.254/latest/meta-data/', refusal: /^Not allowed to call 169\.254\.169\.254: .* \(link-local: cloud metadata .*OUTBOUND_ALLOWED_NETWORKS/ },
      ];
      const ids: string[] = [];
      for (const target of targets) {
        const created = await call(t.server.app, 'createWebhook', { token: admin, body: { url: target.url, eventTypes: ['conversation.message'] } });
        expect(created.status).toBe(201);
        ids.push(created.body.subscription.id);
      }
      const consumer = await a.consumer();
      const conversationId = await a.conversation(consumer.token);
      const sent = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('where is my order?') });
      expect(sent.status).toBe(201);

      for (const [i, id] of ids.entries()) {
        let log: WebhookDelivery[] = [];
        await waitUntil(async () => {
          log = (await call(t.server.app, 'listWebhookDeliveries', { token: admin, params: { id }, query: {} as never })).body.items;
          return log.length > 0 && log.every((d) => d.attempts > 0);
        });
        expect(log[0]).toMatchObject({ lastStatusCode: null, attempts: 1 });
        expect(log[0]?.lastError).toMatch(targets[i]?.refusal ?? /never/);
      }
      expect(receiver.received).toHaveLength(0);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
