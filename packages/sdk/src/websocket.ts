import { WS_PATH } from '@parley/protocol';

/** Declares a callback whose parameter is checked bivariantly, so both DOM and `ws` handler types fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the realtime client uses: met by browsers' WebSocket and by `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the TCP connection without a closing handshake. */
  terminate?(): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from the `ws` package in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * Where the server is: a URL, or a function called for every connection attempt and every REST request (to fail over
 * between the nodes of a cluster without a load balancer: return the next node's URL, or one known to be up).
 */
export type BaseUrl = string | (() => string);

/** The URL to use now. */
export function resolveBaseUrl(baseUrl: BaseUrl): string {
  return typeof baseUrl === 'function' ? baseUrl() : baseUrl;
}

/** `https://host/base` -> `wss://host/base/v1/ws` (and http -> ws). */
export function realtimeUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${WS_PATH}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

function isConstructor(value: unknown): value is WebSocketConstructor {
  return typeof value === 'function';
}

/** The given constructor, else the global one; throws with a hint when neither exists (Node 20 has no global). */
export function resolveWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor {
  if (given) return given;
  const global: unknown = Reflect.get(globalThis, 'WebSocket');
  if (isConstructor(global)) return global;
  throw new TypeError('No WebSocket implementation: pass one as the `WebSocket` option (in Node 20: `import { WebSocket } from "ws"`).');
}

/** Text of a message event's data (`ws` may hand over a Buffer for binary frames). */
export function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return undefined;
}
