import { randomUUID } from 'node:crypto';
import type { ConversationEvent } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioSimulator, type TwilioSimulator } from '../../connectors/twilio/simulator.ts';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { until } from '../../test/until.ts';

const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
const AUTH_TOKEN = 'twilio-auth-token-for-tests';

describe(`SMS through Twilio's Messaging API (${storageMode})`, () => {
  let t: TestServer;
  let sim: TwilioSimulator;

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  });
  afterAll(async () => {
    await sim.close();
    await t.close();
  });

  const app = () => t.server.app;

  /** A fresh account with an SMS number on the simulator, a skill and an agent online for it. */
  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const admin = (await call(app(), 'login', { body: { email, password: 'a-long-password' } })).body.accessToken;
    const skill = (await call(app(), 'createSkill', { token: admin, body: { name: 'Texting' } })).body.id;
    const agentEmail = `ann-${randomUUID().slice(0, 8)}@acme.test`;
    const user = await call(app(), 'createUser', { token: admin, body: { email: agentEmail, name: 'Ann', role: 'agent', password: 'a-long-password' } });
    const agentToken = (await call(app(), 'login', { body: { email: agentEmail, password: 'a-long-password' } })).body.accessToken;
    await call(app(), 'updateAgentRouting', { token: admin, params: { userId: user.body.id }, body: { skillIds: [skill], maxConversations: 10 } });
    const ws = await WsTestClient.connect(t.baseUrl);
    expect((await ws.request({ type: 'auth', token: agentToken })).ok).toBe(true);
    await call(app(), 'setMyState', { token: agentToken, body: { state: 'online' } });
    const number = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const created = await call(app(), 'createChannel', {
      token: admin,
      body: {
        name: 'Support line',
        defaultSkillId: skill,
        apiBaseUrl: sim.url,
        settings: { kind: 'sms', phoneNumber: number, accountSid: ACCOUNT_SID },
        credentials: { kind: 'sms', authToken: AUTH_TOKEN },
      },
    });
    expect(created.status).toBe(201);
    const channel = created.body.channel;
    const webhookUrl = `${t.baseUrl}${channel.inboundWebhookPath}`;
    const consumerNumber = () => `+1444${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const conversationsOf = async () => (await call(app(), 'listConversations', { token: admin, query: { scope: 'all', state: 'all', limit: 100 } })).body.items;
    const events = async (conversationId: string) =>
      (await call(app(), 'listEvents', { token: admin, params: { conversationId }, query: { fromSeq: 1, limit: 200 } })).body.items as ConversationEvent[];
    const texts = async (conversationId: string) => (await events(conversationId)).flatMap((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? [e.content.message] : []));
    const sms = (from: string, body: string, extra: Partial<Parameters<TwilioSimulator['sendSms']>[0]> = {}) => sim.sendSms({ from, to: number, body, webhookUrl, ...extra });
    const conversationFrom = async (from: string) => {
      const list = await until(conversationsOf, (l) => l.length > 0, 'a conversation');
      const details = await Promise.all(list.map(async (c) => ({ c, ev: await events(c.id) })));
      const found = details.find(({ ev }) => ev.some((e) => e.type === 'content' && e.originator.role === 'consumer')) ?? details[0];
      return { conversation: found?.c, from };
    };
    return { admin, skill, agent: { id: user.body.id, token: agentToken, ws }, channel, number, webhookUrl, consumerNumber, conversationsOf, events, texts, sms, conversationFrom };
  }

  it('an inbound SMS with a valid signature starts a conversation that routing gives to an agent', async () => {
    const s = await scene();
    const from = s.consumerNumber();
    const answer = await s.sms(from, 'Hi, is my order shipped?');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('text/xml');
    const [conversation] = await until(s.conversationsOf, (l) => l.length === 1 && l[0]?.assignedAgentId === s.agent.id, 'routing to Ann');
    expect(conversation).toMatchObject({ channel: 'sms', device: 'sms', state: 'open' });
    expect(await s.texts(conversation?.id ?? '')).toEqual(['Hi, is my order shipped?']);
  });

  it('refuses a webhook with a bad or missing signature, writing nothing', async () => {
    const s = await scene();
    for (const signature of ['invalid', 'missing'] as const) {
      const answer = await s.sms(s.consumerNumber(), 'Forged', { signature });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
    }
    // Another Twilio account's message to this number is refused too.
    const foreign = await s.sms(s.consumerNumber(), 'Wrong account', { extraParams: { AccountSid: `AC${'9'.repeat(32)}` } });
    expect(foreign.status).toBe(403);
    expect(await s.conversationsOf()).toEqual([]);
  });

  it('stores a redelivered message once', async () => {
    const s = await scene();
    const from = s.consumerNumber();
    const first = await s.sms(from, 'Only once please');
    const sid = first.messageSid;
    expect((await s.sms(from, 'Only once please', { messageSid: sid })).status).toBe(200);
    const [conversation] = await until(s.conversationsOf, (l) => l.length === 1, 'the conversation');
    expect(await s.texts(conversation?.id ?? '')).toEqual(['Only once please']);
  });

  it("delivers the agent's reply in Twilio's format, with quick replies as numbered options, and turns statuses into receipts", async () => {
    const s = await scene();
    const from = s.consumerNumber();
    await s.sms(from, 'Can you help?');
    const [conversation] = await until(s.conversationsOf, (l) => l[0]?.assignedAgentId === s.agent.id, 'routing');
    const conversationId = conversation?.id ?? '';
    const reply = await call(app(), 'sendEvent', {
      token: s.agent.token,
      params: { conversationId },
      body: {
        clientMessageId: randomUUID(),
        event: {
          type: 'content',
          content: {
            contentType: 'text/plain',
            message: 'Sure! Which one?',
            quickReplies: {
              type: 'quickReplies',
              replies: ['Track order', 'Returns'].map((title) => ({ type: 'button', title, click: { actions: [{ type: 'publishText', text: title }] } })),
            },
          },
        },
      },
    });
    expect(reply.status).toBe(201);
    const sent = await sim.nextSent(5_000);
    expect(sent).toMatchObject({ to: from, from: s.number });
    expect(sent.body).toContain('Sure! Which one?');
    expect(sent.body).toMatch(/1\. Track order\n2\. Returns/);
    expect(sent.statusCallback).toBe(s.webhookUrl);
    // Twilio reports sent, then delivered: the consumer's side acknowledges the agent's message.
    await until(
      () => s.events(conversationId),
      (ev) => ev.some((e) => e.type === 'accept_status' && e.originator.role === 'consumer' && e.sequences.includes(reply.body.sequence)),
      'a receipt',
    );
    // "2" answers the second option.
    await s.sms(from, '2');
    await until(
      () => s.texts(conversationId),
      (m) => m.includes('Returns'),
      'the numbered answer read back',
    );
  });

  it('retries a provider error, and tells the agent when the message finally could not be sent', async () => {
    const s = await scene();
    const from = s.consumerNumber();
    await s.sms(from, 'Hello');
    const [conversation] = await until(s.conversationsOf, (l) => l[0]?.assignedAgentId === s.agent.id, 'routing');
    const conversationId = conversation?.id ?? '';
    const before = sim.sent.length;
    sim.failNextSends(1, { status: 500 });
    await call(app(), 'sendEvent', { token: s.agent.token, params: { conversationId }, body: text('Retried once') });
    await until(
      () => sim.sent.slice(before),
      (list) => list.some((m) => m.body.includes('Retried once')),
      'the retried send',
    );
    sim.failNextSends(5, { status: 503 });
    await call(app(), 'sendEvent', { token: s.agent.token, params: { conversationId }, body: text('Never arrives') });
    await until(
      () => s.texts(conversationId),
      (m) => m.some((x) => x.startsWith('Not delivered by SMS')),
      'the note to the agent',
      10_000,
    );
    const note = (await s.events(conversationId)).find((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message.startsWith('Not delivered by SMS'));
    expect(note?.audience).toBe('agents_and_managers');
    expect(sim.sent.some((m) => m.body.includes('Never arrives'))).toBe(false);
  });

  it('honours STOP and START: nothing is texted to an opted-out number, and the agent is told', async () => {
    const s = await scene();
    const from = s.consumerNumber();
    await s.sms(from, 'Hello');
    const [conversation] = await until(s.conversationsOf, (l) => l[0]?.assignedAgentId === s.agent.id, 'routing');
    const conversationId = conversation?.id ?? '';
    await s.sms(from, 'STOP');
    await until(
      () => s.texts(conversationId),
      (m) => m.some((x) => x.includes('opted out of SMS')),
      'the opt-out note',
    );
    const before = sim.sent.length;
    await call(app(), 'sendEvent', { token: s.agent.token, params: { conversationId }, body: text('Are you still there?') });
    await until(
      () => s.texts(conversationId),
      (m) => m.some((x) => x.startsWith('Not delivered by SMS') && x.includes('opted out')),
      'the refusal',
    );
    expect(sim.sent.length).toBe(before);
    await s.sms(from, 'start');
    await call(app(), 'sendEvent', { token: s.agent.token, params: { conversationId }, body: text('Welcome back') });
    await until(
      () => sim.sent.slice(before),
      (list) => list.some((m) => m.body.includes('Welcome back')),
      'the send after START',
    );
  });

  it('deflects a caller to SMS: the brand texts first, and the conversation waits for their answer', async () => {
    const s = await scene();
    const caller = s.consumerNumber();
    const deflected = await call(app(), 'deflectCall', {
      token: s.admin,
      params: { channelId: s.channel.id },
      body: { phoneNumber: caller, message: "Thanks for calling Acme! We'll help you here by text." },
    });
    expect(deflected.status).toBe(200);
    const sent = await until(
      () => sim.sent.filter((m) => m.to === caller),
      (l) => l.length === 1,
      'the first text',
    );
    expect(sent[0]?.body).toContain("Thanks for calling Acme! We'll help you here by text.");
    const conversation = (await call(app(), 'getConversation', { token: s.admin, params: { conversationId: deflected.body.conversationId } })).body;
    expect(conversation.routing?.status).toBe('new');
    // The caller answers: the same conversation, now queued and given to Ann.
    await s.sms(caller, 'Yes, my parcel is late');
    await until(
      () => call(app(), 'getConversation', { token: s.admin, params: { conversationId: deflected.body.conversationId } }).then((r) => r.body),
      (c) => c.assignedAgentId === s.agent.id,
      'routing after the answer',
    );
  });

  it('keeps credentials secret and validates channel settings', async () => {
    const s = await scene();
    const listed = await call(app(), 'listChannels', { token: s.admin });
    expect(JSON.stringify(listed.body)).not.toContain(AUTH_TOKEN);
    expect((await call(app(), 'createChannel', { token: s.agent.token, body: {} })).status).toBe(403);
    const mismatch = await call(app(), 'createChannel', {
      token: s.admin,
      body: {
        name: 'x',
        settings: { kind: 'sms', phoneNumber: '+15550000000', accountSid: ACCOUNT_SID },
        credentials: { kind: 'messenger', appSecret: 'aaaaaaaa', pageAccessToken: 'bbbbbbbb', verifyToken: 'cccccccc' },
      },
    });
    expect(mismatch.status).toBe(400);
    const badNumber = await call(app(), 'createChannel', {
      token: s.admin,
      body: { name: 'x', settings: { kind: 'sms', phoneNumber: '555', accountSid: ACCOUNT_SID }, credentials: { kind: 'sms', authToken: AUTH_TOKEN } },
    });
    expect(badNumber.status).toBe(400);
    expect((await call(app(), 'listChannels', { token: s.admin })).body.items).toHaveLength(1);
    // The sealed value in the database is not the token either.
    const row = await t.server.database.db.selectFrom('channels').select('credentials_sealed').where('id', '=', s.channel.id).executeTakeFirstOrThrow();
    expect(row.credentials_sealed).not.toContain(AUTH_TOKEN);
    // A test message goes through the provider.
    const test = await call(app(), 'sendTestChannelMessage', { token: s.admin, params: { channelId: s.channel.id }, body: { to: '+14440000001', text: 'Test from Parley' } });
    expect(test.status).toBe(200);
    expect(sim.sent.some((m) => m.to === '+14440000001' && m.body === 'Test from Parley')).toBe(true);
  });
});
