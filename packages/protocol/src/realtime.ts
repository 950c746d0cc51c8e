import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';
import { Id, IsoDateTime, PROTOCOL_VERSION, Sequence } from './common.ts';
import { ChatStateSchema, ConversationEventSchema, ConversationSummarySchema } from './events.ts';
import { ReceiptRequestSchema, SendAckSchema, SendEventRequestSchema } from './rest.ts';
import { AgentStatusSchema, LiveViewSchema } from './routing.ts';
import { WebhookDisabledNoticeSchema } from './webhooks.ts';

/**
 * The realtime (WebSocket) protocol, version 1, at `/v1/ws`.
 *
 * Client frames are requests `{ id, type, ... }`; each gets exactly one `response` frame with the same id.
 * The server also pushes `event` (a sequenced conversation event), `chat_state` (ephemeral typing) and
 * `conversation` (a conversation's summary changed) frames. Authentication happens at connect: an
 * `Authorization: Bearer` header on the upgrade request, or (browsers) an `auth` request as the first frame
 * within the auth deadline.
 */

export const WS_PATH = '/v1/ws';
export const WS_CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  /** The client was too slow to read; it should reconnect and resume from its last sequence. */
  SLOW_CONSUMER: 4008,
  /** Authentication failed or the deadline passed. */
  UNAUTHENTICATED: 4401,
  /** The access token expired while connected: refresh and reconnect. */
  TOKEN_EXPIRED: 4402,
  HEARTBEAT_TIMEOUT: 4000,
} as const;

const req = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.strictObject({ id: z.string().min(1).max(64), type: z.literal(type), ...shape });

export const ClientFrameSchema = z.discriminatedUnion('type', [
  req('auth', {
    token: z.string().min(1).max(8192).describe("A user or consumer access token, an API key (`pak_...`) or a bot's secret (`pbt_...`)."),
    protocolVersion: z.literal(PROTOCOL_VERSION).optional().describe('The wire protocol version the client speaks; only this version is accepted.'),
  }).describe('Authenticates the connection (browsers, which cannot set headers). Must be the first frame, sent within `authDeadlineMs` of `hello`.'),
  req('subscribe', { conversationId: Id, fromSeq: Sequence.default(0).describe('Replay stored events with sequence >= fromSeq, then stream live ones.') }).describe(
    'Streams a conversation: `event` frames replaying stored events from `fromSeq`, then live ones. Subscribing again replaces the subscription.',
  ),
  req('unsubscribe', { conversationId: Id }).describe('Stops streaming a conversation.'),
  req('send', { conversationId: Id, ...SendEventRequestSchema.shape }).describe('Sends a content or rich-content event; idempotent by `clientMessageId`. The result carries its sequence.'),
  req('receipt', { conversationId: Id, ...ReceiptRequestSchema.shape }).describe('Marks events delivered (`accept`) or `read`; stored as an `accept_status` event.'),
  req('chat_state', { conversationId: Id, chatState: ChatStateSchema }).describe('Relays a typing indicator to the other participants; not stored, no sequence.'),
  req('ping', {}).describe('An application-level liveness check; answers with the server time.'),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];

/** The `result` each request type answers with. */
export const ResponseResults = {
  auth: z.object({ principal: z.object({ kind: z.enum(['user', 'consumer', 'api_key']), id: Id, accountId: Id }) }),
  subscribe: z.object({ conversationId: Id, lastSequence: Sequence }),
  unsubscribe: z.object({ conversationId: Id }),
  send: SendAckSchema,
  receipt: SendAckSchema,
  chat_state: z.object({}),
  ping: z.object({ serverTime: z.string() }),
} satisfies Record<ClientFrameType, z.ZodType>;
export type ResponseResult<T extends ClientFrameType> = z.infer<(typeof ResponseResults)[T]>;

export const ServerFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      protocolVersion: z.literal(PROTOCOL_VERSION),
      connectionId: z.string(),
      heartbeatIntervalMs: z.number().int().describe('How often the server sends WebSocket pings; a connection that has not answered the previous ping is dropped.'),
      authDeadlineMs: z.number().int().describe('How long an unauthenticated connection may wait before its `auth` frame.'),
    })
    .describe('The first frame on every connection.'),
  z
    .object({
      type: z.literal('response'),
      id: z.string().describe('The `id` of the request; empty when the frame was not JSON.'),
      ok: z.boolean(),
      result: z.unknown().optional().describe('When `ok`: the result, whose shape depends on the request type.'),
      error: ErrorBodySchema.shape.error.optional().describe('When not `ok`: the error, as in REST error bodies.'),
    })
    .describe('The one answer to a request, with the same `id`.'),
  z.object({ type: z.literal('event'), event: ConversationEventSchema }).describe('A stored conversation event of a subscribed conversation, in sequence order.'),
  z
    .object({ type: z.literal('chat_state'), conversationId: Id, participantId: Id, role: z.string(), chatState: ChatStateSchema })
    .describe('Another participant of a subscribed conversation is typing (or stopped); ephemeral and unsequenced.'),
  z.object({ type: z.literal('conversation'), conversation: ConversationSummarySchema }).describe('A conversation the principal may see changed (created, assigned, closed); no subscription needed.'),
  z.object({ type: z.literal('agent_state'), agent: AgentStatusSchema }).describe("The agent's own routing state changed (by them, a manager, or the server after a lost connection)."),
  z
    .object({ type: z.literal('offer'), conversation: ConversationSummarySchema, expiresAt: IsoDateTime })
    .describe('A conversation rings for this agent (skills in `ring` mode): accept it before `expiresAt` or it goes to the next agent.'),
  z.object({ type: z.literal('live'), live: LiveViewSchema }).describe('Managers and admins: the live routing view of the account, pushed when it changes.'),
  z
    .object({ type: z.literal('notice'), notice: WebhookDisabledNoticeSchema })
    .describe('Admins: something in the account needs their attention (`webhook_disabled`: Parley disabled a webhook subscription whose endpoint kept failing).'),
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
