import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ConversationEvent, ResponseResults, type SendAck, type ServerFrame, ServerFrameSchema, WS_PATH } from '@parley/protocol';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageMode } from './test/test-database.ts';
import { createScratchDatabase, http, killAllChildren, type ServerProcess, startServerProcess } from './test/server-process.ts';

/**
 * The durability promise, end to end: a message the server acknowledged is stored, whatever happens to the process
 * afterwards. Real server processes, real sockets, SIGKILL in the middle of a stream of sends, restart on the same
 * storage, then count what is there. Runs in the storage mode of the suite (PARLEY_TEST_DATABASE_URL: PostgreSQL).
 */

const ADMIN_EMAIL = 'crash-admin@parley.test';
const ADMIN_PASSWORD = 'crash-admin-password';
const CONVERSATIONS = 4;
/** Per conversation: one connection that waits for each ack, one that keeps this many sends in flight. */
const PIPELINE_WINDOW = 12;
const KILL_AFTER_ACKS = 200;

interface Sent {
  clientMessageId: string;
  conversationId: string;
  message: string;
}

type AckResult = { kind: 'ack'; ack: SendAck } | { kind: 'error'; code: string; message: string };
type ResponseFrame = Extract<ServerFrame, { type: 'response' }>;

function toResult(frame: ResponseFrame): AckResult {
  if (!frame.ok) return { kind: 'error', code: frame.error?.code ?? '?', message: frame.error?.message ?? '' };
  const ack = ResponseResults.send.safeParse(frame.result);
  return ack.success ? { kind: 'ack', ack: ack.data } : { kind: 'error', code: 'BAD_ACK', message: JSON.stringify(frame.result) };
}

/** Answers `id -> result` for every response frame; resolves `closed` when the socket is gone. */
class Connection {
  private nextId = 1;
  private readonly pending = new Map<string, (frame: ResponseFrame) => void>();
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = ServerFrameSchema.parse(JSON.parse(data.toString()));
      if (frame.type !== 'response') return;
      const resolve = this.pending.get(frame.id);
      if (!resolve) return;
      this.pending.delete(frame.id);
      resolve(frame);
    });
    // After a SIGKILL the socket errors (ECONNRESET) or just closes; either way it is over.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      });
    });
  }

  static async open(baseUrl: string, token: string): Promise<Connection> {
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + WS_PATH);
    const connection = new Connection(socket);
    const hello = new Promise<void>((resolve, reject) => {
      socket.once('message', (data) => {
        const frame = ServerFrameSchema.parse(JSON.parse(data.toString()));
        if (frame.type === 'hello') resolve();
        else reject(new Error(`expected hello, got ${frame.type}`));
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before hello')));
    });
    await hello;
    const auth = await connection.request({ type: 'auth', token });
    if (!auth.ok) throw new Error(`auth failed: ${JSON.stringify(auth.error)}`);
    return connection;
  }

  /** Sends a frame; the promise settles with its response, or never if the server dies first. */
  request(frame: Record<string, unknown>): Promise<ResponseFrame> {
    const id = String(this.nextId++);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, ...frame }));
    });
  }

  async send(item: Sent): Promise<AckResult> {
    return toResult(
      await this.request({
        type: 'send',
        conversationId: item.conversationId,
        clientMessageId: item.clientMessageId,
        event: { type: 'content', content: { contentType: 'text/plain', message: item.message } },
      }),
    );
  }

  close(): void {
    this.socket.terminate();
  }
}

/** Every event of a conversation, oldest first, through the public API, page by page. */
async function readAll(baseUrl: string, token: string, conversationId: string): Promise<{ events: ConversationEvent[]; lastSequence: number }> {
  const events: ConversationEvent[] = [];
  let fromSeq = 0;
  for (;;) {
    const page = await http(baseUrl, 'listEvents', { token, params: { conversationId }, query: { fromSeq, limit: 500 } });
    if (page.status !== 200) throw new Error(`listEvents: ${page.status} ${JSON.stringify(page.body)}`);
    events.push(...page.body.items);
    const last = page.body.items.at(-1);
    if (!page.body.hasMore || !last) return { events, lastSequence: page.body.lastSequence };
    fromSeq = last.sequence + 1;
  }
}

/** clientMessageId -> the sequences of the content events that carry it. */
function byClientMessageId(events: ConversationEvent[]): Map<string, Array<{ sequence: number; message: string | undefined }>> {
  const found = new Map<string, Array<{ sequence: number; message: string | undefined }>>();
  for (const event of events) {
    if (event.type !== 'content' || event.clientMessageId === null) continue;
    const message = event.content.contentType === 'text/plain' ? event.content.message : undefined;
    const list = found.get(event.clientMessageId) ?? [];
    list.push({ sequence: event.sequence, message });
    found.set(event.clientMessageId, list);
  }
  return found;
}

describe(`crash recovery: SIGKILL while messages are in flight (${storageMode})`, () => {
  const adminUrl = process.env.PARLEY_TEST_DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-crash-'));
  let dropDatabase: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;
  const connections: Connection[] = [];

  const consumers: Array<{ token: string; conversationId: string }> = [];
  const sent = new Map<string, Sent>();
  const acked = new Map<string, SendAck>();
  const rejected: Array<{ clientMessageId: string; code: string; message: string }> = [];
  const stored = new Map<string, ConversationEvent[]>();

  beforeAll(async () => {
    env = {
      DATA_DIR: dataDir,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // The point is to have many sends in flight: no rate limit in the way.
      WS_RATE_LIMIT_PER_SECOND: '100000',
      WS_RATE_LIMIT_BURST: '100000',
      SHUTDOWN_GRACE_MS: '5000',
    };
    if (adminUrl) {
      const database = await createScratchDatabase(adminUrl);
      dropDatabase = database.drop;
      env.DATABASE_URL = database.url;
    }
    first = await startServerProcess(env);
  });

  afterAll(async () => {
    for (const connection of connections) connection.close();
    killAllChildren();
    await Promise.all([first?.exited, second?.exited]);
    await dropDatabase?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('acknowledges sends from several connections until the server is SIGKILLed mid-stream', async () => {
    const server = first;
    if (!server?.widgetKey) throw new Error('the first start did not print a widget key');
    for (let i = 0; i < CONVERSATIONS; i++) {
      const session = await http(server.baseUrl, 'consumerSession', { body: { widgetKey: server.widgetKey } });
      expect(session.status).toBe(200);
      const started = await http(server.baseUrl, 'startConversation', { token: session.body.accessToken, body: {} });
      expect(started.status).toBe(200);
      consumers.push({ token: session.body.accessToken, conversationId: started.body.conversation.id });
    }

    let killedAt: number | undefined;
    let counter = 0;
    const onAck = () => {
      if (killedAt === undefined && acked.size >= KILL_AFTER_ACKS) {
        killedAt = acked.size;
        // Right away, or a moment later: the server is then between transactions, inside one, or past a commit
        // whose ack is not out yet (the case the resend below has to answer as a duplicate).
        const delay = Math.floor(Math.random() * 4);
        if (delay === 0) server.child.kill('SIGKILL');
        else setTimeout(() => server.child.kill('SIGKILL'), delay);
      }
    };
    /** Sends one message after another on `connection`, keeping `window` of them unanswered, until it closes. */
    const pump = async (connection: Connection, conversationId: string, lane: string, window: number) => {
      const sendNext = async (): Promise<void> => {
        while (!connection.isClosed) {
          const n = counter++;
          const item: Sent = { clientMessageId: `${lane}-${n}`, conversationId, message: `message ${n} from ${lane}` };
          sent.set(item.clientMessageId, item);
          const result = await Promise.race([connection.send(item), connection.closed.then(() => undefined)]);
          if (!result) return;
          if (result.kind === 'ack') {
            acked.set(item.clientMessageId, result.ack);
            onAck();
          } else {
            rejected.push({ clientMessageId: item.clientMessageId, code: result.code, message: result.message });
          }
        }
      };
      await Promise.all(Array.from({ length: window }, () => sendNext()));
    };

    // All connections first, so that all of them are busy when the kill comes.
    const opened = await Promise.all(
      consumers.map(async (consumer) => ({ consumer, lockstep: await Connection.open(server.baseUrl, consumer.token), pipelined: await Connection.open(server.baseUrl, consumer.token) })),
    );
    const lanes: Array<Promise<void>> = [];
    for (const [i, { consumer, lockstep, pipelined }] of opened.entries()) {
      connections.push(lockstep, pipelined);
      lanes.push(pump(lockstep, consumer.conversationId, `c${i}-lockstep`, 1), pump(pipelined, consumer.conversationId, `c${i}-pipelined`, PIPELINE_WINDOW));
    }
    const exit = await server.exited;
    await Promise.all(lanes);

    expect(exit.signal).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(rejected).toEqual([]);
    // Acks that were on the wire when the signal landed still count: the server sent them, so it had committed.
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(sent.size).toBeGreaterThan(acked.size);
    for (const connection of connections) expect(connection.isClosed).toBe(true);
  }, 60_000);

  it('restarts on the same storage right after the kill', async () => {
    const killed = first;
    if (!killed) throw new Error('no first server');
    const lockPath = path.join(dataDir, 'parley.lock');
    if (storageMode === 'embedded') {
      // The dead process could not remove its lock: the restart has to recognise it as stale and take it over.
      const stale = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid: number };
      expect(stale.pid).toBe(killed.pid);
    }
    const started = Date.now();
    second = await startServerProcess(env);
    const restartMs = Date.now() - started;
    expect(second.widgetKey, 'the restart must find the existing account, not bootstrap a new one').toBeUndefined();
    expect(second.stderr()).toBe('');
    if (storageMode === 'embedded') {
      const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid: number };
      expect(lock.pid).toBe(second.pid);
    }
    const health = await fetch(`${second.baseUrl}/health`);
    expect(health.status).toBe(200);
    const login = await http(second.baseUrl, 'login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(login.status).toBe(200);
    console.info(`[crash-recovery ${storageMode}] sent ${sent.size}, acknowledged ${acked.size}; restart took ${restartMs} ms`);
  }, 60_000);

  it('has every acknowledged message exactly once at its acknowledged sequence, with contiguous sequences', async () => {
    const server = second;
    if (!server) throw new Error('no restarted server');
    // The consumers' tokens from before the crash still work: the signing secret is stored with the data.
    let committedUnacked = 0;
    for (const consumer of consumers) {
      const { events, lastSequence } = await readAll(server.baseUrl, consumer.token, consumer.conversationId);
      stored.set(consumer.conversationId, events);
      const sequences = events.map((e) => e.sequence);
      expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
      expect(lastSequence).toBe(sequences.length);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

      const found = byClientMessageId(events);
      for (const [clientMessageId, copies] of found) {
        const item = sent.get(clientMessageId);
        expect(item, `stored message ${clientMessageId} was never sent`).toBeDefined();
        expect(item?.conversationId).toBe(consumer.conversationId);
        expect(copies, `copies of ${clientMessageId}`).toHaveLength(1);
        expect(copies[0]?.message).toBe(item?.message);
        if (!acked.has(clientMessageId)) committedUnacked++;
      }
      for (const [clientMessageId, ack] of acked) {
        if (ack.conversationId !== consumer.conversationId) continue;
        expect(found.get(clientMessageId), `acknowledged ${clientMessageId} (sequence ${ack.sequence}) after restart`).toEqual([
          { sequence: ack.sequence, message: sent.get(clientMessageId)?.message },
        ]);
        expect(events[ack.sequence - 1]?.id).toBe(ack.eventId);
      }
    }
    console.info(`[crash-recovery ${storageMode}] unacknowledged: ${sent.size - acked.size}, of which committed before the kill: ${committedUnacked}`);
  });

  it('stores a resent unacknowledged message at most once, and answers a resent acknowledged one as a duplicate', async () => {
    const server = second;
    if (!server) throw new Error('no restarted server');
    for (const consumer of consumers) {
      const events = stored.get(consumer.conversationId) ?? [];
      const found = byClientMessageId(events);
      const mine = [...sent.values()].filter((s) => s.conversationId === consumer.conversationId);
      const unacked = mine.filter((s) => !acked.has(s.clientMessageId));
      const someAcked = mine.filter((s) => acked.has(s.clientMessageId)).slice(-3);
      const connection = await Connection.open(server.baseUrl, consumer.token);
      connections.push(connection);
      // Pipelined, as a reconnecting client flushes its outbox.
      const results = await Promise.all([...unacked, ...someAcked].map(async (item) => ({ item, result: await connection.send(item) })));
      for (const { item, result } of results) {
        if (result.kind === 'error') throw new Error(`resend of ${item.clientMessageId} failed: ${result.code} ${result.message}`);
        const before = found.get(item.clientMessageId)?.[0];
        const ack = acked.get(item.clientMessageId);
        if (ack) expect(result.ack).toMatchObject({ duplicate: true, sequence: ack.sequence, eventId: ack.eventId });
        else if (before) expect(result.ack, `${item.clientMessageId} was committed before the kill`).toMatchObject({ duplicate: true, sequence: before.sequence });
        else expect(result.ack.duplicate, `${item.clientMessageId} was lost with the process, so it is new now`).toBe(false);
      }
      connection.close();

      const after = await readAll(server.baseUrl, consumer.token, consumer.conversationId);
      expect(after.events.map((e) => e.sequence)).toEqual(Array.from({ length: after.events.length }, (_, i) => i + 1));
      const foundAfter = byClientMessageId(after.events);
      for (const item of mine) expect(foundAfter.get(item.clientMessageId), `${item.clientMessageId} after the resend`).toHaveLength(1);
      expect(foundAfter.size).toBe(mine.length);
    }
    // And a clean stop after all that.
    const exit = await server.stop();
    expect(exit.code).toBe(0);
  }, 60_000);
});
