import {
  type AgentStatus,
  type ClientFrame,
  type ConversationEvent,
  type ConversationSummary,
  type LiveView,
  PROTOCOL_VERSION,
  type ResponseResult,
  type SendAck,
  type ServerFrame,
  type WebhookDisabledNotice,
  WS_CLOSE,
} from '@parley/protocol';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { Connection, type DisposeMode, type RequestPayload } from './connection.ts';
import { Emitter } from './emitter.ts';
import { ParleyApiError, ParleyConnectionError } from './errors.ts';
import { parseServerFrame } from './server-frames.ts';
import type { TokenProvider } from './token-source.ts';
import { type BaseUrl, type WebSocketConstructor, messageText, realtimeUrl, resolveBaseUrl, resolveWebSocket } from './websocket.ts';
import { newClientMessageId } from './ids.ts';

/**
 * `connecting`: first connection attempt, until authenticated. `open`: authenticated. `reconnecting`: the connection
 * was lost (or an attempt failed) and another is scheduled or under way. `closed`: stopped by `close()` or a fatal error.
 */
export type RealtimeState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A `send` request as it goes on the wire (without the frame's `id` and `type`). */
export type SendRequest = RequestPayload<'send'>;
/** What `send()` takes: the idempotency id is generated and the audience defaults to `all` when omitted. */
export type SendInput = Omit<SendRequest, 'clientMessageId' | 'audience'> & Partial<Pick<SendRequest, 'clientMessageId' | 'audience'>>;
/** What `receipt()` takes. */
export type ReceiptInput = RequestPayload<'receipt'>;
/** Someone else's typing state in a conversation. */
export type ChatStateNotice = Omit<Extract<ServerFrame, { type: 'chat_state' }>, 'type'>;
/** The answer to a subscription: the conversation's highest sequence when it was made. */
export type SubscribeResult = ResponseResult<'subscribe'>;
/** A chat state the client can send. */
export type ChatState = Extract<ClientFrame, { type: 'chat_state' }>['chatState'];

/** Listener signatures of {@link RealtimeClient.on}. */
export interface RealtimeEvents {
  /** A conversation event, once per sequence and in order per conversation. */
  event: (event: ConversationEvent) => void;
  /** A typing indicator from another participant. */
  chatState: (notice: ChatStateNotice) => void;
  /** A conversation the client can see was created, assigned or closed. */
  conversation: (conversation: ConversationSummary) => void;
  /** Agents: their own routing state changed (by them, a manager or the server). */
  agentState: (agent: AgentStatus) => void;
  /** Agents: a conversation rings for them until `expiresAt`; accept it with `acceptOffer`. */
  offer: (offer: { conversation: ConversationSummary; expiresAt: string }) => void;
  /** Managers and admins: the live routing view changed. */
  live: (live: LiveView) => void;
  /** Admins: something in the account needs attention (a webhook subscription Parley disabled). */
  notice: (notice: WebhookDisabledNotice) => void;
  /** The connection state changed. */
  state: (state: RealtimeState, previous: RealtimeState) => void;
  /** Something went wrong that the client handles itself (it keeps reconnecting unless the state becomes `closed`). */
  error: (error: Error) => void;
}

/** Options of {@link RealtimeClient}. */
export interface RealtimeOptions {
  /**
   * Where the server is, e.g. `https://care.example.com`; the socket goes to `wss://care.example.com/v1/ws`. A function
   * is called before every connection attempt, so a client can fail over to another node (e.g. rotate through a list).
   */
  baseUrl: BaseUrl;
  /** Supplies the token for the `auth` frame on every (re)connect; `{ expired: true }` after the server rejected it. */
  getAccessToken: TokenProvider;
  /** WebSocket constructor; defaults to the global one. Node 20 has none: pass `WebSocket` from the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect back-off (exponential with jitter, capped). */
  reconnect?: BackoffOptions;
  /** Application-level ping period (keeps idle connections alive through proxies, detects dead ones). Default 25 s. */
  pingIntervalMs?: number;
  /** A ping unanswered for this long means the connection is dead. Default: `requestTimeoutMs`. */
  pongTimeoutMs?: number;
  /** Any request (and the connect + auth handshake) unanswered for this long means the connection is dead. Default 15 s. */
  requestTimeoutMs?: number;
  /** Connect in the constructor. Default true; otherwise call `connect()`. */
  autoConnect?: boolean;
}

/** Options of {@link RealtimeClient.subscribe}. */
export interface SubscribeOptions {
  /** The highest sequence the caller already holds (e.g. from storage): replay starts after it. */
  lastSequence?: number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface Subscription {
  waiters: Waiter<SubscribeResult>[];
  result: SubscribeResult | undefined;
  confirmedOn: Connection | undefined;
}

interface OutboxEntry {
  request: SendRequest;
  waiters: Waiter<SendAck>[];
}

interface DropCause {
  code?: number;
  authError?: ParleyApiError;
  mode: DisposeMode;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_PING_INTERVAL_MS = 25_000;
const DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

/**
 * Errors after which a send or a subscription is retried on the same connection instead of failing: RATE_LIMITED
 * (after `retryAfterMs`) and SERVICE_UNAVAILABLE (the server's database is briefly away; with the reconnect back-off).
 * Sends are idempotent on `clientMessageId`, so a retry never stores a message twice.
 */
function isRetriedError(error: ParleyApiError): boolean {
  return error.code === 'RATE_LIMITED' || error.code === 'SERVICE_UNAVAILABLE';
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Parley's realtime client. It keeps one authenticated WebSocket open, reconnecting with back-off; resubscribes each
 * conversation from the last delivered sequence + 1 and delivers every event exactly once, in order; and keeps an
 * outbox of unacknowledged sends that it resends, in order, after a reconnect (the server is idempotent on
 * `clientMessageId`), so the promise `send()` returns survives reconnects.
 */
export class RealtimeClient {
  readonly #options: RealtimeOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #emitter = new Emitter<RealtimeEvents>((error, type) => this.#reportListenerError(error, type));
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #lastDelivered = new Map<string, number>();
  #outbox: OutboxEntry[] = [];
  #readyWaiters: Waiter<Connection>[] = [];
  #state: RealtimeState = 'closed';
  #connection: Connection | undefined;
  #pumping: Connection | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #dialGeneration = 0;
  #attempt = 0;
  #tokenExpired = false;
  #authFailures = 0;

  /** Creates the client; it connects at once unless `autoConnect` is false. Throws if no WebSocket is available. */
  constructor(options: RealtimeOptions) {
    this.#options = options;
    this.#WebSocket = resolveWebSocket(options.WebSocket);
    // A fixed URL is checked at once; a function is called (and its answer checked) at every dial.
    if (typeof options.baseUrl === 'string') realtimeUrl(options.baseUrl);
    if (options.autoConnect ?? true) this.connect();
  }

  /** The connection state. */
  get state(): RealtimeState {
    return this.#state;
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends keyof RealtimeEvents>(type: K, listener: RealtimeEvents[K]): () => void {
    return this.#emitter.on(type, listener);
  }

  /** Removes a listener. */
  off<K extends keyof RealtimeEvents>(type: K, listener: RealtimeEvents[K]): void {
    this.#emitter.off(type, listener);
  }

  /** Starts connecting (after `autoConnect: false`, or again after `close()`). No-op unless closed. */
  connect(): void {
    if (this.#state !== 'closed') return;
    this.#attempt = 0;
    this.#authFailures = 0;
    this.#setState('connecting');
    void this.#dial();
  }

  /**
   * Stops for good: closes the socket, stops reconnecting, rejects unacknowledged sends (read `pending()` first to keep
   * them) and unconfirmed subscriptions. Subscriptions and delivered sequences are kept for a later `connect()`.
   */
  close(): void {
    this.#shutdown(new ParleyConnectionError('closed', 'The realtime client was closed'));
  }

  /**
   * Subscribes to a conversation: the server replays its events after the last delivered (or seeded) sequence, then
   * streams live ones. Resolves with the server's answer once confirmed; re-done by itself after every reconnect.
   */
  subscribe(conversationId: string, options: SubscribeOptions = {}): Promise<SubscribeResult> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    if (options.lastSequence !== undefined && options.lastSequence > (this.#lastDelivered.get(conversationId) ?? -1)) {
      this.#lastDelivered.set(conversationId, options.lastSequence);
    }
    const connection = this.#readyConnection();
    const existing = this.#subscriptions.get(conversationId);
    if (existing?.result && connection && existing.confirmedOn === connection) return Promise.resolve(existing.result);
    const subscription = existing ?? { waiters: [], result: undefined, confirmedOn: undefined };
    if (!existing) this.#subscriptions.set(conversationId, subscription);
    return new Promise((resolve, reject) => {
      subscription.waiters.push({ resolve, reject });
      if (!existing && connection) this.#subscribeOn(connection, conversationId, subscription);
    });
  }

  /** Stops receiving a conversation's events. Its last delivered sequence is kept, so a later subscribe resumes. */
  async unsubscribe(conversationId: string): Promise<void> {
    const subscription = this.#subscriptions.get(conversationId);
    if (!subscription) return;
    this.#subscriptions.delete(conversationId);
    const error = new ParleyConnectionError('closed', 'Unsubscribed before the subscription was confirmed');
    for (const waiter of subscription.waiters.splice(0)) waiter.reject(error);
    const connection = this.#readyConnection();
    if (connection) await connection.request('unsubscribe', { conversationId }, this.#requestTimeout()).catch(() => undefined);
  }

  /** The highest sequence delivered (or seeded) for a conversation, e.g. to store it. */
  lastSequence(conversationId: string): number | undefined {
    return this.#lastDelivered.get(conversationId);
  }

  /**
   * Sends an event. It joins the outbox and goes out (in order, one at a time) as soon as the client is open; it is
   * resent after reconnects, and retried after RATE_LIMITED and SERVICE_UNAVAILABLE, until acknowledged. Resolves with
   * the server's ack (`duplicate: true` if an earlier attempt had already been stored); rejects with ParleyApiError if
   * the server refuses it otherwise, or when the client is closed.
   * Subscribe to the conversation first.
   */
  send(input: SendInput): Promise<SendAck> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const request: SendRequest = {
      conversationId: input.conversationId,
      clientMessageId: input.clientMessageId ?? newClientMessageId(),
      event: input.event,
      audience: input.audience ?? 'all',
    };
    return new Promise((resolve, reject) => {
      const same = this.#outbox.find((entry) => entry.request.clientMessageId === request.clientMessageId);
      if (same) {
        same.waiters.push({ resolve, reject });
        return;
      }
      this.#outbox.push({ request, waiters: [{ resolve, reject }] });
      const connection = this.#readyConnection();
      if (connection) void this.#pump(connection);
    });
  }

  /** Sends that are not acknowledged yet, oldest first. */
  pending(): SendRequest[] {
    return this.#outbox.map((entry) => ({ ...entry.request }));
  }

  /**
   * Marks events delivered (`accept`) or `read`. Waits until the client is open; rejects with ParleyConnectionError if
   * the connection drops before the answer (not resent: a receipt is cheap to send again).
   */
  async receipt(input: ReceiptInput): Promise<SendAck> {
    const connection = await this.#whenReady();
    await connection.subscriptions.get(input.conversationId);
    return connection.request('receipt', input, this.#requestTimeout());
  }

  /**
   * Relays a typing state. Ephemeral: when the client is not open nothing is sent and it resolves false; true once the
   * server accepted it.
   */
  async chatState(conversationId: string, chatState: ChatState): Promise<boolean> {
    const connection = this.#readyConnection();
    if (!connection) return false;
    await connection.request('chat_state', { conversationId, chatState }, this.#requestTimeout());
    return true;
  }

  // ---------- connection lifecycle ----------

  async #dial(): Promise<void> {
    const generation = ++this.#dialGeneration;
    let token: string | undefined;
    try {
      token = await this.#options.getAccessToken({ expired: this.#tokenExpired });
    } catch (error) {
      if (generation !== this.#dialGeneration || this.#state === 'closed') return;
      if (error instanceof ParleyApiError && error.status === 401 && !error.retryable) {
        this.#fail(error);
        return;
      }
      this.#emitError(toError(error));
      this.#scheduleReconnect(false);
      return;
    }
    if (generation !== this.#dialGeneration || this.#state === 'closed') return;
    if (!token) {
      this.#fail(new ParleyApiError(401, { code: 'UNAUTHENTICATED', message: 'getAccessToken returned no token' }));
      return;
    }
    let socket: InstanceType<WebSocketConstructor>;
    try {
      socket = new this.#WebSocket(realtimeUrl(resolveBaseUrl(this.#options.baseUrl)));
    } catch (error) {
      this.#emitError(toError(error));
      this.#scheduleReconnect(false);
      return;
    }
    const connection = new Connection(socket, (dead) => this.#drop(dead, { mode: 'terminate' }));
    this.#connection = connection;
    const cancelHandshake = connection.after(this.#requestTimeout(), () => this.#drop(connection, { mode: 'terminate' }));
    socket.onopen = () => void this.#authenticate(connection, token, cancelHandshake);
    socket.onmessage = (message) => this.#onMessage(connection, message.data);
    socket.onclose = (event) => this.#drop(connection, { code: event.code, mode: 'closed' });
    socket.onerror = () => {}; // a close event always follows
  }

  async #authenticate(connection: Connection, token: string, cancelHandshake: () => void): Promise<void> {
    try {
      await connection.request('auth', { token, protocolVersion: PROTOCOL_VERSION }, this.#requestTimeout());
    } catch (error) {
      if (error instanceof ParleyApiError) this.#drop(connection, { authError: error, mode: 'normal' });
      else if (!(error instanceof ParleyConnectionError)) this.#drop(connection, { mode: 'terminate' });
      return;
    }
    if (connection !== this.#connection || connection.dead) return;
    cancelHandshake();
    connection.authenticated = true;
    this.#attempt = 0;
    this.#authFailures = 0;
    this.#tokenExpired = false;
    this.#setState('open');
    const pingEvery = this.#options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    const pongTimeout = this.#options.pongTimeoutMs ?? this.#requestTimeout();
    connection.every(pingEvery, () => void connection.request('ping', {}, pongTimeout).catch(() => undefined));
    for (const [conversationId, subscription] of this.#subscriptions) this.#subscribeOn(connection, conversationId, subscription);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(connection);
    void this.#pump(connection);
  }

  #drop(connection: Connection, cause: DropCause): void {
    if (connection.dead) return;
    connection.dispose(new ParleyConnectionError('lost', 'The connection was lost'), cause.mode);
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    if (this.#state === 'closed') return;
    const { authError, code } = cause;
    if (authError?.code === 'UNSUPPORTED_PROTOCOL_VERSION') {
      this.#fail(authError);
      return;
    }
    const expired = authError?.code === 'TOKEN_EXPIRED' || code === WS_CLOSE.TOKEN_EXPIRED;
    const refused = !expired && (authError ? authError.status === 401 : code === WS_CLOSE.UNAUTHENTICATED);
    if (refused) {
      this.#authFailures++;
      const error = authError ?? new ParleyApiError(401, { code: 'UNAUTHENTICATED', message: 'The server closed the connection as unauthenticated (4401)' });
      // Once with a fresh token; refused again means the credentials are not valid.
      if (this.#authFailures >= 2) {
        this.#fail(error);
        return;
      }
      this.#emitError(error);
    }
    if (expired || refused) this.#tokenExpired = true;
    this.#scheduleReconnect(expired || refused, authError?.retryAfterMs ?? 0);
  }

  #scheduleReconnect(refreshingToken: boolean, minDelayMs = 0): void {
    if (this.#state === 'closed') return;
    const immediate = refreshingToken && this.#attempt === 0;
    const delay = Math.max(minDelayMs, immediate ? 0 : backoffDelay(this.#attempt, this.#options.reconnect));
    this.#attempt++;
    this.#setState('reconnecting');
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#dial();
    }, delay);
  }

  #fail(error: ParleyApiError | Error): void {
    this.#emitError(error);
    this.#shutdown(new ParleyConnectionError('closed', `The realtime client stopped: ${error.message}`, { cause: error }));
  }

  #shutdown(reason: ParleyConnectionError): void {
    if (this.#state === 'closed') return;
    this.#dialGeneration++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#setState('closed');
    connection?.dispose(reason, 'normal');
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const entry of outbox) for (const waiter of entry.waiters) waiter.reject(reason);
    for (const subscription of this.#subscriptions.values()) {
      for (const waiter of subscription.waiters.splice(0)) waiter.reject(reason);
      subscription.confirmedOn = undefined;
    }
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(reason);
  }

  // ---------- frames ----------

  #onMessage(connection: Connection, data: unknown): void {
    if (connection.dead) return;
    const text = messageText(data);
    const frame = text === undefined ? undefined : parseServerFrame(text);
    if (frame === null) return; // a frame type from a newer server
    if (frame === undefined) {
      this.#emitError(new Error(`Ignored a malformed frame from the server: ${String(text).slice(0, 200)}`));
      return;
    }
    switch (frame.type) {
      case 'hello':
        connection.hello = frame;
        break;
      case 'response':
        connection.handleResponse(frame);
        break;
      case 'event':
        this.#deliver(frame.event);
        break;
      case 'chat_state': {
        const { type: _type, ...notice } = frame;
        this.#emitter.emit('chatState', notice);
        break;
      }
      case 'conversation':
        this.#emitter.emit('conversation', frame.conversation);
        break;
      case 'agent_state':
        this.#emitter.emit('agentState', frame.agent);
        break;
      case 'offer':
        this.#emitter.emit('offer', { conversation: frame.conversation, expiresAt: frame.expiresAt });
        break;
      case 'live':
        this.#emitter.emit('live', frame.live);
        break;
      case 'notice':
        this.#emitter.emit('notice', frame.notice);
        break;
    }
  }

  /** Delivers an event once: anything at or below the last delivered sequence is a replay already seen. */
  #deliver(event: ConversationEvent): void {
    if (!this.#subscriptions.has(event.conversationId)) return;
    if (event.sequence <= (this.#lastDelivered.get(event.conversationId) ?? -1)) return;
    this.#lastDelivered.set(event.conversationId, event.sequence);
    this.#emitter.emit('event', event);
  }

  // ---------- subscriptions and the outbox ----------

  #subscribeOn(connection: Connection, conversationId: string, subscription: Subscription): void {
    connection.subscriptions.set(conversationId, this.#runSubscribe(connection, conversationId, subscription));
  }

  /** Subscribes on one connection; never rejects (its settling is what sends to the conversation wait for). */
  async #runSubscribe(connection: Connection, conversationId: string, subscription: Subscription): Promise<void> {
    let unavailable = 0;
    for (;;) {
      const fromSeq = (this.#lastDelivered.get(conversationId) ?? -1) + 1;
      try {
        const result = await connection.request('subscribe', { conversationId, fromSeq }, this.#requestTimeout());
        if (this.#subscriptions.get(conversationId) !== subscription) return;
        subscription.result = result;
        subscription.confirmedOn = connection;
        for (const waiter of subscription.waiters.splice(0)) waiter.resolve(result);
        return;
      } catch (error) {
        if (!(error instanceof ParleyApiError)) return; // connection lost: redone on the next connection
        if (isRetriedError(error)) {
          const waited = await connection.sleep(this.#retryDelay(error, unavailable++)).then(
            () => true,
            () => false,
          );
          if (!waited || this.#subscriptions.get(conversationId) !== subscription) return;
          continue;
        }
        if (this.#subscriptions.get(conversationId) === subscription) this.#subscriptions.delete(conversationId);
        if (subscription.waiters.length === 0) this.#emitError(error);
        for (const waiter of subscription.waiters.splice(0)) waiter.reject(error);
        return;
      }
    }
  }

  /** Sends the outbox one entry at a time, in order, on `connection`; stops when the connection goes. */
  async #pump(connection: Connection): Promise<void> {
    if (this.#pumping === connection) return;
    this.#pumping = connection;
    let unavailable = 0;
    try {
      while (connection === this.#connection && !connection.dead) {
        const entry = this.#outbox[0];
        if (!entry) return;
        await connection.subscriptions.get(entry.request.conversationId);
        if (connection !== this.#connection || connection.dead) return;
        try {
          const ack = await connection.request('send', entry.request, this.#requestTimeout());
          unavailable = 0;
          this.#settle(entry, (waiter) => waiter.resolve(ack));
        } catch (error) {
          if (!(error instanceof ParleyApiError)) {
            if (error instanceof ParleyConnectionError) return; // resent after the reconnect
            this.#settle(entry, (waiter) => waiter.reject(error));
            continue;
          }
          if (isRetriedError(error)) {
            const waited = await connection.sleep(this.#retryDelay(error, unavailable++)).then(
              () => true,
              () => false,
            );
            if (!waited) return;
            continue;
          }
          this.#settle(entry, (waiter) => waiter.reject(error));
        }
      }
    } finally {
      if (this.#pumping === connection) this.#pumping = undefined;
    }
  }

  #settle(entry: OutboxEntry, settle: (waiter: Waiter<SendAck>) => void): void {
    const index = this.#outbox.indexOf(entry);
    if (index >= 0) this.#outbox.splice(index, 1);
    for (const waiter of entry.waiters) settle(waiter);
  }

  // ---------- helpers ----------

  #readyConnection(): Connection | undefined {
    const connection = this.#connection;
    return connection?.authenticated && !connection.dead ? connection : undefined;
  }

  #whenReady(): Promise<Connection> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const connection = this.#readyConnection();
    if (connection) return Promise.resolve(connection);
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** How long to wait before retrying a request refused with a retried error (`attempt`: SERVICE_UNAVAILABLE so far). */
  #retryDelay(error: ParleyApiError, attempt: number): number {
    if (error.code === 'RATE_LIMITED') return error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    return error.retryAfterMs ?? backoffDelay(attempt, this.#options.reconnect);
  }

  #requestTimeout(): number {
    return this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  #closedError(): ParleyConnectionError {
    return new ParleyConnectionError('closed', 'The realtime client is closed; call connect() first');
  }

  #setState(state: RealtimeState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emitter.emit('state', state, previous);
  }

  #emitError(error: Error): void {
    this.#emitter.emit('error', error);
  }

  #reportListenerError(error: unknown, type: keyof RealtimeEvents): void {
    if (type !== 'error' && this.#emitter.count('error') > 0) {
      this.#emitter.emit('error', toError(error));
    } else {
      console.error('[parley] a realtime listener threw', error);
    }
  }
}
