import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metaSignature } from '../meta/signature.ts';
import { ERROR_CODES, type GraphErrorBody, LIMITS, type MediaInfo, type SendRequest, type SendResponse, type WebhookMessage, type WebhookPayload, type WebhookStatus } from './cloud-api.ts';
import { simulatorPage } from './simulator-page.ts';

/**
 * A local WhatsApp Cloud API for tests and the demo: a real HTTP server on 127.0.0.1 that accepts the connector's
 * calls as Meta does (Bearer token, shapes and limits, the 24-hour customer-service window, templates), POSTs signed
 * webhooks (the simulated people's messages, and `sent` / `delivered` / `read` statuses of what the business sent),
 * serves inbound media, and shows a WhatsApp-like page at `/` where a person can write to the business.
 */
export interface WhatsAppSimulatorOptions {
  phoneNumberId: string;
  /** E.164, as in the channel's settings; the webhook's `display_phone_number` drops the `+`. */
  displayPhoneNumber: string;
  appSecret: string;
  accessToken: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Approved templates; default: Meta's sample `hello_world` (en_US, no parameters). */
  templates?: SimulatedTemplate[];
  /** Where webhooks go unless a call names another (Parley's inbound webhook URL). */
  webhookUrl?: string;
  /** The WhatsApp Business Account id put in `entry[].id`. */
  wabaId?: string;
  /**
   * How a non-template message outside the window is refused: `response` (default) answers 400 with error 131047;
   * `status` accepts it (200 and a wamid) and then POSTs a `failed` status with error 131047, as the real Cloud API
   * mostly does.
   */
  windowErrors?: 'response' | 'status';
  /** POST `sent` and `delivered` statuses after each accepted send (default true). */
  autoStatuses?: boolean;
  /** Delay before those statuses (default 0; the demo uses a little, to be seen). */
  statusDelayMs?: number;
}

export interface SimulatedTemplate {
  name: string;
  /** A language code, e.g. `en_US`. */
  language: string;
  /** The body's text with `{{1}}`, `{{2}}`… placeholders; their count is the number of parameters required. */
  body: string;
  /** Quick-reply buttons of the template (their payload comes back in `button` messages). */
  buttons?: string[];
}

export interface InboundOptions {
  waId: string;
  /** The person's profile name (default: "Customer <last digits>"). */
  name?: string;
  webhookUrl?: string;
  /** `valid` (default), `none` (no header), `bad` (signed with another secret). */
  signature?: 'valid' | 'none' | 'bad';
  /** A wamid to use (default: a new one). */
  wamid?: string;
}

export interface WebhookDelivery {
  /** The message's wamid (inbound messages) or the status's message id. */
  wamid: string;
  status: number;
  responseBody: string;
  rawBody: string;
  headers: Record<string, string>;
  url: string;
}

export interface SentMessage {
  id: string;
  to: string;
  request: SendRequest;
  at: Date;
  status: 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';
}

export interface TranscriptEntry {
  id: string;
  direction: 'inbound' | 'outbound' | 'refused';
  at: string;
  /** Inbound: the webhook message; outbound: the send request; refused: the error. */
  message: WebhookMessage | SendRequest | GraphErrorBody['error'];
  status?: SentMessage['status'];
}

export interface SimulatedFailure {
  /** HTTP status to answer (e.g. 500, 429, 400). */
  httpStatus: number;
  /** Meta's error code (e.g. 131000, 130429, 131026); default 131000 for 5xx, 130429 for 429, 100 otherwise. */
  code?: number;
  message?: string;
}

export interface WhatsAppSimulator {
  /** The Graph API base URL to put in the channel's `apiBaseUrl`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly options: Readonly<WhatsAppSimulatorOptions>;
  /** Every send the simulator accepted, oldest first. */
  readonly sent: readonly SentMessage[];
  /** Every webhook POSTed (messages and statuses), oldest first. */
  readonly deliveries: readonly WebhookDelivery[];
  setWebhookUrl(url: string): void;

  sendText(o: InboundOptions & { text: string; contextId?: string }): Promise<WebhookDelivery>;
  sendButtonReply(o: InboundOptions & { id: string; title: string; contextId?: string }): Promise<WebhookDelivery>;
  sendListReply(o: InboundOptions & { id: string; title: string; description?: string; contextId?: string }): Promise<WebhookDelivery>;
  /** A tap on a template's quick-reply button (`type: "button"`). */
  sendTemplateButtonReply(o: InboundOptions & { payload: string; text: string; contextId?: string }): Promise<WebhookDelivery>;
  sendImage(o: InboundOptions & { caption?: string; mimeType?: string; bytes?: Uint8Array }): Promise<WebhookDelivery>;
  sendMedia(o: InboundOptions & { type: 'image' | 'document' | 'audio' | 'video'; mimeType: string; bytes?: Uint8Array; caption?: string; filename?: string }): Promise<WebhookDelivery>;
  /** Any webhook payload, signed (or not) like the others. */
  postWebhook(payload: unknown, o?: Omit<InboundOptions, 'waId' | 'name' | 'wamid'>): Promise<WebhookDelivery>;
  /** POSTs the same bytes again (Meta redelivers when it got no 200). */
  redeliver(delivery: WebhookDelivery): Promise<WebhookDelivery>;
  /** The person reads the business's messages: POSTs `read` for each delivered one not yet read. */
  markRead(waId: string): Promise<WebhookDelivery[]>;
  /** Meta's GET verification request to a webhook URL. */
  verify(webhookUrl: string, verifyToken: string): Promise<{ ok: boolean; status: number; body: string; challenge: string }>;

  /** The next `count` sends fail with this answer (e.g. `{ httpStatus: 500 }`, `{ httpStatus: 429, code: 130429 }`). */
  failNext(count: number, failure: SimulatedFailure): void;
  /** Opens a person's 24-hour window as if they had just written (no webhook). */
  openWindow(waId: string): void;
  /** The simulator's clock (it drives the window and the timestamps): now, and moving it forward. */
  now(): Date;
  advanceClock(ms: number): void;
  /** One person's conversation with the business. */
  transcript(waId: string): TranscriptEntry[];
  /** Waits until the queued status webhooks are posted. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const WINDOW_MS = 24 * 60 * 60 * 1000;
const DEFAULT_TEMPLATES: SimulatedTemplate[] = [
  { name: 'hello_world', language: 'en_US', body: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta.' },
];

export async function startWhatsAppSimulator(options: WhatsAppSimulatorOptions): Promise<WhatsAppSimulator> {
  const templates = options.templates ?? DEFAULT_TEMPLATES;
  const wabaId = options.wabaId ?? '102290129340398';
  const autoStatuses = options.autoStatuses ?? true;
  let webhookUrl = options.webhookUrl;
  let clockOffsetMs = 0;
  const now = () => new Date(Date.now() + clockOffsetMs);
  const lastInboundAt = new Map<string, number>();
  const names = new Map<string, string>();
  const transcripts = new Map<string, TranscriptEntry[]>();
  const sent: SentMessage[] = [];
  const deliveries: WebhookDelivery[] = [];
  const failures: SimulatedFailure[] = [];
  const media = new Map<string, { bytes: Uint8Array; mimeType: string }>();
  let statusQueue: Promise<unknown> = Promise.resolve();
  let baseUrl = '';

  const transcriptOf = (waId: string) => {
    const list = transcripts.get(waId) ?? [];
    transcripts.set(waId, list);
    return list;
  };
  const unixNow = () => String(Math.floor(now().getTime() / 1000));
  const metadata = () => ({ display_phone_number: options.displayPhoneNumber.replace(/^\+/, ''), phone_number_id: options.phoneNumberId });
  const envelope = (value: Record<string, unknown>): WebhookPayload => ({
    object: 'whatsapp_business_account',
    entry: [{ id: wabaId, changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: metadata(), ...value } }] }],
  });

  async function post(url: string, rawBody: string, signature: InboundOptions['signature'], wamid: string): Promise<WebhookDelivery> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
    if (signature !== 'none') headers['x-hub-signature-256'] = metaSignature(rawBody, signature === 'bad' ? `${options.appSecret}-not` : options.appSecret);
    let status = 0;
    let responseBody = '';
    try {
      const response = await fetch(url, { method: 'POST', headers, body: rawBody, signal: AbortSignal.timeout(10_000) });
      status = response.status;
      responseBody = await response.text();
    } catch (error) {
      responseBody = error instanceof Error ? error.message : String(error);
    }
    const delivery = { wamid, status, responseBody, rawBody, headers, url };
    deliveries.push(delivery);
    return delivery;
  }

  function targetUrl(o: { webhookUrl?: string | undefined }): string {
    const url = o.webhookUrl ?? webhookUrl;
    if (!url) throw new Error('No webhook URL: pass webhookUrl to the call or to startWhatsAppSimulator.');
    return url;
  }

  async function inbound(o: InboundOptions, message: Omit<WebhookMessage, 'from' | 'id' | 'timestamp'>): Promise<WebhookDelivery> {
    const url = targetUrl(o);
    const name = o.name ?? names.get(o.waId) ?? `Customer ${o.waId.slice(-4)}`;
    names.set(o.waId, name);
    const full: WebhookMessage = { from: o.waId, id: o.wamid ?? newWamid(o.waId), timestamp: unixNow(), ...message };
    // Replies to a business message carry its number and wamid as context.
    if (full.context) full.context = { from: metadata().display_phone_number, ...full.context };
    lastInboundAt.set(o.waId, now().getTime());
    transcriptOf(o.waId).push({ id: full.id, direction: 'inbound', at: now().toISOString(), message: full });
    const payload = envelope({ contacts: [{ profile: { name }, wa_id: o.waId }], messages: [full] });
    return post(url, JSON.stringify(payload), o.signature, full.id);
  }

  function queueStatus(message: SentMessage, status: 'sent' | 'delivered' | 'read' | 'failed', errors?: WebhookStatus['errors']): Promise<WebhookDelivery | null> {
    const task = statusQueue.then(async () => {
      if (options.statusDelayMs) await new Promise((r) => setTimeout(r, options.statusDelayMs));
      message.status = status;
      const entry = transcriptOf(message.to).find((e) => e.id === message.id);
      if (entry) entry.status = status;
      if (!webhookUrl) return null;
      const s: WebhookStatus = { id: message.id, status, timestamp: unixNow(), recipient_id: message.to };
      if (status !== 'failed' && status !== 'read') {
        s.conversation = { id: randomBytes(16).toString('hex'), origin: { type: message.request.type === 'template' ? 'utility' : 'service' } };
        s.pricing = { billable: message.request.type === 'template', pricing_model: 'PMP', category: message.request.type === 'template' ? 'utility' : 'service' };
      }
      if (errors) s.errors = errors;
      return post(webhookUrl, JSON.stringify(envelope({ statuses: [s] })), 'valid', message.id);
    });
    statusQueue = task.catch(() => undefined);
    return task;
  }

  // ---- the Graph API ----

  function graphError(res: ServerResponse, httpStatus: number, code: number, message: string, details?: string, extra: Partial<GraphErrorBody['error']> = {}): void {
    const error: GraphErrorBody['error'] = { message, type: 'OAuthException', code, fbtrace_id: randomBytes(9).toString('base64url'), ...extra };
    if (details) error.error_data = { messaging_product: 'whatsapp', details };
    json(res, httpStatus, { error });
  }

  function authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) {
      graphError(res, 401, ERROR_CODES.accessToken, 'An active access token must be used to query information about the current user.', undefined, { type: 'OAuthException' });
      return false;
    }
    if (header.slice('Bearer '.length) !== options.accessToken) {
      graphError(res, 401, ERROR_CODES.accessToken, 'Error validating access token: Session has expired or the token is invalid.', undefined, { error_subcode: 463 });
      return false;
    }
    return true;
  }

  function handleSend(body: string, res: ServerResponse) {
    const failure = failures.shift();
    if (failure) {
      const code = failure.code ?? (failure.httpStatus >= 500 ? ERROR_CODES.generic : failure.httpStatus === 429 ? ERROR_CODES.rateLimit : ERROR_CODES.invalidParameter);
      return graphError(res, failure.httpStatus, code, failure.message ?? `(#${code}) Simulated failure`, 'A failure asked for with failNext().');
    }
    let request: SendRequest;
    try {
      request = JSON.parse(body) as SendRequest;
    } catch {
      return graphError(res, 400, ERROR_CODES.invalidParameter, '(#100) Invalid parameter', 'The request body is not valid JSON.');
    }
    const invalid = validateSend(request);
    if (invalid) return graphError(res, 400, ERROR_CODES.invalidParameter, invalid.message, invalid.details);
    const to = request.to.replace(/^\+/, '');
    if (request.type === 'template') {
      const known = templates.filter((t) => t.name === request.template.name);
      const template = known.find((t) => t.language === request.template.language.code);
      if (!template) {
        const details = known.length ? `template name (${request.template.name}) does not exist in ${request.template.language.code}` : `template name (${request.template.name}) does not exist`;
        return graphError(res, 400, ERROR_CODES.templateMissing, '(#132001) Template name does not exist in the translation', details);
      }
      const expected = placeholderCount(template.body);
      const given = request.template.components?.find((c) => c.type === 'body')?.parameters.length ?? 0;
      if (expected !== given) {
        return graphError(
          res,
          400,
          ERROR_CODES.templateParams,
          '(#132000) Number of parameters does not match the expected number of params',
          `body: number of localizable_params (${given}) does not match the expected number of params (${expected})`,
        );
      }
    }
    const last = lastInboundAt.get(to);
    const outsideWindow = request.type !== 'template' && (last === undefined || now().getTime() - last > WINDOW_MS);
    const windowDetails = 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';
    if (outsideWindow && (options.windowErrors ?? 'response') === 'response') {
      transcriptOf(to).push({
        id: `refused-${randomBytes(6).toString('hex')}`,
        direction: 'refused',
        at: now().toISOString(),
        message: { message: '(#131047) Re-engagement message', type: 'OAuthException', code: ERROR_CODES.reEngagement, fbtrace_id: '' },
      });
      return graphError(res, 400, ERROR_CODES.reEngagement, '(#131047) Re-engagement message', windowDetails);
    }
    const message: SentMessage = { id: newWamid(to), to, request, at: now(), status: 'accepted' };
    sent.push(message);
    transcriptOf(to).push({ id: message.id, direction: 'outbound', at: message.at.toISOString(), message: request, status: 'accepted' });
    const answer: SendResponse = {
      messaging_product: 'whatsapp',
      contacts: [{ input: request.to, wa_id: to }],
      messages: [{ id: message.id, ...(request.type === 'template' ? { message_status: 'accepted' } : {}) }],
    };
    json(res, 200, answer);
    if (outsideWindow) {
      void queueStatus(message, 'failed', [{ code: ERROR_CODES.reEngagement, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: windowDetails } }]);
    } else if (autoStatuses) {
      void queueStatus(message, 'sent');
      void queueStatus(message, 'delivered');
    }
  }

  function handleMediaInfo(mediaId: string, res: ServerResponse) {
    const file = media.get(mediaId);
    if (!file)
      return graphError(
        res,
        400,
        ERROR_CODES.invalidParameter,
        `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        undefined,
        { error_subcode: 33 },
      );
    const info: MediaInfo = {
      messaging_product: 'whatsapp',
      url: `${baseUrl}/whatsapp_business/attachments/?mid=${encodeURIComponent(mediaId)}`,
      mime_type: file.mimeType,
      sha256: sha256(file.bytes),
      file_size: file.bytes.length,
      id: mediaId,
    };
    json(res, 200, info);
  }

  // ---- the demo page's JSON API ----

  function pageState(waId: string | null) {
    return {
      business: { displayPhoneNumber: options.displayPhoneNumber, phoneNumberId: options.phoneNumberId },
      webhookConfigured: Boolean(webhookUrl),
      now: now().toISOString(),
      templates,
      people: [...names.entries()].map(([id, name]) => ({ waId: id, name, windowOpenUntil: lastInboundAt.has(id) ? new Date((lastInboundAt.get(id) ?? 0) + WINDOW_MS).toISOString() : null })),
      transcript: waId ? transcriptOf(waId) : [],
    };
  }

  async function handlePageApi(path: string, body: string, res: ServerResponse): Promise<void> {
    const input = (body ? JSON.parse(body) : {}) as { waId?: string; name?: string; text?: string; kind?: string; id?: string; title?: string; hours?: number; payload?: string };
    const waId = String(input.waId ?? '').replace(/\D/g, '');
    if (path === '/sim/clock') {
      simulator.advanceClock((input.hours ?? 0) * 3_600_000);
      return json(res, 200, { now: now().toISOString() });
    }
    if (!waId) return json(res, 400, { error: 'Pick a phone number (digits).' });
    const base = { waId, ...(input.name ? { name: input.name } : {}) };
    let delivery: WebhookDelivery | WebhookDelivery[] | null = null;
    if (path === '/sim/send') delivery = await simulator.sendText({ ...base, text: String(input.text ?? '') });
    else if (path === '/sim/reply' && input.kind === 'button') delivery = await simulator.sendButtonReply({ ...base, id: String(input.id), title: String(input.title) });
    else if (path === '/sim/reply' && input.kind === 'list') delivery = await simulator.sendListReply({ ...base, id: String(input.id), title: String(input.title) });
    else if (path === '/sim/reply' && input.kind === 'template')
      delivery = await simulator.sendTemplateButtonReply({ ...base, payload: String(input.payload ?? input.title), text: String(input.title) });
    else if (path === '/sim/read') delivery = await simulator.markRead(waId);
    else return json(res, 404, { error: 'Not found' });
    const failed = (Array.isArray(delivery) ? delivery : [delivery]).find((d) => d && d.status !== 200);
    json(res, 200, { ok: !failed, ...(failed ? { error: `The webhook answered ${failed.status || 'nothing'}: ${failed.responseBody.slice(0, 200)}` } : {}) });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      route(req, res, body).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(simulatorPage);
      return;
    }
    if (req.method === 'GET' && path === '/sim/state') return json(res, 200, pageState(url.searchParams.get('waId')?.replace(/\D/g, '') || null));
    if (req.method === 'POST' && path.startsWith('/sim/')) return handlePageApi(path, body, res);
    if (req.method === 'GET' && path === '/whatsapp_business/attachments/') {
      if (!authorized(req, res)) return;
      const file = media.get(url.searchParams.get('mid') ?? '');
      if (!file) return json(res, 404, { error: 'Not found' });
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.bytes.length });
      res.end(file.bytes);
      return;
    }
    const graph = /^\/v\d+\.\d+\/([^/]+)(\/messages)?\/?$/.exec(path);
    if (graph) {
      if (!authorized(req, res)) return;
      const [, objectId = '', messages] = graph;
      if (req.method === 'POST' && messages) {
        if (decodeURIComponent(objectId) !== options.phoneNumberId) {
          return graphError(
            res,
            400,
            ERROR_CODES.invalidParameter,
            `Unsupported post request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
            undefined,
            { type: 'GraphMethodException', error_subcode: 33 },
          );
        }
        return handleSend(body, res);
      }
      if (req.method === 'GET' && !messages) return handleMediaInfo(decodeURIComponent(objectId), res);
    }
    json(res, 404, { error: { message: 'Unknown path components', type: 'OAuthException', code: 2500, fbtrace_id: randomBytes(9).toString('base64url') } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const simulator: WhatsAppSimulator = {
    url: baseUrl,
    options,
    sent,
    deliveries,
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    sendText: (o) => inbound(o, { type: 'text', text: { body: o.text }, ...context(o.contextId) }),
    sendButtonReply: (o) => inbound(o, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: o.id, title: o.title } }, ...context(o.contextId) }),
    sendListReply: (o) =>
      inbound(o, {
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: o.id, title: o.title, ...(o.description ? { description: o.description } : {}) } },
        ...context(o.contextId),
      }),
    sendTemplateButtonReply: (o) => inbound(o, { type: 'button', button: { payload: o.payload, text: o.text }, ...context(o.contextId) }),
    sendImage: (o) => simulator.sendMedia({ ...o, type: 'image', mimeType: o.mimeType ?? 'image/jpeg' }),
    sendMedia(o) {
      const id = String(1_000_000_000_000_000n + BigInt(`0x${randomBytes(6).toString('hex')}`));
      const bytes = o.bytes ?? new Uint8Array(Buffer.from('simulated media'));
      media.set(id, { bytes, mimeType: o.mimeType });
      const object = { id, mime_type: o.mimeType, sha256: sha256(bytes), ...(o.caption ? { caption: o.caption } : {}), ...(o.type === 'document' && o.filename ? { filename: o.filename } : {}) };
      return inbound(o, { type: o.type, [o.type]: object });
    },
    postWebhook: (payload, o = {}) => post(targetUrl(o), JSON.stringify(payload), o.signature, ''),
    redeliver: (d) => post(d.url, d.rawBody, d.headers['x-hub-signature-256'] ? 'valid' : 'none', d.wamid),
    async markRead(waId) {
      const unread = sent.filter((m) => m.to === waId && (m.status === 'delivered' || m.status === 'sent'));
      const results = await Promise.all(unread.map((m) => queueStatus(m, 'read')));
      return results.filter((r): r is WebhookDelivery => r !== null);
    },
    async verify(url, verifyToken) {
      const challenge = String(Math.floor(Math.random() * 1e9));
      const target = new URL(url);
      target.searchParams.set('hub.mode', 'subscribe');
      target.searchParams.set('hub.challenge', challenge);
      target.searchParams.set('hub.verify_token', verifyToken);
      const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      const body = await response.text();
      return { ok: response.status === 200 && body === challenge, status: response.status, body, challenge };
    },
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    openWindow(waId) {
      lastInboundAt.set(waId, now().getTime());
    },
    now,
    advanceClock(ms) {
      clockOffsetMs += ms;
    },
    transcript: (waId) => [...transcriptOf(waId)],
    flush: () => statusQueue.then(() => undefined),
    async close() {
      await statusQueue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return simulator;
}

/** Checks a send request's shape and limits as the Cloud API does; null when valid. */
export function validateSend(request: SendRequest): { message: string; details: string } | null {
  const bad = (details: string) => ({ message: '(#100) Invalid parameter', details });
  if (!request || typeof request !== 'object') return bad('The request body must be a JSON object.');
  if (request.messaging_product !== 'whatsapp') return { message: '(#100) The parameter messaging_product is required.', details: 'messaging_product must be "whatsapp".' };
  if (typeof request.to !== 'string' || !/^\+?\d{6,15}$/.test(request.to)) return bad('Param to must be a phone number or a WhatsApp id.');
  if (request.recipient_type !== undefined && request.recipient_type !== 'individual') return bad('recipient_type must be "individual".');
  const len = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;
  switch (request.type) {
    case 'text':
      if (!len(request.text?.body, LIMITS.textBody)) return bad(`Param text['body'] is required and must be at most ${LIMITS.textBody} characters.`);
      return null;
    case 'image':
    case 'document':
    case 'audio':
    case 'video': {
      const media = (request as unknown as Record<string, { link?: string; id?: string; caption?: string } | undefined>)[request.type];
      if (!media || (media.link === undefined) === (media.id === undefined)) return bad(`Param ${request.type} must have exactly one of link or id.`);
      if (media.link !== undefined && !/^https?:\/\/\S+$/.test(media.link)) return bad(`Param ${request.type}['link'] must be an http(s) URL.`);
      if (media.caption !== undefined && (request.type === 'audio' || !len(media.caption, LIMITS.caption))) return bad(`Param ${request.type}['caption'] is not valid.`);
      return null;
    }
    case 'template':
      if (!len(request.template?.name, 512) || !len(request.template?.language?.code, 15)) return bad("Param template['name'] and template['language']['code'] are required.");
      return null;
    case 'interactive': {
      const i = request.interactive;
      if (!i || !len(i.body?.text, LIMITS.interactiveBody)) return bad(`Param interactive['body']['text'] is required and must be at most ${LIMITS.interactiveBody} characters.`);
      if (i.type === 'button') {
        const buttons = i.action?.buttons;
        if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > LIMITS.buttons) return bad(`Param interactive['action']['buttons'] must have 1 to ${LIMITS.buttons} buttons.`);
        for (const b of buttons) {
          if (b.type !== 'reply' || !len(b.reply?.id, LIMITS.buttonId)) return bad("Each button must be of type 'reply' with an id.");
          if (!len(b.reply.title, LIMITS.buttonTitle)) return bad(`Param interactive['action']['buttons'][]['reply']['title'] must be 1 to ${LIMITS.buttonTitle} characters.`);
        }
        if (new Set(buttons.map((b) => b.reply.id)).size !== buttons.length || new Set(buttons.map((b) => b.reply.title)).size !== buttons.length) return bad('Button ids and titles must be unique.');
        return null;
      }
      if (i.type === 'list') {
        if (!len(i.action?.button, LIMITS.listButton)) return bad(`Param interactive['action']['button'] must be 1 to ${LIMITS.listButton} characters.`);
        const sections = i.action.sections;
        if (!Array.isArray(sections) || sections.length < 1 || sections.length > 10) return bad("Param interactive['action']['sections'] must have 1 to 10 sections.");
        if (sections.length > 1 && sections.some((s) => !len(s.title, LIMITS.sectionTitle))) return bad('Each section needs a title when there are several.');
        const rows = sections.flatMap((s) => (Array.isArray(s.rows) ? s.rows : []));
        if (rows.length < 1 || rows.length > LIMITS.listRows) return bad(`A list must have 1 to ${LIMITS.listRows} rows in all.`);
        for (const r of rows) {
          if (!len(r.id, LIMITS.listRowId)) return bad(`Row ids must be 1 to ${LIMITS.listRowId} characters.`);
          if (!len(r.title, LIMITS.listRowTitle)) return bad(`Param interactive['action']['sections'][]['rows'][]['title'] must be 1 to ${LIMITS.listRowTitle} characters.`);
          if (r.description !== undefined && !len(r.description, LIMITS.listRowDescription)) return bad(`Row descriptions must be at most ${LIMITS.listRowDescription} characters.`);
        }
        if (new Set(rows.map((r) => r.id)).size !== rows.length) return bad('Row ids must be unique.');
        return null;
      }
      return bad("Param interactive['type'] must be button or list (others are not simulated).");
    }
    default:
      return bad(`Param type is not valid: ${String((request as { type?: unknown }).type)}.`);
  }
}

function placeholderCount(body: string): number {
  return new Set(body.match(/\{\{\d+\}\}/g) ?? []).size;
}

function context(contextId: string | undefined) {
  return contextId ? { context: { id: contextId } } : {};
}

function newWamid(waId: string): string {
  return `wamid.${Buffer.concat([Buffer.from(`\x18${waId}\x15\x02\x00\x12\x18`), randomBytes(16)]).toString('base64')}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
