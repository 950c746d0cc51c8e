import { randomUUID } from 'node:crypto';
import type { ConversationEvent, ConversationSummary, EventInput } from '@parley/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ParleyApiError, ParleyConnectionError } from './errors.ts';
import { RealtimeClient, type RealtimeOptions, type RealtimeState } from './realtime.ts';
import { FakeServer } from './testing/fake-server.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function text(message: string): EventInput {
  return { type: 'content', content: { contentType: 'text/plain', message } };
}

async function setup(options: Partial<RealtimeOptions> = {}) {
  const server = await FakeServer.start();
  cleanups.push(async () => {
    expect(server.invalidFrames).toEqual([]);
    await server.close();
  });
  const client = new RealtimeClient({
    baseUrl: server.baseUrl,
    getAccessToken: () => 'token-1',
    WebSocket,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 },
    requestTimeoutMs: 500,
    ...options,
  });
  cleanups.push(() => client.close());
  const events: ConversationEvent[] = [];
  const errors: Error[] = [];
  const states: RealtimeState[] = [client.state];
  client.on('event', (event) => events.push(event));
  client.on('error', (error) => errors.push(error));
  client.on('state', (state) => states.push(state));
  const sequences = () => events.map((event) => event.sequence);
  return { server, client, events, errors, states, sequences, conversationId: randomUUID() };
}

describe('RealtimeClient: connecting', () => {
  it('authenticates with an auth frame as its first frame and becomes open', async () => {
    const { server, client, states } = await setup({ autoConnect: false });
    expect(client.state).toBe('closed');
    client.connect();
    await waitFor(() => client.state === 'open');
    expect(states).toEqual(['closed', 'connecting', 'open']);
    expect(server.last?.frames[0]).toMatchObject({ type: 'auth', token: 'token-1', protocolVersion: 1 });
  });

  it('refreshes the token when closed with 4402', async () => {
    const getAccessToken = vi.fn(({ expired }: { expired: boolean }) => (expired ? 'token-2' : 'token-1'));
    const { server, client } = await setup({ getAccessToken });
    server.tokens.add('token-2');
    await waitFor(() => client.state === 'open');
    server.drop(4402);
    await waitFor(() => server.connections[1]?.token === 'token-2' && client.state === 'open');
    expect(getAccessToken.mock.calls.map(([request]) => request.expired)).toEqual([false, true]);
  });

  it('asks for a fresh token when the server answers auth with TOKEN_EXPIRED', async () => {
    const { server, client } = await setup({ getAccessToken: ({ expired }) => (expired ? 'token-2' : 'token-1') });
    server.expiredTokens.add('token-1');
    server.tokens.add('token-2');
    await waitFor(() => client.state === 'open');
    expect(server.connections.map((connection) => connection.frames[0])).toMatchObject([
      { type: 'auth', token: 'token-1' },
      { type: 'auth', token: 'token-2' },
    ]);
  });

  it('stops with state closed when the server refuses the credentials twice (4401)', async () => {
    const { server, client, errors } = await setup({ getAccessToken: () => 'not-a-valid-token' });
    const sent = client.send({ conversationId: randomUUID(), event: text('lost') }).catch((error: unknown) => error);
    await waitFor(() => client.state === 'closed');
    expect(server.connections).toHaveLength(2);
    expect(await sent).toBeInstanceOf(ParleyConnectionError);
    expect(errors.at(-1)).toMatchObject({ name: 'ParleyApiError', code: 'UNAUTHENTICATED' });
  });

  it('reconnects after the server goes away (1001) and after closing it as a slow consumer (4008)', async () => {
    const { server, client, states } = await setup();
    await waitFor(() => client.state === 'open');
    server.drop(1001);
    await waitFor(() => server.open().length === 1 && client.state === 'open' && server.connections.length === 2);
    server.drop(4008);
    await waitFor(() => server.open().length === 1 && client.state === 'open' && server.connections.length === 3);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open', 'reconnecting', 'open']);
  });

  it('treats a missing pong as a dead connection and reconnects', async () => {
    const { server, client } = await setup({ pingIntervalMs: 20, pongTimeoutMs: 40 });
    // The first connection goes silent: pings are read but never answered.
    server.hook = (frame, connection) => frame.type === 'ping' && connection === server.connections[0];
    await waitFor(() => server.connections.length === 2 && client.state === 'open');
    expect(server.connections[0]?.frames.some((frame) => frame.type === 'ping')).toBe(true);
  });

  it('close() stops reconnecting and rejects unacknowledged sends', async () => {
    const { server, client, conversationId } = await setup();
    await client.subscribe(conversationId);
    server.hook = (frame) => frame.type === 'send'; // never acknowledged
    const sent = client.send({ conversationId, event: text('never acked') });
    await waitFor(() => server.frames.some((frame) => frame.type === 'send'));
    expect(client.pending()).toHaveLength(1);
    client.close();
    await expect(sent).rejects.toMatchObject({ name: 'ParleyConnectionError', reason: 'closed' });
    expect(client.state).toBe('closed');
    expect(client.pending()).toEqual([]);
    await waitFor(() => server.open().length === 0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server.connections).toHaveLength(1);
    await expect(client.send({ conversationId, event: text('after close') })).rejects.toBeInstanceOf(ParleyConnectionError);
  });
});

describe('RealtimeClient: failing over between servers', () => {
  it('calls a baseUrl function at every dial, so it resumes on another server when its server dies', async () => {
    const a = await FakeServer.start();
    const b = await FakeServer.start();
    cleanups.push(() => b.close());
    let aDown = false;
    const dialed: string[] = [];
    const client = new RealtimeClient({
      baseUrl: () => {
        const url = aDown ? b.baseUrl : a.baseUrl;
        dialed.push(url);
        return url;
      },
      getAccessToken: () => 'token-1',
      WebSocket,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 },
      requestTimeoutMs: 500,
    });
    cleanups.push(() => client.close());
    const events: ConversationEvent[] = [];
    client.on('event', (event) => events.push(event));
    const conversationId = randomUUID();
    // Both servers share the conversation's history, as nodes of one cluster share the database.
    const first = a.store(conversationId, 'one');
    b.events.set(conversationId, [first]);
    await client.subscribe(conversationId);
    await waitFor(() => events.length === 1);
    aDown = true;
    await a.close();
    b.store(conversationId, 'two');
    const ack = await client.send({ conversationId, event: text('three') });
    expect(ack.sequence).toBe(3);
    await waitFor(() => events.length === 3);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3]);
    expect(dialed[0]).toBe(a.baseUrl);
    expect(dialed.at(-1)).toBe(b.baseUrl);
    expect(b.last?.frames.find((frame) => frame.type === 'subscribe')).toMatchObject({ fromSeq: 2 });
  });

  it('reports a baseUrl function that throws as an error and keeps reconnecting', async () => {
    const server = await FakeServer.start();
    cleanups.push(() => server.close());
    let calls = 0;
    const client = new RealtimeClient({
      baseUrl: () => {
        calls++;
        if (calls === 1) throw new Error('no node known yet');
        return server.baseUrl;
      },
      getAccessToken: () => 'token-1',
      WebSocket,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 },
    });
    cleanups.push(() => client.close());
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await waitFor(() => client.state === 'open');
    expect(errors.map((error) => error.message)).toEqual(['no node known yet']);
    expect(calls).toBe(2);
  });
});

describe('RealtimeClient: subscriptions', () => {
  it('replays stored events, then streams live ones, in order', async () => {
    const { server, client, sequences, conversationId } = await setup();
    server.store(conversationId, 'one');
    server.store(conversationId, 'two');
    await expect(client.subscribe(conversationId)).resolves.toEqual({ conversationId, lastSequence: 2 });
    expect(server.last?.frames[1]).toMatchObject({ type: 'subscribe', conversationId, fromSeq: 0 });
    server.publish(conversationId, 'three');
    await waitFor(() => sequences().length === 3);
    expect(sequences()).toEqual([1, 2, 3]);
  });

  it('resubscribes from the last delivered sequence after the socket drops', async () => {
    const { server, client, sequences, conversationId } = await setup();
    for (const message of ['a', 'b', 'c']) server.store(conversationId, message);
    await client.subscribe(conversationId);
    await waitFor(() => sequences().length === 3);
    server.drop(); // no close frame: the TCP connection just goes
    server.store(conversationId, 'd'); // written while the client is away
    server.store(conversationId, 'e');
    await waitFor(() => sequences().length === 5);
    expect(sequences()).toEqual([1, 2, 3, 4, 5]);
    expect(server.connections[1]?.frames.find((frame) => frame.type === 'subscribe')).toMatchObject({ fromSeq: 4 });
  });

  it('delivers a replayed event once when it also arrives live', async () => {
    const { server, client, events, sequences, conversationId } = await setup();
    server.store(conversationId, 'a');
    const raced = server.store(conversationId, 'b');
    server.hook = (frame, connection) => {
      if (frame.type !== 'subscribe') return false;
      // The replay already holds event 2; the live feed then pushes it again.
      setTimeout(() => connection.push({ type: 'event', event: raced }), 0);
      return false;
    };
    await client.subscribe(conversationId);
    server.publish(conversationId, 'c');
    await waitFor(() => sequences().includes(3));
    expect(sequences()).toEqual([1, 2, 3]);
    expect(events.filter((event) => event.id === raced.id)).toHaveLength(1);
  });

  it('drops events it already delivered when a server replays them after a reconnect', async () => {
    const { server, client, sequences, conversationId } = await setup();
    server.store(conversationId, 'a');
    server.store(conversationId, 'b');
    await client.subscribe(conversationId);
    await waitFor(() => sequences().length === 2);
    server.hook = (frame, connection) => {
      if (frame.type !== 'subscribe') return false;
      for (const event of server.events.get(frame.conversationId) ?? []) connection.push({ type: 'event', event });
      connection.respond(frame.id, { conversationId: frame.conversationId, lastSequence: 3 });
      return true;
    };
    server.store(conversationId, 'c');
    server.drop();
    await waitFor(() => sequences().length === 3);
    expect(sequences()).toEqual([1, 2, 3]);
  });

  it('skips sequence gaps from events it may not see instead of waiting for them', async () => {
    const { server, client, sequences, conversationId } = await setup();
    server.store(conversationId, 'visible');
    server.store(conversationId, 'internal note', 'agents_and_managers');
    server.store(conversationId, 'visible again');
    await client.subscribe(conversationId);
    server.publish(conversationId, 'another note', 'agents_and_managers');
    server.publish(conversationId, 'live');
    await waitFor(() => sequences().includes(5));
    expect(sequences()).toEqual([1, 3, 5]);
    server.drop();
    await waitFor(() => server.connections[1]?.frames.some((frame) => frame.type === 'subscribe'));
    expect(server.connections[1]?.frames.find((frame) => frame.type === 'subscribe')).toMatchObject({ fromSeq: 6 });
  });

  it('starts the replay after the sequence the caller already holds', async () => {
    const { server, client, sequences, conversationId } = await setup();
    for (const message of ['a', 'b', 'c', 'd']) server.store(conversationId, message);
    await client.subscribe(conversationId, { lastSequence: 2 });
    await waitFor(() => sequences().length === 2);
    expect(server.last?.frames.find((frame) => frame.type === 'subscribe')).toMatchObject({ fromSeq: 3 });
    expect(sequences()).toEqual([3, 4]);
    expect(client.lastSequence(conversationId)).toBe(4);
  });

  it('stops delivering a conversation after unsubscribe', async () => {
    const { server, client, sequences, conversationId } = await setup();
    await client.subscribe(conversationId);
    server.publish(conversationId, 'a');
    await waitFor(() => sequences().length === 1);
    await client.unsubscribe(conversationId);
    expect(server.last?.frames.at(-1)).toMatchObject({ type: 'unsubscribe', conversationId });
    server.last?.push({ type: 'event', event: server.store(conversationId, 'late') });
    await client.subscribe(randomUUID()); // a round trip after the late frame
    expect(sequences()).toEqual([1]);
  });
});

describe('RealtimeClient: sending', () => {
  it('sends with a generated clientMessageId and resolves with the server ack', async () => {
    const { server, client, conversationId } = await setup();
    await client.subscribe(conversationId);
    const ack = await client.send({ conversationId, event: text('hi') });
    const frame = server.frames.find((f) => f.type === 'send');
    expect(frame).toMatchObject({ conversationId, audience: 'all', event: text('hi') });
    expect(frame?.type === 'send' && frame.clientMessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ack).toMatchObject({ conversationId, sequence: 1, duplicate: false });
    const mine = await client.send({ conversationId, event: text('again'), clientMessageId: 'my-id-1' });
    expect(server.acks.get('my-id-1')).toEqual(mine);
  });

  it('resends unacknowledged sends after reconnect and resolves them with the server ack', async () => {
    const { server, client, sequences, conversationId } = await setup();
    await client.subscribe(conversationId);
    server.hook = (frame, connection) => {
      if (frame.type !== 'send' || connection !== server.connections[0]) return false;
      // The server stores the message, then the connection dies before the ack leaves.
      server.store(frame.conversationId, 'stored before the drop');
      server.acks.set(frame.clientMessageId, {
        eventId: randomUUID(),
        conversationId: frame.conversationId,
        sequence: 1,
        duplicate: false,
        createdAt: new Date().toISOString(),
      });
      connection.socket.terminate();
      return true;
    };
    const ack = await client.send({ conversationId, event: text('hello') });
    expect(ack).toMatchObject({ sequence: 1, duplicate: true });
    const sends = server.frames.filter((frame) => frame.type === 'send');
    expect(sends).toHaveLength(2);
    expect(new Set(sends.map((frame) => frame.type === 'send' && frame.clientMessageId)).size).toBe(1);
    await waitFor(() => sequences().length === 1);
    expect(sequences()).toEqual([1]);
    expect(client.pending()).toEqual([]);
  });

  it('keeps sends made before the connection opens in the outbox, listed by pending(), and sends them in order', async () => {
    const { server, client, conversationId } = await setup({ autoConnect: false });
    client.connect();
    void client.subscribe(conversationId);
    const acks = Promise.all(['a', 'b', 'c'].map((message) => client.send({ conversationId, event: text(message), clientMessageId: `id-${message}` })));
    expect(client.pending().map((send) => send.clientMessageId)).toEqual(['id-a', 'id-b', 'id-c']);
    expect((await acks).map((ack) => ack.sequence)).toEqual([1, 2, 3]);
    expect(server.events.get(conversationId)?.map((event) => event.type === 'content' && event.content.contentType === 'text/plain' && event.content.message)).toEqual(['a', 'b', 'c']);
    expect(client.pending()).toEqual([]);
  });

  it('delivers sends made while the connection drops exactly once each, in order', async () => {
    const { server, client, conversationId } = await setup();
    await client.subscribe(conversationId);
    server.drop();
    const acks = await Promise.all(['a', 'b', 'c'].map((message) => client.send({ conversationId, event: text(message) })));
    expect(acks.map((ack) => ack.sequence)).toEqual([1, 2, 3]);
    expect(server.events.get(conversationId)).toHaveLength(3);
  });

  it('rejects a send the server refuses and goes on with the next', async () => {
    const { server, client, conversationId } = await setup();
    await client.subscribe(conversationId);
    server.hook = (frame, connection) => {
      if (frame.type !== 'send' || frame.clientMessageId !== 'bad') return false;
      connection.fail(frame.id, 'CONVERSATION_CLOSED', 'The conversation is closed');
      return true;
    };
    const bad = client.send({ conversationId, event: text('x'), clientMessageId: 'bad' });
    const good = client.send({ conversationId, event: text('y') });
    const error = await bad.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyApiError);
    expect(error).toMatchObject({ code: 'CONVERSATION_CLOSED', status: 409, retryable: false });
    await expect(good).resolves.toMatchObject({ sequence: 1 });
  });

  it('waits details.retryAfterMs and retries a rate-limited send', async () => {
    const { server, client, conversationId } = await setup();
    await client.subscribe(conversationId);
    const seen: number[] = [];
    server.hook = (frame, connection) => {
      if (frame.type !== 'send') return false;
      seen.push(Date.now());
      if (seen.length > 1) return false;
      connection.fail(frame.id, 'RATE_LIMITED', 'slow down', { retryAfterMs: 40 });
      return true;
    };
    await expect(client.send({ conversationId, event: text('hi') })).resolves.toMatchObject({ sequence: 1 });
    expect(seen).toHaveLength(2);
    expect((seen[1] ?? 0) - (seen[0] ?? 0)).toBeGreaterThanOrEqual(35);
    expect(server.connections).toHaveLength(1);
  });

  it('retries a send and a subscription refused with SERVICE_UNAVAILABLE until the server answers', async () => {
    const { server, client, conversationId } = await setup();
    const refusals = { send: 0, subscribe: 0 };
    server.hook = (frame, connection) => {
      if ((frame.type !== 'send' && frame.type !== 'subscribe') || refusals[frame.type] >= 2) return false;
      refusals[frame.type]++;
      connection.fail(frame.id, 'SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly');
      return true;
    };
    const subscribed = client.subscribe(conversationId);
    const ack = client.send({ conversationId, event: text('hi'), clientMessageId: 'retried-1' });
    await expect(subscribed).resolves.toMatchObject({ conversationId });
    await expect(ack).resolves.toMatchObject({ sequence: 1, duplicate: false });
    expect(refusals).toEqual({ send: 2, subscribe: 2 });
    expect(server.frames.filter((frame) => frame.type === 'send')).toHaveLength(3);
    expect(server.connections).toHaveLength(1);
  });

  it('sends receipts and resolves with the ack', async () => {
    const { server, client, conversationId } = await setup();
    server.store(conversationId, 'a');
    await client.subscribe(conversationId);
    await expect(client.receipt({ conversationId, status: 'read', sequences: [1] })).resolves.toMatchObject({ sequence: 2 });
    expect(server.frames.at(-1)).toMatchObject({ type: 'receipt', status: 'read', sequences: [1] });
  });
});

describe('RealtimeClient: notifications', () => {
  it('emits chat states and conversation changes to listeners', async () => {
    const { server, client, conversationId } = await setup();
    const notices: unknown[] = [];
    const conversations: ConversationSummary[] = [];
    client.on('chatState', (notice) => notices.push(notice));
    client.on('conversation', (conversation) => conversations.push(conversation));
    await client.subscribe(conversationId);
    const participantId = randomUUID();
    server.last?.push({ type: 'chat_state', conversationId, participantId, role: 'agent', chatState: 'composing' });
    const now = new Date().toISOString();
    const summary: ConversationSummary = {
      id: conversationId,
      accountId: randomUUID(),
      consumerId: randomUUID(),
      state: 'closed',
      channel: 'web',
      device: 'desktop_web',
      lineOfBusinessId: null,
      assignedAgentId: null,
      lastSequence: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: now,
      closeReason: 'agent',
      participants: [],
      routing: null,
    };
    server.last?.push({ type: 'conversation', conversation: summary });
    await waitFor(() => conversations.length === 1);
    expect(notices).toEqual([{ conversationId, participantId, role: 'agent', chatState: 'composing' }]);
    expect(conversations[0]).toMatchObject({ id: conversationId, state: 'closed' });
    await expect(client.chatState(conversationId, 'composing')).resolves.toBe(true);
    expect(server.frames.at(-1)).toMatchObject({ type: 'chat_state', conversationId, chatState: 'composing' });
  });

  it('keeps delivering when a listener throws, and reports the exception as an error', async () => {
    const { server, client, sequences, errors, conversationId } = await setup();
    client.on('event', () => {
      throw new Error('listener bug');
    });
    await client.subscribe(conversationId);
    server.publish(conversationId, 'a');
    server.publish(conversationId, 'b');
    await waitFor(() => sequences().length === 2);
    expect(errors.map((error) => error.message)).toEqual(['listener bug', 'listener bug']);
  });
});
