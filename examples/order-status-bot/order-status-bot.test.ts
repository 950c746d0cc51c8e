import { createHmac } from 'node:crypto';
import net from 'node:net';
import type { ConversationEvent } from '@parley/protocol';
import { type Agent, type Consumer, createAgent, createConsumer, createRestClient, type RestClient } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { storageMode } from '../../packages/server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../packages/server/src/test/test-server.ts';
import { createOrderStatusBot, type OrderStatusBot } from './bot.ts';
import { type OrderStatusBotSetup, setupOrderStatusBot } from './setup.ts';

async function until<T>(read: () => Promise<T> | T, ok: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port nobody listens on now: the bot must be created in Parley with its URL before it knows its secrets. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const text = (message: string) => ({ event: { type: 'content' as const, content: { contentType: 'text/plain' as const, message } } });
const messageOf = (e: ConversationEvent) => (e.type === 'content' && e.content.contentType === 'text/plain' ? e.content.message : undefined);

describe(`the order-status bot example (${storageMode})`, () => {
  let t: TestServer;
  let admin: RestClient;
  let setup: OrderStatusBotSetup;
  let bot: OrderStatusBot;
  let botUrl: string;
  let ann: Agent & { id: string };
  const botLog: string[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    const login = await createRestClient({ baseUrl: t.baseUrl }).login({ email: t.adminEmail, password: ADMIN_PASSWORD });
    admin = createRestClient({ baseUrl: t.baseUrl, getAccessToken: () => login.accessToken });

    const port = await freePort();
    setup = await setupOrderStatusBot(admin, { webhookUrl: `http://127.0.0.1:${port}/parley` });
    bot = createOrderStatusBot({ parleyUrl: t.baseUrl, botSecret: setup.secret, signingSecret: setup.signingSecret, billingSkillId: setup.billingSkillId, log: (l) => botLog.push(l) });
    botUrl = await bot.listen(port);

    // Ann, a person of both skills: connected over the realtime protocol and online, so routing may give her
    // conversations. The bot still gets the Orders conversations first.
    const email = `ann-${Math.random().toString(36).slice(2, 8)}@acme.test`;
    const user = await admin.call('createUser', { body: { email, name: 'Ann', role: 'agent', password: 'a-long-password' } });
    await admin.call('updateAgentRouting', { params: { userId: user.id }, body: { skillIds: [setup.ordersSkillId, setup.billingSkillId], maxConversations: 5 } });
    ann = Object.assign(await createAgent({ baseUrl: t.baseUrl, email, password: 'a-long-password', WebSocket }), { id: user.id });
    await until(
      () => ann.realtime.state,
      (s) => s === 'open',
      'Ann to connect',
    );
    await ann.rest.setMyState({ state: 'online' });
  });

  afterAll(async () => {
    for (const c of consumers) c.close();
    ann?.close();
    await bot?.close();
    await t?.close();
  });

  async function consumer(): Promise<Consumer> {
    const c = await createConsumer({ baseUrl: t.baseUrl, widgetKey: t.widgetKey, conversation: { skillId: setup.ordersSkillId }, WebSocket });
    consumers.push(c);
    return c;
  }
  const conversation = (id: string) => admin.getConversation(id);
  const metrics = () => {
    const now = Date.now();
    return admin.call('getBotMetrics', { query: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString(), botId: setup.botId } });
  };
  const messages = async (rest: RestClient, conversationId: string) =>
    (await rest.listEvents(conversationId, { fromSeq: 1, limit: 200 })).items.flatMap((e) => {
      const m = messageOf(e);
      return m === undefined ? [] : [{ message: m, role: e.originator.role, audience: e.audience }];
    });
  const botSaid = async (c: Consumer, wanted: (m: string) => boolean, what: string) =>
    until(
      () => messages(c.rest, c.conversation.id),
      (ms) => ms.some((m) => m.role !== 'consumer' && wanted(m.message)),
      what,
    );

  it('answers the status of an order, sets order_number on the profile, and hands a refund to billing with a note', async () => {
    const c = await consumer();
    const conversationId = c.conversation.id;
    await c.rest.sendEvent(conversationId, text('Hi, where is my order ab1234?'));
    await until(
      () => conversation(conversationId),
      (v) => v.assignedAgentId === setup.botId,
      'the bot to get the conversation before Ann',
    );
    await botSaid(c, (m) => m.startsWith("Hi, I'm Orderbot. Order AB-1234 (€89.90): shipped on Monday"), 'the status of AB-1234');
    const details = await admin.getConsumer(c.consumerId);
    expect(details.consumer.profile).toEqual({ order_number: 'AB-1234' });

    await c.rest.sendEvent(conversationId, text('It arrived broken, I want a refund please'));
    await until(
      () => conversation(conversationId),
      (v) => v.assignedAgentId === ann.id,
      'the conversation to reach Ann in billing',
    );
    expect((await conversation(conversationId)).routing?.skillId).toBe(setup.billingSkillId);

    // Ann reads the whole conversation, with the bot's internal note on top of her part.
    const annSees = await messages(ann.rest, conversationId);
    expect(annSees.map((m) => m.message)).toEqual(
      expect.arrayContaining(['Hi, where is my order ab1234?', 'It arrived broken, I want a refund please', expect.stringMatching(/^Billing questions are for my colleagues in billing/)]),
    );
    const note = annSees.find((m) => m.message.startsWith('Escalated from Orderbot:'));
    expect(note).toMatchObject({ audience: 'agents_and_managers' });
    expect(note?.message).toContain('Billing question: "It arrived broken, I want a refund please". Order AB-1234 (€89.90, shipped).');
    // The consumer never sees it.
    expect((await messages(c.rest, conversationId)).some((m) => m.message.includes('Escalated'))).toBe(false);
  });

  it('asks for the order number, answers it, and closes the conversation when the consumer says thanks', async () => {
    const before = await metrics();
    const c = await consumer();
    const conversationId = c.conversation.id;
    await c.rest.sendEvent(conversationId, text('Hello'));
    const greeting = await botSaid(c, (m) => m === "Hi, I'm Orderbot. I can tell you where your order is. What is your order number? It looks like AB-1234.", 'the greeting');
    expect(greeting.at(-1)?.role).toBe('bot');
    const events = (await c.rest.listEvents(conversationId, { fromSeq: 1 })).items;
    const asked = events.findLast((e) => e.type === 'content' && e.originator.role !== 'consumer');
    expect(asked?.type === 'content' && asked.content.quickReplies?.replies.map((r) => r.title)).toEqual(['Billing question', 'Talk to a person']);

    await c.rest.sendEvent(conversationId, text('It is CD-5678'));
    await botSaid(c, (m) => m.startsWith('Order CD-5678 (€24.50): delivered yesterday'), 'the status of CD-5678');
    await c.rest.sendEvent(conversationId, text('Great, thanks!'));
    await until(
      () => conversation(conversationId),
      (v) => v.state === 'closed',
      'the bot to close the conversation',
    );
    expect((await conversation(conversationId)).assignedAgentId).not.toBe(ann.id);

    // Contained: the bot closed it without a person.
    const after = await metrics();
    expect({ handled: after.handled - before.handled, contained: after.contained - before.contained, escalated: after.escalated - before.escalated }).toEqual({
      handled: 1,
      contained: 1,
      escalated: 0,
    });
  });

  it('refuses a request whose signature is forged or missing, and ignores a genuine event it already handled', async () => {
    const body = JSON.stringify({ id: crypto.randomUUID(), type: 'conversation.closed', conversationId: crypto.randomUUID(), events: [] });
    const now = Math.floor(Date.now() / 1000);
    const sign = (secret: string) => `t=${now},v1=${createHmac('sha256', secret).update(`${now}.${body}`).digest('hex')}`;
    const post = (headers: Record<string, string>) => fetch(botUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    expect((await post({ 'parley-signature': sign('not-the-signing-secret') })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect(botLog.filter((l) => l.startsWith('refused a request'))).toEqual(['refused a request with a mismatch signature', 'refused a request with a malformed signature']);

    expect((await post({ 'parley-signature': sign(setup.signingSecret) })).status).toBe(200);
    expect((await post({ 'parley-signature': sign(setup.signingSecret) })).status).toBe(200);
    expect(botLog.filter((l) => l.startsWith('duplicate event'))).toHaveLength(1);
  });
});
