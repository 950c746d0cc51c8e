import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metaSignature } from '../meta/signature.ts';
import type { GraphError, SendApiRequest } from './send-api.ts';
import { messengerSimulatorPage } from './simulator-page.ts';

/**
 * A local stand-in for Meta's Messenger Platform, for tests and `npm run demo:channels`: a real HTTP server on
 * 127.0.0.1 that answers the Send API like Graph does (token check, Meta's error JSON, `m_…` message ids, the 24-hour
 * window when it knows the person's last message) and sends Messenger webhooks (signed with `X-Hub-Signature-256`)
 * to Parley. At `/` a small Messenger-like page lets a person write to the Page and see its replies.
 */
export interface MessengerSimulatorOptions {
  pageId: string;
  appSecret: string;
  pageAccessToken: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Where webhooks go when a call names none (the demo page always uses it); `setWebhookUrl` changes it. */
  webhookUrl?: string;
  /** The simulator's clock in ms (message timestamps, watermarks, the window); default `Date.now`. */
  now?: () => number;
  /** When the demo page shows the Page's messages, send their delivery and read receipts (default true). */
  autoReceipts?: boolean;
}

/** A message the Page sent through the Send API, as the simulator accepted it. */
export interface SimulatedSentMessage {
  mid: string;
  psid: string;
  messagingType: SendApiRequest['messaging_type'];
  tag?: string;
  message: SendApiRequest['message'];
  /** When the simulator accepted it (ms): watermarks compare with it. */
  at: number;
  /** How the token came: Meta accepts both. */
  tokenIn: 'header' | 'query';
}

/** What `failNext` makes the Send API answer. Default: HTTP 500 with Meta's code 2 (a temporary failure). */
export interface SimulatedFailure {
  status?: number;
  code?: number;
  subcode?: number;
  message?: string;
  type?: string;
}

export type SignatureMode = 'valid' | 'missing' | 'invalid';

export interface WebhookCallOptions {
  /** The person's page-scoped id. */
  psid: string;
  /** Default: the simulator's webhook URL. */
  webhookUrl?: string;
  /** 'missing': no `X-Hub-Signature-256`; 'invalid': signed with another secret. Default 'valid'. */
  signature?: SignatureMode;
  /** The event's `timestamp` (ms); default now. */
  timestamp?: number;
}

export interface InboundAttachment {
  type: 'image' | 'video' | 'audio' | 'file';
  url: string;
}

/** Parley's answer to a webhook the simulator sent. */
export interface WebhookAnswer {
  status: number;
  body: string;
  /** The exact JSON that was posted. */
  rawBody: string;
}

export interface MessengerSimulator {
  /** The Graph base URL to give the channel as `apiBaseUrl`. */
  readonly url: string;
  readonly pageId: string;
  /** Every message the Page sent, oldest first. */
  readonly sent: readonly SimulatedSentMessage[];
  sentTo(psid: string): SimulatedSentMessage[];
  setWebhookUrl(url: string): void;
  /** The next `count` Send API calls fail with `failure` (checked before anything else). */
  failNext(count: number, failure?: SimulatedFailure): void;
  /**
   * The person's last message, for the standard messaging window (null: unknown, no window is enforced). Inbound
   * messages sent by the simulator set it too.
   */
  setLastUserMessageAt(psid: string, at: Date | null): void;
  /** A person writes to the Page: text, a tapped quick reply (with its title as text), and/or files. */
  sendMessage(options: WebhookCallOptions & { text?: string; quickReplyPayload?: string; attachments?: InboundAttachment[]; mid?: string }): Promise<WebhookAnswer & { mid: string }>;
  /** A person taps a postback button. */
  sendPostback(options: WebhookCallOptions & { title: string; payload: string }): Promise<WebhookAnswer & { mid: string }>;
  /** Posts the very same webhook again (Meta redelivers when it got no 200). */
  redeliver(mid: string, options?: { webhookUrl?: string; signature?: SignatureMode }): Promise<WebhookAnswer>;
  /** Delivery receipt: `mids` default to every Page message to the person not yet reported delivered; watermark: now. */
  sendDelivery(options: WebhookCallOptions & { mids?: string[] | null; watermark?: number }): Promise<WebhookAnswer>;
  /** Read receipt: everything the Page sent up to `watermark` (default now) was read. */
  sendRead(options: WebhookCallOptions & { watermark?: number }): Promise<WebhookAnswer>;
  /** The echo Meta sends of a message the Page sent (Parley must ignore it). */
  sendEcho(options: WebhookCallOptions & { text: string; mid?: string }): Promise<WebhookAnswer>;
  /** Posts any webhook body, signed per `signature`. */
  postWebhook(body: unknown, options?: { webhookUrl?: string; signature?: SignatureMode }): Promise<WebhookAnswer>;
  /** Meta's subscription check: GET with `hub.mode=subscribe`, the verify token and a challenge; true when echoed. */
  verify(webhookUrl: string, verifyToken: string): Promise<boolean>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const STANDARD_WINDOW_MS = 24 * HOUR;
const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR;
const ATTACHMENT_TYPES = new Set(['image', 'audio', 'video', 'file', 'template']);
const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);

/** One line of a person's conversation with the Page, for the demo page. */
interface LogLine {
  direction: 'in' | 'out';
  mid: string;
  text: string | null;
  quickReplies: { title: string; payload: string }[];
  attachment: { type: string; url: string } | null;
  at: number;
  delivered: boolean;
  read: boolean;
}

class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: GraphError,
  ) {
    super(error.message);
  }
}

export async function startMessengerSimulator(options: MessengerSimulatorOptions): Promise<MessengerSimulator> {
  const now = options.now ?? Date.now;
  const autoReceipts = options.autoReceipts ?? true;
  let webhookUrl = options.webhookUrl ?? null;
  const sent: SimulatedSentMessage[] = [];
  const lastUserMessageAt = new Map<string, number>();
  const logs = new Map<string, LogLine[]>();
  const inboundBodies = new Map<string, string>();
  const failures: SimulatedFailure[] = [];

  const logOf = (psid: string): LogLine[] => {
    let log = logs.get(psid);
    if (!log) {
      log = [];
      logs.set(psid, log);
    }
    return log;
  };

  const webhookTarget = (url: string | undefined): string => {
    const target = url ?? webhookUrl;
    if (!target) throw new Error('The Messenger simulator has no webhook URL: pass webhookUrl, or call setWebhookUrl.');
    return target;
  };

  const postRaw = async (rawBody: string, url: string | undefined, signature: SignatureMode = 'valid'): Promise<WebhookAnswer> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
    if (signature !== 'missing') {
      const secret = signature === 'valid' ? options.appSecret : `not-${options.appSecret}`;
      headers['x-hub-signature-256'] = metaSignature(rawBody, secret);
      headers['x-hub-signature'] = `sha1=${createHmac('sha1', secret).update(rawBody, 'utf8').digest('hex')}`;
    }
    const response = await fetch(webhookTarget(url), { method: 'POST', headers, body: rawBody, signal: AbortSignal.timeout(20_000) });
    return { status: response.status, body: await response.text(), rawBody };
  };

  const postEvent = (event: Record<string, unknown>, call: WebhookCallOptions) => postRaw(JSON.stringify(messengerWebhookPayload(options.pageId, [event], now())), call.webhookUrl, call.signature);

  const fromPerson = (call: WebhookCallOptions) => ({ sender: { id: call.psid }, recipient: { id: options.pageId }, timestamp: call.timestamp ?? now() });

  const simulator: MessengerSimulator = {
    url: '',
    pageId: options.pageId,
    sent,
    sentTo: (psid) => sent.filter((message) => message.psid === psid),
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    failNext(count, failure = {}) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    setLastUserMessageAt(psid, at) {
      if (at) lastUserMessageAt.set(psid, at.getTime());
      else lastUserMessageAt.delete(psid);
    },

    async sendMessage(call) {
      const mid = call.mid ?? newMid();
      const event = fromPerson(call);
      const message: Record<string, unknown> = { mid };
      if (call.text !== undefined) message['text'] = call.text;
      if (call.quickReplyPayload !== undefined) message['quick_reply'] = { payload: call.quickReplyPayload };
      if (call.attachments?.length) message['attachments'] = call.attachments.map(({ type, url }) => ({ type, payload: { url } }));
      const rawBody = JSON.stringify(messengerWebhookPayload(options.pageId, [{ ...event, message }], now()));
      inboundBodies.set(mid, rawBody);
      lastUserMessageAt.set(call.psid, Math.max(lastUserMessageAt.get(call.psid) ?? 0, event.timestamp));
      logOf(call.psid).push({
        direction: 'in',
        mid,
        text: call.text ?? null,
        quickReplies: [],
        attachment: call.attachments?.[0] ?? null,
        at: event.timestamp,
        delivered: true,
        read: true,
      });
      return { ...(await postRaw(rawBody, call.webhookUrl, call.signature)), mid };
    },

    async sendPostback(call) {
      const mid = newMid();
      const event = fromPerson(call);
      const rawBody = JSON.stringify(messengerWebhookPayload(options.pageId, [{ ...event, postback: { mid, title: call.title, payload: call.payload } }], now()));
      inboundBodies.set(mid, rawBody);
      lastUserMessageAt.set(call.psid, Math.max(lastUserMessageAt.get(call.psid) ?? 0, event.timestamp));
      logOf(call.psid).push({ direction: 'in', mid, text: call.title, quickReplies: [], attachment: null, at: event.timestamp, delivered: true, read: true });
      return { ...(await postRaw(rawBody, call.webhookUrl, call.signature)), mid };
    },

    redeliver(mid, call = {}) {
      const rawBody = inboundBodies.get(mid);
      if (!rawBody) throw new Error(`The Messenger simulator sent no message ${mid}.`);
      return postRaw(rawBody, call.webhookUrl, call.signature);
    },

    sendDelivery(call) {
      const watermark = call.watermark ?? now();
      const log = logOf(call.psid);
      const mids = call.mids === undefined ? log.filter((line) => line.direction === 'out' && !line.delivered && line.at <= watermark).map((line) => line.mid) : call.mids;
      for (const line of log) if (line.direction === 'out' && (mids ? mids.includes(line.mid) : line.at <= watermark)) line.delivered = true;
      const delivery: Record<string, unknown> = { watermark };
      if (mids) delivery['mids'] = mids;
      return postEvent({ ...fromPerson(call), delivery }, call);
    },

    sendRead(call) {
      const watermark = call.watermark ?? now();
      for (const line of logOf(call.psid))
        if (line.direction === 'out' && line.at <= watermark) {
          line.delivered = true;
          line.read = true;
        }
      return postEvent({ ...fromPerson(call), read: { watermark } }, call);
    },

    sendEcho(call) {
      const event = { sender: { id: options.pageId }, recipient: { id: call.psid }, timestamp: call.timestamp ?? now() };
      return postEvent({ ...event, message: { is_echo: true, app_id: 1517776481860111, mid: call.mid ?? newMid(), text: call.text } }, call);
    },

    postWebhook(body, call = {}) {
      return postRaw(typeof body === 'string' ? body : JSON.stringify(body), call.webhookUrl, call.signature);
    },

    async verify(url, verifyToken) {
      const challenge = String(randomInt(1_000_000_000, 2_000_000_000));
      const target = new URL(url);
      target.searchParams.set('hub.mode', 'subscribe');
      target.searchParams.set('hub.verify_token', verifyToken);
      target.searchParams.set('hub.challenge', challenge);
      const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      return response.status === 200 && (await response.text()) === challenge;
    },

    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };

  /** The Send API, validated like Graph validates it. */
  const sendApi = (request: IncomingMessage, url: URL, rawBody: string): SimulatedSentMessage => {
    const failure = failures.shift();
    if (failure) {
      throw new GraphFailure(failure.status ?? 500, {
        message: failure.message ?? 'An unexpected error has occurred. Please retry your request later.',
        type: failure.type ?? 'OAuthException',
        code: failure.code ?? 2,
        ...(failure.subcode !== undefined ? { error_subcode: failure.subcode } : {}),
      });
    }
    const header = request.headers.authorization;
    const headerToken = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : null;
    const token = headerToken ?? url.searchParams.get('access_token');
    if (!token) throw new GraphFailure(400, { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 104 });
    if (token !== options.pageAccessToken) throw new GraphFailure(400, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 });

    const node = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(url.pathname)?.[1];
    if (node !== 'me' && node !== options.pageId) {
      throw new GraphFailure(400, {
        message: `Unsupported post request. Object with ID '${node ?? url.pathname}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
      });
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      throw invalid('(#100) The parameter recipient is required');
    }
    const recipient = body['recipient'] as { id?: unknown } | undefined;
    if (typeof recipient?.id !== 'string' || recipient.id === '') throw invalid('(#100) The parameter recipient is required');
    const messagingType = body['messaging_type'];
    if (typeof messagingType !== 'string' || !MESSAGING_TYPES.has(messagingType)) throw invalid('(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}');
    const tag = typeof body['tag'] === 'string' ? body['tag'] : undefined;
    if (messagingType === 'MESSAGE_TAG' && !tag) throw invalid('(#100) The parameter tag is required when messaging_type is MESSAGE_TAG');
    const message = validateMessage(body['message']);

    const last = lastUserMessageAt.get(recipient.id);
    const window = messagingType === 'MESSAGE_TAG' ? (tag === 'HUMAN_AGENT' ? HUMAN_AGENT_WINDOW_MS : null) : STANDARD_WINDOW_MS;
    if (last !== undefined && window !== null && now() - last > window) {
      throw new GraphFailure(400, {
        message: '(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview',
        type: 'OAuthException',
        code: 10,
        error_subcode: 2018278,
      });
    }
    const accepted: SimulatedSentMessage = {
      mid: newMid(),
      psid: recipient.id,
      messagingType: messagingType as SimulatedSentMessage['messagingType'],
      message,
      at: now(),
      tokenIn: headerToken ? 'header' : 'query',
    };
    if (tag) accepted.tag = tag;
    return accepted;
  };

  const deliverReceipts = (psid: string) => {
    const log = logOf(psid);
    const unread = log.filter((line) => line.direction === 'out' && !line.read);
    if (!autoReceipts || !webhookUrl || unread.length === 0) return;
    const undelivered = unread.filter((line) => !line.delivered).map((line) => line.mid);
    const watermark = Math.max(...unread.map((line) => line.at));
    void (async () => {
      if (undelivered.length > 0) await simulator.sendDelivery({ psid, mids: undelivered, watermark });
      await simulator.sendRead({ psid, watermark });
    })().catch(() => {
      // Parley may be down in the demo: the receipts are simply lost, as Meta would retry later.
    });
  };

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (error instanceof GraphFailure) {
        if (error.error.code === 190) response.setHeader('www-authenticate', `OAuth "Facebook Platform" "invalid_token" "${error.error.message}"`);
        return sendJson(response, error.status, { error: { ...error.error, fbtrace_id: randomBytes(8).toString('base64url') } });
      }
      sendJson(response, 500, { error: { message: error instanceof Error ? error.message : String(error) } });
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const rawBody = await readBody(request);
    if (request.method === 'POST' && url.pathname.endsWith('/messages') && url.pathname.startsWith('/v')) {
      const accepted = sendApi(request, url, rawBody);
      sent.push(accepted);
      logOf(accepted.psid).push({
        direction: 'out',
        mid: accepted.mid,
        text: accepted.message.text ?? null,
        quickReplies: accepted.message.quick_replies?.map(({ title, payload }) => ({ title, payload })) ?? [],
        attachment: accepted.message.attachment ? { type: accepted.message.attachment.type, url: accepted.message.attachment.payload.url } : null,
        at: accepted.at,
        delivered: false,
        read: false,
      });
      return sendJson(response, 200, { recipient_id: accepted.psid, message_id: accepted.mid });
    }
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(messengerSimulatorPage(options.pageId));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'GET' && url.pathname === '/simulator/conversation') {
      const psid = url.searchParams.get('psid') ?? '';
      const lines = logs.get(psid) ?? [];
      if (url.searchParams.get('seen') === '1') deliverReceipts(psid);
      return sendJson(response, 200, { pageId: options.pageId, psid, webhookUrl, messages: lines });
    }
    if (request.method === 'POST' && url.pathname === '/simulator/send') {
      const input = JSON.parse(rawBody || '{}') as { psid?: string; text?: string; quickReplyPayload?: string };
      if (!input.psid || !(input.text || input.quickReplyPayload)) return sendJson(response, 400, { error: 'psid and text are required' });
      if (!webhookUrl) return sendJson(response, 409, { error: 'No webhook URL is set: start Parley’s channel first.' });
      const call: Parameters<MessengerSimulator['sendMessage']>[0] = { psid: input.psid };
      if (input.text) call.text = input.text;
      if (input.quickReplyPayload) call.quickReplyPayload = input.quickReplyPayload;
      try {
        const answer = await simulator.sendMessage(call);
        return sendJson(response, 200, { mid: answer.mid, webhookStatus: answer.status });
      } catch (error) {
        return sendJson(response, 502, { error: `Parley could not be reached: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    sendJson(response, 404, { error: { message: `Unknown path: ${request.method} ${url.pathname}`, type: 'GraphMethodException', code: 100 } });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(simulator, { url: `http://127.0.0.1:${port}` });
}

/** Meta's webhook envelope for one Page: one entry per event, as Meta sends them. */
export function messengerWebhookPayload(pageId: string, events: unknown[], time = Date.now()): { object: 'page'; entry: { id: string; time: number; messaging: unknown[] }[] } {
  return { object: 'page', entry: events.map((event) => ({ id: pageId, time, messaging: [event] })) };
}

/** A message id in the shape Meta's have now (`m_` and about 80 URL-safe characters). */
export function newMid(): string {
  return `m_${randomBytes(60).toString('base64url')}`;
}

function invalid(message: string): GraphFailure {
  return new GraphFailure(400, { message, type: 'OAuthException', code: 100 });
}

function validateMessage(value: unknown): SendApiRequest['message'] {
  if (typeof value !== 'object' || value === null) throw invalid('(#100) Must send either message or sender action');
  const message = value as Record<string, unknown>;
  const { text, attachment, quick_replies: quickReplies } = message;
  if (text !== undefined && attachment !== undefined) throw invalid('(#100) Only one of text or attachment can be specified');
  if (text === undefined && attachment === undefined) throw invalid('(#100) Must send either text or attachment');
  if (text !== undefined) {
    if (typeof text !== 'string' || text.trim() === '') throw invalid('(#100) param message[text] must be a non-empty UTF-8 encoded string');
    if (text.length > 2000) throw invalid('(#100) Length of param message[text] must be less than or equal to 2000');
  }
  if (attachment !== undefined) {
    const { type, payload } = (attachment ?? {}) as { type?: unknown; payload?: { url?: unknown; attachment_id?: unknown } };
    if (typeof type !== 'string' || !ATTACHMENT_TYPES.has(type)) throw invalid('(#100) param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}');
    if (type !== 'template' && typeof payload?.url !== 'string' && typeof payload?.attachment_id !== 'string') {
      throw invalid('(#100) Incorrect attachment: a url or an attachment_id is required');
    }
  }
  if (quickReplies !== undefined) {
    if (!Array.isArray(quickReplies) || quickReplies.length === 0) throw invalid('(#100) param message[quick_replies] must be a non-empty array');
    if (quickReplies.length > 13) throw invalid('(#100) param message[quick_replies] must have at most 13 elements');
    quickReplies.forEach((quickReply: unknown, index) => {
      const { content_type: contentType, title, payload } = (quickReply ?? {}) as Record<string, unknown>;
      if (contentType !== 'text' && contentType !== 'user_phone_number' && contentType !== 'user_email') {
        throw invalid(`(#100) param message[quick_replies][${index}][content_type] must be one of {text, user_phone_number, user_email}`);
      }
      if (contentType !== 'text') return;
      if (typeof title !== 'string' || title === '') throw invalid(`(#100) param message[quick_replies][${index}][title] must be a non-empty UTF-8 encoded string`);
      if (typeof payload !== 'string' && typeof payload !== 'number') throw invalid(`(#100) param message[quick_replies][${index}][payload] is required`);
      if (String(payload).length > 1000) throw invalid(`(#100) Length of param message[quick_replies][${index}][payload] must be less than or equal to 1000`);
      // Meta shows at most 20 characters of a title and cuts the rest itself; the simulator keeps what it was sent.
    });
  }
  return message as SendApiRequest['message'];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1_048_576) {
        reject(new GraphFailure(413, { message: 'Request body too large', type: 'OAuthException', code: 100 }));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
