/**
 * Orderbot: a webhook bot for Parley that tells consumers where their order is and hands billing questions to the
 * billing team. Parley POSTs signed events to it; it answers through Parley's REST API with the SDK, authenticated
 * with its bot secret. See docs/bots.md for the whole picture and ./README.md to run it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotWebhookEvent, ConversationEvent, EndpointBody } from '@parley/protocol';
import { createRestClient, ParleyApiError } from '@parley/sdk';
import { verifyWebhookSignature } from '@parley/sdk/webhooks';
import { findOrder, type Order, orderNumberIn } from './orders.ts';

export interface OrderStatusBotConfig {
  /** Where Parley is, e.g. http://127.0.0.1:8080. */
  parleyUrl: string;
  /** The bot's secret (`Authorization: Bearer <secret>` on Parley's API). */
  botSecret: string;
  /** The bot's signing secret: Parley signs every delivery with it. */
  signingSecret: string;
  /** The skill billing questions are transferred to. */
  billingSkillId: string;
  log?: (line: string) => void;
}

export interface OrderStatusBot {
  /** Starts listening; resolves with the URL to give Parley as the bot's `webhookUrl`. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops taking deliveries and waits for the work in progress. */
  close(): Promise<void>;
}

const BILLING = /\b(billing|bill|refunds?|invoices?|charged?|charges)\b/i;
const GOODBYE = /\b(thanks|thank you|thx|bye|goodbye)\b/i;
/** Quick replies offered with questions: tapping one sends its text as the consumer. "person" is one of Parley's
 * default escalation phrases, so the second one reaches a person without the bot doing anything. */
const MENU = [
  { title: 'Billing question', text: 'I have a billing question' },
  { title: 'Talk to a person', text: 'I would like to talk to a person' },
];
/** A whole transcript (up to 500 events) arrives with `conversation.assigned`. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Event ids remembered to drop duplicates (a real bot would keep them in its database). */
const REMEMBERED_EVENT_IDS = 10_000;

type Content = Extract<EndpointBody<'sendEvent'>['event'], { type: 'content' }>['content'];

export function createOrderStatusBot(config: OrderStatusBotConfig): OrderStatusBot {
  const log = config.log ?? ((line: string) => console.log(line));
  const parley = createRestClient({ baseUrl: config.parleyUrl, getAccessToken: () => config.botSecret });
  /** What the bot knows of each conversation it holds (in memory: a real bot would use its database). */
  const known = new Map<string, { consumerId: string; orderNumber?: string }>();
  const seenEventIds = new Set<string>();
  /** The work of each conversation, one event after the other, in the order Parley sent them. */
  const work = new Map<string, Promise<void>>();

  const server = http.createServer((req, res) => {
    void receive(req, res).catch((error: unknown) => {
      log(`request failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function receive(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) {
      res.writeHead(413).end();
      return;
    }
    // Verify the raw bytes, exactly as received, before believing anything in them.
    const check = verifyWebhookSignature({ body, signatureHeader: req.headers['parley-signature'] as string | undefined, secrets: config.signingSecret });
    if (!check.valid) {
      log(`refused a request with a ${check.reason} signature`);
      res.writeHead(401).end(check.reason);
      return;
    }
    const event = JSON.parse(body.toString('utf8')) as BotWebhookEvent;
    // Answer at once and do the work afterwards. Parley waits for this answer at most the bot's reply time-out
    // (10 s at most), retries a failed or slow delivery, and escalates the conversation to people after three failed
    // attempts; the bot's real answer is a separate REST call, which is what the reply deadline waits for.
    res.writeHead(200).end();
    // A retry (say, after an answer that came too late) carries the same id: do the work once.
    if (seenEventIds.has(event.id)) {
      log(`duplicate event ${event.id} ignored`);
      return;
    }
    remember(event.id);
    enqueue(event.conversationId, () => handle(event));
  }

  function remember(eventId: string): void {
    seenEventIds.add(eventId);
    if (seenEventIds.size > REMEMBERED_EVENT_IDS) {
      const oldest = seenEventIds.values().next().value;
      if (oldest !== undefined) seenEventIds.delete(oldest);
    }
  }

  /** Parley delivers a conversation's events in order; handling them one at a time keeps the answers in order too. */
  function enqueue(conversationId: string, task: () => Promise<void>): void {
    const next = (work.get(conversationId) ?? Promise.resolve()).then(task).catch((error: unknown) => {
      // NOT_FOUND: the conversation is no longer ours (the consumer asked for a person, the bot was too slow...).
      const why = error instanceof ParleyApiError ? `${error.code}: ${error.message}` : String(error);
      log(`conversation ${conversationId}: ${why}`);
    });
    work.set(conversationId, next);
    void next.then(() => {
      if (work.get(conversationId) === next) work.delete(conversationId);
    });
  }

  async function handle(event: BotWebhookEvent): Promise<void> {
    const { conversationId } = event;
    if (event.type === 'conversation.closed') {
      known.delete(conversationId);
      return;
    }
    if (!known.has(conversationId)) known.set(conversationId, { consumerId: event.conversation.consumerId });
    if (event.type === 'conversation.assigned') {
      // The transcript so far: answer what the consumer wrote since anyone last answered (usually their first message).
      log(`conversation ${conversationId} assigned`);
      await answer(event, unanswered(event.events), true);
    } else if (event.type === 'conversation.message') {
      await answer(event, event.events.map(textOf).join('\n'), false);
    }
  }

  async function answer(event: BotWebhookEvent, text: string, greet: boolean): Promise<void> {
    const { conversationId } = event;
    const memory = known.get(conversationId) ?? { consumerId: event.conversation.consumerId };
    const hello = greet ? "Hi, I'm Orderbot. " : '';
    let replies = 0;
    // The webhook event id makes each reply's idempotency id: if this event is handled twice (a restart lost the ids
    // seen), Parley stores each reply once.
    const say = (content: Content) => parley.sendEvent(conversationId, { clientMessageId: `${event.id}:${replies++}`, event: { type: 'content', content } });
    const sayText = (message: string) => say({ contentType: 'text/plain', message });

    const number = orderNumberIn(text);
    const order = number === undefined ? undefined : findOrder(number);
    if (order && order.number !== memory.orderNumber) {
      memory.orderNumber = order.number;
      // Agents see it on the consumer's profile (and a later conversation can use it).
      await parley.updateConsumerProfile(memory.consumerId, { order_number: order.number });
    }

    if (BILLING.test(text)) {
      await sayText(`${hello}Billing questions are for my colleagues in billing: I'm passing you over now, and they will see what we said.`);
      // A transfer by a bot is an escalation: only people get the conversation from now on, and the note is shown to
      // them (never to the consumer).
      await parley.transferConversation(conversationId, { skillId: config.billingSkillId, note: escalationNote(text, memory.orderNumber) });
      known.delete(conversationId);
      log(`conversation ${conversationId} escalated to billing`);
      return;
    }
    if (number !== undefined) {
      await sayText(
        order ? `${hello}Order ${order.number} (${order.total}): ${order.detail}. Anything else?` : `${hello}I can't find order ${number}. Could you check the number? It looks like AB-1234.`,
      );
      return;
    }
    if (!greet && GOODBYE.test(text)) {
      await sayText("You're welcome! I'm closing this conversation; write again any time.");
      await parley.closeConversation(conversationId);
      known.delete(conversationId);
      log(`conversation ${conversationId} closed`);
      return;
    }
    await say({
      contentType: 'text/plain',
      message: `${hello}${greet ? 'I can tell you where your order is.' : "Sorry, I didn't get that."} What is your order number? It looks like AB-1234.`,
      quickReplies: { type: 'quickReplies', replies: MENU.map((m) => ({ type: 'button', title: m.title, click: { actions: [{ type: 'publishText', text: m.text }] } })) },
    });
  }

  return {
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}/parley`));
      }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(work.values());
    },
  };
}

/** What the billing agent reads first: the question and the order it is about. */
function escalationNote(question: string, orderNumber: string | undefined): string {
  const order: Order | undefined = orderNumber === undefined ? undefined : findOrder(orderNumber);
  const about = order ? `Order ${order.number} (${order.total}, ${order.status}).` : 'No order number given yet.';
  return `Billing question: "${question.slice(0, 500)}". ${about}`;
}

function textOf(event: ConversationEvent): string {
  if (event.type === 'content' && event.content.contentType === 'text/plain') return event.content.message;
  if (event.type === 'rich_content') return event.fallbackText ?? '';
  return '';
}

/** The consumer's messages after the last answer of an agent or bot (the transcript is oldest first; Parley's own
 * notices, such as a queue position, are not answers). */
function unanswered(events: readonly ConversationEvent[]): string {
  const texts: string[] = [];
  for (const event of [...events].reverse()) {
    if (event.type !== 'content' && event.type !== 'rich_content') continue;
    if (event.originator.role === 'system') continue;
    if (event.originator.role !== 'consumer') break;
    texts.unshift(textOf(event));
  }
  return texts.join('\n');
}

/** The raw body, or null when it is larger than `limit` bytes. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : null));
    req.on('error', reject);
  });
}
