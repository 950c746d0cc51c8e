import type { MessengerCredentials, MessengerSettings } from '@parley/protocol';
import { type ChannelConnector, type ConnectorChannel, InboundRejected, type InboundRequest, type InboundResult, ProviderError, type SendResult } from '../channel-connector.ts';
import { metaChallenge, verifyMetaSignature } from '../meta/signature.ts';
import { buildSendRequests, GRAPH_API_VERSION, providerErrorFrom, type SendApiRequest } from './send-api.ts';
import { MessengerWebhookSchema, parseMessengerWebhook } from './webhook-events.ts';

export const MESSENGER_API_BASE_URL = 'https://graph.facebook.com';
export const MESSENGER_SEND_TIMEOUT_MS = 10_000;

type MessengerChannel = ConnectorChannel<MessengerSettings, MessengerCredentials>;

/**
 * Facebook Messenger through Meta's Messenger Platform: webhooks signed with `X-Hub-Signature-256` (the app secret),
 * Meta's GET verification challenge, and the Send API with the Page access token. Read receipts (and delivery receipts
 * without message ids) come back as watermark statuses: see `MessengerWatermarkStatus`.
 */
export const messengerConnector: ChannelConnector<MessengerSettings, MessengerCredentials> = {
  kind: 'messenger',
  replyWindowHours: 24,

  handleInbound(request: InboundRequest, channel: MessengerChannel): InboundResult {
    if (request.method === 'GET') {
      const challenge = metaChallenge(request.query, channel.credentials.verifyToken);
      if (challenge === null) throw new InboundRejected('The verification request does not carry the channel’s verify token.', 403);
      return { kind: 'challenge', body: challenge };
    }
    if (!verifyMetaSignature(request.rawBody, request.headers['x-hub-signature-256'], channel.credentials.appSecret)) {
      throw new InboundRejected('Missing or invalid X-Hub-Signature-256.', 403);
    }
    let json: unknown;
    try {
      json = JSON.parse(request.rawBody);
    } catch {
      throw new InboundRejected('The webhook body is not JSON.', 400);
    }
    const body = MessengerWebhookSchema.safeParse(json);
    if (!body.success) throw new InboundRejected('The webhook body is not a Messenger Platform event.', 400);
    return {
      kind: 'items',
      items: parseMessengerWebhook(body.data, channel.settings.pageId),
      // Meta expects a 200 quickly, and redelivers otherwise.
      response: { status: 200, contentType: 'text/plain', body: 'EVENT_RECEIVED' },
    };
  },

  async send(channel, to, message): Promise<SendResult> {
    if (message.template) throw new ProviderError('Messenger has no message templates (they are WhatsApp only).', false, 'invalid_message');
    const requests = buildSendRequests(to, message);
    let last: SendResult | null = null;
    for (const request of requests) last = await callSendApi(channel, request);
    // Never null: buildSendRequests returns at least one request or throws.
    if (!last) throw new ProviderError('Nothing was sent.', false, 'invalid_message');
    return last;
  },
};

async function callSendApi(channel: MessengerChannel, request: SendApiRequest): Promise<SendResult> {
  const base = (channel.apiBaseUrl ?? MESSENGER_API_BASE_URL).replace(/\/+$/, '');
  let response: Response;
  try {
    // The token goes in the Authorization header (Graph accepts it there as well as in `?access_token=`), so it never
    // appears in a URL that could end up in a log.
    response = await channel.fetch(`${base}/${GRAPH_API_VERSION}/me/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${channel.credentials.pageAccessToken}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(MESSENGER_SEND_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    if (timedOut) throw new ProviderError(`Messenger did not answer within ${MESSENGER_SEND_TIMEOUT_MS / 1000} s.`, true, 'timeout');
    throw new ProviderError(`Messenger could not be reached: ${error instanceof Error ? error.message : String(error)}`, true, 'network');
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // an empty or non-JSON answer (a proxy's error page): judged by its status below
  }
  if (!response.ok) throw providerErrorFrom(response.status, body);
  const messageId = typeof body === 'object' && body !== null && 'message_id' in body ? body.message_id : null;
  if (typeof messageId !== 'string') throw new ProviderError(`Messenger answered ${response.status} without a message_id.`, true, 'provider_unavailable');
  return { providerMessageId: messageId };
}
