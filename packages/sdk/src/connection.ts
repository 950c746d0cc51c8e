import { type ClientFrame, type ClientFrameType, type ResponseResult, type ServerFrame, ResponseResults } from '@parley/protocol';
import { ParleyApiError, ParleyConnectionError } from './errors.ts';
import type { WebSocketLike } from './websocket.ts';

type ResponseFrame = Extract<ServerFrame, { type: 'response' }>;
type HelloFrame = Extract<ServerFrame, { type: 'hello' }>;

/** The fields of a request frame other than `id` and `type`. */
export type RequestPayload<T extends ClientFrameType> = Omit<Extract<ClientFrame, { type: T }>, 'id' | 'type'>;

interface PendingRequest {
  type: ClientFrameType;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** How a connection is let go: the server already closed it, we close it politely, or we cut it (dead peer). */
export type DisposeMode = 'closed' | 'normal' | 'terminate';

const noop = () => {};

/**
 * One WebSocket connection and its request/response bookkeeping. Every request gets a timeout: an unanswered request
 * means the connection is dead, and `onTimeout` is told so the client can drop it and reconnect.
 */
export class Connection {
  readonly socket: WebSocketLike;
  /** The server's hello, once received. */
  hello: HelloFrame | undefined;
  /** True once the `auth` request succeeded. */
  authenticated = false;
  /** True once disposed; nothing is sent any more. */
  dead = false;
  /** Per conversation: settles when its subscribe request on this connection is answered (either way). */
  readonly subscriptions = new Map<string, Promise<void>>();

  readonly #pending = new Map<string, PendingRequest>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #sleepers = new Set<(error: unknown) => void>();
  readonly #onTimeout: (connection: Connection) => void;
  #nextId = 0;
  #deathCause: ParleyConnectionError | undefined;

  constructor(socket: WebSocketLike, onTimeout: (connection: Connection) => void) {
    this.socket = socket;
    this.#onTimeout = onTimeout;
  }

  /** Sends a request frame; resolves with the validated `result`, rejects with ParleyApiError or ParleyConnectionError. */
  request<T extends ClientFrameType>(type: T, payload: RequestPayload<T>, timeoutMs: number): Promise<ResponseResult<T>> {
    if (this.dead) return Promise.reject(this.#deathCause ?? lost());
    const id = `r${++this.#nextId}`;
    return new Promise<ResponseResult<T>>((resolve, reject) => {
      const timer = setTimeout(() => this.#onTimeout(this), timeoutMs);
      this.#pending.set(id, {
        type,
        timer,
        reject,
        resolve: (result) => {
          const parsed = ResponseResults[type].safeParse(result);
          if (parsed.success) resolve(parsed.data as ResponseResult<T>);
          else reject(new Error(`Malformed ${type} result from the server: ${parsed.error.message}`));
        },
      });
      try {
        this.socket.send(JSON.stringify({ id, type, ...payload }));
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new ParleyConnectionError('lost', 'Could not write to the socket', { cause: error }));
        this.#onTimeout(this);
      }
    });
  }

  /** Settles the request a `response` frame answers. */
  handleResponse(frame: ResponseFrame): void {
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.result ?? {});
    else if (frame.error) pending.reject(ParleyApiError.fromWire(frame.error));
    else pending.reject(new Error(`The server refused ${pending.type} without an error body`));
  }

  /** Waits `ms`; rejects if the connection dies first. */
  sleep(ms: number): Promise<void> {
    if (this.dead) return Promise.reject(this.#deathCause ?? lost());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#sleepers.delete(reject);
        resolve();
      }, ms);
      this.#timers.add(timer);
      this.#sleepers.add(reject);
    });
  }

  /** Runs `task` every `ms` until the connection is disposed. */
  every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    this.#timers.add(timer);
  }

  /** Runs `task` once after `ms` unless the connection is disposed first; returns a cancel function. */
  after(ms: number, task: () => void): () => void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, ms);
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  /** Stops everything: rejects pending requests and sleeps with `cause`, clears timers, lets go of the socket. */
  dispose(cause: ParleyConnectionError, mode: DisposeMode): void {
    if (this.dead) return;
    this.dead = true;
    this.#deathCause = cause;
    for (const timer of this.#timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.#timers.clear();
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(cause);
    }
    this.#pending.clear();
    for (const reject of this.#sleepers) reject(cause);
    this.#sleepers.clear();
    const socket = this.socket;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = noop; // `ws` throws on an 'error' event nobody listens to
    if (mode === 'closed') return;
    try {
      if (mode === 'terminate' && socket.terminate) socket.terminate();
      else socket.close(mode === 'normal' ? 1000 : 4000, mode === 'normal' ? 'client closed' : 'connection dead');
    } catch {
      // already closing or never opened
    }
  }
}

function lost(): ParleyConnectionError {
  return new ParleyConnectionError('lost', 'The connection was lost');
}
