import { type ServerFrame, ServerFrameSchema, WS_PATH } from '@parley/protocol';
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/**
 * A bare protocol client for gateway tests: every server frame is validated against the contract and kept, so
 * tests can wait for what they expect. (Product clients use @parley/sdk.)
 */
export class WsTestClient {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = ServerFrameSchema.parse(JSON.parse(data.toString()));
      this.frames.push(frame);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect(baseUrl: string, headers: Record<string, string> = {}): Promise<WsTestClient> {
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + WS_PATH, { headers });
    const client = new WsTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await client.waitFor((f) => f.type === 'hello');
    return client;
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Sends a request and resolves with its response frame. */
  async request(frame: Record<string, unknown>): Promise<Extract<ServerFrame, { type: 'response' }>> {
    const id = String(this.nextId++);
    this.socket.send(JSON.stringify({ id, ...frame }));
    const response = await this.waitFor((f): f is Extract<ServerFrame, { type: 'response' }> => f.type === 'response' && f.id === id);
    return response;
  }

  /**
   * Sends several requests in one write (the socket corked around them), as a client that pipelines them, so the server
   * reads them together; resolves with their responses in the same order.
   */
  async requestTogether(frames: Array<Record<string, unknown>>): Promise<Array<Extract<ServerFrame, { type: 'response' }>>> {
    const ids = frames.map(() => String(this.nextId++));
    // ws keeps its TCP socket private; corking it is the only way to make the frames one write.
    const tcp = (this.socket as unknown as { _socket: Socket })._socket;
    tcp.cork();
    for (const [i, frame] of frames.entries()) this.socket.send(JSON.stringify({ id: ids[i], ...frame }));
    process.nextTick(() => tcp.uncork());
    return Promise.all(ids.map((id) => this.waitFor((f): f is Extract<ServerFrame, { type: 'response' }> => f.type === 'response' && f.id === id)));
  }

  events(conversationId?: string): Array<Extract<ServerFrame, { type: 'event' }>['event']> {
    return this.frames.flatMap((f) => (f.type === 'event' && (!conversationId || f.event.conversationId === conversationId) ? [f.event] : []));
  }

  async waitFor<T extends ServerFrame>(predicate: ((f: ServerFrame) => f is T) | ((f: ServerFrame) => boolean), timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate as (f: ServerFrame) => boolean);
      if (found) return found as T;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    await this.waitUntil(() => this.closed !== undefined, timeoutMs);
    return this.closed as { code: number; reason: string };
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
