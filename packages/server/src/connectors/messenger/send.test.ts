import type { MessengerCredentials, MessengerSettings } from '@parley/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConnectorChannel, type OutboundMessage, ProviderError } from '../channel-connector.ts';
import { messengerConnector } from './connector.ts';
import { providerErrorFrom, splitText, truncateTitle } from './send-api.ts';
import { type MessengerSimulator, startMessengerSimulator } from './simulator.ts';
import { loopbackFetch } from '../../test/outbound.ts';

const PAGE_ID = '104857600000002';
const PSID = '7345678901230001';
const credentials: MessengerCredentials = { kind: 'messenger', appSecret: 'app-secret-456', pageAccessToken: 'EAAG-page-token-2', verifyToken: 'verify-token-456' };

let simulator: MessengerSimulator;
let channel: ConnectorChannel<MessengerSettings, MessengerCredentials>;
let clock = Date.now();

beforeAll(async () => {
  simulator = await startMessengerSimulator({ pageId: PAGE_ID, appSecret: credentials.appSecret, pageAccessToken: credentials.pageAccessToken, now: () => clock });
  channel = { id: 'channel-2', settings: { kind: 'messenger', pageId: PAGE_ID }, credentials, apiBaseUrl: simulator.url, fetch: loopbackFetch };
});
afterAll(() => simulator.close());
beforeEach(() => {
  clock = Date.now();
});

const message = (overrides: Partial<OutboundMessage>): OutboundMessage => ({ text: '', quickReplies: [], media: null, ...overrides });

async function sendError(to: string, outbound: OutboundMessage, onChannel = channel): Promise<ProviderError> {
  try {
    await messengerConnector.send(onChannel, to, outbound);
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('the Messenger connector: sending through the Send API (simulator)', () => {
  it('sends a text as a RESPONSE with the page token and returns Meta’s message id', async () => {
    const psid = `${PSID}1`;
    const result = await messengerConnector.send(channel, psid, message({ text: 'Your order ships today.' }));
    const [sent] = simulator.sentTo(psid);
    expect(result.providerMessageId).toBe(sent?.mid);
    expect(result.providerMessageId).toMatch(/^m_/);
    expect(sent).toMatchObject({ messagingType: 'RESPONSE', tokenIn: 'header', message: { text: 'Your order ships today.' } });
  });

  it('sends quick replies with titles cut to 20 characters and at most 13 of them', async () => {
    const psid = `${PSID}2`;
    const quickReplies = Array.from({ length: 15 }, (_, i) => ({ title: i === 0 ? 'Talk to a human agent please' : `Option ${i}`, payload: `OPT_${i}` }));
    await messengerConnector.send(channel, psid, message({ text: 'Pick one', quickReplies }));
    const [sent] = simulator.sentTo(psid);
    const sentReplies = sent?.message.quick_replies ?? [];
    expect(sentReplies).toHaveLength(13);
    expect(sentReplies[0]).toEqual({ content_type: 'text', title: 'Talk to a human age…', payload: 'OPT_0' });
    expect(Array.from(sentReplies[0]?.title ?? '').length).toBeLessThanOrEqual(20);
    expect(sentReplies.every((reply) => Array.from(reply.title).length <= 20)).toBe(true);
  });

  it('sends a file as an attachment by URL of the right type, then its caption as text carrying the quick replies', async () => {
    const psid = `${PSID}3`;
    const result = await messengerConnector.send(
      channel,
      psid,
      message({
        text: '',
        media: { url: 'https://files.example/receipt.png', contentType: 'image/png', fileName: 'receipt.png', caption: 'Your receipt' },
        quickReplies: [{ title: 'Thanks', payload: 'THANKS' }],
      }),
    );
    const sent = simulator.sentTo(psid);
    expect(sent.map((s) => s.message)).toEqual([
      { attachment: { type: 'image', payload: { url: 'https://files.example/receipt.png', is_reusable: false } } },
      { text: 'Your receipt', quick_replies: [{ content_type: 'text', title: 'Thanks', payload: 'THANKS' }] },
    ]);
    expect(result.providerMessageId).toBe(sent[1]?.mid);

    await messengerConnector.send(channel, psid, message({ media: { url: 'https://files.example/a.pdf', contentType: 'application/pdf', fileName: 'a.pdf' } }));
    await messengerConnector.send(channel, psid, message({ media: { url: 'https://files.example/a.mp4', contentType: 'video/mp4', fileName: 'a.mp4' } }));
    await messengerConnector.send(channel, psid, message({ media: { url: 'https://files.example/a.ogg', contentType: 'audio/ogg', fileName: 'a.ogg' } }));
    expect(
      simulator
        .sentTo(psid)
        .slice(2)
        .map((s) => s.message.attachment?.type),
    ).toEqual(['file', 'video', 'audio']);
  });

  it('splits a text longer than 2000 characters into several messages, quick replies on the last', async () => {
    const psid = `${PSID}4`;
    const paragraph = `${'Lorem ipsum dolor sit amet. '.repeat(30).trim()}`;
    const text = Array.from({ length: 6 }, () => paragraph).join('\n\n');
    expect(text.length).toBeGreaterThan(4000);
    await messengerConnector.send(channel, psid, message({ text, quickReplies: [{ title: 'OK', payload: 'OK' }] }));
    const sent = simulator.sentTo(psid);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.every((s) => (s.message.text?.length ?? 0) <= 2000)).toBe(true);
    expect(sent.map((s) => s.message.text).join('\n\n')).toBe(text);
    expect(sent.slice(0, -1).every((s) => s.message.quick_replies === undefined)).toBe(true);
    expect(sent.at(-1)?.message.quick_replies).toHaveLength(1);
  });

  it('reports a provider failure (HTTP 500) as retryable', async () => {
    simulator.failNext(1);
    const error = await sendError(`${PSID}5`, message({ text: 'hello' }));
    expect(error).toMatchObject({ retryable: true, code: 'provider_unavailable' });
    expect(simulator.sentTo(`${PSID}5`)).toHaveLength(0);
    await expect(messengerConnector.send(channel, `${PSID}5`, message({ text: 'hello' }))).resolves.toMatchObject({ providerMessageId: expect.stringMatching(/^m_/) });
  });

  it('reports Meta’s rate limits (code 613, code 4) as retryable', async () => {
    simulator.failNext(1, { status: 400, code: 613, message: 'Calls to this API have exceeded the rate limit.' });
    expect(await sendError(PSID, message({ text: 'x' }))).toMatchObject({ retryable: true, code: 'rate_limited' });
    simulator.failNext(1, { status: 403, code: 4, message: 'Application request limit reached' });
    expect(await sendError(PSID, message({ text: 'x' }))).toMatchObject({ retryable: true, code: 'rate_limited' });
  });

  it('reports a send outside the 24-hour window as outside_window, not retryable, with a clear message', async () => {
    const psid = `${PSID}6`;
    simulator.setLastUserMessageAt(psid, new Date(clock - 25 * 3_600_000));
    const error = await sendError(psid, message({ text: 'Are you still there?' }));
    expect(error).toMatchObject({ retryable: false, code: 'outside_window' });
    expect(error.message).toMatch(/24 hours/);
    expect(simulator.sentTo(psid)).toHaveLength(0);

    simulator.setLastUserMessageAt(psid, new Date(clock - 23 * 3_600_000));
    await expect(messengerConnector.send(channel, psid, message({ text: 'Still within the window' }))).resolves.toBeDefined();
  });

  it('reports an unavailable person (551) as not retryable', async () => {
    simulator.failNext(1, { status: 400, code: 551, subcode: 1545041, message: 'This person isn’t available right now.' });
    expect(await sendError(PSID, message({ text: 'x' }))).toMatchObject({ retryable: false, code: 'recipient_unavailable' });
  });

  it('reports a wrong page access token as invalid_token, not retryable', async () => {
    const error = await sendError(PSID, message({ text: 'x' }), { ...channel, credentials: { ...credentials, pageAccessToken: 'EAAG-wrong-token' } });
    expect(error).toMatchObject({ retryable: false, code: 'invalid_token' });
    expect(error.message).toMatch(/code 190/);
    expect(error.message).not.toContain('EAAG-wrong-token');
  });

  it('reports an unreachable API as a retryable network error', async () => {
    const error = await sendError(PSID, message({ text: 'x' }), { ...channel, apiBaseUrl: 'http://127.0.0.1:9' });
    expect(error).toMatchObject({ retryable: true, code: 'network' });
  });

  it('refuses an empty message and a WhatsApp template before calling Meta', async () => {
    expect(await sendError(PSID, message({ text: '   ' }))).toMatchObject({ retryable: false, code: 'invalid_message' });
    expect(await sendError(PSID, message({ text: 'x', template: { name: 'hello', language: 'en', parameters: [] } }))).toMatchObject({ code: 'invalid_message' });
  });

  it('declares the 24-hour standard messaging window', () => {
    expect(messengerConnector.replyWindowHours).toBe(24);
  });
});

describe('splitText', () => {
  it('keeps a short text whole', () => {
    expect(splitText('hello')).toEqual(['hello']);
  });

  it('cuts at a sentence end or space, never mid-word when it can', () => {
    const parts = splitText('One two three. Four five six seven.', 20);
    expect(parts).toEqual(['One two three.', 'Four five six seven.']);
  });

  it('cuts a text without spaces hard, without splitting a surrogate pair', () => {
    const parts = splitText(`${'a'.repeat(9)}😀${'b'.repeat(5)}`, 10);
    expect(parts).toEqual(['a'.repeat(9), `😀${'b'.repeat(5)}`]);
    expect(parts.join('')).toBe(`${'a'.repeat(9)}😀${'b'.repeat(5)}`);
  });
});

describe('truncateTitle', () => {
  it('keeps titles of up to 20 characters and cuts longer ones with an ellipsis', () => {
    expect(truncateTitle('Exactly twenty chars')).toBe('Exactly twenty chars');
    expect(truncateTitle('Twenty-one characters')).toBe('Twenty-one characte…');
    expect(Array.from(truncateTitle('😀'.repeat(25)))).toHaveLength(20);
  });
});

describe('providerErrorFrom', () => {
  it('maps Meta’s answers to retryable or final errors', () => {
    expect(providerErrorFrom(400, { error: { message: '(#10) This message is sent outside of allowed window.', code: 10, error_subcode: 2018278 } }).code).toBe('outside_window');
    expect(providerErrorFrom(400, { error: { message: '(#10) Permission denied', code: 10 } })).toMatchObject({ code: 'permission_denied', retryable: false });
    expect(providerErrorFrom(400, { error: { message: '(#100) No matching user found', code: 100, error_subcode: 2018001 } })).toMatchObject({ code: 'recipient_not_found', retryable: false });
    expect(providerErrorFrom(400, { error: { message: '(#100) Invalid parameter', code: 100 } })).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(providerErrorFrom(500, { error: { message: 'Temporary send message failure. Please try again later.', code: 1200 } })).toMatchObject({ retryable: true });
    expect(providerErrorFrom(503, null)).toMatchObject({ retryable: true, code: 'provider_unavailable' });
    expect(providerErrorFrom(429, null)).toMatchObject({ retryable: true, code: 'rate_limited' });
    expect(providerErrorFrom(404, null)).toMatchObject({ retryable: false, code: 'provider_error' });
  });
});
