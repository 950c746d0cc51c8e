import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import { actors, call, text } from '../../test/rest-client.ts';
import { statementsOf } from '../../test/statement-counter.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';

/** A send request as the transports pass it (parsed: the audience defaulted). */
function message(words: string, clientMessageId?: string) {
  return { ...text(words, clientMessageId), audience: 'all' as const };
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

  async function assigned(): Promise<{ conversationId: string; consumer: Principal; agent: Principal; agentId: string }> {
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

  it('stores a message in an assigned conversation in a handful of statements', async () => {
    const { conversationId, consumer, agent } = await assigned();
    const conversations = t.server.services.conversations;
    const fromConsumer = await statementsOf(() => conversations.send(consumer, conversationId, message('Where is my order?')));
    const fromAgent = await statementsOf(() => conversations.send(agent, conversationId, message('It ships today')));
    // begin, the row lock, one statement for the duplicate and participant checks, the sequence and the insert, the
    // routing row (read with its skill's target, then updated), the analytics record, commit
    expect(fromConsumer.statements, fromConsumer.statements.join('\n')).toHaveLength(7);
    expect(fromAgent.statements, fromAgent.statements.join('\n')).toHaveLength(7);
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
});
