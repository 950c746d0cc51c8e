import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MessengerSimulator, startMessengerSimulator } from '../../connectors/messenger/simulator.ts';
import { type AgentScene, agentScene, until } from '../../test/channel-scene.ts';
import { call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';

const PAGE_ID = '104857600123456';
const APP_SECRET = 'messenger-app-secret-for-tests';
const PAGE_TOKEN = 'EAAG-page-access-token-for-tests';
const VERIFY_TOKEN = 'verify-token-for-tests';
const HOUR = 3_600_000;

const psid = () => String(7_000_000_000_000_000 + Math.floor(Math.random() * 1e15));

/** A Messenger channel on the simulator's Graph API, in a fresh account with Ann online for its skill. */
async function messengerScene(t: TestServer, sim: MessengerSimulator) {
  const scene = await agentScene(t, 'Messenger');
  const created = await call(t.server.app, 'createChannel', {
    token: scene.admin,
    body: {
      name: 'Acme on Messenger',
      defaultSkillId: scene.skill,
      apiBaseUrl: sim.url,
      settings: { kind: 'messenger', pageId: PAGE_ID },
      credentials: { kind: 'messenger', appSecret: APP_SECRET, pageAccessToken: PAGE_TOKEN, verifyToken: VERIFY_TOKEN },
    },
  });
  expect(created.status).toBe(201);
  const channel = created.body.channel;
  const webhookUrl = `${t.baseUrl}${channel.inboundWebhookPath}`;
  sim.setWebhookUrl(webhookUrl);
  return { ...scene, channel, webhookUrl };
}

describe(`Messenger through Meta's Messenger Platform (${storageMode})`, () => {
  let t: TestServer;
  let sim: MessengerSimulator;
  const scenes: AgentScene[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startMessengerSimulator({ pageId: PAGE_ID, appSecret: APP_SECRET, pageAccessToken: PAGE_TOKEN });
  });
  afterAll(async () => {
    for (const scene of scenes) scene.close();
    await sim.close();
    await t.close();
  });

  const app = () => t.server.app;
  const scene = async () => {
    const s = await messengerScene(t, sim);
    scenes.push(s);
    return s;
  };

  it("answers Meta's verification challenge with the channel's verify token, and refuses any other token", async () => {
    const s = await scene();
    expect(await sim.verify(s.webhookUrl, VERIFY_TOKEN)).toBe(true);
    expect(await sim.verify(s.webhookUrl, 'another-verify-token')).toBe(false);
    const refused = await fetch(`${s.webhookUrl}?hub.mode=subscribe&hub.verify_token=another-verify-token&hub.challenge=42`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
    expect(await s.conversations()).toEqual([]);
  });

  it('an inbound message with a valid X-Hub-Signature-256 starts a conversation that routing gives to an agent', async () => {
    const s = await scene();
    const answer = await sim.sendMessage({ psid: psid(), text: 'Hi, where is my order?' });
    expect(answer).toMatchObject({ status: 200, body: 'EVENT_RECEIVED' });
    const conversation = await s.assignedConversation();
    expect(conversation).toMatchObject({ channel: 'messenger', device: 'messenger', state: 'open' });
    expect(await s.texts(conversation.id)).toEqual(['Hi, where is my order?']);
  });

  it('refuses a webhook with a bad or missing signature, writing nothing', async () => {
    const s = await scene();
    for (const signature of ['invalid', 'missing'] as const) {
      const answer = await sim.sendMessage({ psid: psid(), text: 'Forged', signature });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
    }
    // A genuine body replayed with a signature of other bytes is refused too.
    const genuine = await sim.sendMessage({ psid: psid(), text: 'Genuine', signature: 'missing' });
    const tampered = await fetch(s.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: genuine.rawBody,
    });
    expect(tampered.status).toBe(403);
    expect(await s.conversations()).toEqual([]);
    expect(await t.server.database.db.selectFrom('channel_contacts').select('address').where('channel_id', '=', s.channel.id).execute()).toEqual([]);
  });

  it('stores a redelivered webhook once, and ignores the echoes of the Page’s own messages', async () => {
    const s = await scene();
    const person = psid();
    const first = await sim.sendMessage({ psid: person, text: 'Only once please' });
    expect((await sim.redeliver(first.mid)).status).toBe(200);
    expect((await sim.redeliver(first.mid)).status).toBe(200);
    expect((await sim.sendEcho({ psid: person, text: 'An echo of what the Page said' })).status).toBe(200);
    const conversation = await s.assignedConversation();
    expect(await s.texts(conversation.id)).toEqual(['Only once please']);
  });

  it("sends the agent's reply through the Send API with quick replies, and turns delivery and read events into receipts", async () => {
    const s = await scene();
    const person = psid();
    await sim.sendMessage({ psid: person, text: 'Can you help?' });
    const conversation = await s.assignedConversation();
    const reply = await s.reply(conversation.id, 'Sure! Which one?', ['Track order', 'Returns']);
    const [sent] = await until(
      () => sim.sentTo(person).filter((m) => m.message.text === 'Sure! Which one?'),
      (l) => l.length === 1,
      'the Send API call',
    );
    expect(sent).toMatchObject({
      messagingType: 'RESPONSE',
      tokenIn: 'header',
      message: {
        text: 'Sure! Which one?',
        quick_replies: [
          { content_type: 'text', title: 'Track order', payload: 'Track order' },
          { content_type: 'text', title: 'Returns', payload: 'Returns' },
        ],
      },
    });
    // Delivery names the message (mids); read is a watermark over everything sent to the person.
    expect((await sim.sendDelivery({ psid: person })).status).toBe(200);
    await s.receipted(conversation.id, reply.sequence, 'accept');
    expect((await sim.sendRead({ psid: person })).status).toBe(200);
    await s.receipted(conversation.id, reply.sequence, 'read');
    const row = await t.server.database.db.selectFrom('channel_messages').selectAll().where('conversation_id', '=', conversation.id).where('sequence', '=', reply.sequence).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ provider_message_id: sent?.mid, address: person, status: 'read' });
    // The person taps a quick reply: its title comes back as their message.
    await sim.sendMessage({ psid: person, text: 'Returns', quickReplyPayload: 'Returns' });
    await until(
      () => s.texts(conversation.id),
      (m) => m.at(-1) === 'Returns',
      'the tapped quick reply',
    );
  });

  it('retries a provider error, and tells the agent in an internal note when the message finally could not be sent', async () => {
    const s = await scene();
    const person = psid();
    await sim.sendMessage({ psid: person, text: 'Hello' });
    const conversation = await s.assignedConversation();
    sim.failNext(1, { status: 500 });
    await s.reply(conversation.id, 'Retried once');
    await until(
      () => sim.sentTo(person),
      (l) => l.some((m) => m.message.text === 'Retried once'),
      'the retried send',
    );
    sim.failNext(3, { status: 500, code: 2, message: 'An unexpected error has occurred. Please retry your request later.' });
    await s.reply(conversation.id, 'Never arrives');
    const note = await s.noteStartingWith(conversation.id, 'Not delivered by Messenger');
    expect(note.audience).toBe('agents_and_managers');
    expect(note.message).toContain('gave up after 3 attempts');
    expect(sim.sentTo(person).some((m) => m.message.text === 'Never arrives')).toBe(false);
  });

  it('tells the agent the window has passed when Meta refuses a reply for it (error 10, subcode 2018278)', async () => {
    const s = await scene();
    const person = psid();
    await sim.sendMessage({ psid: person, text: 'Hello' });
    const conversation = await s.assignedConversation();
    // Meta knows of a later gap than Parley does (its clock, its records): it refuses the send itself.
    sim.setLastUserMessageAt(person, new Date(Date.now() - 25 * HOUR));
    await s.reply(conversation.id, 'Too late for Meta');
    const note = await s.noteStartingWith(conversation.id, 'Not delivered by Messenger');
    expect(note.message).toContain('more than 24 hours have passed');
    expect(sim.sentTo(person)).toEqual([]);
  });

  it('refuses channel templates outside WhatsApp with a clear validation error', async () => {
    const s = await scene();
    await sim.sendMessage({ psid: psid(), text: 'Hello' });
    const conversation = await s.assignedConversation();
    const refused = await call(app(), 'sendChannelTemplate', {
      token: s.agent.token,
      params: { conversationId: conversation.id },
      body: { name: 'hello_world', language: 'en_US', parameters: [] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error?.message).toMatch(/WhatsApp/);
  });
});

describe(`Messenger's 24-hour standard messaging window (${storageMode})`, () => {
  const clock = new ManualClock();
  let t: TestServer;
  let sim: MessengerSimulator;
  let s: AgentScene & { webhookUrl: string };

  beforeAll(async () => {
    t = await startTestServer({ listen: true, clock, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startMessengerSimulator({ pageId: PAGE_ID, appSecret: APP_SECRET, pageAccessToken: PAGE_TOKEN });
    s = await messengerScene(t, sim);
  });
  afterAll(async () => {
    s.close();
    await sim.close();
    await t.close();
  });

  it('sends nothing once 24 hours have passed since the consumer last wrote, tells the agent why, and sends again after they write', async () => {
    const person = psid();
    await sim.sendMessage({ psid: person, text: 'Any news about my refund?' });
    const conversation = await s.assignedConversation();
    await s.reply(conversation.id, 'Checking, one moment');
    await until(
      () => sim.sentTo(person),
      (l) => l.some((m) => m.message.text === 'Checking, one moment'),
      'the reply within the window',
    );
    clock.advance(25 * HOUR);
    await s.signInAgain();
    await s.reply(conversation.id, 'Your refund was issued');
    const note = await s.noteStartingWith(conversation.id, 'Not delivered by Messenger');
    expect(note.audience).toBe('agents_and_managers');
    expect(note.message).toContain('more than 24 hours have passed');
    // Parley refused it itself: Meta was never asked (the simulator, on real time, would have accepted it).
    expect(sim.sentTo(person).some((m) => m.message.text === 'Your refund was issued')).toBe(false);
    // The consumer writes again: the window opens again.
    await sim.sendMessage({ psid: person, text: 'Hello?' });
    await until(
      () => s.texts(conversation.id),
      (m) => m.includes('Hello?'),
      'the new message',
    );
    await s.reply(conversation.id, `Here again ${randomUUID().slice(0, 4)}`);
    await until(
      () => sim.sentTo(person),
      (l) => l.some((m) => m.message.text?.startsWith('Here again') === true),
      'the reply after the consumer wrote again',
    );
  });
});
