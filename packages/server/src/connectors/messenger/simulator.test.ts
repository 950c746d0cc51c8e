import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessengerCredentials, MessengerSettings } from '@parley/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConnectorChannel, InboundRejected, type InboundItem } from '../channel-connector.ts';
import { messengerConnector } from './connector.ts';
import { type MessengerSimulator, startMessengerSimulator } from './simulator.ts';
import { MESSENGER_WATERMARK_ID } from './webhook-events.ts';
import { loopbackFetch } from '../../test/outbound.ts';

/**
 * The simulator against a tiny stand-in for Parley's webhook route: a node:http server handing each request to the
 * connector, as the channels module's route will.
 */
const PAGE_ID = '104857600000003';
const credentials: MessengerCredentials = { kind: 'messenger', appSecret: 'app-secret-789', pageAccessToken: 'EAAG-page-token-3', verifyToken: 'verify-token-789' };

let simulator: MessengerSimulator;
let receiver: Server;
let webhookUrl: string;
let channel: ConnectorChannel<MessengerSettings, MessengerCredentials>;
let received: InboundItem[] = [];

beforeAll(async () => {
  simulator = await startMessengerSimulator({ pageId: PAGE_ID, appSecret: credentials.appSecret, pageAccessToken: credentials.pageAccessToken });
  channel = { id: 'channel-3', settings: { kind: 'messenger', pageId: PAGE_ID }, credentials, apiBaseUrl: simulator.url, fetch: loopbackFetch };
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      try {
        const result = messengerConnector.handleInbound(
          {
            method: request.method === 'GET' ? 'GET' : 'POST',
            url: url.href,
            headers: request.headers as Record<string, string | undefined>,
            query: Object.fromEntries(url.searchParams),
            rawBody: Buffer.concat(chunks).toString('utf8'),
          },
          channel,
        );
        if (result.kind === 'challenge') {
          response.writeHead(200, { 'content-type': 'text/plain' }).end(result.body);
          return;
        }
        received.push(...result.items);
        response.writeHead(result.response.status, { 'content-type': result.response.contentType }).end(result.response.body);
      } catch (error) {
        response.writeHead(error instanceof InboundRejected ? error.status : 500).end(error instanceof Error ? error.message : '');
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/messenger/channel-3`;
  simulator.setWebhookUrl(webhookUrl);
});

afterAll(async () => {
  await simulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  received = [];
});

describe('the Messenger simulator', () => {
  it('performs Meta’s verification challenge', async () => {
    expect(await simulator.verify(webhookUrl, credentials.verifyToken)).toBe(true);
    expect(await simulator.verify(webhookUrl, 'another-verify-token')).toBe(false);
  });

  it('posts signed messages that the connector reads: text, quick reply, attachment', async () => {
    const text = await simulator.sendMessage({ psid: '1001', text: 'Hi there', webhookUrl });
    expect(text).toMatchObject({ status: 200, body: 'EVENT_RECEIVED' });
    await simulator.sendMessage({ psid: '1001', text: 'Yes', quickReplyPayload: 'CONFIRM' });
    await simulator.sendMessage({ psid: '1001', attachments: [{ type: 'image', url: 'https://scontent.example/x.png' }] });
    expect(received).toMatchObject([
      { type: 'message', providerMessageId: text.mid, from: '1001', text: 'Hi there' },
      { type: 'message', from: '1001', text: 'Yes', quickReplyPayload: 'CONFIRM' },
      { type: 'message', from: '1001', text: null, media: [{ url: 'https://scontent.example/x.png', contentType: 'image/png' }] },
    ]);
  });

  it('can post unsigned or wrongly signed webhooks, which are refused with 403', async () => {
    expect((await simulator.sendMessage({ psid: '1002', text: 'unsigned', signature: 'missing' })).status).toBe(403);
    expect((await simulator.sendMessage({ psid: '1002', text: 'forged', signature: 'invalid' })).status).toBe(403);
    expect(received).toEqual([]);
  });

  it('redelivers the same webhook with the same mid', async () => {
    const first = await simulator.sendMessage({ psid: '1003', text: 'Once' });
    const again = await simulator.redeliver(first.mid);
    expect(again.rawBody).toBe(first.rawBody);
    expect(received.map((item) => item.providerMessageId)).toEqual([first.mid, first.mid]);
  });

  it('sends echoes, which the connector ignores', async () => {
    expect((await simulator.sendEcho({ psid: '1004', text: 'Sent by the Page' })).status).toBe(200);
    expect(received).toEqual([]);
  });

  it('reports delivery of the Page’s messages by mid, and reads by watermark', async () => {
    await simulator.sendMessage({ psid: '1005', text: 'Hello' });
    const first = await messengerConnector.send(channel, '1005', { text: 'Hello! How can I help?', quickReplies: [], media: null });
    const second = await messengerConnector.send(channel, '1005', { text: 'Anything else?', quickReplies: [], media: null });
    received = [];
    await simulator.sendDelivery({ psid: '1005' });
    await simulator.sendRead({ psid: '1005', watermark: 2_000_000_000_000 });
    expect(received).toEqual([
      { type: 'status', providerMessageId: first.providerMessageId, status: 'delivered', at: expect.any(Date) },
      { type: 'status', providerMessageId: second.providerMessageId, status: 'delivered', at: expect.any(Date) },
      { type: 'status', providerMessageId: MESSENGER_WATERMARK_ID, status: 'read', from: '1005', upTo: new Date(2_000_000_000_000), at: expect.any(Date) },
    ]);
  });

  it('enforces the 24-hour window from the person’s last message, and a HUMAN_AGENT tag widens it to 7 days', async () => {
    simulator.setLastUserMessageAt('1006', new Date(Date.now() - 30 * 3_600_000));
    const post = (body: unknown) =>
      fetch(`${simulator.url}/v21.0/me/messages?access_token=${credentials.pageAccessToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const outside = await post({ recipient: { id: '1006' }, messaging_type: 'RESPONSE', message: { text: 'late' } });
    expect(outside.status).toBe(400);
    expect(await outside.json()).toMatchObject({ error: { code: 10, error_subcode: 2018278, type: 'OAuthException', fbtrace_id: expect.any(String) } });
    const tagged = await post({ recipient: { id: '1006' }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'agent reply' } });
    expect(tagged.status).toBe(200);
    expect(await tagged.json()).toMatchObject({ recipient_id: '1006', message_id: expect.stringMatching(/^m_/) });
    expect(simulator.sentTo('1006').at(-1)).toMatchObject({ tokenIn: 'query', tag: 'HUMAN_AGENT' });
  });

  it('validates Send API bodies with Meta’s error JSON', async () => {
    const post = (body: unknown, path = '/v21.0/me/messages') =>
      fetch(`${simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials.pageAccessToken}` }, body: JSON.stringify(body) });
    const cases: [unknown, RegExp][] = [
      [{ messaging_type: 'RESPONSE', message: { text: 'x' } }, /recipient is required/],
      [{ recipient: { id: '1' }, message: { text: 'x' } }, /messaging_type/],
      [{ recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x'.repeat(2001) } }, /less than or equal to 2000/],
      [{ recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x', attachment: { type: 'image', payload: { url: 'https://x' } } } }, /Only one of text or attachment/],
      [{ recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { attachment: { type: 'sticker', payload: { url: 'https://x' } } } }, /attachment\]\[type\]/],
      [
        { recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x', quick_replies: Array.from({ length: 14 }, () => ({ content_type: 'text', title: 't', payload: 'p' })) } },
        /at most 13/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      const answer = (await response.json()) as { error: { message: string; code: number } };
      expect(answer.error.code).toBe(100);
      expect(answer.error.message).toMatch(message);
    }
    expect((await post({ recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x' } }, `/v21.0/${PAGE_ID}/messages`)).status).toBe(200);
    expect((await post({ recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x' } }, '/v21.0/123/messages')).status).toBe(400);
  });

  it('serves the demo page, and relays what a person writes there to the webhook', async () => {
    const page = await fetch(`${simulator.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain(`Page ${PAGE_ID}`);

    const sent = await fetch(`${simulator.url}/simulator/send`, { method: 'POST', body: JSON.stringify({ psid: '1007', text: 'From the page' }) });
    expect(await sent.json()).toMatchObject({ webhookStatus: 200 });
    expect(received).toMatchObject([{ type: 'message', from: '1007', text: 'From the page' }]);

    await messengerConnector.send(channel, '1007', { text: 'Pick one', quickReplies: [{ title: 'A', payload: 'A' }], media: null });
    const conversation = (await (await fetch(`${simulator.url}/simulator/conversation?psid=1007`)).json()) as { messages: { direction: string; text: string; quickReplies: unknown[] }[] };
    expect(conversation.messages).toMatchObject([
      { direction: 'in', text: 'From the page' },
      { direction: 'out', text: 'Pick one', quickReplies: [{ title: 'A', payload: 'A' }] },
    ]);
  });
});
