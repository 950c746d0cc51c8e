import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WhatsAppCredentials, WhatsAppSettings } from '@parley/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConnectorChannel, InboundRejected, type InboundMessage, type InboundStatus, type OutboundMessage, ProviderError } from '../channel-connector.ts';
import { metaSignature } from '../meta/signature.ts';
import { createWhatsAppConnector, whatsappConnector } from './connector.ts';
import { type ConnectorReceiver, startConnectorReceiver } from './receive-with-connector.ts';
import { startWhatsAppSimulator, type WhatsAppSimulator } from './simulator.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const credentials: WhatsAppCredentials = { kind: 'whatsapp', appSecret: 'app-secret-123', accessToken: 'EAAG-access-token', verifyToken: 'verify-token-123' };
const settings: WhatsAppSettings = { kind: 'whatsapp', phoneNumberId: '106540352242922', displayPhoneNumber: '+15550001111' };

let simulator: WhatsAppSimulator;
let receiver: ConnectorReceiver;
let channel: ConnectorChannel<WhatsAppSettings, WhatsAppCredentials>;

beforeAll(async () => {
  simulator = await startWhatsAppSimulator({
    ...settings,
    appSecret: credentials.appSecret,
    accessToken: credentials.accessToken,
    templates: [
      { name: 'hello_world', language: 'en_US', body: 'Hello!' },
      { name: 'order_update', language: 'en_US', body: 'Hi {{1}}, your order {{2}} has shipped.', buttons: ['Track it'] },
    ],
  });
  channel = { id: 'channel-1', settings, credentials, apiBaseUrl: simulator.url, fetch: loopbackFetch };
  receiver = await startConnectorReceiver(channel);
  simulator.setWebhookUrl(receiver.url);
});

afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

// Status webhooks of one test's sends must not land in the next one's.
afterEach(() => simulator.flush());

beforeEach(() => {
  receiver.items.length = 0;
  receiver.rejected.length = 0;
});

const messages = () => receiver.items.filter((i): i is InboundMessage => i.type === 'message');
const statuses = () => receiver.items.filter((i): i is InboundStatus => i.type === 'status');
const message = (text: string, extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ text, quickReplies: [], media: null, ...extra });
const lastSent = () => simulator.sent.at(-1)?.request;
let nextNumber = 15551230000;
/** A person who has just written (their 24-hour window is open). */
const customer = () => {
  const waId = String(nextNumber++);
  simulator.openWindow(waId);
  return waId;
};

async function sendError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('the verification challenge', () => {
  it('answers the challenge when the verify token matches', async () => {
    const result = await simulator.verify(receiver.url, credentials.verifyToken);
    expect(result).toMatchObject({ ok: true, status: 200 });
  });

  it('refuses with 403 when the verify token is wrong', async () => {
    const result = await simulator.verify(receiver.url, 'not-the-token');
    expect(result.status).toBe(403);
    expect(() =>
      whatsappConnector.handleInbound(
        { method: 'GET', url: 'https://parley.example/x', headers: {}, query: { 'hub.mode': 'subscribe', 'hub.challenge': '42', 'hub.verify_token': 'nope' }, rawBody: '' },
        channel,
      ),
    ).toThrow(InboundRejected);
  });
});

describe('the webhook signature', () => {
  it('accepts a body signed with the app secret', async () => {
    const delivery = await simulator.sendText({ waId: '15557654321', name: 'Maria', text: 'Hello, my order is late' });
    expect(delivery.status).toBe(200);
    expect(messages()).toHaveLength(1);
  });

  it('refuses a missing or wrong signature with 403 and parses nothing', async () => {
    expect((await simulator.sendText({ waId: '15557654321', text: 'unsigned', signature: 'none' })).status).toBe(403);
    expect((await simulator.sendText({ waId: '15557654321', text: 'bad', signature: 'bad' })).status).toBe(403);
    expect(receiver.items).toEqual([]);
    expect(receiver.rejected).toHaveLength(2);
  });

  it('refuses a tampered body', () => {
    const rawBody = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
    const signature = metaSignature(rawBody, credentials.appSecret);
    const tampered = rawBody.replace('[]', '[{}]');
    const inbound = (body: string) =>
      whatsappConnector.handleInbound({ method: 'POST', url: 'https://parley.example/x', headers: { 'x-hub-signature-256': signature }, query: {}, rawBody: body }, channel);
    expect(inbound(rawBody)).toMatchObject({ kind: 'items', items: [], response: { status: 200 } });
    expect(() => inbound(tampered)).toThrow(expect.objectContaining({ status: 403 }));
  });
});

describe('parsing inbound messages', () => {
  it('gives a text message with its wamid, sender, profile name and time', async () => {
    const delivery = await simulator.sendText({ waId: '15557654321', name: 'Maria', text: 'Where is my parcel?' });
    expect(messages()).toEqual([
      {
        type: 'message',
        providerMessageId: delivery.wamid,
        from: '15557654321',
        profileName: 'Maria',
        text: 'Where is my parcel?',
        media: [],
        receivedAt: new Date(Number(JSON.parse(delivery.rawBody).entry[0].changes[0].value.messages[0].timestamp) * 1000),
      },
    ]);
    expect(delivery.wamid).toMatch(/^wamid\./);
  });

  it('gives a redelivery the same provider message id', async () => {
    const first = await simulator.sendText({ waId: '15557654321', text: 'once' });
    await simulator.redeliver(first);
    expect(messages().map((m) => m.providerMessageId)).toEqual([first.wamid, first.wamid]);
  });

  it('gives an image with its caption, and a media URL the channel can download with its token', async () => {
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
    await simulator.sendImage({ waId: '15557654321', caption: 'The broken part', mimeType: 'image/jpeg', bytes });
    const [received] = messages();
    expect(received).toMatchObject({ text: 'The broken part', media: [{ contentType: 'image/jpeg', caption: 'The broken part' }] });
    const url = received?.media[0]?.url ?? '';
    expect(url).toMatch(new RegExp(`^${simulator.url}/v21\\.0/\\d+$`));
    const file = await whatsappConnector.fetchMedia(channel, url);
    expect(file.contentType).toBe('image/jpeg');
    expect([...file.body]).toEqual([...bytes]);
  });

  it('gives a document with its media and no text when it has no caption', async () => {
    await simulator.sendMedia({ waId: '15557654321', type: 'document', mimeType: 'application/pdf', filename: 'invoice.pdf' });
    expect(messages()[0]).toMatchObject({ text: null, media: [{ contentType: 'application/pdf' }] });
  });

  it('gives a reply button as its title with the id as quick-reply payload', async () => {
    await simulator.sendButtonReply({ waId: '15557654321', id: 'track_order', title: 'Track my order' });
    expect(messages()[0]).toMatchObject({ text: 'Track my order', quickReplyPayload: 'track_order' });
  });

  it('gives a list row as its title with the row id as quick-reply payload', async () => {
    await simulator.sendListReply({ waId: '15557654321', id: 'size_m', title: 'Medium', description: 'Chest 96-101 cm' });
    expect(messages()[0]).toMatchObject({ text: 'Medium', quickReplyPayload: 'size_m' });
  });

  it("gives a template's quick-reply button as its text with its payload", async () => {
    await simulator.sendTemplateButtonReply({ waId: '15557654321', payload: 'STOP_PROMOS', text: 'Stop promotions' });
    expect(messages()[0]).toMatchObject({ text: 'Stop promotions', quickReplyPayload: 'STOP_PROMOS' });
  });

  it('ignores changes for another phone number id and still answers 200', async () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15559990000', phone_number_id: 'another-number' },
                messages: [{ from: '1555', id: 'wamid.x', timestamp: '1700000000', type: 'text', text: { body: 'not for us' } }],
              },
            },
          ],
        },
      ],
    };
    expect((await simulator.postWebhook(payload)).status).toBe(200);
    expect(receiver.items).toEqual([]);
  });

  it('gives locations as text and skips reactions', async () => {
    const value = (messages: unknown[]) => ({
      object: 'whatsapp_business_account',
      entry: [
        { id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: settings.phoneNumberId }, messages } }] },
      ],
    });
    await simulator.postWebhook(
      value([
        { from: '1555', id: 'wamid.loc', timestamp: '1700000000', type: 'location', location: { latitude: 48.85, longitude: 2.35, name: 'Shop' } },
        { from: '1555', id: 'wamid.re', timestamp: '1700000000', type: 'reaction', reaction: { message_id: 'wamid.a', emoji: '👍' } },
      ]),
    );
    expect(messages().map((m) => m.text)).toEqual(['📍 Shop https://maps.google.com/?q=48.85,2.35']);
  });
});

describe('delivery statuses', () => {
  it('gives sent, delivered and read for a message the business sent', async () => {
    const to = customer();
    const { providerMessageId } = await whatsappConnector.send(channel, to, message('Your parcel left the warehouse.'));
    await simulator.flush();
    await simulator.markRead(to);
    expect(statuses().map((s) => [s.providerMessageId, s.status])).toEqual([
      [providerMessageId, 'sent'],
      [providerMessageId, 'delivered'],
      [providerMessageId, 'read'],
    ]);
  });

  it('gives a failed status with its error', async () => {
    const status = { id: 'wamid.failed', status: 'failed', timestamp: '1700000000', recipient_id: '15551112222', errors: [{ code: 131026, title: 'Message undeliverable' }] };
    await simulator.postWebhook({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: settings.phoneNumberId }, statuses: [status] } }],
        },
      ],
    });
    expect(statuses()).toEqual([{ type: 'status', providerMessageId: 'wamid.failed', status: 'failed', error: { code: '131026', message: 'Message undeliverable' }, at: new Date(1_700_000_000_000) }]);
  });
});

describe('sending', () => {
  it('sends text, with link previews when there is a link', async () => {
    const to = customer();
    const result = await whatsappConnector.send(channel, `+${to}`, message('Track it at https://shop.example/t/1'));
    expect(result.providerMessageId).toMatch(/^wamid\./);
    expect(lastSent()).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: 'Track it at https://shop.example/t/1', preview_url: true } });
  });

  it('sends up to 3 short quick replies as reply buttons', async () => {
    const quickReplies = [
      { title: 'Yes', payload: 'yes' },
      { title: 'No', payload: 'no' },
      { title: 'Talk to an agent', payload: 'agent' },
    ];
    await whatsappConnector.send(channel, customer(), message('Did that help?', { quickReplies }));
    expect(lastSent()).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Did that help?' },
        action: { buttons: quickReplies.map((q) => ({ type: 'reply', reply: { id: q.payload, title: q.title } })) },
      },
    });
  });

  it('sends up to 10 quick replies, or titles over 20 characters, as a list', async () => {
    const quickReplies = ['Order status', 'Returns and refunds', 'Delivery options', 'Payment problems'].map((title, i) => ({ title, payload: `topic_${i}` }));
    await whatsappConnector.send(channel, customer(), message('What is it about?', { quickReplies }));
    expect(lastSent()).toMatchObject({
      type: 'interactive',
      interactive: { type: 'list', body: { text: 'What is it about?' }, action: { button: 'Choose', sections: [{ rows: quickReplies.map((q) => ({ id: q.payload, title: q.title })) }] } },
    });
    const long = [{ title: 'A title of 22 letters!', payload: 'a' }];
    await whatsappConnector.send(channel, customer(), message('Pick', { quickReplies: long }));
    expect(lastSent()).toMatchObject({ interactive: { type: 'list' } });
  });

  it('falls back to numbered text beyond 10 quick replies or 24 characters', async () => {
    const quickReplies = Array.from({ length: 11 }, (_, i) => ({ title: `Option ${i + 1}`, payload: `o${i + 1}` }));
    await whatsappConnector.send(channel, customer(), message('Choose one', { quickReplies }));
    const sent = lastSent();
    expect(sent?.type).toBe('text');
    expect(sent?.type === 'text' && sent.text.body).toMatch(/^Choose one\n\n1\. Option 1\n2\. Option 2\n[\s\S]*11\. Option 11\n\nReply with the number of your choice\.$/);
    await whatsappConnector.send(channel, customer(), message('Which?', { quickReplies: [{ title: 'A choice that is far too long for a row', payload: 'x' }] }));
    expect(lastSent()?.type).toBe('text');
  });

  it('sends an image by link with the text as caption, and other files as documents', async () => {
    const to = customer();
    await whatsappConnector.send(channel, to, message('Here is the label', { media: { url: 'https://parley.example/files/label.png', contentType: 'image/png', fileName: 'label.png' } }));
    expect(lastSent()).toMatchObject({ type: 'image', image: { link: 'https://parley.example/files/label.png', caption: 'Here is the label' } });
    await whatsappConnector.send(channel, to, message('', { media: { url: 'https://parley.example/files/i.pdf', contentType: 'application/pdf', fileName: 'invoice.pdf', caption: 'Your invoice' } }));
    expect(lastSent()).toMatchObject({ type: 'document', document: { link: 'https://parley.example/files/i.pdf', filename: 'invoice.pdf', caption: 'Your invoice' } });
  });

  it('sends a template, which is allowed outside the 24-hour window', async () => {
    const to = String(nextNumber++); // never wrote: no window
    const result = await whatsappConnector.send(channel, to, message('ignored', { template: { name: 'order_update', language: 'en_US', parameters: ['Maria', '#1042'] } }));
    expect(result.providerMessageId).toMatch(/^wamid\./);
    expect(lastSent()).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Maria' },
              { type: 'text', text: '#1042' },
            ],
          },
        ],
      },
    });
  });

  it('refuses a template with the wrong number of parameters, not retryable', async () => {
    const error = await sendError(whatsappConnector.send(channel, customer(), message('', { template: { name: 'order_update', language: 'en_US', parameters: ['Maria'] } })));
    expect(error).toMatchObject({ retryable: false, code: 'template_invalid' });
  });

  it('maps the window error (131047) to outside_window, not retryable, saying a template is needed', async () => {
    const neverWrote = String(nextNumber++);
    const error = await sendError(whatsappConnector.send(channel, neverWrote, message('Hello again')));
    expect(error).toMatchObject({ retryable: false, code: 'outside_window' });
    expect(error.message).toMatch(/24 hours.*template/);

    const wroteYesterday = customer();
    simulator.advanceClock(25 * 60 * 60 * 1000);
    const later = await sendError(whatsappConnector.send(channel, wroteYesterday, message('Still there?')));
    expect(later.code).toBe('outside_window');
  });

  it('makes a 500 retryable, and the next attempt goes through', async () => {
    const to = customer();
    simulator.failNext(1, { httpStatus: 500 });
    expect(await sendError(whatsappConnector.send(channel, to, message('hi')))).toMatchObject({ retryable: true, code: 'provider_unavailable' });
    await expect(whatsappConnector.send(channel, to, message('hi'))).resolves.toMatchObject({ providerMessageId: expect.stringMatching(/^wamid\./) });
  });

  it('makes rate limits retryable and an undeliverable number not', async () => {
    const to = customer();
    simulator.failNext(1, { httpStatus: 400, code: 130429, message: '(#130429) Rate limit hit' });
    expect(await sendError(whatsappConnector.send(channel, to, message('hi')))).toMatchObject({ retryable: true, code: 'rate_limited' });
    simulator.failNext(1, { httpStatus: 400, code: 131026, message: '(#131026) Message undeliverable' });
    expect(await sendError(whatsappConnector.send(channel, to, message('hi')))).toMatchObject({ retryable: false, code: 'undeliverable' });
  });

  it('refuses a bad access token (190), not retryable', async () => {
    const wrong = { ...channel, credentials: { ...credentials, accessToken: 'EAAG-expired-token' } };
    const error = await sendError(whatsappConnector.send(wrong, customer(), message('hi')));
    expect(error).toMatchObject({ retryable: false, code: 'auth_failed' });
    expect(error.message).toMatch(/190/);
  });

  it('makes a network failure and a time-out retryable', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const connector = createWhatsAppConnector({ timeoutMs: 100 });
      expect(await sendError(connector.send({ ...channel, apiBaseUrl: `http://127.0.0.1:${port}` }, '15550000000', message('hi')))).toMatchObject({ retryable: true, code: 'timeout' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    expect(await sendError(whatsappConnector.send({ ...channel, apiBaseUrl: `http://127.0.0.1:${port}` }, '15550000000', message('hi')))).toMatchObject({ retryable: true, code: 'network' });
  });

  it('declares the 24-hour reply window', () => {
    expect(whatsappConnector.replyWindowHours).toBe(24);
    expect(whatsappConnector.kind).toBe('whatsapp');
  });
});
