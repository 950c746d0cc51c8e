import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ClientFrame,
  ClientFrameSchema,
  type ConversationEvent,
  type EndpointName,
  type ErrorCode,
  type ResponseResult,
  type SendAck,
  type ServerFrame,
  WS_CLOSE,
  WS_PATH,
  endpoints,
  errorCatalogue,
} from '@parley/protocol';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A small in-process stand-in for the Parley server, for the SDK's unit tests: a real `ws` WebSocketServer that
 * speaks the realtime protocol (validating every client frame with ClientFrameSchema) and a plain HTTP server whose
 * REST routes are matched from the endpoint catalogue and answered by per-test handlers. Tests can intercept frames
 * and drop connections. Not part of the SDK's public API.
 */

/** One client connection as the fake server sees it. */
export interface FakeConnection {
  readonly socket: WebSocket;
  /** Valid frames received on this connection, in order. */
  readonly frames: ClientFrame[];
  /** The token it authenticated with. */
  token: string | undefined;
  readonly subscriptions: Set<string>;
  /** Sends a server frame. */
  push(frame: ServerFrame): void;
  /** Answers a request with a result. */
  respond(id: string, result: unknown): void;
  /** Answers a request with an error. */
  fail(id: string, code: ErrorCode, message?: string, details?: Record<string, unknown>): void;
}

/** Return true when the hook answered the frame itself (the default handling is skipped). */
export type FrameHook = (frame: ClientFrame, connection: FakeConnection) => boolean;

/** A REST request routed to a test handler. */
export interface RestCall {
  name: EndpointName;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, if any. */
  body: unknown;
  raw: Buffer;
  /** Parses a multipart body. */
  formData(): Promise<FormData>;
}

/** What a REST handler answers. */
export interface RestReply {
  status: number;
  body?: unknown;
}

export type RestHandler = (call: RestCall) => RestReply | Promise<RestReply>;

/** A text content event, as the server would store it. */
export function textEvent(conversationId: string, sequence: number, message: string, audience: 'all' | 'agents_and_managers' = 'all'): ConversationEvent {
  return {
    id: randomUUID(),
    conversationId,
    sequence,
    originator: { id: '00000000-0000-4000-8000-000000000001', role: 'consumer', name: null },
    audience,
    createdAt: new Date().toISOString(),
    type: 'content',
    clientMessageId: null,
    content: { contentType: 'text/plain', message },
  };
}

/** An error body as the server sends it. */
export function errorBody(code: ErrorCode, message: string = code, details?: Record<string, unknown>) {
  return { error: { code, message, retryable: errorCatalogue[code].retryable, ...(details ? { details } : {}) } };
}

function pathPattern(path: string): RegExp {
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z_]\w*)/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

const routes = (Object.keys(endpoints) as EndpointName[]).map((name) => ({
  name,
  method: endpoints[name].method,
  pattern: pathPattern(endpoints[name].path),
}));

export class FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly connections: FakeConnection[] = [];
  /** Frames that failed ClientFrameSchema: a test should expect this to stay empty. */
  readonly invalidFrames: unknown[] = [];
  /** Tokens that authenticate. */
  readonly tokens = new Set<string>(['token-1']);
  /** Tokens answered with TOKEN_EXPIRED (close 4402). */
  readonly expiredTokens = new Set<string>();
  /** Stored events per conversation. */
  readonly events = new Map<string, ConversationEvent[]>();
  /** Acks per clientMessageId (the idempotency store). */
  readonly acks = new Map<string, SendAck>();
  /** Runs before the default handling of each valid frame. */
  hook: FrameHook | undefined;
  /** REST handlers by endpoint name; unhandled routes answer 404 ROUTE_NOT_FOUND. */
  readonly rest: Partial<Record<EndpointName, RestHandler>> = {};
  readonly restCalls: RestCall[] = [];
  /** Heartbeat interval announced in hello. */
  heartbeatIntervalMs = 30_000;

  readonly #http: Server;
  readonly #wss: WebSocketServer;

  private constructor(http: Server, wss: WebSocketServer) {
    this.#http = http;
    this.#wss = wss;
    const address = http.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${address.port}`;
  }

  /** Starts on 127.0.0.1, on a free port. */
  static async start(): Promise<FakeServer> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: WS_PATH });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeServer(http, wss);
    http.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void server.#handleRest(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks)).then((reply) => {
          if (reply.body === undefined) {
            res.writeHead(reply.status).end();
          } else {
            res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
          }
        });
      });
    });
    wss.on('connection', (socket) => server.#accept(socket));
    return server;
  }

  /** The connection accepted last. */
  get last(): FakeConnection | undefined {
    return this.connections.at(-1);
  }

  /** All valid frames received, over every connection. */
  get frames(): ClientFrame[] {
    return this.connections.flatMap((connection) => connection.frames);
  }

  /** Stores an event without pushing it (as if written while the client was away). */
  store(conversationId: string, message = 'hello', audience: 'all' | 'agents_and_managers' = 'all'): ConversationEvent {
    const list = this.events.get(conversationId) ?? [];
    const event = textEvent(conversationId, (list.at(-1)?.sequence ?? 0) + 1, message, audience);
    list.push(event);
    this.events.set(conversationId, list);
    return event;
  }

  /** Stores an event and pushes it to every subscriber that may see it. */
  publish(conversationId: string, message = 'hello', audience: 'all' | 'agents_and_managers' = 'all'): ConversationEvent {
    const event = this.store(conversationId, message, audience);
    this.#broadcast(event);
    return event;
  }

  /** Closes every client connection with `code`, or cuts them (no close frame) when no code is given. */
  drop(code?: number): void {
    for (const connection of this.connections) {
      if (connection.socket.readyState !== connection.socket.OPEN) continue;
      if (code === undefined) connection.socket.terminate();
      else connection.socket.close(code, 'test');
    }
  }

  /** Connections still open. */
  open(): FakeConnection[] {
    return this.connections.filter((connection) => connection.socket.readyState === connection.socket.OPEN);
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    const connection: FakeConnection = {
      socket,
      frames: [],
      token: undefined,
      subscriptions: new Set(),
      push: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
      },
      respond: (id, result) => connection.push({ type: 'response', id, ok: true, result }),
      fail: (id, code, message = code, details) => connection.push({ type: 'response', id, ok: false, error: errorBody(code, message, details).error }),
    };
    this.connections.push(connection);
    connection.push({ type: 'hello', protocolVersion: 1, connectionId: randomUUID(), heartbeatIntervalMs: this.heartbeatIntervalMs, authDeadlineMs: 5_000 });
    socket.on('message', (data: Buffer) => {
      let json: unknown;
      try {
        json = JSON.parse(data.toString());
      } catch {
        json = data.toString();
      }
      const parsed = ClientFrameSchema.safeParse(json);
      if (!parsed.success) {
        this.invalidFrames.push(json);
        return;
      }
      connection.frames.push(parsed.data);
      if (this.hook?.(parsed.data, connection)) return;
      this.#handle(parsed.data, connection);
    });
  }

  #handle(frame: ClientFrame, connection: FakeConnection): void {
    const ok = <T extends ClientFrame['type']>(result: ResponseResult<T>) => connection.respond(frame.id, result);
    if (frame.type !== 'auth' && connection.token === undefined) {
      connection.fail(frame.id, 'UNAUTHENTICATED');
      connection.socket.close(WS_CLOSE.UNAUTHENTICATED);
      return;
    }
    switch (frame.type) {
      case 'auth':
        if (this.expiredTokens.has(frame.token)) {
          connection.fail(frame.id, 'TOKEN_EXPIRED');
          connection.socket.close(WS_CLOSE.TOKEN_EXPIRED);
        } else if (this.tokens.has(frame.token)) {
          connection.token = frame.token;
          ok<'auth'>({ principal: { kind: 'consumer', id: randomUUID(), accountId: randomUUID() } });
        } else {
          connection.fail(frame.id, 'UNAUTHENTICATED');
          connection.socket.close(WS_CLOSE.UNAUTHENTICATED);
        }
        return;
      case 'subscribe': {
        connection.subscriptions.add(frame.conversationId);
        const stored = this.events.get(frame.conversationId) ?? [];
        for (const event of stored) {
          if (event.sequence >= frame.fromSeq && event.audience === 'all') connection.push({ type: 'event', event });
        }
        ok<'subscribe'>({ conversationId: frame.conversationId, lastSequence: stored.at(-1)?.sequence ?? 0 });
        return;
      }
      case 'unsubscribe':
        connection.subscriptions.delete(frame.conversationId);
        ok<'unsubscribe'>({ conversationId: frame.conversationId });
        return;
      case 'send': {
        const known = this.acks.get(frame.clientMessageId);
        if (known) {
          ok<'send'>({ ...known, duplicate: true });
          return;
        }
        const text = frame.event.type === 'content' && frame.event.content.contentType === 'text/plain' ? frame.event.content.message : '[rich]';
        const event = this.store(frame.conversationId, text, frame.audience);
        const ack: SendAck = { eventId: event.id, conversationId: event.conversationId, sequence: event.sequence, duplicate: false, createdAt: event.createdAt };
        this.acks.set(frame.clientMessageId, ack);
        this.#broadcast(event);
        ok<'send'>(ack);
        return;
      }
      case 'receipt': {
        const event = this.store(frame.conversationId, `receipt ${frame.status}`);
        this.#broadcast(event);
        ok<'receipt'>({ eventId: event.id, conversationId: event.conversationId, sequence: event.sequence, duplicate: false, createdAt: event.createdAt });
        return;
      }
      case 'chat_state':
        for (const other of this.connections) {
          if (other !== connection && other.subscriptions.has(frame.conversationId)) {
            other.push({ type: 'chat_state', conversationId: frame.conversationId, participantId: randomUUID(), role: 'consumer', chatState: frame.chatState });
          }
        }
        ok<'chat_state'>({});
        return;
      case 'ping':
        ok<'ping'>({ serverTime: new Date().toISOString() });
        return;
    }
  }

  #broadcast(event: ConversationEvent): void {
    for (const connection of this.connections) {
      if (connection.subscriptions.has(event.conversationId) && event.audience === 'all') connection.push({ type: 'event', event });
    }
  }

  async #handleRest(method: string, url: string, headers: IncomingHttpHeaders, raw: Buffer): Promise<RestReply> {
    const parsed = new URL(url, this.baseUrl);
    for (const route of routes) {
      const match = route.method === method ? route.pattern.exec(parsed.pathname) : null;
      if (!match) continue;
      const handler = this.rest[route.name];
      if (!handler) break;
      const contentType = headers['content-type'] ?? '';
      const call: RestCall = {
        name: route.name,
        method,
        path: parsed.pathname,
        params: { ...match.groups },
        query: Object.fromEntries(parsed.searchParams),
        headers,
        body: contentType.startsWith('application/json') && raw.length > 0 ? JSON.parse(raw.toString()) : undefined,
        raw,
        formData: () => new Request(parsed, { method, headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData(),
      };
      this.restCalls.push(call);
      return handler(call);
    }
    return { status: 404, body: errorBody('ROUTE_NOT_FOUND') };
  }
}
