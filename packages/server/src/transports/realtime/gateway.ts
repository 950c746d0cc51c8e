import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type ClientFrame, ClientFrameSchema, type ConversationEvent, PROTOCOL_VERSION, type ServerFrame, toValidationIssues, WS_CLOSE, WS_PATH } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { WebSocket } from 'ws';
import { AppError } from '../../core/app-error.ts';
import { isSupervisor, type Principal, principalId } from '../../core/principal.ts';
import { topics, type EventBus, type Unsubscribe } from '../../infra/bus/event-bus.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { Metrics } from '../../infra/telemetry/metrics.ts';
import type { Services } from '../../services.ts';
import { bearerOf } from '../http/http-app.ts';
import { toErrorBody } from '../http/errors.ts';
import { ConversationFeed } from './conversation-feed.ts';
import { AccountFeeds } from './account-feeds.ts';
import { ListUpdates } from './list-updates.ts';
import { TokenBucket } from '../../core/token-bucket.ts';

export interface GatewaySettings {
  heartbeatIntervalMs: number;
  authDeadlineMs: number;
  ratePerSecond: number;
  rateBurst: number;
  maxBufferedBytes: number;
}

/**
 * The most sends of one connection being stored at once. Beyond it the connection reads its next frame when one of
 * them is settled: an agent holds a few dozen conversations, and a client that pipelines more only waits its turn.
 */
const MAX_SENDS_IN_FLIGHT = 64;

/**
 * A stored event goes to every subscriber of its conversation (its sender and the other party at least), and a
 * conversation's summary to every staff connection of its account on this node: each frame is serialised once.
 */
const sharedFrames = new WeakMap<object, string>();

function serialize(frame: ServerFrame): string {
  const shared = frame.type === 'event' ? frame.event : frame.type === 'conversation' ? frame.conversation : undefined;
  if (shared === undefined) return JSON.stringify(frame);
  let text = sharedFrames.get(shared);
  if (text === undefined) {
    text = JSON.stringify(frame);
    sharedFrames.set(shared, text);
  }
  return text;
}

/** The least time between two writes of a connection's conversation-list updates (ListUpdates). */
const LIST_UPDATE_INTERVAL_MS = 100;

interface Subscription {
  feed: ConversationFeed;
  unsubscribe: Unsubscribe;
}

/**
 * The WebSocket gateway: a thin transport over the conversation service. It authenticates at connect, validates
 * every frame with the contract, answers each request exactly once, and streams each subscribed conversation through
 * a ConversationFeed (replay + live, in order, no duplicates). It protects itself with a per-connection rate limit,
 * heartbeats, and by closing connections that read too slowly (the client resumes from its last sequence).
 */
export class RealtimeGateway {
  private readonly connections = new Set<Connection>();
  private readonly accountFeeds: AccountFeeds;

  constructor(
    private readonly services: Services,
    private readonly bus: EventBus,
    private readonly settings: GatewaySettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.accountFeeds = new AccountFeeds(bus, (error) => logger.error({ err: error }, 'account message handler failed'));
  }

  private presenceTimer: NodeJS.Timeout | undefined;
  private stopResync: Unsubscribe | undefined;

  register(app: FastifyInstance): void {
    app.get(WS_PATH, { websocket: true }, (socket, request) => {
      this.accept(socket, request);
    });
    // Agents' presence lives in the database so every node (and routing) sees it; refresh this node's connections.
    this.presenceTimer = setInterval(() => {
      const ids = [...this.connections].filter((c) => c.isAgent).map((c) => c.connectionId);
      this.services.routing.heartbeat(ids).catch((error: unknown) => this.logger.warn({ err: error }, 'presence heartbeat failed'));
    }, this.settings.heartbeatIntervalMs);
    this.presenceTimer.unref();
    // The bus lost messages (Redis reconnected): every feed re-reads from its last sequence.
    this.stopResync = this.bus.onResync(() => {
      for (const connection of this.connections) connection.resync();
    });
  }

  get size(): number {
    return this.connections.size;
  }

  /** Tells every client the server is going away (they reconnect elsewhere and resume), then closes. */
  async drain(): Promise<void> {
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.stopResync?.();
    for (const connection of this.connections) connection.close(WS_CLOSE.GOING_AWAY, 'server shutting down');
  }

  private accept(socket: WebSocket, request: FastifyRequest): void {
    const tcp = request.raw.socket;
    const connection = new Connection(socket, tcp, this.services, this.bus, this.accountFeeds, this.settings, this.metrics, this.logger);
    releaseUpgradeRequest(socket, tcp, (error) => connection.failed(error));
    this.connections.add(connection);
    socket.on('close', () => {
      this.connections.delete(connection);
      connection.dispose();
    });
    void connection.start(request);
  }
}

/**
 * Lets go of the HTTP request that asked for the upgrade, of no use once the WebSocket is open. Two references would
 * otherwise keep it, with its Fastify request and reply, their logger and the request's headers, for the connection's
 * whole life (about 4 kB of heap per idle connection, docs/performance.md item 19): @fastify/websocket's error listener on
 * the WebSocket (which holds them to report an error; the connection reports its errors itself, `onError`) and the
 * TCP socket's link to the response that was never sent (`detachSocket`, as Node's own server does after a response).
 */
function releaseUpgradeRequest(socket: WebSocket, tcp: Socket, onError: (error: Error) => void): void {
  socket.removeAllListeners('error');
  socket.on('error', onError);
  const response = (tcp as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  response?.detachSocket(tcp);
}

class Connection {
  private principal: Principal | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private accountUnsubscribe: Unsubscribe | undefined;
  private readonly bucket: TokenBucket;
  private timers: NodeJS.Timeout[] = [];
  private alive = true;
  private closing = false;
  private readonly id: string;
  private liveTimer: NodeJS.Timeout | undefined;
  /** Conversations this connection was told about, so it also hears when one leaves its view. */
  private readonly knownConversations = new Set<string>();
  private readonly listUpdates = new ListUpdates(LIST_UPDATE_INTERVAL_MS, (conversation) => this.send({ type: 'conversation', conversation }));
  /**
   * Frames are taken one at a time, in arrival order. A `send` is handed to the conversation service (which stores
   * what it was handed in that order, several connections' sends in one transaction) and the next frame is taken
   * without waiting for it to be stored: an agent's answers into several conversations go in one commit, and pipelined
   * sends still get their sequences in the order they were sent. Any other frame waits until the sends before it are
   * settled, so it sees them.
   */
  private inbox: Promise<void> = Promise.resolve();
  /** Sends handed over and not yet settled (acknowledged or refused). */
  private readonly sendsInFlight = new Set<Promise<void>>();

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under it (the upgraded request's), corked while a turn of the event loop writes frames. */
    private readonly tcp: Socket,
    private readonly services: Services,
    private readonly bus: EventBus,
    /** The account topic, shared by this node's connections of the account. */
    private readonly accountFeeds: AccountFeeds,
    private readonly settings: GatewaySettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.bucket = new TokenBucket(settings.ratePerSecond, settings.rateBurst);
    this.id = randomUUID();
  }

  /**
   * Logs a line of this connection, with its id. A field of each line rather than a child logger per connection: a
   * child logger is about half a kilobyte that an idle connection would keep for its life.
   */
  private log(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    this.logger[level]({ connectionId: this.id, ...fields }, message);
  }

  /** The socket failed (an unclean disconnect, a protocol error from the peer): it is closed and forgotten. */
  failed(error: Error): void {
    this.log('warn', { err: error }, 'socket error');
    this.socket.terminate();
  }

  async start(request: FastifyRequest): Promise<void> {
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.close(WS_CLOSE.POLICY, 'binary frames are not part of the protocol');
        return;
      }
      const text = data.toString();
      this.inbox = this.inbox.then(() => this.onMessage(text)).catch((error: unknown) => this.log('error', { err: error }, 'frame handling failed'));
    });
    this.socket.on('pong', () => {
      this.alive = true;
    });
    this.timers.push(
      setInterval(() => {
        if (!this.alive) {
          this.terminate('heartbeat timeout');
          return;
        }
        this.alive = false;
        this.socket.ping();
      }, this.settings.heartbeatIntervalMs),
    );
    let credential: string | undefined;
    try {
      credential = bearerOf(request);
    } catch (error) {
      this.close(WS_CLOSE.UNAUTHENTICATED, error instanceof Error ? error.message : 'unauthenticated');
      return;
    }
    if (credential) {
      // Frames that arrive while the header credential is checked wait in the inbox behind it.
      const header = credential;
      this.inbox = this.inbox.then(async () => {
        try {
          await this.authenticate(header);
        } catch (error) {
          this.close(WS_CLOSE.UNAUTHENTICATED, error instanceof Error ? error.message : 'unauthenticated');
        }
      });
    }
    this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, connectionId: this.id, heartbeatIntervalMs: this.settings.heartbeatIntervalMs, authDeadlineMs: this.settings.authDeadlineMs });
    if (credential) return;
    this.authDeadline = setTimeout(() => {
      this.authDeadline = undefined;
      if (!this.principal) this.close(WS_CLOSE.UNAUTHENTICATED, 'authentication deadline passed');
    }, this.settings.authDeadlineMs);
  }

  /** Closes a connection that has not authenticated in time; let go of once it has (an idle connection keeps no timer it no longer needs). */
  private authDeadline: NodeJS.Timeout | undefined;

  get connectionId(): string {
    return this.id;
  }

  /** Re-reads every subscribed conversation from its high-water mark (after the bus may have lost messages). */
  resync(): void {
    for (const sub of this.subscriptions.values()) void sub.feed.replay();
  }

  get isAgent(): boolean {
    return this.principal?.kind === 'user';
  }

  dispose(): void {
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.listUpdates.dispose();
    if (this.principal?.kind === 'user') {
      this.services.routing.connectionClosed(this.principal, this.id).catch((error: unknown) => this.log('warn', { err: error }, 'recording the disconnect failed'));
    }
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    clearTimeout(this.authDeadline);
    for (const sub of this.subscriptions.values()) {
      sub.unsubscribe();
      sub.feed.close();
    }
    this.subscriptions.clear();
    this.accountUnsubscribe?.();
    if (this.principal) this.metrics.wsConnections.dec({ kind: this.principal.kind });
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close(code, reason.slice(0, 120));
    // A peer that never answers the close handshake must not keep the socket.
    this.timers.push(setTimeout(() => this.socket.terminate(), 5_000));
  }

  private terminate(reason: string): void {
    this.log('info', { reason }, 'terminating connection');
    this.socket.terminate();
  }

  private send(frame: ServerFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.metrics.wsSlowConsumerCloses.inc();
      this.log('warn', { buffered: this.socket.bufferedAmount }, 'closing a slow consumer');
      this.close(WS_CLOSE.SLOW_CONSUMER, 'reading too slowly: reconnect and resume');
      return;
    }
    this.metrics.wsFramesOut.inc({ type: frame.type });
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      setImmediate(this.uncork);
    }
    this.socket.send(serialize(frame));
  }

  /**
   * Frames written in one turn of the event loop leave in one write: the socket is corked at the first and uncorked
   * after the turn's I/O (`setImmediate`). A message's acknowledgement and event, or an agent's events of one batch,
   * cost the kernel one system call instead of one each, which on loopback was a third of a busy node's time.
   */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp.uncork();
  };

  private respond(id: string, result: unknown): void {
    this.send({ type: 'response', id, ok: true, result });
  }

  private fail(id: string, error: unknown): void {
    const { body, internal } = toErrorBody(error);
    if (internal) this.log('error', { err: error }, 'realtime request failed');
    this.send({ type: 'response', id, ok: false, error: body.error });
  }

  private async onMessage(text: string): Promise<void> {
    if (this.closing) return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.fail('', new AppError('MALFORMED_JSON', 'The frame is not valid JSON'));
    }
    const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string' ? raw.id : '';
    const parsed = ClientFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = toValidationIssues(parsed.error);
      return this.fail(id, new AppError('VALIDATION_FAILED', `Invalid frame: ${issues.map((i) => `${i.path || '(frame)'}: ${i.message}`).join('; ')}`, { issues }));
    }
    const frame = parsed.data;
    this.metrics.wsFramesIn.inc({ type: frame.type });
    const wait = this.bucket.take();
    if (wait > 0) {
      this.metrics.wsRateLimited.inc();
      return this.fail(frame.id, new AppError('RATE_LIMITED', 'Too many frames on this connection', { retryAfterMs: wait }));
    }
    try {
      if (frame.type === 'auth') {
        if (this.principal) throw new AppError('CONFLICT', 'Already authenticated');
        const principal = await this.authenticate(frame.token).catch((error: unknown) => {
          this.fail(frame.id, error);
          this.close(WS_CLOSE.UNAUTHENTICATED, error instanceof Error ? error.message : 'unauthenticated');
          return undefined;
        });
        if (principal) this.respond(frame.id, { principal: { kind: principal.kind, id: principalId(principal), accountId: principal.accountId } });
        return;
      }
      if (!this.principal) {
        this.fail(frame.id, new AppError('UNAUTHENTICATED', 'Send an auth frame first'));
        this.close(WS_CLOSE.UNAUTHENTICATED, 'not authenticated');
        return;
      }
      if (frame.type === 'send') {
        await this.pipelineSend(this.principal, frame);
        return;
      }
      await this.settleSends();
      this.respond(frame.id, await this.handle(this.principal, frame));
    } catch (error) {
      this.fail(frame.id, error);
    }
  }

  /** Hands a send over without waiting for its storage; at most MAX_SENDS_IN_FLIGHT of a connection at a time. */
  private async pipelineSend(principal: Principal, frame: Extract<ClientFrame, { type: 'send' }>): Promise<void> {
    if (this.sendsInFlight.size >= MAX_SENDS_IN_FLIGHT) await Promise.race(this.sendsInFlight);
    const stored = this.services.conversations.send(principal, frame.conversationId, { clientMessageId: frame.clientMessageId, event: frame.event, audience: frame.audience }).then(
      (ack) => this.respond(frame.id, ack),
      (error: unknown) => this.fail(frame.id, error),
    );
    this.sendsInFlight.add(stored);
    void stored.finally(() => this.sendsInFlight.delete(stored));
  }

  private async settleSends(): Promise<void> {
    if (this.sendsInFlight.size > 0) await Promise.all(this.sendsInFlight);
  }

  private async handle(principal: Principal, frame: Exclude<ClientFrame, { type: 'auth' | 'send' }>): Promise<unknown> {
    const conversations = this.services.conversations;
    switch (frame.type) {
      case 'ping':
        return { serverTime: new Date().toISOString() };
      case 'subscribe':
        return this.subscribe(principal, frame.conversationId, frame.fromSeq);
      case 'unsubscribe': {
        const sub = this.subscriptions.get(frame.conversationId);
        sub?.unsubscribe();
        sub?.feed.close();
        this.subscriptions.delete(frame.conversationId);
        return { conversationId: frame.conversationId };
      }
      case 'receipt':
        return conversations.receipt(principal, frame.conversationId, { status: frame.status, sequences: frame.sequences });
      case 'chat_state':
        await conversations.chatState(principal, frame.conversationId, frame.chatState);
        return {};
    }
  }

  private async authenticate(credential: string): Promise<Principal> {
    const principal = await this.services.auth.authenticate(credential);
    this.principal = principal;
    clearTimeout(this.authDeadline);
    this.authDeadline = undefined;
    this.metrics.wsConnections.inc({ kind: principal.kind });
    this.log('info', { principal: principal.kind, id: principalId(principal), accountId: principal.accountId }, 'realtime connection authenticated');
    // Close when the access token expires: the client refreshes and resumes.
    try {
      const exp = decodeJwt(credential).exp;
      if (exp) {
        const ms = exp * 1000 - Date.now();
        this.timers.push(setTimeout(() => this.close(WS_CLOSE.TOKEN_EXPIRED, 'access token expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1))));
      }
    } catch {
      // API keys are not JWTs and do not expire.
    }
    // The conversation list: changes to conversations this principal can see.
    this.accountUnsubscribe = this.accountFeeds.join(principal, (message) => {
      switch (message.kind) {
        case 'conversation_updated': {
          const id = message.conversation.id;
          if (this.services.conversations.canSee(principal, message.conversation)) {
            this.rememberConversation(id);
            this.listUpdates.push(message.conversation);
          } else if (this.knownConversations.delete(id)) {
            // It left this agent's view (taken by another, transferred, reassigned): the last change tells them so.
            this.listUpdates.push(message.conversation);
          }
          // A conversation that queues, closes or gets answered changes the live figures even when routing assigns nothing.
          if (isSupervisor(principal)) this.scheduleLiveView(principal);
          break;
        }
        case 'agent_state':
          if (principal.kind === 'user' && message.agent.userId === principal.userId) this.send({ type: 'agent_state', agent: message.agent });
          break;
        case 'offer':
          if (principal.kind === 'user' && message.agentId === principal.userId) this.send({ type: 'offer', conversation: message.conversation, expiresAt: message.expiresAt });
          break;
        case 'routing_changed':
          if (isSupervisor(principal)) this.scheduleLiveView(principal);
          break;
        case 'notice':
          if (principal.kind === 'user' && principal.role === 'admin') this.send({ type: 'notice', notice: message.notice });
          break;
      }
    });
    if (principal.kind === 'user') await this.services.routing.connectionOpened(principal, this.id);
    return principal;
  }

  private rememberConversation(id: string): void {
    if (this.knownConversations.size >= 10_000) this.knownConversations.clear();
    this.knownConversations.add(id);
  }

  /** Managers get the live view pushed, at most a few times a second however busy the account is. */
  private scheduleLiveView(principal: Principal): void {
    if (this.liveTimer) return;
    this.liveTimer = setTimeout(() => {
      this.liveTimer = undefined;
      this.services.routing
        .liveView(principal.accountId)
        .then((live) => this.send({ type: 'live', live }))
        .catch((error: unknown) => this.log('warn', { err: error }, 'live view failed'));
    }, 250);
  }

  private async subscribe(principal: Principal, conversationId: string, fromSeq: number): Promise<{ conversationId: string; lastSequence: number }> {
    const existing = this.subscriptions.get(conversationId);
    if (existing) {
      existing.unsubscribe();
      existing.feed.close();
    }
    const access = await this.services.conversations.openFeed(principal, conversationId);
    const me = principalId(principal);
    const feed = new ConversationFeed(
      conversationId,
      fromSeq,
      { read: (from, limit, to) => this.services.conversations.readEventsFrom(conversationId, from, limit, to) },
      (event: ConversationEvent) => access.seesInternal || event.audience === 'all',
      (event) => this.send({ type: 'event', event }),
      (error) => {
        this.log('error', { err: error, conversationId }, 'conversation feed failed');
        this.close(WS_CLOSE.GOING_AWAY, 'feed error: reconnect and resume');
      },
      () => this.metrics.wsGapRefills.inc(),
    );
    // Subscribe to live events before replaying, so nothing committed in between is missed; the feed orders both.
    const unsubscribe = this.bus.subscribe(topics.conversation(conversationId), (message) => {
      if (message.kind === 'conversation_event') feed.push(message.event);
      else if (message.kind === 'chat_state' && message.participantId !== me) {
        this.send({ type: 'chat_state', conversationId, participantId: message.participantId, role: message.role, chatState: message.chatState });
      }
    });
    this.subscriptions.set(conversationId, { feed, unsubscribe });
    await this.bus.ready();
    // Respond before the replay frames: the client then knows the subscription exists, and the frames that follow are
    // the replay. The replay is queued in the feed immediately, so live events still wait behind it.
    void feed.replay();
    return { conversationId, lastSequence: access.lastSequence };
  }
}
