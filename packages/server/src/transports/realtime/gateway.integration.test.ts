import v8 from 'node:v8';
import vm from 'node:vm';
import { WS_CLOSE, WS_PATH } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';

const sendFrame = (conversationId: string, message: string, clientMessageId: string = crypto.randomUUID()) => ({
  type: 'send',
  conversationId,
  clientMessageId,
  event: { type: 'content', content: { contentType: 'text/plain', message } },
});

describe(`realtime gateway (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  const clients: WsTestClient[] = [];
  const connect = async (token?: string) => {
    const client = await WsTestClient.connect(t.baseUrl);
    clients.push(client);
    if (token) expect((await client.request({ type: 'auth', token })).ok).toBe(true);
    return client;
  };

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { WS_AUTH_DEADLINE_MS: '300', WS_RATE_LIMIT_PER_SECOND: '5', WS_RATE_LIMIT_BURST: '10' } });
    a = actors(t);
    admin = await a.adminToken();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  /** A consumer with a conversation taken by an agent, both connected and subscribed. */
  async function pair() {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    const consumerWs = await connect(consumer.token);
    const agentWs = await connect(agent.token);
    for (const ws of [consumerWs, agentWs]) expect((await ws.request({ type: 'subscribe', conversationId, fromSeq: 0 })).ok).toBe(true);
    return { consumer, agent, conversationId, consumerWs, agentWs };
  }

  it('acknowledges a send with its sequence and delivers it to the other side in order', async () => {
    const { conversationId, consumerWs, agentWs } = await pair();
    const acks = [];
    for (const m of ['hi', 'is anyone there?', 'order 1234']) acks.push(await consumerWs.request(sendFrame(conversationId, m)));
    const sequences = acks.map((r) => (r.result as { sequence: number }).sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    await agentWs.waitUntil(() => agentWs.events(conversationId).some((e) => e.sequence === sequences.at(-1)));
    const received = agentWs.events(conversationId).filter((e) => e.type === 'content');
    expect(received.map((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? e.content.message : ''))).toEqual(['hi', 'is anyone there?', 'order 1234']);
  });

  it('gives pipelined sends sequences in the order they were sent', async () => {
    const { conversationId, consumerWs } = await pair();
    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => consumerWs.request(sendFrame(conversationId, `burst ${i}`))));
    const sequences = acks.map((r) => (r.result as { sequence: number }).sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    expect(new Set(sequences).size).toBe(8);
  });

  it('resumes after a reconnect from the last sequence with no gap and no duplicate', async () => {
    const { consumer, conversationId, consumerWs, agentWs } = await pair();
    await consumerWs.request(sendFrame(conversationId, 'before'));
    await consumerWs.waitUntil(() => consumerWs.events(conversationId).some((e) => e.type === 'content'));
    const last = Math.max(...consumerWs.events(conversationId).map((e) => e.sequence));
    consumerWs.close();
    await consumerWs.waitClosed();

    const sent = [];
    for (const m of ['one', 'two', 'three']) sent.push(((await agentWs.request(sendFrame(conversationId, m))).result as { sequence: number }).sequence);

    const back = await connect(consumer.token);
    await back.request({ type: 'subscribe', conversationId, fromSeq: last + 1 });
    await back.waitUntil(() => back.events(conversationId).length >= 3);
    await agentWs.request(sendFrame(conversationId, 'four'));
    await back.waitUntil(() => back.events(conversationId).length >= 4);
    const seqs = back.events(conversationId).map((e) => e.sequence);
    expect(seqs.slice(0, 3)).toEqual(sent);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(back.events(conversationId).map((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? e.content.message : ''))).toEqual(['one', 'two', 'three', 'four']);
  });

  it('answers a resent clientMessageId with the first acknowledgement and stores one copy', async () => {
    const { conversationId, consumerWs, agentWs } = await pair();
    const first = await consumerWs.request(sendFrame(conversationId, 'pay now', 'dup-1'));
    const second = await consumerWs.request(sendFrame(conversationId, 'pay now', 'dup-1'));
    expect(second.result).toMatchObject({ sequence: (first.result as { sequence: number }).sequence, duplicate: true });
    await agentWs.waitUntil(() => agentWs.events(conversationId).some((e) => e.type === 'content'));
    await agentWs.request({ type: 'ping' });
    expect(agentWs.events(conversationId).filter((e) => e.type === 'content')).toHaveLength(1);
  });

  it('never sends internal notes to the consumer', async () => {
    const { conversationId, consumerWs, agentWs } = await pair();
    await agentWs.request({ ...sendFrame(conversationId, 'internal: refund approved'), audience: 'agents_and_managers' });
    const visible = await agentWs.request(sendFrame(conversationId, 'Your refund is on its way'));
    await consumerWs.waitUntil(() => consumerWs.events(conversationId).some((e) => e.sequence === (visible.result as { sequence: number }).sequence));
    expect(JSON.stringify(consumerWs.events(conversationId))).not.toContain('internal');
    expect(JSON.stringify(agentWs.events(conversationId))).toContain('internal');
  });

  it('relays typing to the other participants without a sequence', async () => {
    const { conversationId, consumerWs, agentWs, consumer } = await pair();
    await consumerWs.request({ type: 'chat_state', conversationId, chatState: 'composing' });
    const typing = await agentWs.waitFor((f) => f.type === 'chat_state');
    expect(typing).toMatchObject({ conversationId, participantId: consumer.consumerId, chatState: 'composing' });
    expect(consumerWs.frames.some((f) => f.type === 'chat_state')).toBe(false);
    const page = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: 0 } });
    expect(JSON.stringify(page.body)).not.toContain('composing');
  });

  it('pushes conversation changes to agents who can see them', async () => {
    const agent = await a.createUser(admin, 'agent');
    const agentWs = await connect(agent.token);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await agentWs.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.assignedAgentId === null);
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    await agentWs.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.assignedAgentId === agent.id);
  });

  it('closes a connection that does not authenticate before the deadline', async () => {
    const client = await connect();
    expect((await client.waitClosed()).code).toBe(WS_CLOSE.UNAUTHENTICATED);
  });

  it('refuses requests before authentication and closes on a bad token', async () => {
    const early = await connect();
    const response = await early.request({ type: 'ping' });
    expect(response.error?.code).toBe('UNAUTHENTICATED');
    expect((await early.waitClosed()).code).toBe(WS_CLOSE.UNAUTHENTICATED);

    const bad = await connect();
    const refused = await bad.request({ type: 'auth', token: 'not-a-token' });
    expect(refused.error?.code).toBe('UNAUTHENTICATED');
    expect((await bad.waitClosed()).code).toBe(WS_CLOSE.UNAUTHENTICATED);
  });

  it('authenticates with an Authorization header on the upgrade request', async () => {
    const consumer = await a.consumer();
    const client = await WsTestClient.connect(t.baseUrl, { authorization: `Bearer ${consumer.token}` });
    clients.push(client);
    const pong = await client.request({ type: 'ping' });
    expect(pong.ok).toBe(true);
  });

  it('answers malformed frames with a clear error and keeps the connection', async () => {
    const consumer = await a.consumer();
    const client = await connect(consumer.token);
    client.sendRaw('{not json');
    const malformed = await client.waitFor((f) => f.type === 'response' && f.ok === false);
    expect(malformed.type === 'response' && malformed.error?.code).toBe('MALFORMED_JSON');
    const unknown = await client.request({
      type: 'send',
      conversationId: crypto.randomUUID(),
      clientMessageId: 'x',
      event: { type: 'content', content: { contentType: 'text/plain', message: 'x' } },
      extra: true,
    });
    expect(unknown.error?.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(unknown.error?.details)).toContain('extra');
    const other = await client.request(sendFrame(crypto.randomUUID(), 'to nowhere'));
    expect(other.error?.code).toBe('NOT_FOUND');
    expect((await client.request({ type: 'ping' })).ok).toBe(true);
  });

  it('rate-limits a flooding connection with a retry hint', async () => {
    const consumer = await a.consumer();
    const client = await connect(consumer.token);
    const responses = await Promise.all(Array.from({ length: 25 }, () => client.request({ type: 'ping' })));
    const limited = responses.filter((r) => r.error?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    // A burst of 10, one of which the auth frame used, plus what refilled meanwhile (5 per second).
    const allowed = responses.filter((r) => r.ok).length;
    expect(allowed).toBeGreaterThanOrEqual(9);
    expect(allowed).toBeLessThanOrEqual(12);
    expect(limited[0]?.error?.details?.retryAfterMs).toBeGreaterThan(0);
  });

  it("writes a burst of changes to a conversation to an agent's list once, with its latest summary, after the first", async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    const agentWs = await connect(agent.token);
    const conversations = t.server.services.conversations;
    const summary = (await conversations.summariesOf([conversationId])).get(conversationId);
    if (!summary) throw new Error('no summary');
    await new Promise((resolve) => setTimeout(resolve, 150)); // a quiet moment for this socket's list
    const listed = () => agentWs.frames.flatMap((f) => (f.type === 'conversation' && f.conversation.id === conversationId ? [f.conversation.lastSequence] : []));
    const before = listed().length;
    // Three changes in a row, as a burst of routing would publish them.
    for (const lastSequence of [101, 102, 103]) await conversations.publishCommitted({ ...summary, lastSequence }, []);
    await agentWs.waitUntil(() => listed().length >= before + 2);
    await new Promise((resolve) => setTimeout(resolve, 250)); // nothing more comes
    expect(listed().slice(before)).toEqual([101, 103]);
  });

  it('tells connected clients to go away when the server shuts down', async () => {
    const other = await startTestServer({ listen: true });
    const consumer = await actors(other).consumer();
    const client = await WsTestClient.connect(other.baseUrl);
    await client.request({ type: 'auth', token: consumer.token });
    await other.close();
    expect((await client.waitClosed()).code).toBe(WS_CLOSE.GOING_AWAY);
  });

  it('accepts a text message sent over REST and delivers it live', async () => {
    const { conversationId, consumer, agentWs } = await pair();
    const r = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('via REST') });
    await agentWs.waitUntil(() => agentWs.events(conversationId).some((e) => e.sequence === r.body.sequence));
  });
});

describe(`realtime gateway memory (${storageMode})`, () => {
  it('keeps nothing of the HTTP request that asked for the upgrade once the connection is open', async () => {
    const t = await startTestServer();
    // Weak references to each upgrade request's Fastify request and reply and Node's request and response.
    const upgrades: Array<WeakRef<object>> = [];
    t.server.app.addHook('onRequest', (request, reply, done) => {
      if (request.url === WS_PATH) upgrades.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw), new WeakRef(reply.raw));
      done();
    });
    const baseUrl = await t.server.listen();
    const client = await WsTestClient.connect(baseUrl);
    try {
      const token = await actors(t).adminToken();
      expect(upgrades).toHaveLength(4);
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      // Collected over a few turns (a reference may live in a pending callback for one).
      for (let i = 0; i < 5 && upgrades.some((r) => r.deref() !== undefined); i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      expect(upgrades.filter((r) => r.deref() !== undefined).map((r) => r.deref()?.constructor.name)).toEqual([]);
      // The connection still works (and reports its socket's errors itself).
      expect((await client.request({ type: 'auth', token })).ok).toBe(true);
    } finally {
      client.close();
      await t.close();
    }
  });
});
