import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { actors, call, text } from '../../test/rest-client.ts';
import { roundTripsOf, transactionsIn } from '../../test/statement-counter.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';

/** A send request as the transports pass it (parsed: the audience defaulted). */
function message(words: string, clientMessageId?: string) {
  return { ...text(words, clientMessageId), audience: 'all' as const };
}

/** A conversation assigned to a new agent, each side having written once, routing's passes over. */
async function assignedIn(t: TestServer, a: ReturnType<typeof actors>, admin: string): Promise<{ conversationId: string; consumer: Principal; agent: Principal; agentId: string }> {
  const consumer = await a.consumer();
  const conversationId = await a.conversation(consumer.token);
  await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('hello') });
  const agent = await a.createUser(admin, 'agent');
  const taken = await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
  expect(taken.status).toBe(200);
  await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Hi, how can I help?') });
  // Routing's passes for the set-up are over before anything is measured.
  await t.server.services.routing.settle();
  const auth = t.server.services.auth;
  return { conversationId, consumer: await auth.authenticate(consumer.token), agent: await auth.authenticate(agent.token), agentId: agent.id };
}

describe(`the send path (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    a = actors(t);
    admin = await a.adminToken();
  });
  afterAll(() => t.close());

  const assigned = () => assignedIn(t, a, admin);

  it('stores a message in an assigned conversation in three round trips', async () => {
    const { conversationId, consumer, agent } = await assigned();
    const conversations = t.server.services.conversations;
    const fromConsumer = await roundTripsOf(() => conversations.send(consumer, conversationId, message('Where is my order?')));
    const fromAgent = await roundTripsOf(() => conversations.send(agent, conversationId, message('It ships today')));
    // begin with the row lock and then the routing row read with its skill's target; one statement for the duplicate
    // and participant checks, the sequence and the insert; the routing update, the analytics record and commit together.
    for (const { roundTrips } of [fromConsumer, fromAgent]) {
      expect(roundTrips, roundTrips.join('\n')).toHaveLength(3);
      expect(roundTrips[0]).toMatch(/^begin;\nexecute "send\.lock"\(.*;\nexecute "routing\.messages\.find"\(/s);
      expect(roundTrips[1]).toMatch(/^\/\*prepared:send\.store\*\//);
      expect(roundTrips.at(-1)).toMatch(/^execute "routing\.messages\.update"\(.*;\nexecute "analytics\.facts"\(.*;\ncommit$/s);
    }
    expect(fromAgent.result.sequence).toBe(fromConsumer.result.sequence + 1);
  });

  it('publishes a conversation summary when the conversation lists change, not for every message', async () => {
    const watcher = await WsTestClient.connect(t.baseUrl);
    expect((await watcher.request({ type: 'auth', token: admin })).ok).toBe(true);
    const summaries = (id: string) => watcher.frames.flatMap((f) => (f.type === 'conversation' && f.conversation.id === id ? [f.conversation] : []));
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    // The first message queues the conversation: the lists show it waiting.
    const first = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('hello') });
    await watcher.waitUntil(() => summaries(conversationId).some((c) => c.lastSequence === first.body.sequence && c.routing?.status === 'queued'));
    const agent = await a.createUser(admin, 'agent');
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    const answer = await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Hi, how can I help?') });
    const again = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Where is my order?') });
    const closed = await call(t.server.app, 'closeConversation', { token: agent.token, params: { conversationId } });
    await watcher.waitUntil(() => summaries(conversationId).some((c) => c.state === 'closed'));
    const published = summaries(conversationId).map((c) => c.lastSequence);
    expect(published).not.toContain(answer.body.sequence);
    expect(published).not.toContain(again.body.sequence);
    expect(published.at(-1)).toBe(closed.body.lastSequence);
    watcher.close();
  });

  it('stores a resent message once and acknowledges the resend with the original', async () => {
    const { conversationId, consumer } = await assigned();
    const conversations = t.server.services.conversations;
    const first = await conversations.send(consumer, conversationId, message('Where is my order?', 'resent-1'));
    const again = await conversations.send(consumer, conversationId, message('Where is my order?', 'resent-1'));
    expect(again).toEqual({ ...first, duplicate: true });
    await expect(conversations.send(consumer, conversationId, message('Something else', 'resent-1'))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const next = await conversations.send(consumer, conversationId, message('And another thing'));
    expect(next.sequence).toBe(first.sequence + 1);
  });

  it('joins a manager on their first message, then stores it after the join, and refuses an agent who does not hold it', async () => {
    const { conversationId, agent } = await assigned();
    const manager = await a.createUser(admin, 'manager');
    const other = await a.createUser(admin, 'agent');
    const auth = t.server.services.auth;
    const conversations = t.server.services.conversations;
    const ack = await conversations.send(await auth.authenticate(manager.token), conversationId, message('Stepping in'));
    const events = await conversations.readEventsFrom(conversationId, ack.sequence - 1, 10);
    expect(events.map((e) => [e.type, e.originator.id])).toEqual([
      ['participant', manager.id],
      ['content', manager.id],
    ]);
    await expect(conversations.send(await auth.authenticate(other.token), conversationId, message('Me too'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const after = await conversations.send(agent, conversationId, message('Thanks'));
    expect(after.sequence).toBe(ack.sequence + 1);
  });

  it('gives every event an id that grows with time (a UUID of version 7), whichever path stored it', async () => {
    const startedAt = Date.now();
    const { conversationId, consumer, agent } = await assigned();
    const conversations = t.server.services.conversations;
    // A lone send, sends together (the group commit), and a join with its message (the one-by-one path).
    await conversations.send(consumer, conversationId, message('Where is my order?'));
    await Promise.all([conversations.send(consumer, conversationId, message('Order 1234')), conversations.send(agent, conversationId, message('Looking'))]);
    const manager = await a.createUser(admin, 'manager');
    await conversations.send(await t.server.services.auth.authenticate(manager.token), conversationId, message('Stepping in'));
    const events = await conversations.readEventsFrom(conversationId, 0, 100);
    expect(events.length).toBeGreaterThanOrEqual(8);
    const millisecondsOf = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    for (const { id } of events) {
      expect(id[14], id).toBe('7');
      expect(millisecondsOf(id)).toBeGreaterThanOrEqual(startedAt);
      expect(millisecondsOf(id)).toBeLessThanOrEqual(Date.now());
    }
    // Stored one after another, so in the order of their sequence: the primary key grows at its right edge.
    expect(events.map((e) => e.id)).toEqual(events.map((e) => e.id).sort());
  });

  describe('group commit', () => {
    /** Assigned conversations, each with its consumer and agent, their set-up over. */
    async function many(n: number) {
      const list = [];
      for (let i = 0; i < n; i++) list.push(await assigned());
      await t.server.services.routing.settle();
      return list;
    }

    it('stores a burst of sends into many conversations in fewer transactions, each sender acknowledged with its own sequence, in order per conversation', async () => {
      const conversations = t.server.services.conversations;
      const list = await many(8);
      const before = await Promise.all(list.map((c) => conversations.readEventsFrom(c.conversationId, 1, 100).then((events) => events.at(-1)?.sequence ?? 0)));
      // In each conversation: the consumer, the agent, the consumer again, submitted in that order at the same moment.
      const burst = list.flatMap((c, i) => [
        { conversationId: c.conversationId, principal: c.consumer, words: `question ${i}` },
        { conversationId: c.conversationId, principal: c.agent, words: `answer ${i}` },
        { conversationId: c.conversationId, principal: c.consumer, words: `thanks ${i}` },
      ]);
      const { result: acks, roundTrips } = await roundTripsOf(() => Promise.all(burst.map((b) => conversations.send(b.principal, b.conversationId, message(b.words)))));
      // Submitted in one turn of the event loop, they go together, in one transaction.
      expect(transactionsIn(roundTrips)).toBe(1);
      // Its round trips do not grow with its size: begin, the locks and the routing rows read; one statement for the
      // checks, the sequences and the insert; then the routing update, the analytics record and commit together.
      expect(roundTrips, roundTrips.join('\n')).toHaveLength(3);
      for (const [i, c] of list.entries()) {
        const mine = acks.slice(i * 3, i * 3 + 3);
        const last = before[i] ?? 0;
        expect(mine.map((ack) => ack.sequence)).toEqual([last + 1, last + 2, last + 3]);
        expect(mine.every((ack) => ack.conversationId === c.conversationId && !ack.duplicate)).toBe(true);
        const stored = await conversations.readEventsFrom(c.conversationId, last + 1, 10);
        expect(stored.map((e) => [e.id, e.type === 'content' && e.content.contentType === 'text/plain' ? e.content.message : null, e.originator.role])).toEqual([
          [mine[0]?.eventId, `question ${i}`, 'consumer'],
          [mine[1]?.eventId, `answer ${i}`, 'assigned_agent'],
          [mine[2]?.eventId, `thanks ${i}`, 'consumer'],
        ]);
      }
      // The analytics record saw every message of the batch, in the same transaction.
      const facts = await t.server.database.db
        .selectFrom('analytics_events')
        .select(['conversation_id', 'type'])
        .where(
          'conversation_id',
          'in',
          list.map((c) => c.conversationId),
        )
        .where('type', 'in', ['consumer_message', 'agent_message'])
        .execute();
      // Per conversation: set-up (one consumer message, one answer) and the burst (two and one).
      expect(facts).toHaveLength(list.length * 5);
      // The agents' answers cleared the consumers' waits, and the last consumer message started a new one.
      const routing = await t.server.database.db
        .selectFrom('conversation_routing')
        .select(['awaiting_since', 'last_activity_at'])
        .where(
          'conversation_id',
          'in',
          list.map((c) => c.conversationId),
        )
        .execute();
      expect(routing.every((r) => r.awaiting_since !== null)).toBe(true);
    });

    it("stores an agent's pipelined answers into their conversations, from one socket, in one transaction, in order per conversation", async () => {
      const agent = await a.createUser(admin, 'agent');
      const held: string[] = [];
      for (let i = 0; i < 3; i++) {
        const consumer = await a.consumer();
        const conversationId = await a.conversation(consumer.token);
        await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('hello') });
        expect((await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } })).status).toBe(200);
        held.push(conversationId);
      }
      await t.server.services.routing.settle();
      const [first, second, third] = held as [string, string, string];
      const socket = await WsTestClient.connect(t.baseUrl);
      expect((await socket.request({ type: 'auth', token: agent.token })).ok).toBe(true);
      const answer = (conversationId: string, words: string) => ({ type: 'send', conversationId, clientMessageId: `${conversationId}-${words}`, event: text(words).event });
      const { result: responses, roundTrips } = await roundTripsOf(() =>
        socket.requestTogether([
          answer(first, 'one'),
          answer(second, 'two'),
          answer(first, 'one again'),
          answer(third, 'three'),
          // Not a send: it waits for the sends before it, so it sees them.
          { type: 'subscribe', conversationId: first, fromSeq: 0 },
        ]),
      );
      expect(responses.every((r) => r.ok)).toBe(true);
      // The four answers were read together and stored in one commit, not one each.
      expect(transactionsIn(roundTrips), roundTrips.join('\n')).toBe(1);
      const acks = responses.slice(0, 4).map((r) => (r.ok ? (r.result as { sequence: number; conversationId: string }) : undefined));
      expect(acks[2]?.sequence).toBe((acks[0]?.sequence ?? 0) + 1);
      expect(responses[4]?.ok && (responses[4].result as { lastSequence: number }).lastSequence).toBe(acks[2]?.sequence);
      const stored = await t.server.services.conversations.readEventsFrom(first, acks[0]?.sequence ?? 0, 10);
      expect(stored.map((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? e.content.message : e.type))).toEqual(['one', 'one again']);
      socket.close();
    });

    it('acknowledges a resent clientMessageId in a batch with the original, and a message sent twice in one batch once', async () => {
      const conversations = t.server.services.conversations;
      const [a1, a2, a3] = await many(3);
      if (!a1 || !a2 || !a3) throw new Error('set-up');
      const original = await conversations.send(a1.consumer, a1.conversationId, message('Where is my order?', 'dup-original'));
      const acks = await Promise.all([
        conversations.send(a3.consumer, a3.conversationId, message('a question')),
        conversations.send(a1.consumer, a1.conversationId, message('Where is my order?', 'dup-original')),
        conversations.send(a2.consumer, a2.conversationId, message('Twice', 'dup-twice')),
        conversations.send(a2.consumer, a2.conversationId, message('Twice', 'dup-twice')),
        conversations.send(a3.agent, a3.conversationId, message('an answer')),
      ]);
      expect(acks[1]).toEqual({ ...original, duplicate: true });
      expect(acks[2]?.duplicate).toBe(false);
      expect(acks[3]).toEqual({ ...acks[2], duplicate: true });
      expect(acks[4]?.sequence).toBe((acks[0]?.sequence ?? 0) + 1);
      const twice = await conversations.readEventsFrom(a2.conversationId, acks[2]?.sequence ?? 0, 10);
      expect(twice).toHaveLength(1);
    });

    it('fails a send that may not be stored alone, with its own error, and stores the others of the batch', async () => {
      const conversations = t.server.services.conversations;
      const [a1, a2, a3] = await many(3);
      if (!a1 || !a2 || !a3) throw new Error('set-up');
      const closed = await assigned();
      await call(t.server.app, 'closeConversation', { token: admin, params: { conversationId: closed.conversationId } });
      const results = await Promise.allSettled([
        conversations.send(a1.consumer, a1.conversationId, message('fine')),
        conversations.send(a1.agent, a2.conversationId, message('not my conversation')),
        conversations.send(a2.consumer, a2.conversationId, message('fine')),
        conversations.send(closed.consumer, closed.conversationId, message('too late')),
        conversations.send(a3.agent, a3.conversationId, message('fine too')),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? 'stored' : (r.reason as { code?: string }).code))).toEqual(['stored', 'NOT_FOUND', 'stored', 'CONVERSATION_CLOSED', 'stored']);
    });

    it('logs a slow group commit with the time each of its phases took', async () => {
      const conversations = t.server.services.conversations;
      const list = await many(2);
      let slow = true;
      // A sink that holds the transaction: the batch's "sinks" phase takes 60 ms a conversation.
      conversations.addEventSink({
        eventsStored: async () => {
          if (slow) await new Promise((resolve) => setTimeout(resolve, 60));
        },
      });
      const warn = vi.spyOn((conversations as unknown as { logger: Logger }).logger, 'warn');
      try {
        await Promise.all(list.map((c) => conversations.send(c.consumer, c.conversationId, message('slowly'))));
        const logged = warn.mock.calls.find((call) => call[1] === 'slow group commit');
        expect(logged?.[0]).toMatchObject({ sends: 2, stored: 2, conversations: 2 });
        const phases = (logged?.[0] as { phasesMs?: Record<string, number> } | undefined)?.phasesMs ?? {};
        expect(Object.keys(phases)).toEqual(['begin', 'lock', 'store', 'sinks', 'routing', 'commit', 'publish']);
        expect(phases.sinks).toBeGreaterThanOrEqual(100);
      } finally {
        slow = false;
        warn.mockRestore();
      }
    });

    it('stores a batch one send at a time when its transaction fails, and loses none', async () => {
      const conversations = t.server.services.conversations;
      const [a1, a2, a3] = await many(3);
      if (!a1 || !a2 || !a3) throw new Error('set-up');
      // A sink that fails the first transaction storing a2's message (as a deadlock or a lost connection would).
      let armed = true;
      conversations.addEventSink({
        eventsStored: async (_trx, conversation) => {
          if (armed && conversation.id === a2.conversationId) {
            armed = false;
            throw new Error('storage failed once');
          }
        },
      });
      const { result: acks, roundTrips } = await roundTripsOf(() =>
        Promise.all([
          conversations.send(a1.consumer, a1.conversationId, message('in the failed batch')),
          conversations.send(a2.consumer, a2.conversationId, message('in the failed batch too')),
          conversations.send(a3.consumer, a3.conversationId, message('and this one')),
        ]),
      );
      expect(armed).toBe(false);
      // The batch (rolled back), then its three sends one by one.
      expect(transactionsIn(roundTrips)).toBe(4);
      for (const [i, c] of [a1, a2, a3].entries()) {
        const events = await conversations.readEventsFrom(c.conversationId, acks[i]?.sequence ?? 0, 10);
        expect(events.map((e) => e.id)).toEqual([acks[i]?.eventId]);
      }
    });
  });
});

describe(`the send path's plans (${storageMode})`, () => {
  // One connection (PostgreSQL's pool of one; embedded mode has one session): the statements a group commit prepares
  // and the plans PostgreSQL made for them are all on it.
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ poolSize: 1 });
  });
  afterAll(() => t.close());

  it('plans the statements of a group commit once, not at every batch, whatever its size', async () => {
    const a = actors(t);
    const admin = await a.adminToken();
    const list = [];
    for (let i = 0; i < 4; i++) list.push(await assignedIn(t, a, admin));
    const conversations = t.server.services.conversations;
    // Ten group commits of two to four conversations, consumers and agents writing.
    for (let round = 0; round < 10; round++) {
      const some = list.slice(0, 2 + (round % 3));
      await Promise.all(some.map((c, i) => conversations.send(i % 2 === 0 ? c.consumer : c.agent, c.conversationId, message(`round ${round}`))));
    }
    const { rows } = await sql<{ name: string; generic_plans: number; custom_plans: number }>`
      select name, generic_plans, custom_plans from pg_prepared_statements order by name`.execute(t.server.database.db);
    // PostgreSQL plans a statement's first five executions for their values, then keeps a generic plan unless a plan for
    // the values looks cheaper: for a list passed as an array (whose length it sees) it always did, so it planned anew
    // at every batch. Each statement of the batch ran ten times here.
    expect(rows.map((r) => ({ name: r.name, generic: Number(r.generic_plans) >= 5, custom: Number(r.custom_plans) <= 5 }))).toEqual(
      ['analytics.facts', 'routing.messages.find', 'routing.messages.update', 'send.lock', 'send.store'].map((name) => ({ name, generic: true, custom: true })),
    );
  });
});
