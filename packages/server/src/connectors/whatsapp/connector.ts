import type { WhatsAppCredentials, WhatsAppSettings } from '@parley/protocol';
import { type ChannelConnector, type ConnectorChannel, InboundRejected, type InboundRequest, type InboundResult, type OutboundMessage, ProviderError, type SendResult } from '../channel-connector.ts';
import { metaChallenge, verifyMetaSignature } from '../meta/signature.ts';
import { buildSendRequests } from './build-send-requests.ts';
import { DEFAULT_API_BASE_URL, ERROR_CODES, GRAPH_API_VERSION, type GraphErrorBody, type MediaInfo, type SendRequest, type SendResponse, type WebhookPayload } from './cloud-api.ts';
import { parseWebhook } from './parse-webhook.ts';

type WhatsAppChannel = ConnectorChannel<WhatsAppSettings, WhatsAppCredentials>;

export interface WhatsAppConnectorOptions {
  /** How long one Cloud API call may take (default 10 s). */
  timeoutMs?: number;
}

/** Downloads an inbound file: `media.url` from `handleInbound` is `{base}/{version}/{media-id}`, resolved here. */
export interface WhatsAppMediaFetcher {
  fetchMedia(channel: WhatsAppChannel, mediaUrl: string): Promise<{ body: Uint8Array; contentType: string }>;
}

/**
 * The WhatsApp Cloud API connector. Inbound: Meta's GET verification challenge, then signed POSTs
 * (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the app secret) carrying messages and statuses. Outbound:
 * `POST {base}/v21.0/{phone-number-id}/messages` with the access token as Bearer.
 */
export function createWhatsAppConnector(options: WhatsAppConnectorOptions = {}): ChannelConnector<WhatsAppSettings, WhatsAppCredentials> & WhatsAppMediaFetcher {
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function callGraph(channel: WhatsAppChannel, url: string, init: { method: 'GET' | 'POST'; body?: unknown }): Promise<Response> {
    try {
      return await channel.fetch(url, {
        method: init.method,
        headers: { authorization: `Bearer ${channel.credentials.accessToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ProviderError(timedOut ? `WhatsApp did not answer within ${timeoutMs} ms.` : `WhatsApp could not be reached: ${describe(error)}`, true, timedOut ? 'timeout' : 'network');
    }
  }

  async function sendOne(channel: WhatsAppChannel, request: SendRequest): Promise<string> {
    const url = `${apiBase(channel)}/${GRAPH_API_VERSION}/${encodeURIComponent(channel.settings.phoneNumberId)}/messages`;
    const response = await callGraph(channel, url, { method: 'POST', body: request });
    const text = await response.text().catch(() => '');
    if (!response.ok) throw mapGraphError(response.status, text);
    const id = (safeJson(text) as Partial<SendResponse> | null)?.messages?.[0]?.id;
    if (!id) throw new ProviderError(`WhatsApp accepted the message but its answer has no message id: ${text.slice(0, 200)}`, false, 'bad_response');
    return id;
  }

  return {
    kind: 'whatsapp',
    replyWindowHours: 24,

    handleInbound(request: InboundRequest, channel: WhatsAppChannel): InboundResult {
      if (request.method === 'GET') {
        const challenge = metaChallenge(request.query, channel.credentials.verifyToken);
        if (challenge === null) throw new InboundRejected('The verification token does not match this channel.', 403);
        return { kind: 'challenge', body: challenge };
      }
      if (!verifyMetaSignature(request.rawBody, request.headers['x-hub-signature-256'], channel.credentials.appSecret)) {
        throw new InboundRejected('Missing or invalid X-Hub-Signature-256.', 403);
      }
      const payload = safeJson(request.rawBody) as WebhookPayload | null;
      if (!payload || typeof payload !== 'object' || !Array.isArray(payload.entry)) throw new InboundRejected('The body is not a WhatsApp webhook.', 400);
      const items = payload.object === 'whatsapp_business_account' ? parseWebhook(payload, channel.settings.phoneNumberId, apiBase(channel)) : [];
      return { kind: 'items', items, response: { status: 200, contentType: 'text/plain', body: 'EVENT_RECEIVED' } };
    },

    async send(channel: WhatsAppChannel, to: string, message: OutboundMessage): Promise<SendResult> {
      const recipient = to.replace(/^\+/, '');
      let providerMessageId = '';
      // Several requests only when one cannot carry the message (see buildSendRequests); the last one's id is kept,
      // so its read receipt means the whole message was read.
      for (const request of buildSendRequests(recipient, message)) providerMessageId = await sendOne(channel, request);
      return { providerMessageId };
    },

    async fetchMedia(channel: WhatsAppChannel, mediaUrl: string) {
      const infoResponse = await callGraph(channel, mediaUrl, { method: 'GET' });
      const infoText = await infoResponse.text().catch(() => '');
      if (!infoResponse.ok) throw mapGraphError(infoResponse.status, infoText);
      const info = safeJson(infoText) as Partial<MediaInfo> | null;
      if (!info?.url) throw new ProviderError('WhatsApp gave no download URL for this media.', false, 'bad_response');
      const file = await callGraph(channel, info.url, { method: 'GET' });
      if (!file.ok) throw mapGraphError(file.status, await file.text().catch(() => ''));
      return { body: new Uint8Array(await file.arrayBuffer()), contentType: info.mime_type ?? file.headers.get('content-type') ?? 'application/octet-stream' };
    },
  };
}

export const whatsappConnector = createWhatsAppConnector();

function apiBase(channel: WhatsAppChannel): string {
  return (channel.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
}

/**
 * Meta's error → ProviderError. Codes: `outside_window` (131047: a template is needed), `rate_limited` (retryable),
 * `auth_failed` (190 and other OAuth errors: the access token must be replaced), `undeliverable` (131026),
 * `template_invalid`, `invalid_request`, `provider_unavailable` (5xx and Meta's transient codes, retryable).
 */
export function mapGraphError(httpStatus: number, bodyText: string): ProviderError {
  const error = (safeJson(bodyText) as Partial<GraphErrorBody> | null)?.error;
  const code = typeof error?.code === 'number' ? error.code : null;
  const details = error?.error_data?.details;
  const said = error ? `${error.message}${details ? ` (${details})` : ''}` : `HTTP ${httpStatus} ${bodyText.slice(0, 200)}`.trim();
  switch (code) {
    case ERROR_CODES.reEngagement:
      return new ProviderError(
        `WhatsApp refused the message: more than 24 hours have passed since the customer last wrote (error 131047). Outside the 24-hour customer-service window only an approved template message can be sent; send a template, or wait for the customer to write again.`,
        false,
        'outside_window',
      );
    case ERROR_CODES.rateLimit:
    case ERROR_CODES.pairRateLimit:
    case ERROR_CODES.spamRateLimit:
    case 4:
    case 80007:
      return new ProviderError(`WhatsApp rate limit (error ${code}): ${said}`, true, 'rate_limited');
    case ERROR_CODES.accessToken:
    case 0:
    case 10:
      return new ProviderError(`WhatsApp refused the access token (error ${code}): ${said}. Replace the channel's access token.`, false, 'auth_failed');
    case ERROR_CODES.undeliverable:
      return new ProviderError(`WhatsApp could not deliver to this number (error 131026): ${said}`, false, 'undeliverable');
    case ERROR_CODES.templateParams:
    case ERROR_CODES.templateMissing:
    case 132005:
    case 132007:
    case 132012:
      return new ProviderError(`WhatsApp refused the template (error ${code}): ${said}`, false, 'template_invalid');
    case 1:
    case 2:
    case ERROR_CODES.generic:
    case 133004:
      return new ProviderError(`WhatsApp is temporarily unable to send (error ${code}): ${said}`, true, 'provider_unavailable');
  }
  if (httpStatus === 429) return new ProviderError(`WhatsApp rate limit: ${said}`, true, 'rate_limited');
  if (httpStatus >= 500) return new ProviderError(`WhatsApp failed (HTTP ${httpStatus}): ${said}`, true, 'provider_unavailable');
  if (httpStatus === 401 || (error?.type === 'OAuthException' && httpStatus === 403)) return new ProviderError(`WhatsApp refused the credentials: ${said}`, false, 'auth_failed');
  return new ProviderError(`WhatsApp refused the message${code === null ? '' : ` (error ${code})`}: ${said}`, false, 'invalid_request');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
