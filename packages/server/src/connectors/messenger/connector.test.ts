import type { MessengerCredentials, MessengerSettings } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { type ConnectorChannel, InboundRejected, type InboundRequest, type InboundResult } from '../channel-connector.ts';
import { metaSignature } from '../meta/signature.ts';
import { messengerConnector } from './connector.ts';
import { messengerWebhookPayload } from './simulator.ts';
import { isWatermarkStatus, MESSENGER_WATERMARK_ID } from './webhook-events.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const PAGE_ID = '104857600000001';
const PSID = '7345678901234567';
const channel: ConnectorChannel<MessengerSettings, MessengerCredentials> = {
  id: 'channel-1',
  settings: { kind: 'messenger', pageId: PAGE_ID },
  credentials: { kind: 'messenger', appSecret: 'app-secret-123', pageAccessToken: 'EAAG-page-token', verifyToken: 'verify-token-123' },
  apiBaseUrl: null,
  fetch: loopbackFetch,
};

function post(body: unknown, signature: string | undefined = undefined): InboundRequest {
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    method: 'POST',
    url: 'https://parley.example/webhooks/messenger/channel-1',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature === undefined ? metaSignature(rawBody, channel.credentials.appSecret) : signature },
    query: {},
    rawBody,
  };
}

function items(result: InboundResult) {
  if (result.kind !== 'items') throw new Error(`expected items, got ${result.kind}`);
  return result.items;
}

const fromPerson = (extra: Record<string, unknown>, timestamp = 1_700_000_000_000) => ({ sender: { id: PSID }, recipient: { id: PAGE_ID }, timestamp, ...extra });

describe('the Messenger connector: webhook verification', () => {
  const challenge = (token: string): InboundRequest => ({
    method: 'GET',
    url: 'https://parley.example/webhooks/messenger/channel-1',
    headers: {},
    query: { 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '1158201444' },
    rawBody: '',
  });

  it('echoes the challenge when the verify token is the channel’s', () => {
    expect(messengerConnector.handleInbound(challenge('verify-token-123'), channel)).toEqual({ kind: 'challenge', body: '1158201444' });
  });

  it('refuses a wrong verify token with 403', () => {
    expect(() => messengerConnector.handleInbound(challenge('verify-token-124'), channel)).toThrow(InboundRejected);
    try {
      messengerConnector.handleInbound(challenge('nope'), channel);
    } catch (error) {
      expect((error as InboundRejected).status).toBe(403);
    }
  });
});

describe('the Messenger connector: webhook signatures', () => {
  const body = messengerWebhookPayload(PAGE_ID, [fromPerson({ message: { mid: 'm_1', text: 'hello' } })]);

  it('accepts a body signed with the app secret and answers EVENT_RECEIVED', () => {
    const result = messengerConnector.handleInbound(post(body), channel);
    expect(result).toMatchObject({ kind: 'items', response: { status: 200, body: 'EVENT_RECEIVED' } });
  });

  it('refuses a tampered body with 403', () => {
    const request = post(body);
    const tampered = { ...request, rawBody: request.rawBody.replace('hello', 'hellO') };
    expect(() => messengerConnector.handleInbound(tampered, channel)).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('refuses a missing or foreign signature with 403', () => {
    expect(() => messengerConnector.handleInbound(post(body, ''), channel)).toThrow(InboundRejected);
    const other = metaSignature(JSON.stringify(body), 'another-secret');
    expect(() => messengerConnector.handleInbound(post(body, other), channel)).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('refuses a signed body that is not JSON with 400', () => {
    expect(() => messengerConnector.handleInbound(post('not json'), channel)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('the Messenger connector: parsing', () => {
  const parse = (events: unknown[], pageId = PAGE_ID) => items(messengerConnector.handleInbound(post(messengerWebhookPayload(pageId, events)), channel));

  it('reads a text message: its mid, the PSID and the time', () => {
    expect(parse([fromPerson({ message: { mid: 'm_abc', text: 'Where is my order?' } })])).toEqual([
      { type: 'message', providerMessageId: 'm_abc', from: PSID, text: 'Where is my order?', media: [], receivedAt: new Date(1_700_000_000_000) },
    ]);
  });

  it('reads a tapped quick reply as its title and payload', () => {
    const [item] = parse([fromPerson({ message: { mid: 'm_q', text: 'Track order', quick_reply: { payload: 'TRACK_ORDER' } } })]);
    expect(item).toMatchObject({ type: 'message', text: 'Track order', quickReplyPayload: 'TRACK_ORDER' });
  });

  it('reads a postback as its title and payload', () => {
    const [item] = parse([fromPerson({ postback: { mid: 'm_p', title: 'Get started', payload: 'GET_STARTED' } })]);
    expect(item).toMatchObject({ type: 'message', providerMessageId: 'm_p', text: 'Get started', quickReplyPayload: 'GET_STARTED' });
  });

  it('reads attachments as media, guessing the content type from the URL', () => {
    const [item] = parse([
      fromPerson({
        message: {
          mid: 'm_media',
          attachments: [
            { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/t1/photo.jpg?stp=dst-jpg&oh=1' } },
            { type: 'file', payload: { url: 'https://cdn.fbsbx.com/v/t59/invoice.pdf?_nc_cat=1' } },
            { type: 'video', payload: { url: 'https://video.xx.fbcdn.net/v/t42/clip' } },
          ],
        },
      }),
    ]);
    expect(item).toMatchObject({
      type: 'message',
      text: null,
      media: [
        { url: 'https://scontent.xx.fbcdn.net/v/t1/photo.jpg?stp=dst-jpg&oh=1', contentType: 'image/jpeg' },
        { url: 'https://cdn.fbsbx.com/v/t59/invoice.pdf?_nc_cat=1', contentType: 'application/pdf' },
        { url: 'https://video.xx.fbcdn.net/v/t42/clip', contentType: null },
      ],
    });
  });

  it('reads a shared location as text', () => {
    const [item] = parse([fromPerson({ message: { mid: 'm_loc', attachments: [{ type: 'location', payload: { coordinates: { lat: 48.85, long: 2.35 } } }] } })]);
    expect(item).toMatchObject({ text: 'Location: 48.85, 2.35', media: [] });
  });

  it('ignores echoes of the Page’s own messages', () => {
    const echo = { sender: { id: PAGE_ID }, recipient: { id: PSID }, timestamp: 1, message: { mid: 'm_echo', is_echo: true, app_id: 1, text: 'Hi!' } };
    expect(parse([echo])).toEqual([]);
    // An echo is ignored by its flag too, whoever it names as the sender.
    expect(parse([fromPerson({ message: { mid: 'm_echo2', is_echo: true, text: 'Hi!' } })])).toEqual([]);
  });

  it('ignores entries for another Page, and other objects', () => {
    expect(parse([fromPerson({ message: { mid: 'm_x', text: 'hi' } })], '999999999')).toEqual([]);
    const instagram = { object: 'instagram', entry: [{ id: PAGE_ID, time: 1, messaging: [fromPerson({ message: { mid: 'm_i', text: 'hi' } })] }] };
    expect(items(messengerConnector.handleInbound(post(instagram), channel))).toEqual([]);
  });

  it('keeps the events of a batch in order and skips the ones it does not know', () => {
    const result = parse([
      fromPerson({ message: { mid: 'm_1', text: 'one' } }),
      fromPerson({ reaction: { mid: 'm_1', action: 'react', emoji: '👍' } }),
      fromPerson({ message: { mid: 'm_2', text: 'two' } }),
    ]);
    expect(result.map((item) => item.providerMessageId)).toEqual(['m_1', 'm_2']);
  });

  it('maps a delivery receipt to one delivered status per mid', () => {
    expect(parse([fromPerson({ delivery: { mids: ['m_a', 'm_b'], watermark: 1_700_000_000_500 } })])).toEqual([
      { type: 'status', providerMessageId: 'm_a', status: 'delivered', at: new Date(1_700_000_000_500) },
      { type: 'status', providerMessageId: 'm_b', status: 'delivered', at: new Date(1_700_000_000_500) },
    ]);
  });

  it('maps a delivery receipt without mids to a delivered watermark', () => {
    const [item] = parse([fromPerson({ delivery: { watermark: 1_700_000_000_500 } })]);
    expect(item && isWatermarkStatus(item)).toBe(true);
    expect(item).toMatchObject({ status: 'delivered', providerMessageId: MESSENGER_WATERMARK_ID, from: PSID, upTo: new Date(1_700_000_000_500) });
  });

  it('maps a read receipt to a read watermark for the person', () => {
    const [item] = parse([fromPerson({ read: { watermark: 1_700_000_000_900 } }, 1_700_000_001_000)]);
    expect(item).toEqual({
      type: 'status',
      providerMessageId: MESSENGER_WATERMARK_ID,
      status: 'read',
      from: PSID,
      upTo: new Date(1_700_000_000_900),
      at: new Date(1_700_000_001_000),
    });
    expect(item && isWatermarkStatus(item)).toBe(true);
  });
});
