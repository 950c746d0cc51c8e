import { ConversationEventSchema } from '@parley/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';

describe(`conversations over REST (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
  });
  afterAll(() => t.close());

  it('continues the open conversation when a consumer returns, and starts a new one after it closes', async () => {
    const consumer = await a.consumer();
    const first = await call(t.server.app, 'startConversation', { token: consumer.token, body: {} });
    expect(first.body.created).toBe(true);
    const again = await a.consumer(consumer.deviceToken ?? undefined);
    expect(again.consumerId).toBe(consumer.consumerId);
    const second = await call(t.server.app, 'startConversation', { token: again.token, body: {} });
    expect(second.body).toMatchObject({ created: false, conversation: { id: first.body.conversation.id } });

    await call(t.server.app, 'closeConversation', { token: again.token, params: { conversationId: first.body.conversation.id } });
    const third = await call(t.server.app, 'startConversation', { token: again.token, body: {} });
    expect(third.body.created).toBe(true);
    expect(third.body.conversation.id).not.toBe(first.body.conversation.id);

    const history = await call(t.server.app, 'listConversations', { token: again.token, query: { state: 'all' } });
    expect(history.body.items.map((c) => c.id)).toEqual([third.body.conversation.id, first.body.conversation.id]);
    const old = await call(t.server.app, 'listEvents', { token: again.token, params: { conversationId: first.body.conversation.id } });
    expect(old.status).toBe(200);
    expect(old.body.items[0]).toMatchObject({ type: 'conversation_state', state: 'closed', reason: 'consumer' });
  });

  it('gives every event the next sequence and stores a resent message once', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const acks = [];
    for (const word of ['one', 'two', 'three']) {
      const r = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text(word, `id-${word}`) });
      expect(r.status).toBe(201);
      acks.push(r.body);
    }
    // Sequence 1 is the consumer joining.
    expect(acks.map((ack) => ack.sequence)).toEqual([2, 3, 4]);
    const resent = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('two', 'id-two') });
    expect(resent.status).toBe(201);
    expect(resent.body).toMatchObject({ sequence: 3, duplicate: true, eventId: acks[1]?.eventId });

    const page = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: 1 } });
    expect(page.body.items.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    for (const event of page.body.items) expect(ConversationEventSchema.safeParse(event).success).toBe(true);
  });

  it('pages history newest first, and oldest first from a sequence', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (let i = 1; i <= 7; i++) await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text(`m${i}`) });
    const newest = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { limit: 3 } });
    expect(newest.body).toMatchObject({ order: 'desc', hasMore: true, lastSequence: 8 });
    expect(newest.body.items.map((e) => e.sequence)).toEqual([8, 7, 6]);
    const older = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { limit: 3, beforeSeq: 6 } });
    expect(older.body.items.map((e) => e.sequence)).toEqual([5, 4, 3]);
    const from = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: 7 } });
    expect(from.body).toMatchObject({ order: 'asc', hasMore: false });
    expect(from.body.items.map((e) => e.sequence)).toEqual([7, 8]);
  });

  it('lets exactly one of two agents take a conversation at the same moment', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const [ann, bob] = await Promise.all([a.createUser(admin, 'agent', 'ann'), a.createUser(admin, 'agent', 'bob')]);
    const unassigned = await call(t.server.app, 'listConversations', { token: ann.token, query: { scope: 'unassigned' } });
    expect(unassigned.body.items.some((c) => c.id === conversationId)).toBe(true);

    const results = await Promise.all([ann, bob].map((agent) => call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)?.body.error?.code).toBe('ALREADY_ASSIGNED');
    const winner = results[0]?.status === 200 ? ann : bob;
    const loser = winner === ann ? bob : ann;
    const conversation = await call(t.server.app, 'getConversation', { token: winner.token, params: { conversationId } });
    expect(conversation.body.assignedAgentId).toBe(winner.id);
    // The other agent can no longer see it, nor write to it.
    const denied = await call(t.server.app, 'sendEvent', { token: loser.token, params: { conversationId }, body: text('hello') });
    expect(denied.status).toBe(404);
  });

  it('keeps internal notes from the consumer', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    const note = await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: { ...text('VIP, offer 10%'), audience: 'agents_and_managers' } });
    expect(note.status).toBe(201);
    await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Hello, how can I help?') });

    const consumerView = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: 0 } });
    expect(JSON.stringify(consumerView.body)).not.toContain('VIP');
    expect(consumerView.body.items.at(-1)).toMatchObject({ originator: { role: 'assigned_agent', id: agent.id } });
    const agentView = await call(t.server.app, 'listEvents', { token: agent.token, params: { conversationId }, query: { fromSeq: 0 } });
    expect(agentView.body.items.some((e) => e.audience === 'agents_and_managers')).toBe(true);

    const consumerNote = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: { ...text('sneaky'), audience: 'agents_and_managers' } });
    expect(consumerNote.body.error?.code).toBe('FORBIDDEN');
  });

  it('records delivered and read receipts as sequenced events over sequence lists', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    const sent = await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Your order ships today') });
    const read = await call(t.server.app, 'sendReceipt', { token: consumer.token, params: { conversationId }, body: { status: 'read', sequences: [sent.body.sequence] } });
    expect(read.status).toBe(201);
    expect(read.body.sequence).toBe(sent.body.sequence + 1);
    const events = await call(t.server.app, 'listEvents', { token: agent.token, params: { conversationId }, query: { fromSeq: read.body.sequence } });
    expect(events.body.items[0]).toMatchObject({ type: 'accept_status', status: 'read', sequences: [sent.body.sequence], originator: { role: 'consumer' } });
    const future = await call(t.server.app, 'sendReceipt', { token: consumer.token, params: { conversationId }, body: { status: 'read', sequences: [999] } });
    expect(future.body.error?.code).toBe('VALIDATION_FAILED');
  });

  it('accepts structured content with quick replies and rejects malformed cards', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    const card = {
      type: 'vertical',
      elements: [
        { type: 'image', url: 'https://example.com/shoe.png', tooltip: 'Runner 2' },
        { type: 'text', text: 'Runner 2 - $89', style: { bold: true } },
        { type: 'button', title: 'Buy', click: { actions: [{ type: 'link', uri: 'https://example.com/buy' }], metadata: [{ type: 'ExternalId', id: 'sku-1' }] } },
      ],
    };
    const quickReplies = { type: 'quickReplies', itemsPerRow: 2, replies: [{ type: 'button', title: 'Yes', click: { actions: [{ type: 'publishText', text: 'Yes' }] } }] };
    const ok = await call(t.server.app, 'sendEvent', {
      token: agent.token,
      params: { conversationId },
      body: { clientMessageId: 'card-1', event: { type: 'rich_content', content: card, quickReplies } },
    });
    expect(ok.status).toBe(201);
    const stored = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: ok.body.sequence } });
    expect(stored.body.items[0]).toMatchObject({ type: 'rich_content', content: card, quickReplies });

    const bad = await call(t.server.app, 'sendEvent', {
      token: agent.token,
      params: { conversationId },
      body: { clientMessageId: 'card-2', event: { type: 'rich_content', content: { type: 'vertical', elements: [{ type: 'button', title: 'x' }] } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('VALIDATION_FAILED');
  });

  it("keeps no statistics of the events' payloads, which no query filters on and which made analysing them costly", async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const words of ['Where is my order?', 'It was due yesterday']) {
      expect((await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text(words) })).status).toBe(201);
    }
    const { db } = t.server.database;
    await sql`analyze conversation_events`.execute(db);
    const { rows } = await sql<{ attname: string }>`select attname from pg_stats where tablename = 'conversation_events'`.execute(db);
    expect(rows.map((r) => r.attname)).toContain('conversation_id');
    expect(rows.map((r) => r.attname)).not.toContain('payload');
  });
});
