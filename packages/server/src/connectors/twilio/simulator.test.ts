import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { twilioConnector } from './connector.ts';
import { startTwilioSimulator, type TwilioSimulator } from './simulator.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const ACCOUNT_SID = `AC${'b2'.repeat(16)}`;
const AUTH_TOKEN = 'simulator-token-0123';
const BRAND = '+15550003333';
const CONSUMER = '+447700900123';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let simulator: TwilioSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  simulator = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, statusCallbackDelayMs: 1 });
  const channel = {
    id: 'c',
    settings: { kind: 'sms' as const, phoneNumber: BRAND, accountSid: ACCOUNT_SID },
    credentials: { kind: 'sms' as const, authToken: AUTH_TOKEN },
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

function createMessage(form: Record<string, string>, auth = basic(ACCOUNT_SID, AUTH_TOKEN), accountSid = ACCOUNT_SID) {
  return fetch(`${simulator.url}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

describe('the Twilio simulator: Messages resource', () => {
  it("answers 201 with Twilio's message JSON", async () => {
    const response = await createMessage({ To: CONSUMER, From: BRAND, Body: 'Hi there' });

    expect(response.status).toBe(201);
    const message = await response.json();
    expect(message).toMatchObject({
      account_sid: ACCOUNT_SID,
      api_version: '2010-04-01',
      body: 'Hi there',
      direction: 'outbound-api',
      error_code: null,
      from: BRAND,
      to: CONSUMER,
      num_media: '0',
      num_segments: '1',
      status: 'queued',
      sid: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      date_created: expect.stringMatching(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/),
    });
    expect(message.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${message.sid}.json`);

    const fetched = await fetch(`${simulator.url}${message.uri}`, { headers: { authorization: basic(ACCOUNT_SID, AUTH_TOKEN) } });
    expect(await fetched.json()).toMatchObject({ sid: message.sid });
  });

  it.each([
    ['no credentials', ''],
    ['a wrong token', basic(ACCOUNT_SID, 'wrong')],
    ['another account', basic(`AC${'00'.repeat(16)}`, AUTH_TOKEN)],
  ])("answers 401 with Twilio's error JSON to %s", async (_case, auth) => {
    const response = await createMessage({ To: CONSUMER, From: BRAND, Body: 'Hi' }, auth);

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Basic');
    expect(await response.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
  });

  it.each([
    [{ From: BRAND, Body: 'Hi' }, 21604],
    [{ To: '07700 900123', From: BRAND, Body: 'Hi' }, 21211],
    [{ To: CONSUMER, Body: 'Hi' }, 21603],
    [{ To: CONSUMER, From: '+15559999999', Body: 'Hi' }, 21606],
    [{ To: CONSUMER, From: BRAND }, 21602],
    [{ To: CONSUMER, From: BRAND, Body: 'x'.repeat(1601) }, 21617],
  ])('refuses %j with 400 and error %i', async (form, code) => {
    const response = await createMessage(form);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code, status: 400, more_info: `https://www.twilio.com/docs/errors/${code}` });
    expect(simulator.sent).toEqual([]);
  });

  it('fails the next sends as told, then accepts again', async () => {
    simulator.failNextSends(2, { status: 503, code: 20503, message: 'Service unavailable' });

    expect((await createMessage({ To: CONSUMER, From: BRAND, Body: '1' })).status).toBe(503);
    expect((await createMessage({ To: CONSUMER, From: BRAND, Body: '2' })).status).toBe(503);
    expect((await createMessage({ To: CONSUMER, From: BRAND, Body: '3' })).status).toBe(201);
    expect(simulator.sent.map((m) => m.body)).toEqual(['3']);
  });

  it('hands out sent messages in order, waiting for the next one', async () => {
    await createMessage({ To: CONSUMER, From: BRAND, Body: 'first' });
    const first = await simulator.nextSent();
    const waiting = simulator.nextSent();
    await createMessage({ To: CONSUMER, From: BRAND, Body: 'second', MediaUrl: 'https://files.example/a.png' });

    expect(first.body).toBe('first');
    expect(await waiting).toMatchObject({ body: 'second', sid: expect.stringMatching(/^MM/), mediaUrls: ['https://files.example/a.png'] });
    await expect(simulator.nextSent(50)).rejects.toThrow(/no message/);
  });

  it('posts signed status callbacks, sent then delivered, and updates the message', async () => {
    await createMessage({ To: CONSUMER, From: BRAND, Body: 'Tracked', StatusCallback: receiver.url });
    const message = await simulator.nextSent();

    await receiver.waitForItems(2);
    expect(receiver.requests.map((r) => new URLSearchParams(r.rawBody).get('MessageStatus'))).toEqual(['sent', 'delivered']);
    expect(Object.fromEntries(new URLSearchParams(receiver.requests[1]?.rawBody))).toMatchObject({
      MessageSid: message.sid,
      SmsSid: message.sid,
      SmsStatus: 'delivered',
      AccountSid: ACCOUNT_SID,
      From: BRAND,
      To: CONSUMER,
      ApiVersion: '2010-04-01',
      RawDlrDoneDate: expect.stringMatching(/^\d{10}$/),
    });
    expect(receiver.requests[0]?.headers['x-twilio-signature']).toBeTruthy();
    await vi.waitFor(() => expect(simulator.statusCallbacks).toHaveLength(2));
    expect(simulator.statusCallbacks).toMatchObject([
      { messageSid: message.sid, status: 'sent', responseStatus: 200 },
      { messageSid: message.sid, status: 'delivered', responseStatus: 200 },
    ]);
    expect(message.status).toBe('delivered');
  });
});

describe('the Twilio simulator: inbound SMS and opt-outs', () => {
  it("posts Twilio's inbound webhook parameters", async () => {
    const delivery = await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'Hello', media: ['https://files.example/p.png'] });

    expect(delivery.params).toMatchObject({
      MessageSid: delivery.messageSid,
      SmsMessageSid: delivery.messageSid,
      SmsSid: delivery.messageSid,
      AccountSid: ACCOUNT_SID,
      From: CONSUMER,
      To: BRAND,
      Body: 'Hello',
      NumMedia: '1',
      NumSegments: '1',
      SmsStatus: 'received',
      MediaUrl0: 'https://files.example/p.png',
      MediaContentType0: 'image/png',
      ApiVersion: '2010-04-01',
      FromCountry: 'GB',
      ToCountry: 'US',
    });
    expect(receiver.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('applies STOP and START as Twilio does, answering with its own messages', async () => {
    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'stop' });
    expect(simulator.isOptedOut(CONSUMER, BRAND)).toBe(true);
    expect((await createMessage({ To: CONSUMER, From: BRAND, Body: 'Hi' })).status).toBe(400);

    await simulator.sendSms({ from: CONSUMER, to: BRAND, body: 'START' });
    expect(simulator.isOptedOut(CONSUMER, BRAND)).toBe(false);
    expect((await createMessage({ To: CONSUMER, From: BRAND, Body: 'Hi again' })).status).toBe(201);

    expect(simulator.conversation(CONSUMER).map((m) => [m.direction, m.body.slice(0, 24)])).toEqual([
      ['inbound', 'stop'],
      ['auto', 'You have successfully be'],
      ['inbound', 'START'],
      ['auto', 'You have successfully be'],
      ['outbound', 'Hi again'],
    ]);
  });
});

describe('the Twilio simulator: phone page', () => {
  it('serves the handset page', async () => {
    const response = await fetch(`${simulator.url}/`);

    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('Simulated phone');
  });

  it('texts the brand from the page and shows the conversation both ways', async () => {
    const sent = await fetch(`${simulator.url}/phone/send`, { method: 'POST', body: JSON.stringify({ from: CONSUMER, to: BRAND, body: 'Is anyone there?' }) });
    expect(await sent.json()).toMatchObject({ webhookStatus: 200, messageSid: expect.stringMatching(/^SM/) });
    expect(receiver.items).toMatchObject([{ type: 'message', from: CONSUMER, text: 'Is anyone there?' }]);

    await twilioConnector.send(
      { id: 'c', settings: { kind: 'sms', phoneNumber: BRAND, accountSid: ACCOUNT_SID }, credentials: { kind: 'sms', authToken: AUTH_TOKEN }, apiBaseUrl: simulator.url, fetch: loopbackFetch },
      CONSUMER,
      {
        text: 'Yes, how can I help?',
        quickReplies: [],
        media: null,
      },
    );

    const state = await (await fetch(`${simulator.url}/phone/state?from=${encodeURIComponent(CONSUMER)}`)).json();
    expect(state.numbers).toEqual([BRAND]);
    expect(state.messages.map((m: { direction: string; body: string }) => [m.direction, m.body])).toEqual([
      ['inbound', 'Is anyone there?'],
      ['outbound', 'Yes, how can I help?'],
    ]);
  });

  it('refuses a send from the page without a valid number or to an unknown brand number', async () => {
    const post = (body: unknown) => fetch(`${simulator.url}/phone/send`, { method: 'POST', body: JSON.stringify(body) });

    expect((await post({ from: 'me', to: BRAND, body: 'Hi' })).status).toBe(400);
    expect((await post({ from: CONSUMER, to: '+15550000000', body: 'Hi' })).status).toBe(400);
    expect((await post({ from: CONSUMER, to: BRAND, body: '  ' })).status).toBe(400);
  });
});
