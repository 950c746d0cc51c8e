import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendRequest } from '../../connectors/whatsapp/cloud-api.ts';
import { startWhatsAppSimulator, type WhatsAppSimulator } from '../../connectors/whatsapp/simulator.ts';
import { type AgentScene, agentScene, until } from '../../test/channel-scene.ts';
import { call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';

const PHONE_NUMBER_ID = '106540352242922';
const DISPLAY_NUMBER = '+15550101234';
const APP_SECRET = 'whatsapp-app-secret-for-tests';
const ACCESS_TOKEN = 'EAAG-whatsapp-access-token-for-tests';
const VERIFY_TOKEN = 'whatsapp-verify-token-for-tests';
const HOUR = 3_600_000;
const TEMPLATES = [
  { name: 'hello_world', language: 'en_US', body: 'Hello from Acme!' },
  { name: 'order_update', language: 'en_US', body: 'Your order {{1}} ships {{2}}. Any questions?', buttons: ['Yes', 'No'] },
];
/** The first bytes of a JPEG file (Parley checks that a file's content is of its type). */
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);

const waId = () => `1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

const startSimulator = () => startWhatsAppSimulator({ phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: DISPLAY_NUMBER, appSecret: APP_SECRET, accessToken: ACCESS_TOKEN, templates: TEMPLATES });

/** A WhatsApp channel on the simulator's Cloud API, in a fresh account with Ann online for its skill. */
async function whatsappScene(t: TestServer, sim: WhatsAppSimulator) {
  const scene = await agentScene(t, 'WhatsApp');
  const created = await call(t.server.app, 'createChannel', {
    token: scene.admin,
    body: {
      name: 'Acme on WhatsApp',
      defaultSkillId: scene.skill,
      apiBaseUrl: sim.url,
      settings: { kind: 'whatsapp', phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: DISPLAY_NUMBER },
      credentials: { kind: 'whatsapp', appSecret: APP_SECRET, accessToken: ACCESS_TOKEN, verifyToken: VERIFY_TOKEN },
    },
  });
  expect(created.status).toBe(201);
  const channel = created.body.channel;
  const webhookUrl = `${t.baseUrl}${channel.inboundWebhookPath}`;
  // Messages name their webhook URL; the simulator posts statuses to this one.
  sim.setWebhookUrl(webhookUrl);
  /** What the business sent to a person, as Cloud API requests. */
  const sentTo = (to: string): SendRequest[] => sim.sent.filter((m) => m.to === to).map((m) => m.request);
  return { ...scene, channel, webhookUrl, sentTo };
}

describe(`WhatsApp through the WhatsApp Cloud API (${storageMode})`, () => {
  let t: TestServer;
  let sim: WhatsAppSimulator;
  const scenes: AgentScene[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startSimulator();
  });
  afterAll(async () => {
    for (const scene of scenes) scene.close();
    await sim.close();
    await t.close();
  });

  const app = () => t.server.app;
  const scene = async () => {
    const s = await whatsappScene(t, sim);
    scenes.push(s);
    return s;
  };

  it("answers Meta's verification challenge with the channel's verify token, and refuses any other token", async () => {
    const s = await scene();
    expect(await sim.verify(s.webhookUrl, VERIFY_TOKEN)).toMatchObject({ ok: true, status: 200 });
    const refused = await sim.verify(s.webhookUrl, 'another-verify-token');
    expect(refused).toMatchObject({ ok: false, status: 403 });
    expect(JSON.parse(refused.body).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
  });

  it('an inbound message with a valid signature starts a conversation that routing gives to an agent', async () => {
    const s = await scene();
    const delivery = await sim.sendText({ waId: waId(), name: 'Maria', text: 'Hola, is my order on its way?' });
    expect(delivery).toMatchObject({ status: 200, responseBody: 'EVENT_RECEIVED' });
    const conversation = await s.assignedConversation();
    expect(conversation).toMatchObject({ channel: 'whatsapp', device: 'whatsapp', state: 'open' });
    expect(await s.texts(conversation.id)).toEqual(['Hola, is my order on its way?']);
  });

  it('refuses a webhook with a bad or missing signature, writing nothing', async () => {
    const s = await scene();
    for (const signature of ['bad', 'none'] as const) {
      const delivery = await sim.sendText({ waId: waId(), text: 'Forged', signature });
      expect(delivery.status).toBe(403);
      expect(JSON.parse(delivery.responseBody).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
    }
    expect(await s.conversations()).toEqual([]);
    expect(await t.server.database.db.selectFrom('channel_contacts').select('address').where('channel_id', '=', s.channel.id).execute()).toEqual([]);
  });

  it('stores a redelivered webhook once', async () => {
    const s = await scene();
    const first = await sim.sendText({ waId: waId(), text: 'Only once please' });
    expect((await sim.redeliver(first)).status).toBe(200);
    expect((await sim.redeliver(first)).status).toBe(200);
    const conversation = await s.assignedConversation();
    expect(await s.texts(conversation.id)).toEqual(['Only once please']);
  });

  it("sends the agent's quick replies as reply buttons, turns statuses into receipts, and reads a tapped button back as its title", async () => {
    const s = await scene();
    const person = waId();
    await sim.sendText({ waId: person, text: 'Can you help?' });
    const conversation = await s.assignedConversation();
    const reply = await s.reply(conversation.id, 'Sure! Which one?', ['Track order', 'Returns']);
    const [sent] = await until(
      () => s.sentTo(person),
      (l) => l.length === 1,
      'the Cloud API call',
    );
    expect(sent).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: person,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Sure! Which one?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'Track order', title: 'Track order' } },
            { type: 'reply', reply: { id: 'Returns', title: 'Returns' } },
          ],
        },
      },
    });
    // The simulator reports sent and delivered by itself; the person then reads it.
    await s.receipted(conversation.id, reply.sequence, 'accept');
    await sim.markRead(person);
    await s.receipted(conversation.id, reply.sequence, 'read');
    const wamid = sim.sent.find((m) => m.to === person)?.id;
    expect(await t.server.database.db.selectFrom('channel_messages').select(['provider_message_id', 'status']).where('conversation_id', '=', conversation.id).execute()).toEqual([
      { provider_message_id: wamid, status: 'read' },
    ]);
    await sim.sendButtonReply({ waId: person, id: 'Returns', title: 'Returns', ...(wamid ? { contextId: wamid } : {}) });
    await until(
      () => s.texts(conversation.id),
      (m) => m.at(-1) === 'Returns',
      'the tapped button',
    );
  });

  it('sends four to ten quick replies as a list, and reads a chosen row back as its title', async () => {
    const s = await scene();
    const person = waId();
    await sim.sendText({ waId: person, text: 'When can you deliver?' });
    const conversation = await s.assignedConversation();
    const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
    await s.reply(conversation.id, 'Pick a day', days);
    const [sent] = await until(
      () => s.sentTo(person),
      (l) => l.length === 1,
      'the Cloud API call',
    );
    expect(sent).toMatchObject({
      type: 'interactive',
      interactive: { type: 'list', body: { text: 'Pick a day' }, action: { button: 'Choose', sections: [{ rows: days.map((d) => ({ id: d, title: d })) }] } },
    });
    await sim.sendListReply({ waId: person, id: 'Thursday', title: 'Thursday' });
    await until(
      () => s.texts(conversation.id),
      (m) => m.at(-1) === 'Thursday',
      'the chosen row',
    );
  });

  it("stores an image the consumer sends (downloaded from WhatsApp's media endpoint) as a file in the conversation", async () => {
    const s = await scene();
    await sim.sendImage({ waId: waId(), caption: 'The parcel arrived like this', mimeType: 'image/jpeg', bytes: JPEG });
    const conversation = await s.assignedConversation();
    const events = await until(
      () => s.events(conversation.id),
      (l) => l.some((e) => e.type === 'content' && e.content.contentType === 'hosted/file'),
      'the file event',
    );
    const file = events.find((e) => e.type === 'content' && e.content.contentType === 'hosted/file');
    expect(file?.originator.role).toBe('consumer');
    if (file?.type !== 'content' || file.content.contentType !== 'hosted/file') throw new Error('no file event');
    expect(file.content.file).toMatchObject({ contentType: 'image/jpeg', size: JPEG.length, caption: 'The parcel arrived like this' });
    // The caption is the file's, not a second message.
    expect(await s.texts(conversation.id)).toEqual([]);
    const download = await t.server.app.inject({ method: 'GET', url: `/v1/files/${file.content.file.fileId}`, headers: { authorization: `Bearer ${s.agent.token}` } });
    expect(download.statusCode).toBe(200);
    expect(new Uint8Array(download.rawPayload)).toEqual(JPEG);
  });

  it('retries a provider error, and tells the agent in an internal note when the message finally could not be sent', async () => {
    const s = await scene();
    const person = waId();
    await sim.sendText({ waId: person, text: 'Hello' });
    const conversation = await s.assignedConversation();
    sim.failNext(1, { httpStatus: 500 });
    await s.reply(conversation.id, 'Retried once');
    await until(
      () => s.sentTo(person),
      (l) => l.some((r) => r.type === 'text' && r.text.body === 'Retried once'),
      'the retried send',
    );
    sim.failNext(3, { httpStatus: 500 });
    await s.reply(conversation.id, 'Never arrives');
    const note = await s.noteStartingWith(conversation.id, 'Not delivered by WhatsApp');
    expect(note.audience).toBe('agents_and_managers');
    expect(note.message).toContain('gave up after 3 attempts');
    expect(s.sentTo(person).some((r) => r.type === 'text' && r.text.body === 'Never arrives')).toBe(false);
  });

  it('tells the agent a template is needed when WhatsApp accepts a reply, then reports it failed for the window (131047)', async () => {
    // As the real Cloud API mostly does: 200 and a wamid, then a `failed` status.
    const strict = await startWhatsAppSimulator({ phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: DISPLAY_NUMBER, appSecret: APP_SECRET, accessToken: ACCESS_TOKEN, windowErrors: 'status' });
    try {
      const s = await whatsappScene(t, strict);
      scenes.push(s);
      const person = waId();
      await strict.sendText({ waId: person, text: 'Hello' });
      const conversation = await s.assignedConversation();
      strict.advanceClock(25 * HOUR);
      const reply = await s.reply(conversation.id, 'Too late for WhatsApp');
      const note = await s.noteStartingWith(conversation.id, 'Not delivered by WhatsApp');
      expect(note.audience).toBe('agents_and_managers');
      expect(note.message).toMatch(/template/);
      const row = await t.server.database.db
        .selectFrom('channel_messages')
        .select(['status', 'error'])
        .where('conversation_id', '=', conversation.id)
        .where('sequence', '=', reply.sequence)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(/^131047: /);
    } finally {
      await strict.close();
    }
  });

  it('lets only the agent holding the conversation (or a supervisor) send a template', async () => {
    const s = await scene();
    await sim.sendText({ waId: waId(), text: 'Hello' });
    const conversation = await s.assignedConversation();
    const bob = await call(app(), 'createUser', { token: s.admin, body: { email: `bob-${conversation.id.slice(0, 8)}@acme.test`, name: 'Bob', role: 'agent', password: 'a-long-password' } });
    expect(bob.status).toBe(201);
    const bobToken = (await call(app(), 'login', { body: { email: `bob-${conversation.id.slice(0, 8)}@acme.test`, password: 'a-long-password' } })).body.accessToken;
    const body = { name: 'hello_world', language: 'en_US', parameters: [] };
    const refused = await call(app(), 'sendChannelTemplate', { token: bobToken, params: { conversationId: conversation.id }, body });
    expect(refused.status).toBe(404);
    const malformed = await call(app(), 'sendChannelTemplate', { token: s.agent.token, params: { conversationId: conversation.id }, body: { name: 'Hello World!', language: 'en_US' } });
    expect(malformed.status).toBe(400);
    const byManager = await call(app(), 'sendChannelTemplate', { token: s.admin, params: { conversationId: conversation.id }, body });
    expect(byManager.status).toBe(201);
  });
});

describe(`WhatsApp's 24-hour customer-service window and templates outside it (${storageMode})`, () => {
  const clock = new ManualClock();
  let t: TestServer;
  let sim: WhatsAppSimulator;
  let s: Awaited<ReturnType<typeof whatsappScene>>;
  const person = waId();
  let conversationId = '';

  beforeAll(async () => {
    t = await startTestServer({ listen: true, clock, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
    sim = await startSimulator();
    s = await whatsappScene(t, sim);
    await sim.sendText({ waId: person, text: 'Is my refund done?' });
    conversationId = (await s.assignedConversation()).id;
    await s.reply(conversationId, 'Checking, one moment');
    await until(
      () => s.sentTo(person),
      (l) => l.some((r) => r.type === 'text' && r.text.body === 'Checking, one moment'),
      'the reply within the window',
    );
    // A day and an hour later, for Parley and for WhatsApp.
    clock.advance(25 * HOUR);
    sim.advanceClock(25 * HOUR);
    await s.signInAgain();
  });
  afterAll(async () => {
    s.close();
    await sim.close();
    await t.close();
  });

  const app = () => t.server.app;
  const deliverJobsFor = async (sequence: number) =>
    (await t.server.database.db.selectFrom('jobs').select('payload').where('queue', '=', 'channels.deliver').execute()).filter((j) => {
      const payload = (typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload) as { conversationId: string; sequence: number };
      return payload.conversationId === conversationId && payload.sequence === sequence;
    });

  it("does not send a free-form reply once 24 hours have passed since the consumer's last message, and tells the agent a template is needed", async () => {
    const sentBefore = sim.sent.length;
    await s.reply(conversationId, 'Your refund was issued');
    const note = await s.noteStartingWith(conversationId, 'Not delivered by WhatsApp');
    expect(note.audience).toBe('agents_and_managers');
    expect(note.message).toMatch(/24 hours/);
    expect(note.message).toMatch(/template/);
    // Parley refused it itself: WhatsApp was not even asked.
    expect(sim.sent.length).toBe(sentBefore);
    expect(sim.transcript(person).filter((e) => e.direction === 'refused')).toEqual([]);
  });

  it('sends an approved template outside the window, stores it once as the agent’s message, and never sends it twice', async () => {
    const notesBefore = (await s.texts(conversationId)).filter((m) => m.startsWith('Not delivered')).length;
    const sent = await call(app(), 'sendChannelTemplate', {
      token: s.agent.token,
      params: { conversationId },
      body: { name: 'order_update', language: 'en_US', parameters: ['A-1042', 'tomorrow'] },
    });
    expect(sent.status).toBe(201);
    const templates = sim.sent.filter((m) => m.to === person && m.request.type === 'template');
    expect(templates.map((m) => m.request)).toEqual([
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: person,
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'A-1042' },
                { type: 'text', text: 'tomorrow' },
              ],
            },
          ],
        },
      },
    ]);
    const event = (await s.events(conversationId)).find((e) => e.sequence === sent.body.sequence);
    expect(event).toMatchObject({ type: 'content', audience: 'all', originator: { id: s.agent.id, role: 'assigned_agent' }, content: { contentType: 'text/plain' } });
    expect(event?.type === 'content' && event.content.contentType === 'text/plain' ? event.content.message : '').toBe('WhatsApp template order_update (en_US): A-1042 · tomorrow');
    // Recorded with WhatsApp's id for its statuses, in the transaction that stored it, and no delivery job at all.
    const rows = await t.server.database.db.selectFrom('channel_messages').select(['sequence', 'provider_message_id']).where('conversation_id', '=', conversationId).execute();
    expect(rows).toContainEqual({ sequence: sent.body.sequence, provider_message_id: templates[0]?.id });
    expect(await deliverJobsFor(sent.body.sequence)).toEqual([]);
    // WhatsApp reports it delivered: a receipt like any message's.
    await s.receipted(conversationId, sent.body.sequence, 'accept');
    // Nothing else was sent, and the agent got no "not delivered" note for it.
    await t.server.services.jobs.runDue();
    expect(sim.sent.filter((m) => m.to === person && m.request.type === 'template')).toHaveLength(1);
    expect((await s.texts(conversationId)).filter((m) => m.startsWith('Not delivered'))).toHaveLength(notesBefore);
  });

  it("refuses an unknown template with WhatsApp's error as CHANNEL_DELIVERY_FAILED, storing nothing", async () => {
    const before = await s.events(conversationId);
    const refused = await call(app(), 'sendChannelTemplate', {
      token: s.agent.token,
      params: { conversationId },
      body: { name: 'no_such_template', language: 'en_US', parameters: [] },
    });
    expect(refused.status).toBe(502);
    expect(refused.body.error?.code).toBe('CHANNEL_DELIVERY_FAILED');
    expect(refused.body.error?.message).toContain('132001');
    expect(refused.body.error?.message).toContain('no_such_template');
    expect(refused.body.error?.details).toMatchObject({ providerCode: 'template_invalid', retryable: false });
    const wrongParameters = await call(app(), 'sendChannelTemplate', { token: s.agent.token, params: { conversationId }, body: { name: 'order_update', language: 'en_US', parameters: ['A-1042'] } });
    expect(wrongParameters.status).toBe(502);
    expect(wrongParameters.body.error?.message).toContain('132000');
    expect(await s.events(conversationId)).toEqual(before);
  });

  it('sends free-form replies again once the consumer answers the template', async () => {
    await sim.sendTemplateButtonReply({ waId: person, payload: 'Yes', text: 'Yes' });
    await until(
      () => s.texts(conversationId),
      (m) => m.at(-1) === 'Yes',
      'the answer to the template',
    );
    await s.reply(conversationId, 'Great, see you tomorrow');
    await until(
      () => s.sentTo(person),
      (l) => l.some((r) => r.type === 'text' && r.text.body === 'Great, see you tomorrow'),
      'the reply inside the new window',
    );
  });
});
