import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioSimulator, type TwilioSimulator } from '../../connectors/twilio/simulator.ts';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';
import { SURVEY_QUESTION, SURVEY_THANKS } from './csat.service.ts';
import { until } from '../../test/until.ts';

const ACCOUNT_SID = `AC${'2'.repeat(32)}`;
const AUTH_TOKEN = 'twilio-auth-token-for-csat-tests';

describe(`the CSAT survey by SMS (${storageMode})`, () => {
  let t: TestServer;
  let sim: TwilioSimulator;
  const sockets: WsTestClient[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await sim.close();
    await t.close();
  });

  const app = () => t.server.app;

  /** An account with an SMS number on the simulator and Ann online on its skill; a consumer texting it, answered by Ann. */
  async function answeredSmsConversation() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const login = async (address: string) => (await call(app(), 'login', { body: { email: address, password: 'a-long-password' } })).body.accessToken;
    const admin = await login(email);
    const skill = (await call(app(), 'createSkill', { token: admin, body: { name: 'Texting' } })).body.id;
    const agentEmail = `ann-${randomUUID().slice(0, 8)}@acme.test`;
    const user = await call(app(), 'createUser', { token: admin, body: { email: agentEmail, name: 'Ann', role: 'agent', password: 'a-long-password' } });
    await call(app(), 'updateAgentRouting', { token: admin, params: { userId: user.body.id }, body: { skillIds: [skill], maxConversations: 10 } });
    const agent = { id: user.body.id as string, token: await login(agentEmail) };
    const ws = await WsTestClient.connect(t.baseUrl);
    sockets.push(ws);
    expect((await ws.request({ type: 'auth', token: agent.token })).ok).toBe(true);
    await call(app(), 'setMyState', { token: agent.token, body: { state: 'online' } });
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
    const webhookUrl = `${t.baseUrl}${created.body.channel.inboundWebhookPath}`;
    const from = `+1444${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const sms = (body: string, messageSid?: string) => sim.sendSms({ from, to: number, body, webhookUrl, ...(messageSid ? { messageSid } : {}) });
    const conversations = async () => (await call(app(), 'listConversations', { token: admin, query: { scope: 'all', state: 'all', limit: 100 } })).body.items;
    const sentTo = () => sim.sent.filter((m) => m.to === from).map((m) => m.body);

    await sms('Where is my parcel?');
    const [conversation] = await until(conversations, (l) => l.length === 1 && l[0]?.assignedAgentId === agent.id, 'routing to Ann');
    const conversationId = conversation?.id ?? '';
    await call(app(), 'sendEvent', { token: agent.token, params: { conversationId }, body: text('It arrives tomorrow.') });
    await until(sentTo, (bodies) => bodies.some((b) => b.includes('It arrives tomorrow.')), "Ann's reply by SMS");
    return { admin, skill, agent, conversationId, sms, conversations, sentTo };
  }

  it('texts the survey with numbered options after the close, and records "5" as the score, not as a new conversation', async () => {
    const s = await answeredSmsConversation();
    expect((await call(app(), 'closeConversation', { token: s.agent.token, params: { conversationId: s.conversationId } })).status).toBe(200);

    const [question] = await until(
      () => s.sentTo().filter((b) => b.includes(SURVEY_QUESTION)),
      (l) => l.length === 1,
      'the survey by SMS',
    );
    expect(question).toBe(`${SURVEY_QUESTION}\n\n1. Very poor\n2. Poor\n3. OK\n4. Good\n5. Excellent\nReply with a number.`);

    const answer = await s.sms('5');
    expect(answer.status).toBe(200);
    const survey = await call(app(), 'getCsat', { token: s.admin, params: { conversationId: s.conversationId } });
    expect(survey.body).toMatchObject({
      status: 'answered',
      response: { score: 5, comment: null, agentId: s.agent.id, skillId: s.skill, channel: 'sms', device: 'sms' },
    });
    // Thanked, and still one conversation, closed.
    await until(s.sentTo, (bodies) => bodies.includes(SURVEY_THANKS), 'the thanks by SMS');
    const list = await s.conversations();
    expect(list).toHaveLength(1);
    expect(list[0]?.state).toBe('closed');

    // Twilio redelivering the answer changes nothing; the next text is a conversation message again.
    await s.sms('5', answer.messageSid);
    expect((await s.conversations()).length).toBe(1);
    await s.sms('One more question');
    await until(
      async () => (await s.conversations()).filter((c) => c.state === 'open'),
      (open) => open.length === 1,
      'the next text opening a conversation',
    );
    expect((await call(app(), 'listCsat', { token: s.admin, query: {} })).body.summary).toMatchObject({ surveys: 1, responses: 1, averageScore: 5 });
  });

  it('takes an option by its title, and lets any other text through (withdrawing the survey)', async () => {
    const first = await answeredSmsConversation();
    await call(app(), 'closeConversation', { token: first.agent.token, params: { conversationId: first.conversationId } });
    await until(first.sentTo, (bodies) => bodies.some((b) => b.includes(SURVEY_QUESTION)), 'the survey by SMS');
    await first.sms('good');
    expect((await call(app(), 'getCsat', { token: first.admin, params: { conversationId: first.conversationId } })).body.response?.score).toBe(4);

    const second = await answeredSmsConversation();
    await call(app(), 'closeConversation', { token: second.agent.token, params: { conversationId: second.conversationId } });
    await until(second.sentTo, (bodies) => bodies.some((b) => b.includes(SURVEY_QUESTION)), 'the survey by SMS');
    await second.sms('Actually, can I change the address?');
    await until(
      async () => (await second.conversations()).filter((c) => c.state === 'open'),
      (open) => open.length === 1,
      'the text reaching a conversation',
    );
    await second.sms('5');
    const survey = await call(app(), 'getCsat', { token: second.admin, params: { conversationId: second.conversationId } });
    expect(survey.body.status).toBe('expired');
  });
});
