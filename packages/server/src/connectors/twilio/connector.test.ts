import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InboundRequest, InboundRejected, type OutboundMessage, ProviderError } from '../channel-connector.ts';
import { createTwilioConnector, EMPTY_TWIML, type TwilioChannel, type TwilioInboundMessage, twilioConnector } from './connector.ts';
import { twilioSignature } from './signature.ts';
import { startTwilioSimulator, type TwilioSimulator } from './simulator.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'auth-token-0123456789';
const BRAND = '+15550001111';
const CONSUMER = '+15557654321';

const text = (value: string): OutboundMessage => ({ text: value, quickReplies: [], media: null });

let simulator: TwilioSimulator;
let receiver: WebhookReceiver;
let channel: TwilioChannel;

beforeEach(async () => {
  simulator = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, statusCallbackDelayMs: 1 });
  channel = {
    id: 'channel-1',
    settings: { kind: 'sms', phoneNumber: BRAND, accountSid: ACCOUNT_SID },
    credentials: { kind: 'sms', authToken: AUTH_TOKEN },
    apiBaseUrl: simulator.url,
    fetch: loopbackFetch,
  };
  receiver = await startWebhookReceiver(twilioConnector, channel);
  simulator.setSmsUrl(BRAND, receiver.url);
});

afterEach(async () => {
  await simulator.close();
  await receiver.close();
});

describe('twilioConnector.handleInbound: messages', () => {
  it("parses a consumer's SMS from Twilio's signed webhook and answers empty TwiML", async () => {
    const delivery = await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Where is my order?' });

    expect(delivery).toMatchObject({ status: 200, body: EMPTY_TWIML });
    expect(delivery.contentType).toContain('text/xml');
    expect(delivery.messageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(receiver.items).toEqual([{ type: 'message', providerMessageId: delivery.messageSid, from: CONSUMER, text: 'Where is my order?', media: [], receivedAt: expect.any(Date), optOut: null }]);
  });

  it('parses an MMS with its files, and no text when the body is empty', async () => {
    const delivery = await simulator.sendSms({
      from: CONSUMER,
      to: BRAND,
      body: '',
      media: ['https://files.example/receipt.jpg', { url: 'https://files.example/clip', contentType: 'video/mp4' }],
    });

    expect(delivery.messageSid).toMatch(/^MM/);
    expect(receiver.items).toMatchObject([
      {
        type: 'message',
        text: null,
        media: [
          { url: 'https://files.example/receipt.jpg', contentType: 'image/jpeg' },
          { url: 'https://files.example/clip', contentType: 'video/mp4' },
        ],
      },
    ]);
  });

  it('gives a redelivered message the same provider id', async () => {
    const first = await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Hello' });
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Hello', messageSid: first.messageSid });

    expect(receiver.items.map((item) => item.providerMessageId)).toEqual([first.messageSid, first.messageSid]);
  });

  it.each([
    ['unsigned', { signature: 'missing' as const }],
    ['signed with another token', { signature: 'invalid' as const }],
    ["signed but for another account's number", { extraParams: { AccountSid: `AC${'ff'.repeat(16)}` } }],
  ])('refuses a webhook %s with 403, parsing nothing', async (_case, options) => {
    const delivery = await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Hi', ...options });

    expect(delivery.status).toBe(403);
    expect(receiver.items).toEqual([]);
  });

  it("refuses a message to another of the account's numbers with 403", async () => {
    const delivery = await simulator.sendSms({ from: CONSUMER, to: '+15550002222', body: 'Hi', webhookUrl: receiver.url });

    expect(delivery.status).toBe(403);
    expect(receiver.items).toEqual([]);
  });

  it('refuses a request whose signature was made for another URL (Parley must pass the URL Twilio called)', () => {
    const params = { MessageSid: 'SM1', AccountSid: ACCOUNT_SID, From: CONSUMER, To: BRAND, Body: 'Hi' };
    const request: InboundRequest = {
      method: 'POST',
      url: 'https://parley.example/webhooks/sms/channel-1',
      headers: { 'x-twilio-signature': twilioSignature('https://parley.example/webhooks/sms/channel-2', params, AUTH_TOKEN) },
      query: {},
      rawBody: new URLSearchParams(params).toString(),
    };
    expect(() => twilioConnector.handleInbound(request, channel)).toThrow(InboundRejected);
    const signed = { ...request, headers: { 'x-twilio-signature': twilioSignature(request.url, params, AUTH_TOKEN) } };
    expect(twilioConnector.handleInbound(signed, channel)).toMatchObject({ kind: 'items', items: [{ providerMessageId: 'SM1', text: 'Hi' }] });
  });

  it('tells STOP, START and HELP apart, preferring OptOutType when Twilio sends it', async () => {
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Stop' });
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'unstop' });
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'info' });
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'ARRET', extraParams: { OptOutType: 'STOP' } });
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'please stop' });

    expect((receiver.items as TwilioInboundMessage[]).map((item) => item.optOut)).toEqual(['stop', 'start', 'help', 'stop', null]);
  });
});

describe('twilioConnector.handleInbound: status callbacks', () => {
  it('reports sent then delivered for a message sent with a status callback', async () => {
    const connector = createTwilioConnector({ statusCallbackUrl: () => receiver.url });
    const { providerMessageId } = await connector.send(channel, CONSUMER, text('Your order has shipped.'));

    const items = await receiver.waitForItems(2);
    expect(items).toEqual([
      { type: 'status', providerMessageId, status: 'sent', at: expect.any(Date) },
      { type: 'status', providerMessageId, status: 'delivered', at: expect.any(Date) },
    ]);
    expect(receiver.answers).toEqual([200, 200]);
  });

  it('reports an undelivered message as failed with its error code', async () => {
    simulator.failNextDeliveries(1, 30003);
    const connector = createTwilioConnector({ statusCallbackUrl: () => receiver.url });
    const { providerMessageId } = await connector.send(channel, CONSUMER, text('Hello?'));

    const [, failed] = await receiver.waitForItems(2);
    expect(failed).toMatchObject({ type: 'status', providerMessageId, status: 'failed', error: { code: '30003', message: expect.stringContaining('30003') } });
  });

  it('reads a read receipt and ignores queued and sending, still answering 200', async () => {
    for (const status of ['queued', 'sending', 'read'] as const) {
      const delivery = await simulator.sendStatusCallback({ url: receiver.url, messageSid: 'SM0123', from: BRAND, to: CONSUMER, status });
      expect(delivery.status).toBe(200);
    }
    expect(receiver.items).toEqual([{ type: 'status', providerMessageId: 'SM0123', status: 'read', at: expect.any(Date) }]);
  });

  it('refuses an unsigned status callback', async () => {
    const delivery = await simulator.sendStatusCallback({ url: receiver.url, messageSid: 'SM0123', from: BRAND, to: CONSUMER, status: 'delivered', signature: 'missing' });
    expect(delivery.status).toBe(403);
    expect(receiver.items).toEqual([]);
  });

  it('uses a webhookUrl the framework puts on the channel when no option is given', async () => {
    await twilioConnector.send({ ...channel, webhookUrl: receiver.url } as TwilioChannel, CONSUMER, text('Hi'));
    expect((await simulator.nextSent()).statusCallback).toBe(receiver.url);
  });
});

describe('twilioConnector.send', () => {
  it("sends through the Messages resource from the channel's number and returns Twilio's sid", async () => {
    const result = await twilioConnector.send(channel, CONSUMER, text('Hello from the brand'));

    const sent = await simulator.nextSent();
    expect(result.providerMessageId).toBe(sent.sid);
    expect(sent).toMatchObject({ from: BRAND, to: CONSUMER, body: 'Hello from the brand', mediaUrls: [], statusCallback: null });
  });

  it('sends quick replies as numbered options, which a numbered answer resolves back', async () => {
    await twilioConnector.send(channel, CONSUMER, {
      text: 'Did that help?',
      quickReplies: [
        { title: 'Yes', payload: 'helped' },
        { title: 'No', payload: 'not-helped' },
      ],
      media: null,
    });

    expect((await simulator.nextSent()).body).toBe('Did that help?\n\n1. Yes\n2. No\nReply with a number.');
    const { resolveNumberedReply } = await import('./connector.ts');
    expect(resolveNumberedReply('2', ['helped', 'not-helped'])).toBe('not-helped');
  });

  it('sends a file as MediaUrl, with its caption as the body when there is no text', async () => {
    const { providerMessageId } = await twilioConnector.send(channel, CONSUMER, {
      text: '',
      quickReplies: [],
      media: { url: 'https://files.example/invoice.pdf', contentType: 'application/pdf', fileName: 'invoice.pdf', caption: 'Your invoice' },
    });

    const sent = await simulator.nextSent();
    expect(providerMessageId).toMatch(/^MM/);
    expect(sent).toMatchObject({ body: 'Your invoice', mediaUrls: ['https://files.example/invoice.pdf'] });
  });

  it('fails for good on wrong credentials (401, error 20003)', async () => {
    const wrong = { ...channel, credentials: { kind: 'sms' as const, authToken: 'not-the-token' } };
    const error = await twilioConnector.send(wrong, CONSUMER, text('Hi')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false, code: '20003' });
    expect(simulator.sent).toEqual([]);
  });

  it.each([
    [500, 20500],
    [503, 20503],
    [429, 20429],
  ])('fails retryably on %i', async (status, code) => {
    simulator.failNextSends(1, { status, code, message: 'Try later' });
    const error = await twilioConnector.send(channel, CONSUMER, text('Hi')).catch((e: unknown) => e);

    expect(error).toMatchObject({ retryable: true, code: String(code) });
    // The retry goes through.
    await expect(twilioConnector.send(channel, CONSUMER, text('Hi'))).resolves.toMatchObject({ providerMessageId: expect.stringMatching(/^SM/) });
  });

  it('fails for good on a consumer who texted STOP (400, error 21610)', async () => {
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'STOP' });
    const error = await twilioConnector.send(channel, CONSUMER, text('Hi')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false, code: '21610', message: expect.stringContaining('unsubscribed') });

    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'START' });
    await expect(twilioConnector.send(channel, CONSUMER, text('Welcome back'))).resolves.toBeDefined();
  });

  it('fails for good on an invalid number (400, error 21211)', async () => {
    await expect(twilioConnector.send(channel, '5551234', text('Hi'))).rejects.toMatchObject({ retryable: false, code: '21211' });
  });

  it('fails retryably when Twilio cannot be reached or does not answer in time', async () => {
    const closed = await simulator.close().then(() => simulator.url);
    await expect(twilioConnector.send({ ...channel, apiBaseUrl: closed }, CONSUMER, text('Hi'))).rejects.toMatchObject({ retryable: true, code: null });

    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = createTwilioConnector({ timeoutMs: 100 });
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await expect(slow.send({ ...channel, apiBaseUrl: url }, CONSUMER, text('Hi'))).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('100 ms') });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('has no reply window', () => {
    expect(twilioConnector.replyWindowHours).toBeNull();
    expect(twilioConnector.kind).toBe('sms');
  });
});
