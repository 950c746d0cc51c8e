import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotWebhookEvent, FlowBotDefinition } from '@parley/protocol';
import { verifyWebhookSignature } from '@parley/sdk/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { newWebhookSecret } from '../webhooks/index.ts';
import { until } from '../../test/until.ts';

/** A bot's web server: checks every signature with the SDK's documented code and records what arrived. */
async function botEndpoint(options: { status?: () => number } = {}) {
  const received: { event: BotWebhookEvent; verified: boolean }[] = [];
  let signingSecret = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verifyWebhookSignature({ body, signatureHeader: req.headers['parley-signature'] as string | undefined, secrets: signingSecret }).valid;
      received.push({ event: JSON.parse(body) as BotWebhookEvent, verified });
      res.statusCode = options.status?.() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/parley`,
    received,
    setSecret(secret: string) {
      signingSecret = secret;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe(`bots (${storageMode})`, () => {
  let t: TestServer;
  /** A server with the default outbound policy (OUTBOUND_ALLOWED_NETWORKS empty): public addresses only. */
  let strict: TestServer;
  const endpointsToClose: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    strict = await startTestServer({ listen: true, env: { OUTBOUND_ALLOWED_NETWORKS: '' } });
  });
  afterAll(async () => {
    await Promise.all(endpointsToClose.map((e) => e.close()));
    await t.close();
    await strict.close();
  });

  const app = () => t.server.app;
  const services = () => t.server.services;

  /** A fresh account per test (on `server`): a front skill served by the bot, a billing skill served by a person. */
  async function scene(server: TestServer = t) {
    const app = () => server.server.app;
    const services = () => server.server.services;
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(services(), { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const admin = (await call(app(), 'login', { body: { email, password: 'a-long-password' } })).body.accessToken;
    const skill = async (name: string) => (await call(app(), 'createSkill', { token: admin, body: { name } })).body.id;
    const front = await skill('Front desk');
    const billing = await skill('Billing');
    const agentEmail = `ann-${randomUUID().slice(0, 8)}@acme.test`;
    const user = await call(app(), 'createUser', { token: admin, body: { email: agentEmail, name: 'Ann', role: 'agent', password: 'a-long-password' } });
    const agentToken = (await call(app(), 'login', { body: { email: agentEmail, password: 'a-long-password' } })).body.accessToken;
    await call(app(), 'updateAgentRouting', { token: admin, params: { userId: user.body.id }, body: { skillIds: [front, billing], maxConversations: 5 } });
    // Ann is connected over the realtime protocol and online: present for routing.
    const agentWs = await WsTestClient.connect(server.baseUrl);
    expect((await agentWs.request({ type: 'auth', token: agentToken })).ok).toBe(true);
    await call(app(), 'setMyState', { token: agentToken, body: { state: 'online' } });
    const consumer = async (message = 'Hello') => {
      const session = await call(app(), 'consumerSession', { body: { widgetKey: created.widgetKey } });
      const token = session.body.accessToken;
      const started = await call(app(), 'startConversation', { token, body: { skillId: front } });
      const conversationId = started.body.conversation.id;
      await call(app(), 'sendEvent', { token, params: { conversationId }, body: text(message) });
      return { token, conversationId, consumerId: session.body.consumerId };
    };
    const conversation = async (conversationId: string, token = admin) => (await call(app(), 'getConversation', { token, params: { conversationId } })).body;
    const transcript = async (conversationId: string, token: string) =>
      (await call(app(), 'listEvents', { token, params: { conversationId }, query: { fromSeq: 1, limit: 200 } })).body.items as Array<
        Record<string, unknown> & { type: string; originator: { id: string; role: string } }
      >;
    const messages = async (conversationId: string, token: string) =>
      (await transcript(conversationId, token)).flatMap((e) => (e.type === 'content' ? [(e as unknown as { content: { message: string } }).content.message] : []));
    const onAnn = (conversationId: string) =>
      until(
        () => conversation(conversationId),
        (c) => c.assignedAgentId === user.body.id,
        'the conversation to reach Ann',
      );
    const metrics = async () =>
      (await call(app(), 'getBotMetrics', { token: admin, query: { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() } })).body;
    return { admin, front, billing, agent: { id: user.body.id, token: agentToken, ws: agentWs }, accountId: created.accountId, consumer, conversation, transcript, messages, onAnn, metrics };
  }

  it('a webhook bot receives the conversation first, answers through the API, and escalates to a person who sees its transcript', async () => {
    const s = await scene();
    const endpoint = await botEndpoint();
    endpointsToClose.push(endpoint);
    const created = await call(app(), 'createBot', {
      token: s.admin,
      body: { name: 'Orderbot', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], escalationSkillId: s.billing, responseTimeoutSeconds: 30 },
    });
    expect(created.status).toBe(201);
    endpoint.setSecret(created.body.signingSecret);
    const bot = { id: created.body.bot.id, token: created.body.secret };

    // Ann has the skill too and is free, but the bot serves the front desk first.
    const c = await s.consumer('Where is my order?');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === bot.id,
      'the bot to get the conversation',
    );
    const assigned = await until(
      () => endpoint.received,
      (r) => r.length >= 1,
      'the assigned event',
    );
    expect(assigned[0]?.verified).toBe(true);
    expect(assigned[0]?.event.type).toBe('conversation.assigned');
    expect(assigned[0]?.event.events.some((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message === 'Where is my order?')).toBe(true);

    // The bot reads the context, answers, and sets a profile field.
    expect((await call(app(), 'getConversation', { token: bot.token, params: { conversationId: c.conversationId } })).status).toBe(200);
    expect((await call(app(), 'sendEvent', { token: bot.token, params: { conversationId: c.conversationId }, body: text('What is your order number?') })).status).toBe(201);
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('A-1234') });
    const message = await until(
      () => endpoint.received.filter((r) => r.event.type === 'conversation.message'),
      (r) => r.length >= 1,
      'the message event',
    );
    expect(message[0]?.verified).toBe(true);
    expect(message[0]?.event.events).toHaveLength(1);
    const profile = await call(app(), 'updateConsumerProfile', { token: bot.token, params: { consumerId: c.consumerId }, body: { fields: { order_number: 'A-1234' } } });
    expect(profile.status).toBe(200);
    expect(profile.body.fields).toEqual({ order_number: 'A-1234' });

    // The bot cannot help with billing: it transfers to the billing skill, and Ann gets it with the whole transcript.
    const transfer = await call(app(), 'transferConversation', { token: bot.token, params: { conversationId: c.conversationId }, body: { skillId: s.billing, note: 'Refund question' } });
    expect(transfer.status).toBe(200);
    await s.onAnn(c.conversationId);
    const seen = await s.transcript(c.conversationId, s.agent.token);
    const texts = seen.flatMap((e) => (e.type === 'content' ? [(e as unknown as { content: { message: string } }).content.message] : []));
    expect(texts).toEqual(expect.arrayContaining(['Where is my order?', 'What is your order number?', 'A-1234']));
    expect(texts.some((m) => m.startsWith('Escalated from Orderbot: Refund question'))).toBe(true);
    // The consumer never sees the internal escalation note.
    expect((await s.messages(c.conversationId, c.token)).some((m) => m.includes('Escalated'))).toBe(false);
    const consumerDetails = await call(app(), 'getConsumer', { token: s.agent.token, params: { consumerId: c.consumerId } });
    expect(consumerDetails.body.consumer.profile).toEqual({ order_number: 'A-1234' });
    // Escalated conversations never go back to a bot, and the bot no longer reads it.
    expect((await call(app(), 'getConversation', { token: bot.token, params: { conversationId: c.conversationId } })).status).toBe(404);
    expect(await s.metrics()).toMatchObject({ handled: 1, escalated: 1, escalatedByReason: { bot_requested: 1 }, contained: 0, open: 0 });
  });

  it('a websocket bot holds the conversation while connected; a consumer asking for a person reaches one', async () => {
    const s = await scene();
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Socketbot', delivery: 'websocket', skillIds: [s.front] } });
    const bot = { id: created.body.bot.id, token: created.body.secret };
    const ws = await WsTestClient.connect(t.baseUrl);
    expect((await ws.request({ type: 'auth', token: bot.token })).ok).toBe(true);
    await services().routing.settle();

    const c = await s.consumer('Hi there');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === bot.id,
      'the websocket bot to get it',
    );
    expect((await ws.request({ type: 'subscribe', conversationId: c.conversationId, fromSeq: 0 })).ok).toBe(true);
    await ws.waitFor((f) => f.type === 'event' && f.event.type === 'content' && f.event.originator.role === 'consumer');
    await call(app(), 'sendEvent', { token: bot.token, params: { conversationId: c.conversationId }, body: text('Hello! I am a bot. How can I help?') });

    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('Can I talk to a HUMAN please?') });
    await s.onAnn(c.conversationId);
    expect((await s.metrics()).escalatedByReason.consumer_requested).toBe(1);
    const seen = await s.messages(c.conversationId, s.agent.token);
    expect(seen).toEqual(expect.arrayContaining(['Hi there', 'Hello! I am a bot. How can I help?', 'Can I talk to a HUMAN please?']));
    expect(seen.some((m) => m.includes('the consumer asked for a person'))).toBe(true);
    ws.socket.close();
  });

  it('a webhook bot whose endpoint is down leads to a person after its attempts', async () => {
    const s = await scene();
    const endpoint = await botEndpoint({ status: () => 503 });
    endpointsToClose.push(endpoint);
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Downbot', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], responseTimeoutSeconds: 60 } });
    endpoint.setSecret(created.body.signingSecret);
    const started = Date.now();
    const c = await s.consumer('Anyone?');
    await s.onAnn(c.conversationId);
    // Three attempts, about half a second then a second apart: well inside the minute the bot had to answer.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(endpoint.received.length).toBe(3);
    expect((await s.metrics()).escalatedByReason.bot_error).toBe(1);
  });

  it('a webhook bot at an address Parley may not call (loopback, by default) is never called, and a person takes over', async () => {
    const s = await scene(strict);
    const endpoint = await botEndpoint();
    endpointsToClose.push(endpoint);
    const created = await call(strict.server.app, 'createBot', {
      token: s.admin,
      body: { name: 'Localbot', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], responseTimeoutSeconds: 60 },
    });
    expect(created.status).toBe(201);
    const c = await s.consumer('Anyone?');
    await s.onAnn(c.conversationId);
    expect(endpoint.received).toHaveLength(0);
    expect((await s.metrics()).escalatedByReason.bot_error).toBe(1);
  });

  it('keeps signing secrets sealed at rest; one stored in the clear before still signs and is sealed at start-up', async () => {
    const s = await scene();
    const endpoint = await botEndpoint();
    endpointsToClose.push(endpoint);
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Sealbot', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], responseTimeoutSeconds: 60 } });
    const botId = created.body.bot.id;
    const db = t.server.database.db;
    const stored = () => db.selectFrom('bots').select(['signing_secret', 'previous_signing_secret']).where('user_id', '=', botId).executeTakeFirstOrThrow();
    expect((await stored()).signing_secret).toMatch(/^v1\./);
    expect(JSON.stringify(await stored())).not.toContain(created.body.signingSecret);
    const rotated = await call(app(), 'rotateBotSecrets', { token: s.admin, params: { botId } });
    expect(await stored()).toEqual({ signing_secret: expect.stringMatching(/^v1\./), previous_signing_secret: expect.stringMatching(/^v1\./) });
    expect(JSON.stringify(await stored())).not.toContain(rotated.body.signingSecret);

    // A bot stored before secrets were sealed: its secret in the clear still signs, and the next start seals it.
    const legacy = newWebhookSecret();
    await db.updateTable('bots').set({ signing_secret: legacy, previous_signing_secret: null }).where('user_id', '=', botId).execute();
    expect(await t.server.services.bots.sealStoredSecrets()).toBe(1);
    expect((await stored()).signing_secret).toMatch(/^v1\./);
    endpoint.setSecret(legacy);
    await s.consumer('Sealed?');
    await until(
      async () => endpoint.received.length,
      (n) => n > 0,
      'a delivery to the bot',
    );
    expect(endpoint.received.every((r) => r.verified)).toBe(true);
  });

  it('a bot that does not answer in time leads to a person', async () => {
    const s = await scene();
    const endpoint = await botEndpoint();
    endpointsToClose.push(endpoint);
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Slowbot', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], responseTimeoutSeconds: 1 } });
    endpoint.setSecret(created.body.signingSecret);
    const c = await s.consumer('Hello?');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === created.body.bot.id,
      'the bot to get it',
    );
    // The bot took the delivery (200) but never answers; the sweep finds the passed deadline.
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await services().botRuntime.sweep()).toBeGreaterThanOrEqual(1);
    await s.onAnn(c.conversationId);
    expect((await s.metrics()).escalatedByReason.bot_timeout).toBe(1);
    // The bot was not just late: a consumer message now goes to Ann, not to the bot.
    const before = endpoint.received.length;
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('Still there?') });
    await new Promise((r) => setTimeout(r, 300));
    expect(endpoint.received.filter((r) => r.event.type === 'conversation.message')).toHaveLength(0);
    expect(endpoint.received.length).toBe(before);
  });

  it('the built-in flow bot greets, answers an intent, collects a field and hands over with a recap', async () => {
    const s = await scene();
    const flow: FlowBotDefinition = {
      greeting: {
        text: 'Hi! I can check an order or connect you to billing.',
        choices: [
          { title: 'Order status', intentId: 'order' },
          { title: 'Billing', intentId: 'billing' },
        ],
      },
      intents: [
        {
          id: 'order',
          name: 'Order status',
          phrases: ['order status', 'where is my order'],
          answer: { text: 'Let me look that up.', choices: [] },
          collect: [{ field: 'order_number', prompt: 'What is your order number?', pattern: '([A-Z]-\\d{4})', retryText: 'That does not look like an order number (e.g. A-1234).' }],
          after: 'continue',
          escalateToSkillId: null,
          doneText: 'Order {order_number} ships tomorrow.',
        },
        { id: 'billing', name: 'Billing', phrases: ['billing', 'refund'], answer: { text: 'Billing it is.', choices: [] }, collect: [], after: 'escalate', escalateToSkillId: s.billing },
      ],
      fallback: { text: 'Sorry, I did not get that.', escalateAfter: 2 },
      escalation: { text: 'Connecting you to a person.', skillId: null },
    };
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Flowbot', delivery: 'flow', flow, skillIds: [s.front], escalationSkillId: s.billing } });
    expect(created.status).toBe(201);
    const c = await s.consumer('Hello');
    const botMessages = () => s.messages(c.conversationId, c.token);
    await until(botMessages, (m) => m.includes('Hi! I can check an order or connect you to billing.'), 'the greeting');
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('Order status') });
    await until(botMessages, (m) => m.includes('What is your order number?'), 'the prompt');
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('no idea') });
    await until(botMessages, (m) => m.some((x) => x.startsWith('That does not look like an order number')), 'the retry');
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('it is b-7781 I think') });
    await until(botMessages, (m) => m.includes('Order B-7781 ships tomorrow.') || m.includes('Order b-7781 ships tomorrow.'), 'the answer with the field');
    await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('I also want a refund') });
    await s.onAnn(c.conversationId);
    const agentSees = await s.messages(c.conversationId, s.agent.token);
    expect(agentSees.some((m) => m.includes('Intents: order, billing') && /order_number = [Bb]-7781/.test(m))).toBe(true);
    const consumerDetails = await call(app(), 'getConsumer', { token: s.agent.token, params: { consumerId: c.consumerId } });
    expect(consumerDetails.body.consumer.profile.order_number).toMatch(/^[Bb]-7781$/);
    expect(await s.metrics()).toMatchObject({ handled: 1, escalated: 1, escalatedByReason: { bot_requested: 1 } });
  });

  it('counts a conversation the bot closes without a person as contained', async () => {
    const s = await scene();
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Closer', delivery: 'websocket', skillIds: [s.front] } });
    const ws = await WsTestClient.connect(t.baseUrl);
    expect((await ws.request({ type: 'auth', token: created.body.secret })).ok).toBe(true);
    await services().routing.settle();
    const c = await s.consumer('What are your opening hours?');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === created.body.bot.id,
      'the bot to get it',
    );
    await call(app(), 'sendEvent', { token: created.body.secret, params: { conversationId: c.conversationId }, body: text('9 to 5, Monday to Friday.') });
    expect((await call(app(), 'closeConversation', { token: created.body.secret, params: { conversationId: c.conversationId } })).status).toBe(200);
    expect(await s.metrics()).toMatchObject({ handled: 1, escalated: 0, contained: 1, open: 0, containmentRate: 1 });
    ws.socket.close();
  });

  it('disabling a bot sends its conversations to people, and its secret stops working', async () => {
    const s = await scene();
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Retiring', delivery: 'flow', skillIds: [s.front], flow: minimalFlow() } });
    const c = await s.consumer('Hello');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === created.body.bot.id,
      'the bot to get it',
    );
    const disabled = await call(app(), 'updateBot', { token: s.admin, params: { botId: created.body.bot.id }, body: { enabled: false } });
    expect(disabled.body.enabled).toBe(false);
    await s.onAnn(c.conversationId);
    expect((await call(app(), 'me', { token: created.body.secret })).status).toBe(401);
    // For the consumer it is a hand-over like any other: Ann is told why, and no other bot will take it.
    expect((await s.messages(c.conversationId, s.agent.token)).some((m) => m.includes('the bot went offline'))).toBe(true);
    expect((await s.metrics()).escalatedByReason.bot_error).toBe(1);
  });

  it('counts a conversation a manager takes from a bot as reassigned, neither contained nor escalated', async () => {
    const s = await scene();
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Overruled', delivery: 'flow', skillIds: [s.front], flow: minimalFlow() } });
    const c = await s.consumer('Hello');
    await until(
      () => s.conversation(c.conversationId),
      (v) => v.assignedAgentId === created.body.bot.id,
      'the bot to get it',
    );
    const participants = (await s.conversation(c.conversationId)).participants as Array<{ id: string; role: string }>;
    expect(participants.find((p) => p.id === created.body.bot.id)?.role).toBe('bot');
    expect((await call(app(), 'assignConversation', { token: s.admin, params: { conversationId: c.conversationId }, body: { agentId: s.agent.id } })).status).toBe(200);
    expect(await s.metrics()).toMatchObject({ handled: 1, escalated: 0, contained: 0, reassigned: 1, open: 0 });
  });

  it('signs deliveries with the old signing secret too for a day after a rotation', async () => {
    const s = await scene();
    const endpoint = await botEndpoint();
    endpointsToClose.push(endpoint);
    const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Rotating', delivery: 'webhook', webhookUrl: endpoint.url, skillIds: [s.front], responseTimeoutSeconds: 30 } });
    await call(app(), 'rotateBotSecrets', { token: s.admin, params: { botId: created.body.bot.id } });
    // The bot still has the old signing secret: its deliveries verify until it is updated.
    endpoint.setSecret(created.body.signingSecret);
    await s.consumer('Hello');
    const received = await until(
      () => endpoint.received,
      (r) => r.length >= 1,
      'a delivery',
    );
    expect(received[0]?.verified).toBe(true);
  });

  describe('who may do what', () => {
    it('only admins create bots; bad input changes nothing', async () => {
      const s = await scene();
      expect((await call(app(), 'createBot', { token: s.agent.token, body: { name: 'X', delivery: 'websocket' } })).status).toBe(403);
      const missingUrl = await call(app(), 'createBot', { token: s.admin, body: { name: 'X', delivery: 'webhook' } });
      expect(missingUrl.status).toBe(400);
      expect(missingUrl.body.error?.code).toBe('VALIDATION_FAILED');
      const unknownSkill = await call(app(), 'createBot', { token: s.admin, body: { name: 'X', delivery: 'websocket', skillIds: [randomUUID()] } });
      expect(unknownSkill.status).toBe(400);
      expect((await call(app(), 'listBots', { token: s.admin })).body.items).toEqual([]);
      // Bots are not people: they are not listed as users and cannot log in.
      await call(app(), 'createBot', { token: s.admin, body: { name: 'Listed', delivery: 'websocket' } });
      expect((await call(app(), 'listUsers', { token: s.admin })).body.items.some((u: { name: string }) => u.name === 'Listed')).toBe(false);
    });

    it('a bot reads only the conversations it holds and cannot manage the account', async () => {
      const s = await scene();
      const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Nosy', delivery: 'websocket' } });
      const c = await s.consumer('Hello');
      expect((await call(app(), 'getConversation', { token: created.body.secret, params: { conversationId: c.conversationId } })).status).toBe(404);
      expect((await call(app(), 'listUsers', { token: created.body.secret })).status).toBe(403);
      expect((await call(app(), 'createBot', { token: created.body.secret, body: { name: 'Y', delivery: 'websocket' } })).status).toBe(403);
      expect((await call(app(), 'updateConsumerProfile', { token: created.body.secret, params: { consumerId: c.consumerId }, body: { fields: { vip: 'yes' } } })).status).toBe(404);
      // Another account's admin does not see this account's bots.
      const other = await scene();
      expect((await call(app(), 'getBot', { token: other.admin, params: { botId: created.body.bot.id } })).status).toBe(404);
    });

    it('rotating the secrets retires the old credential at once', async () => {
      const s = await scene();
      const created = await call(app(), 'createBot', { token: s.admin, body: { name: 'Rotor', delivery: 'websocket' } });
      const rotated = await call(app(), 'rotateBotSecrets', { token: s.admin, params: { botId: created.body.bot.id } });
      expect(rotated.status).toBe(200);
      expect((await call(app(), 'me', { token: created.body.secret })).status).toBe(401);
      const me = await call(app(), 'me', { token: rotated.body.secret });
      expect(me.body).toMatchObject({ kind: 'user', user: { id: created.body.bot.id, role: 'bot' } });
      expect(rotated.body.signingSecret).not.toBe(created.body.signingSecret);
    });
  });
});

function minimalFlow(): FlowBotDefinition {
  return {
    greeting: { text: 'Hi!', choices: [] },
    intents: [],
    fallback: { text: 'Sorry?', escalateAfter: 3 },
    escalation: { text: 'A person will help.', skillId: null },
  };
}
