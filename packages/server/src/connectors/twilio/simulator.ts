import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { optOutKeyword } from './keywords.ts';
import { PHONE_PAGE_HTML } from './phone-page.ts';
import { twilioSignature } from './signature.ts';

/**
 * A local stand-in for Twilio's Messaging API, for tests and `npm run demo:channels` (nothing here reaches Twilio):
 *
 * - the Messages resource, `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: HTTP Basic auth with the account
 *   sid and auth token, form-encoded `To`, `From`, `Body`, `MediaUrl`, `StatusCallback`, Twilio's JSON answers and
 *   error codes; then signed status callbacks (`sent`, `delivered`) to `StatusCallback`;
 * - inbound SMS: `sendSms` POSTs Twilio's form-encoded webhook, signed with `X-Twilio-Signature`;
 * - Twilio's default STOP filtering: a consumer who texts STOP is refused sends (21610) until START;
 * - a phone web page at `/`: a simulated handset a person texts the brand from.
 *
 * Listens on 127.0.0.1 only.
 */
export interface TwilioSimulatorOptions {
  accountSid: string;
  authToken: string;
  /** 0 (the default): any free port. */
  port?: number;
  /** The brand's Twilio numbers and where each POSTs inbound SMS (a number's "A message comes in" webhook). */
  numbers?: Record<string, string | null>;
  /** Delay before each status callback (default 10 ms). */
  statusCallbackDelayMs?: number;
}

export interface TwilioSimulator {
  /** Base URL of the API (a channel's `apiBaseUrl`) and of the phone page. */
  readonly url: string;
  readonly accountSid: string;
  /** Messages the brand sent through the Messages resource and that were accepted, oldest first. */
  readonly sent: readonly SimulatedMessage[];
  /** Every status callback attempted, with Parley's answer (status 0: not reachable). */
  readonly statusCallbacks: readonly StatusCallbackRecord[];
  /** The next accepted message not yet returned by `nextSent` (those already sent count): waits up to `timeoutMs`. */
  nextSent(timeoutMs?: number): Promise<SimulatedMessage>;
  /** The next `count` sends fail before validation with this answer (default 500, error 20500). */
  failNextSends(count: number, failure?: { status?: number; code?: number; message?: string }): void;
  /** The next `count` accepted sends end `undelivered` with this error code (default 30003, unreachable handset). */
  failNextDeliveries(count: number, errorCode?: number): void;
  /** Sets (or clears) where a Twilio number POSTs inbound SMS; adds the number to the account. */
  setSmsUrl(phoneNumber: string, url: string | null): void;
  /** A consumer texts a brand number: Twilio's webhook, POSTed and signed as Twilio does. */
  sendSms(sms: InboundSms): Promise<WebhookDelivery>;
  /** POSTs a status callback for a message, as Twilio does after a send. */
  sendStatusCallback(callback: StatusCallbackRequest): Promise<WebhookDelivery>;
  /** Opts a consumer out of (or back into) a brand number, as their texting STOP or START does. */
  setOptedOut(consumerNumber: string, twilioNumber: string, optedOut: boolean): void;
  isOptedOut(consumerNumber: string, twilioNumber: string): boolean;
  /** Everything a handset shows, both ways, oldest first. */
  conversation(consumerNumber: string): PhoneMessage[];
  close(): Promise<void>;
}

export interface SimulatedMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  /** queued, then sent, then delivered or undelivered, as the status callbacks say. */
  status: string;
  errorCode: number | null;
  numSegments: number;
  dateCreated: Date;
  /** The form parameters as received. */
  params: Record<string, string[]>;
}

export interface InboundSms {
  /** The consumer's number (E.164). */
  from: string;
  /** The brand's Twilio number. */
  to: string;
  body: string;
  /** Pictures etc., each a URL (content type guessed from the extension) or a URL and content type. */
  media?: (string | { url: string; contentType: string })[];
  /** Default: the number's URL set with `setSmsUrl` / `numbers`. */
  webhookUrl?: string;
  /** 'missing': no X-Twilio-Signature; 'invalid': signed with another token. Default 'valid'. */
  signature?: SignatureMode;
  /** Reuse a MessageSid, to redeliver a message as Twilio does when the webhook failed. */
  messageSid?: string;
  /** Extra or overriding parameters (e.g. a foreign AccountSid or `OptOutType`). */
  extraParams?: Record<string, string>;
}

export interface StatusCallbackRequest {
  url: string;
  messageSid: string;
  from: string;
  to: string;
  status: 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';
  errorCode?: number;
  signature?: SignatureMode;
}

export type SignatureMode = 'valid' | 'missing' | 'invalid';

export interface WebhookDelivery {
  messageSid: string;
  /** The form parameters POSTed. */
  params: Record<string, string>;
  /** Parley's answer; status 0 when it could not be reached. */
  status: number;
  contentType: string | null;
  body: string;
}

export interface StatusCallbackRecord {
  messageSid: string;
  status: string;
  url: string;
  responseStatus: number;
}

export interface PhoneMessage {
  sid: string;
  /** inbound: the consumer to the brand; outbound: the brand to the consumer; auto: Twilio's own STOP/START/HELP reply. */
  direction: 'inbound' | 'outbound' | 'auto';
  consumer: string;
  twilioNumber: string;
  body: string;
  mediaUrls: string[];
  status: string;
  at: string;
}

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BODY_BYTES = 1_000_000;
const AUTO_REPLIES = {
  stop: 'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.',
  start: 'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
  help: 'Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
} as const;

export async function startTwilioSimulator(options: TwilioSimulatorOptions): Promise<TwilioSimulator> {
  const { accountSid, authToken } = options;
  const callbackDelay = options.statusCallbackDelayMs ?? 10;
  const numbers = new Map<string, string | null>(Object.entries(options.numbers ?? {}));
  const sent: SimulatedMessage[] = [];
  const log: PhoneMessage[] = [];
  const statusCallbacks: StatusCallbackRecord[] = [];
  const optedOut = new Set<string>();
  const sendFailures: { status: number; code: number; message: string }[] = [];
  const deliveryFailures: number[] = [];
  const waiters: ((message: SimulatedMessage) => void)[] = [];
  const pending = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let nextUnread = 0;
  let closed = false;

  const optOutKey = (consumer: string, twilioNumber: string) => `${consumer}|${twilioNumber}`;
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  function accepted(message: SimulatedMessage): void {
    sent.push(message);
    log.push({
      sid: message.sid,
      direction: 'outbound',
      consumer: message.to,
      twilioNumber: message.from,
      body: message.body,
      mediaUrls: message.mediaUrls,
      status: message.status,
      at: message.dateCreated.toISOString(),
    });
    const waiter = waiters.shift();
    if (waiter) {
      nextUnread += 1;
      waiter(message);
    }
  }

  function setStatus(message: SimulatedMessage, status: string, errorCode: number | null): void {
    message.status = status;
    message.errorCode = errorCode;
    const entry = log.find((m) => m.sid === message.sid);
    if (entry) entry.status = status;
  }

  /** Twilio's lifecycle after a 201: sent, then delivered (or undelivered), each with a signed callback if asked. */
  function progress(message: SimulatedMessage, failCode: number | null): void {
    const steps: [string, number | null][] = [['sent', null], failCode === null ? ['delivered', null] : ['undelivered', failCode]];
    const run = (i: number) => {
      const step = steps[i];
      if (!step || closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (closed) return;
        const [status, errorCode] = step;
        setStatus(message, status, errorCode);
        const done = message.statusCallback
          ? track(
              postStatusCallback({
                url: message.statusCallback,
                messageSid: message.sid,
                from: message.from,
                to: message.to,
                status: status as StatusCallbackRequest['status'],
                ...(errorCode === null ? {} : { errorCode }),
              }),
            )
          : Promise.resolve();
        void done.then(() => run(i + 1));
      }, callbackDelay);
      timers.add(timer);
    };
    run(0);
  }

  async function postStatusCallback(callback: StatusCallbackRequest): Promise<WebhookDelivery> {
    const params: Record<string, string> = {
      SmsSid: callback.messageSid,
      SmsStatus: callback.status,
      MessageStatus: callback.status,
      To: callback.to,
      MessageSid: callback.messageSid,
      AccountSid: accountSid,
      From: callback.from,
      ApiVersion: API_VERSION,
    };
    if (callback.status === 'delivered') params['RawDlrDoneDate'] = rawDlrDate(new Date());
    if (callback.errorCode !== undefined) params['ErrorCode'] = String(callback.errorCode);
    const delivery = await postWebhook(callback.url, params, callback.signature ?? 'valid');
    statusCallbacks.push({ messageSid: callback.messageSid, status: callback.status, url: callback.url, responseStatus: delivery.status });
    return { ...delivery, messageSid: callback.messageSid };
  }

  async function postWebhook(url: string, params: Record<string, string>, signature: SignatureMode): Promise<WebhookDelivery> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': randomUUID(),
    };
    if (signature !== 'missing') headers['x-twilio-signature'] = twilioSignature(url, params, signature === 'valid' ? authToken : `${authToken}-not-it`);
    const messageSid = params['MessageSid'] ?? '';
    try {
      const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(15_000), redirect: 'manual' });
      return { messageSid, params, status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
    } catch {
      return { messageSid, params, status: 0, contentType: null, body: '' };
    }
  }

  async function sendSms(sms: InboundSms): Promise<WebhookDelivery> {
    const webhookUrl = sms.webhookUrl ?? numbers.get(sms.to);
    if (!webhookUrl) throw new Error(`No webhook for ${sms.to}: pass webhookUrl or call setSmsUrl`);
    const media = (sms.media ?? []).map((m) => (typeof m === 'string' ? { url: m, contentType: contentTypeOf(m) } : m));
    const messageSid = sms.messageSid ?? sid(media.length > 0 ? 'MM' : 'SM');
    // The parameters of a real inbound SMS webhook, in Twilio's order (geographic ones empty: simulated numbers).
    const params: Record<string, string> = {
      ToCountry: countryOf(sms.to),
      ToState: '',
      SmsMessageSid: messageSid,
      NumMedia: String(media.length),
      ToCity: '',
      FromZip: '',
      SmsSid: messageSid,
      FromState: '',
      SmsStatus: 'received',
      FromCity: '',
      Body: sms.body,
      FromCountry: countryOf(sms.from),
      To: sms.to,
      ToZip: '',
      NumSegments: String(segments(sms.body)),
      MessageSid: messageSid,
      AccountSid: accountSid,
      From: sms.from,
      ApiVersion: API_VERSION,
    };
    media.forEach((m, i) => {
      params[`MediaContentType${i}`] = m.contentType;
      params[`MediaUrl${i}`] = m.url;
    });
    Object.assign(params, sms.extraParams);
    if (!log.some((m) => m.sid === messageSid)) {
      log.push({
        sid: messageSid,
        direction: 'inbound',
        consumer: sms.from,
        twilioNumber: sms.to,
        body: sms.body,
        mediaUrls: media.map((m) => m.url),
        status: 'received',
        at: new Date().toISOString(),
      });
    }
    // Twilio's default STOP filtering acts before the webhook, and forwards the keyword message all the same.
    const keyword = optOutKeyword(sms.body);
    if (keyword === 'stop') optedOut.add(optOutKey(sms.from, sms.to));
    if (keyword === 'start') optedOut.delete(optOutKey(sms.from, sms.to));
    if (keyword)
      log.push({ sid: sid('SM'), direction: 'auto', consumer: sms.from, twilioNumber: sms.to, body: AUTO_REPLIES[keyword], mediaUrls: [], status: 'delivered', at: new Date().toISOString() });
    const delivery = await track(postWebhook(webhookUrl, params, sms.signature ?? 'valid'));
    const entry = log.find((m) => m.sid === messageSid);
    if (entry) entry.status = delivery.status >= 200 && delivery.status < 300 ? 'received' : `webhook answered ${delivery.status || 'nothing'}`;
    return delivery;
  }

  function createMessage(params: URLSearchParams): { status: number; body: unknown } {
    const failure = sendFailures.shift();
    if (failure) return twilioError(failure.status, failure.code, failure.message);
    const to = params.get('To');
    const from = params.get('From');
    const body = params.get('Body') ?? '';
    const mediaUrls = params.getAll('MediaUrl');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!E164.test(from) || (numbers.size > 0 && !numbers.has(from))) {
      return twilioError(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
    }
    if (!body && mediaUrls.length === 0) return twilioError(400, 21602, 'Message body is required.');
    if (body.length > 1600) return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (mediaUrls.length > 10) return twilioError(400, 21623, 'Number of media files exceeds allowed limit.');
    if (optedOut.has(optOutKey(to, from))) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
    const statusCallback = params.get('StatusCallback');
    const message: SimulatedMessage = {
      sid: sid(mediaUrls.length > 0 ? 'MM' : 'SM'),
      from,
      to,
      body,
      mediaUrls,
      statusCallback,
      status: 'queued',
      errorCode: null,
      numSegments: segments(body),
      dateCreated: new Date(),
      params: formRecord(params),
    };
    accepted(message);
    progress(message, deliveryFailures.shift() ?? null);
    return { status: 201, body: messageJson(message) };
  }

  function messageJson(message: SimulatedMessage): Record<string, unknown> {
    const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages/${message.sid}`;
    const date = rfc2822(message.dateCreated);
    return {
      account_sid: accountSid,
      api_version: API_VERSION,
      body: message.body,
      date_created: date,
      date_sent: message.status === 'queued' ? null : date,
      date_updated: date,
      direction: 'outbound-api',
      error_code: message.errorCode,
      error_message: null,
      from: message.from,
      messaging_service_sid: null,
      num_media: String(message.mediaUrls.length),
      num_segments: String(message.numSegments),
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: message.status,
      subresource_uris: { media: `${uri}/Media.json` },
      to: message.to,
      uri: `${uri}.json`,
    };
  }

  function authorized(request: http.IncomingMessage, pathSid: string): boolean {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(0, colon) === accountSid && decoded.slice(colon + 1) === authToken && pathSid === accountSid;
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(request);
    if (raw === null) return reply(response, 413, { code: 20001, message: 'Request entity too large', status: 413 });

    const api = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/]+))?\.json$/.exec(url.pathname);
    if (api) {
      const pathSid = decodeURIComponent(api[1] ?? '');
      if (!authorized(request, pathSid)) {
        response.setHeader('www-authenticate', 'Basic realm="Twilio API"');
        const error = twilioError(401, 20003, 'Authenticate');
        return reply(response, error.status, error.body);
      }
      if (request.method === 'POST' && !api[2]) {
        const result = createMessage(new URLSearchParams(raw));
        return reply(response, result.status, result.body);
      }
      if (request.method === 'GET' && api[2]) {
        const message = sent.find((m) => m.sid === api[2]);
        if (message) return reply(response, 200, messageJson(message));
        const error = twilioError(404, 20404, `The requested resource ${url.pathname} was not found`);
        return reply(response, error.status, error.body);
      }
      const error = twilioError(405, 20004, 'Method not allowed');
      return reply(response, error.status, error.body);
    }

    // The phone page and its small JSON API (no auth: it listens on 127.0.0.1 only).
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return void response.end(PHONE_PAGE_HTML);
    }
    if (request.method === 'GET' && url.pathname === '/phone/state') {
      const consumer = url.searchParams.get('from') ?? '';
      return reply(response, 200, { numbers: [...numbers.keys()], optedOut: [...numbers.keys()].filter((n) => optedOut.has(optOutKey(consumer, n))), messages: conversation(consumer) });
    }
    if (request.method === 'POST' && url.pathname === '/phone/send') {
      let input: { from?: unknown; to?: unknown; body?: unknown };
      try {
        input = JSON.parse(raw);
      } catch {
        return reply(response, 400, { error: 'JSON expected' });
      }
      const { from, to, body } = input;
      if (typeof from !== 'string' || !E164.test(from)) return reply(response, 400, { error: 'From must be a phone number in E.164 form, e.g. +15551234567' });
      if (typeof to !== 'string' || !numbers.get(to)) return reply(response, 400, { error: `${String(to)} is not a brand number with a webhook` });
      if (typeof body !== 'string' || body.trim() === '') return reply(response, 400, { error: 'Type a message' });
      const delivery = await sendSms({ from, to, body });
      return reply(response, 200, { messageSid: delivery.messageSid, webhookStatus: delivery.status });
    }
    reply(response, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
  }

  function conversation(consumer: string): PhoneMessage[] {
    return log.filter((m) => m.consumer === consumer).map((m) => ({ ...m, mediaUrls: [...m.mediaUrls] }));
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, { code: 20500, message: `Simulator error: ${String(error)}`, status: 500 });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    sent,
    statusCallbacks,
    nextSent(timeoutMs = 5000) {
      const ready = sent[nextUnread];
      if (ready) {
        nextUnread += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`The Twilio simulator received no message within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (message: SimulatedMessage) => {
          clearTimeout(timer);
          resolve(message);
        };
        waiters.push(waiter);
      });
    },
    failNextSends(count, failure = {}) {
      for (let i = 0; i < count; i++) sendFailures.push({ status: failure.status ?? 500, code: failure.code ?? 20500, message: failure.message ?? 'Internal Server Error' });
    },
    failNextDeliveries(count, errorCode = 30003) {
      for (let i = 0; i < count; i++) deliveryFailures.push(errorCode);
    },
    setSmsUrl(phoneNumber, url) {
      numbers.set(phoneNumber, url);
    },
    sendSms,
    sendStatusCallback: (callback) => track(postStatusCallback(callback)),
    setOptedOut(consumer, twilioNumber, value) {
      if (value) optedOut.add(optOutKey(consumer, twilioNumber));
      else optedOut.delete(optOutKey(consumer, twilioNumber));
    },
    isOptedOut: (consumer, twilioNumber) => optedOut.has(optOutKey(consumer, twilioNumber)),
    conversation,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Twilio's error JSON: `{code, message, more_info, status}`. */
function twilioError(status: number, code: number, message: string): { status: number; body: Record<string, unknown> } {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function readBody(request: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function formRecord(params: URLSearchParams): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  for (const [name, value] of params) record[name] = [...(record[name] ?? []), value];
  return record;
}

/** A Twilio-shaped sid: two letters and 32 hex digits. */
function sid(prefix: 'SM' | 'MM'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** 'Thu, 01 Jan 2026 12:00:00 +0000', as Twilio's JSON spells dates. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

/** The carrier's delivery-receipt date Twilio forwards: YYMMDDhhmm, UTC. */
function rawDlrDate(date: Date): string {
  return date.toISOString().slice(2, 16).replace(/[-T:]/g, '');
}

function countryOf(number: string): string {
  return number.startsWith('+1') ? 'US' : number.startsWith('+44') ? 'GB' : '';
}

const GSM_7 = /^[A-Za-z0-9 \r\n@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~\]|€]*$/;

/** How many SMS segments a body takes: 160 GSM-7 characters alone or 153 each when split; 70 / 67 otherwise (UCS-2). */
function segments(body: string): number {
  const [single, part] = GSM_7.test(body) ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / part);
}

function contentTypeOf(url: string): string {
  const extension = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  const types: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', mp4: 'video/mp4', pdf: 'application/pdf', vcf: 'text/vcard' };
  return (extension && types[extension]) || 'application/octet-stream';
}
