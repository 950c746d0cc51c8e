import type { WhatsAppCredentials, WhatsAppSettings } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundMessage, InboundStatus } from '../channel-connector.ts';
import { whatsappConnector } from './connector.ts';
import { type ConnectorReceiver, startConnectorReceiver } from './receive-with-connector.ts';
import { startWhatsAppSimulator, type WhatsAppSimulator } from './simulator.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const credentials: WhatsAppCredentials = { kind: 'whatsapp', appSecret: 'app-secret-456', accessToken: 'EAAG-token-456', verifyToken: 'verify-token-456' };
const settings: WhatsAppSettings = { kind: 'whatsapp', phoneNumberId: '200000000000001', displayPhoneNumber: '+15550002222' };

let simulator: WhatsAppSimulator;
let receiver: ConnectorReceiver;

beforeAll(async () => {
  simulator = await startWhatsAppSimulator({ ...settings, appSecret: credentials.appSecret, accessToken: credentials.accessToken, windowErrors: 'status' });
  receiver = await startConnectorReceiver({ id: 'channel-2', settings, credentials, apiBaseUrl: simulator.url, fetch: loopbackFetch });
  simulator.setWebhookUrl(receiver.url);
});

afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

const graph = (path: string, body?: unknown, token = credentials.accessToken) =>
  fetch(`${simulator.url}/v21.0/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('the WhatsApp simulator', () => {
  it('validates send shapes like the Cloud API (error 100)', async () => {
    simulator.openWindow('15550009999');
    const buttons = ['One', 'Two', 'Three', 'Four'].map((t) => ({ type: 'reply', reply: { id: t, title: t } }));
    const response = await graph(`${settings.phoneNumberId}/messages`, {
      messaging_product: 'whatsapp',
      to: '15550009999',
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Hi' }, action: { buttons } },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 100, type: 'OAuthException', error_data: { details: expect.stringContaining('1 to 3') }, fbtrace_id: expect.any(String) } });
    const longTitle = await graph(`${settings.phoneNumberId}/messages`, {
      messaging_product: 'whatsapp',
      to: '15550009999',
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Hi' }, action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'Twenty-one characters' } }] } },
    });
    expect(longTitle.status).toBe(400);
  });

  it('refuses a missing token and another phone number id', async () => {
    const noToken = await fetch(`${simulator.url}/v21.0/${settings.phoneNumberId}/messages`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ error: { code: 190 } });
    expect((await graph('999/messages', { messaging_product: 'whatsapp', to: '15550009999', type: 'text', text: { body: 'x' } })).status).toBe(400);
  });

  it('in status mode, accepts a message outside the window and then reports it failed with 131047', async () => {
    const { providerMessageId } = await whatsappConnector.send({ id: 'channel-2', settings, credentials, apiBaseUrl: simulator.url, fetch: loopbackFetch }, '15550008888', {
      text: 'Hello?',
      quickReplies: [],
      media: null,
    });
    await simulator.flush();
    const status = receiver.items.find((i): i is InboundStatus => i.type === 'status' && i.providerMessageId === providerMessageId);
    expect(status).toMatchObject({ status: 'failed', error: { code: '131047', message: expect.stringMatching(/^Re-engagement message: .*24 hours/) } });
  });

  it('serves media only with the access token', async () => {
    await simulator.sendImage({ waId: '15550007777', caption: 'photo' });
    const image = receiver.items.find((i): i is InboundMessage => i.type === 'message' && i.text === 'photo');
    const mediaId = image?.media[0]?.url.split('/').pop() ?? '';
    const info = (await (await graph(mediaId)).json()) as { url: string; mime_type: string };
    expect(info.mime_type).toBe('image/jpeg');
    expect((await fetch(info.url)).status).toBe(401);
    expect((await fetch(info.url, { headers: { authorization: `Bearer ${credentials.accessToken}` } })).status).toBe(200);
  });

  it('serves the demo page, whose composer sends a signed webhook', async () => {
    const page = await fetch(`${simulator.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('WhatsApp simulator');
    const sent = await fetch(`${simulator.url}/sim/send`, { method: 'POST', body: JSON.stringify({ waId: '15550006666', name: 'Sam', text: 'From the page' }) });
    expect(await sent.json()).toEqual({ ok: true });
    expect(receiver.items).toContainEqual(expect.objectContaining({ type: 'message', from: '15550006666', profileName: 'Sam', text: 'From the page' }));
    const state = (await (await fetch(`${simulator.url}/sim/state?waId=15550006666`)).json()) as { transcript: unknown[]; people: { waId: string }[] };
    expect(state.transcript).toHaveLength(1);
    expect(state.people.map((p) => p.waId)).toContain('15550006666');
  });
});
