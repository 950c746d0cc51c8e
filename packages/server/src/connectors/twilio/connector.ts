import type { SmsCredentials, SmsSettings } from '@parley/protocol';
import {
  type ChannelConnector,
  type ConnectorChannel,
  type InboundItem,
  type InboundMessage,
  type InboundRequest,
  type InboundResult,
  type InboundStatus,
  InboundRejected,
  type OutboundMessage,
  ProviderError,
  type SendResult,
} from '../channel-connector.ts';
import { type OptOutKeyword, optOutKeyword } from './keywords.ts';
import { renderSmsBody } from './sms-body.ts';
import { verifyTwilioSignature } from './signature.ts';

export { resolveNumberedReply, renderSmsBody, SMS_BODY_LIMIT } from './sms-body.ts';

export type TwilioChannel = ConnectorChannel<SmsSettings, SmsCredentials>;

export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
export const SEND_TIMEOUT_MS = 10_000;
/** What Twilio expects in answer to a messaging webhook when nothing is to be sent back: empty TwiML. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** An inbound SMS, with what it means to the opt-out rules (Twilio has already applied them on its side). */
export interface TwilioInboundMessage extends InboundMessage {
  /**
   * 'stop': Twilio now refuses sends to this number (21610) until it texts START; 'start': it may be written to
   * again; 'help': Twilio has answered with its help text. From Twilio's `OptOutType` when it sends one (Advanced
   * Opt-Out keywords of a Messaging Service), else from the default keywords.
   */
  optOut: OptOutKeyword | null;
}

export interface TwilioConnectorOptions {
  /**
   * The URL Twilio should POST delivery statuses of a sent message to (Parley's public URL of the channel's webhook:
   * status callbacks and inbound messages share it). Without one, Twilio sends none for a plain phone number. When
   * not given, a `webhookUrl` string on the channel object is used if the framework provides one.
   */
  statusCallbackUrl?: (channel: TwilioChannel) => string | null;
  /** How long a send may wait for Twilio's answer (default 10 s); then it fails, retryable. */
  timeoutMs?: number;
}

/** Twilio's Messaging API for SMS/MMS: one Twilio number per channel, consumers identified by their E.164 number. */
export function createTwilioConnector(options: TwilioConnectorOptions = {}): ChannelConnector<SmsSettings, SmsCredentials> {
  return {
    kind: 'sms',
    replyWindowHours: null,
    handleInbound: (request, channel) => handleInbound(request, channel),
    send: (channel, to, message) => send(channel, to, message, statusCallbackUrl(options, channel), options.timeoutMs ?? SEND_TIMEOUT_MS),
  };
}

export const twilioConnector = createTwilioConnector();

/** Message statuses that matter to Parley; queued, sending, accepted, scheduled and the others produce nothing. */
const STATUS_MAP: Readonly<Record<string, InboundStatus['status']>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
};
/** Statuses of an inbound message: its webhook may carry `SmsStatus=received`, never an outbound status. */
const INBOUND_STATUSES = new Set(['received', 'receiving']);

function handleInbound(request: InboundRequest, channel: TwilioChannel): InboundResult {
  // Twilio POSTs form-encoded parameters (or, for a webhook configured as GET, puts them in the query, signing the URL).
  const params = request.method === 'POST' ? new URLSearchParams(request.rawBody) : new URLSearchParams();
  if (!verifyTwilioSignature(request.url, params, request.headers['x-twilio-signature'], channel.credentials.authToken)) {
    throw new InboundRejected('Missing or invalid X-Twilio-Signature', 403);
  }
  const fields = request.method === 'POST' ? params : queryParams(request.query);
  if (fields.get('AccountSid') !== channel.settings.accountSid) throw new InboundRejected("The webhook is not for this channel's Twilio account", 403);

  const messageSid = fields.get('MessageSid') ?? fields.get('SmsMessageSid') ?? fields.get('SmsSid');
  if (!messageSid) throw new InboundRejected('A Twilio webhook without MessageSid', 400);
  const messageStatus = fields.get('MessageStatus') ?? fields.get('SmsStatus');

  const items: InboundItem[] = [];
  if (messageStatus && !INBOUND_STATUSES.has(messageStatus)) {
    const status = parseStatus(fields, messageSid, messageStatus);
    if (status) items.push(status);
  } else {
    if (fields.get('To') !== channel.settings.phoneNumber) throw new InboundRejected("The message was not sent to this channel's number", 403);
    items.push(parseMessage(fields, messageSid));
  }
  return { kind: 'items', items, response: { status: 200, contentType: 'text/xml', body: EMPTY_TWIML } };
}

function parseMessage(fields: URLSearchParams, messageSid: string): TwilioInboundMessage {
  const from = fields.get('From');
  if (!from) throw new InboundRejected('A Twilio message without From', 400);
  const numMedia = Math.min(Number.parseInt(fields.get('NumMedia') ?? '0', 10) || 0, 10);
  const media: InboundMessage['media'] = [];
  for (let i = 0; i < numMedia; i++) {
    const url = fields.get(`MediaUrl${i}`);
    if (url) media.push({ url, contentType: fields.get(`MediaContentType${i}`) || null });
  }
  const body = fields.get('Body') ?? '';
  const text = body.trim() === '' ? null : body;
  return {
    type: 'message',
    providerMessageId: messageSid,
    from,
    text,
    media,
    receivedAt: new Date(),
    optOut: optOutType(fields.get('OptOutType')) ?? optOutKeyword(text),
  };
}

function parseStatus(fields: URLSearchParams, messageSid: string, messageStatus: string): InboundStatus | null {
  const status = STATUS_MAP[messageStatus];
  if (!status) return null;
  const item: InboundStatus = { type: 'status', providerMessageId: messageSid, status, at: new Date() };
  if (status === 'failed') {
    const code = fields.get('ErrorCode') || 'unknown';
    item.error = { code, message: fields.get('ErrorMessage') || `Twilio reported the message ${messageStatus} (error ${code})` };
  }
  return item;
}

function optOutType(value: string | null): OptOutKeyword | null {
  const type = value?.toUpperCase();
  return type === 'STOP' ? 'stop' : type === 'START' ? 'start' : type === 'HELP' ? 'help' : null;
}

function queryParams(query: InboundRequest['query']): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.append(name, value);
  return params;
}

function statusCallbackUrl(options: TwilioConnectorOptions, channel: TwilioChannel): string | null {
  if (options.statusCallbackUrl) return options.statusCallbackUrl(channel);
  return 'webhookUrl' in channel && typeof channel.webhookUrl === 'string' ? channel.webhookUrl : null;
}

/** Twilio error codes that are worth trying again although answered with a 4xx. */
const RETRYABLE_CODES = new Set([
  '20429', // too many requests
  '21611', // the sending number's queue is full
]);

async function send(channel: TwilioChannel, to: string, message: OutboundMessage, callbackUrl: string | null, timeoutMs: number): Promise<SendResult> {
  const { accountSid, phoneNumber } = channel.settings;
  const form = new URLSearchParams({ To: to, From: phoneNumber });
  const body = renderSmsBody(message);
  if (body) form.set('Body', body);
  if (message.media) form.append('MediaUrl', message.media.url);
  if (!body && !message.media) throw new ProviderError('Nothing to send: the message has neither text nor a file', false, null);
  if (callbackUrl) form.set('StatusCallback', callbackUrl);

  const base = (channel.apiBaseUrl ?? TWILIO_API_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  let response: Response;
  try {
    response = await channel.fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${channel.credentials.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : String(error);
    throw new ProviderError(`Twilio could not be reached: ${reason}`, true, null);
  }

  const answer = await readJson(response);
  if (response.ok) {
    const sid = answer && typeof answer['sid'] === 'string' ? answer['sid'] : null;
    // Accepted but unreadable: sending again could deliver it twice, so not retryable.
    if (!sid) throw new ProviderError(`Twilio answered ${response.status} without a message sid`, false, null);
    return { providerMessageId: sid };
  }
  const code = answer && (typeof answer['code'] === 'number' || typeof answer['code'] === 'string') ? String(answer['code']) : null;
  const detail = answer && typeof answer['message'] === 'string' ? answer['message'] : response.statusText;
  const retryable = response.status === 429 || response.status >= 500 || (code !== null && RETRYABLE_CODES.has(code));
  throw new ProviderError(`Twilio refused the message (${response.status}${code ? `, error ${code}` : ''}): ${detail}`, retryable, code);
}

async function readJson(response: Response): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = await response.json();
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
