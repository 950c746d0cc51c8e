import { type ClientFrame, type ClientFrameType, type ResponseResult, type ServerFrame, WS_PATH } from '@parley/protocol';
import WebSocket from 'ws';

/**
 * A minimal client of Parley's realtime protocol (packages/protocol/src/realtime.ts) over a raw `ws` socket, for the
 * load generator. Unlike the SDK's RealtimeClient it has no outbox, no retries, no reconnects, no per-request timers
 * and no ordering layer: one JSON.parse per frame and a callback. A benchmark must see every error and every gap as it
 * happens (the SDK would retry RATE_LIMITED and SERVICE_UNAVAILABLE, resubscribe and hide them), and a single
 * generator core has to drive thousands of sockets without its own bookkeeping becoming the bottleneck.
 */

/** A client frame without its `id` (distributes over the union, so each type keeps its own fields). */
export type FrameBody = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'id'> : never) : never;
export type ResponseFrame = Extract<ServerFrame, { type: 'response' }>;

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export class WireClient {
  /** Frames other than answers to `request()`: pushed events, conversations, and answers to `sendRaw()`. */
  onFrame: (frame: ServerFrame, receivedAt: number) => void = () => {};
  /** The socket closed (code and reason as the server gave them). */
  onClose: (code: number, reason: string) => void = () => {};
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString()) as ServerFrame;
      if (frame.type === 'response') {
        const waiter = this.pending.get(frame.id);
        if (waiter) {
          this.pending.delete(frame.id);
          if (frame.ok) waiter.resolve(frame.result);
          else waiter.reject(new RequestError(frame.error?.code ?? 'UNKNOWN', frame.error?.message ?? ''));
          return;
        }
      }
      this.onFrame(frame, at);
    });
    socket.on('close', (code, reason) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`socket closed (${code} ${reason.toString()})`));
      this.pending.clear();
      this.onClose(code, reason.toString());
    });
  }

  /**
   * Opens a socket authenticated by the `Authorization` header and resolves once the server has checked the token: the
   * `hello` frame, then the answer to a `ping` (requests are handled in order, after the header's authentication).
   */
  static connect(baseUrl: string, token: string, timeoutMs = 30_000): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const url = `${baseUrl.replace(/^http/, 'ws')}${WS_PATH}`;
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      const earlyClose = (code: number, reason: Buffer) => fail(new Error(`closed while connecting (${code} ${reason.toString()})`));
      socket.once('error', fail);
      socket.once('close', earlyClose);
      socket.once('message', () => {
        // The first frame is `hello`; the ping's answer proves the connection is authenticated.
        socket.off('error', fail);
        socket.off('close', earlyClose);
        socket.on('error', () => {});
        const client = new WireClient(socket);
        client.request({ type: 'ping' }).then(
          () => {
            clearTimeout(timer);
            resolve(client);
          },
          (error: Error) => fail(error),
        );
      });
    });
  }

  /** Sends a request and resolves with its result (rejects with RequestError when the server answers ok: false). */
  request<T extends FrameBody>(body: T): Promise<ResponseResult<T['type'] & ClientFrameType>> {
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.socket.send(JSON.stringify({ ...body, id }));
    });
  }

  /** Sends a frame whose answer goes to `onFrame` (the hot path: no promise, no map entry). */
  sendRaw(frame: ClientFrame): void {
    this.socket.send(JSON.stringify(frame));
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.socket.close(1000, 'bench done');
  }

  terminate(): void {
    this.socket.terminate();
  }
}
