import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorOutboundSchema } from '@parley/protocol';
import { verifyWebhookSignature } from '@parley/sdk/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type AgentScene, agentScene, until } from '../../test/channel-scene.ts';
import { call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { signatureHeader } from '../webhooks/index.ts';

/** The first bytes of a PNG file (Parley checks that a file's content is of its type). */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);

/** What the partner's endpoint received: every POST, and whether its `parley-signature` verified with the secret. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  signature: ReturnType<typeof verifyWebhookSignature>;
}

/**
 * The partner's side of the Connector API: a local endpoint that verifies `parley-signature` with the connector secret
 * (as `@parley/sdk/webhooks` tells partners to) and answers 200, or the statuses it is told to fail with first.
 */
async function startPartner() {
  const received: Received[] = [];
  const failures: number[] = [];
  let secret = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = request.headers['parley-signature'];
      received.push({ headers: request.headers, body, signature: verifyWebhookSignature({ body, signatureHeader: typeof header === 'string' ? header : undefined, secrets: secret }) });
      const status = failures.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"ok":true}' : '{"error":"partner trouble"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/parley/outbound`,
    received,
    /** The secret to verify with (given to the partner when the channel is created). */
    useSecret(value: string) {
      secret = value;
    },
    failNext(count: number, status: number) {
      for (let i = 0; i < count; i++) failures.push(status);
    },
    /** The verified outbound messages, parsed with the contract's schema. */
    messages(): z.infer<typeof ConnectorOutboundSchema>[] {
      return received.filter((r) => r.signature.valid).map((r) => ConnectorOutboundSchema.parse(JSON.parse(r.body)));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe(`the Connector API (${storageMode})`, () => {
  let t: TestServer;
  const partners: Awaited<ReturnType<typeof startPartner>>[] = [];
  const scenes: AgentScene[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { CHANNEL_RETRY_BASE_MS: '50', CHANNEL_MAX_ATTEMPTS: '3' } });
  });
  afterAll(async () => {
    for (const scene of scenes) scene.close();
    for (const partner of partners) await partner.close();
    await t.close();
  });

  const app = () => t.server.app;

  /** A fresh account whose admin registers a connector for the partner's endpoint; Ann is online for its skill. */
  async function scene() {
    const s = await agentScene(t, 'Partner app');
    scenes.push(s);
    const partner = await startPartner();
    partners.push(partner);
    const created = await call(app(), 'createChannel', {
      token: s.admin,
      body: { name: 'Acme app', defaultSkillId: s.skill, settings: { kind: 'connector', webhookUrl: partner.url }, credentials: { kind: 'connector' } },
    });
    expect(created.status).toBe(201);
    const secret = created.body.connectorSecret ?? '';
    partner.useSecret(secret);
    const inboundUrl = `${t.baseUrl}${created.body.channel.inboundWebhookPath}`;
    /** The partner POSTs a message to Parley, signed with `secret` (the channel's by default). */
    const post = async (message: unknown, options: { secret?: string | null; timestamp?: number } = {}) => {
      const body = JSON.stringify(message);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const key = options.secret === undefined ? secret : options.secret;
      if (key !== null) headers['parley-signature'] = signatureHeader(body, [key], options.timestamp ?? Math.floor(Date.now() / 1000));
      const response = await fetch(inboundUrl, { method: 'POST', headers, body });
      return { status: response.status, body: await response.text() };
    };
    const inbound = (from: string, text: string, messageId: string = randomUUID()) => ({ type: 'message', messageId, from, text });
    return { ...s, channel: created.body.channel, secret, partner, post, inbound };
  }

  it('registers a connector: its secret is shown once, at creation, and never again', async () => {
    const s = await scene();
    expect(s.secret).toMatch(/^pcs_[A-Za-z0-9_-]{40,}$/);
    expect(s.channel).toMatchObject({ kind: 'connector', settings: { kind: 'connector', webhookUrl: s.partner.url }, inboundWebhookPath: `/webhooks/channels/${s.channel.id}` });
    const listed = await call(app(), 'listChannels', { token: s.admin });
    const one = await call(app(), 'getChannel', { token: s.admin, params: { channelId: s.channel.id } });
    expect(JSON.stringify([listed.body, one.body])).not.toContain(s.secret);
    const row = await t.server.database.db.selectFrom('channels').select('connector_secret_sealed').where('id', '=', s.channel.id).executeTakeFirstOrThrow();
    expect(row.connector_secret_sealed).not.toContain(s.secret);
  });

  it('a signed inbound message starts a conversation that routing gives to an agent', async () => {
    const s = await scene();
    const answer = await s.post(s.inbound('user-42', 'Hi from the partner app'));
    expect(answer).toEqual({ status: 200, body: '{"received":true}' });
    const conversation = await s.assignedConversation();
    expect(conversation).toMatchObject({ channel: 'api', device: 'other', state: 'open' });
    expect(await s.texts(conversation.id)).toEqual(['Hi from the partner app']);
  });

  it('refuses an unsigned, forged or replayed message, and one that is not a ConnectorInbound, writing nothing', async () => {
    const s = await scene();
    const refusals = [
      await s.post(s.inbound('user-1', 'Unsigned'), { secret: null }),
      await s.post(s.inbound('user-1', 'Forged'), { secret: `pcs_${'x'.repeat(43)}` }),
      await s.post(s.inbound('user-1', 'Replayed an hour later'), { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
    ];
    for (const refused of refusals) {
      expect([401, 403]).toContain(refused.status);
      expect(JSON.parse(refused.body).error.code).toBe('INVALID_WEBHOOK_SIGNATURE');
    }
    // Correctly signed, but not a message in the contract's shape.
    const malformed = await s.post({ type: 'message', messageId: 'm-1', from: 'user-1' });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).error.code).toBe('VALIDATION_FAILED');
    expect(await s.conversations()).toEqual([]);
    expect(await t.server.database.db.selectFrom('channel_contacts').select('address').where('channel_id', '=', s.channel.id).execute()).toEqual([]);
  });

  it('stores a message posted twice with the same messageId once', async () => {
    const s = await scene();
    const message = s.inbound('user-7', 'Only once please', 'partner-message-1');
    expect((await s.post(message)).status).toBe(200);
    expect((await s.post(message)).status).toBe(200);
    const conversation = await s.assignedConversation();
    expect(await s.texts(conversation.id)).toEqual(['Only once please']);
  });

  it('tells apart long messageIds that differ only past their 110th character (the contract allows 200)', async () => {
    const s = await scene();
    const prefix = `urn:acme-app:tenant-${'7'.repeat(36)}:thread-${'4'.repeat(36)}:message-number-`;
    expect(prefix.length).toBeGreaterThan(110);
    expect((await s.post(s.inbound('user-8', 'First', `${prefix}000001`))).status).toBe(200);
    expect((await s.post(s.inbound('user-8', 'Second', `${prefix}000002`))).status).toBe(200);
    expect((await s.post(s.inbound('user-8', 'Second', `${prefix}000002`))).status).toBe(200);
    const conversation = await s.assignedConversation();
    expect(await s.texts(conversation.id)).toEqual(['First', 'Second']);
  });

  it("POSTs the agent's reply to the partner's webhook as a signed ConnectorOutbound, files included", async () => {
    const s = await scene();
    await s.post(s.inbound('user-9', 'Can you help?'));
    const conversation = await s.assignedConversation();
    await s.reply(conversation.id, 'Sure! Which one?', ['Track order', 'Returns']);
    const [message] = await until(
      () => s.partner.messages(),
      (l) => l.length === 1,
      'the outbound message',
    );
    expect(s.partner.received.every((r) => r.signature.valid)).toBe(true);
    expect(message).toEqual({
      type: 'message',
      messageId: expect.any(String),
      to: 'user-9',
      text: 'Sure! Which one?',
      quickReplies: [
        { title: 'Track order', payload: 'Track order' },
        { title: 'Returns', payload: 'Returns' },
      ],
      media: null,
    });
    expect(s.partner.received[0]?.headers['parley-event-id']).toBe(message?.messageId);
    // A file goes as a link the partner can fetch without credentials (signed, for a day).
    const form = new FormData();
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'label.png');
    const uploaded = await fetch(`${t.baseUrl}/v1/conversations/${conversation.id}/files`, { method: 'POST', headers: { authorization: `Bearer ${s.agent.token}` }, body: form });
    expect(uploaded.status).toBe(201);
    const { id: fileId } = (await uploaded.json()) as { id: string };
    const sent = await call(app(), 'sendEvent', {
      token: s.agent.token,
      params: { conversationId: conversation.id },
      body: { clientMessageId: randomUUID(), event: { type: 'content', content: { contentType: 'hosted/file', fileId, caption: 'Your return label' } } },
    });
    expect(sent.status).toBe(201);
    const [, withFile] = await until(
      () => s.partner.messages(),
      (l) => l.length === 2,
      'the file',
    );
    expect(withFile).toMatchObject({ to: 'user-9', text: 'Your return label', media: { contentType: 'image/png', fileName: 'label.png' } });
    const download = await fetch(withFile?.media?.url ?? '');
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(PNG);
  });

  it("retries when the partner's endpoint fails, and tells the agent in an internal note when it never answers", async () => {
    const s = await scene();
    await s.post(s.inbound('user-5', 'Hello'));
    const conversation = await s.assignedConversation();
    s.partner.failNext(1, 503);
    await s.reply(conversation.id, 'Retried once');
    await until(
      () => s.partner.messages(),
      (l) => l.filter((m) => m.text === 'Retried once').length === 2,
      'the failed attempt and the retry',
    );
    s.partner.failNext(3, 500);
    await s.reply(conversation.id, 'Never arrives');
    const note = await s.noteStartingWith(conversation.id, 'Not delivered by the connector');
    expect(note.audience).toBe('agents_and_managers');
    expect(note.message).toContain('gave up after 3 attempts');
    // A refusal (4xx) is not retried: one attempt, and the note at once.
    s.partner.failNext(1, 422);
    await s.reply(conversation.id, 'Refused');
    await until(
      () => s.texts(conversation.id),
      (m) => m.filter((x) => x.startsWith('Not delivered by the connector')).length === 2,
      'the second note',
    );
    expect(s.partner.messages().filter((m) => m.text === 'Refused')).toHaveLength(1);
    // Nothing of this reached the consumer's side as a message of theirs.
    expect((await s.events(conversation.id)).filter((e) => e.type === 'content' && e.originator.role === 'consumer')).toHaveLength(1);
  });
});
