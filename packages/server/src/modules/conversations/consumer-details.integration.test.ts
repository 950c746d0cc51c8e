import { ConsumerDetailsSchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';

describe(`consumer details for the workspace (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
  });
  afterAll(() => t.close());

  const details = (token: string, consumerId: string) => call(t.server.app, 'getConsumer', { token, params: { consumerId } });

  it("shows a consumer's conversations, newest first, to supervisors and to the agent holding their open conversation", async () => {
    const consumer = await a.consumer();
    const first = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId: first }, body: text('first visit') });
    await call(t.server.app, 'closeConversation', { token: consumer.token, params: { conversationId: first } });
    const second = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId: second }, body: text('back again') });

    const agent = await a.createUser(admin, 'agent', 'Ada');
    const outsider = await a.createUser(admin, 'agent', 'Bo');
    const manager = await a.createUser(admin, 'manager', 'Mia');

    // Before taking the conversation, the agent may not look the consumer up.
    expect((await details(agent.token, consumer.consumerId)).status).toBe(404);
    const taken = await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId: second } });
    expect(taken.status).toBe(200);

    for (const token of [agent.token, manager.token, admin]) {
      const r = await details(token, consumer.consumerId);
      expect(r.status).toBe(200);
      const body = ConsumerDetailsSchema.parse(r.body);
      expect(body.consumer).toMatchObject({ id: consumer.consumerId, authenticated: false, externalId: null });
      expect(body.conversations.map((c) => [c.id, c.state])).toEqual([
        [second, 'open'],
        [first, 'closed'],
      ]);
    }
    const refused = await details(outsider.token, consumer.consumerId);
    expect(refused.status).toBe(404);
    expect(refused.body.error?.code).toBe('NOT_FOUND');

    // Once the agent closes it, the consumer is no longer theirs to look up.
    await call(t.server.app, 'closeConversation', { token: agent.token, params: { conversationId: second } });
    expect((await details(agent.token, consumer.consumerId)).status).toBe(404);
  });

  it("answers NOT_FOUND for another account's consumer and for unknown ids, and refuses consumers", async () => {
    const adminEmail = `b-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    await createAccountWithAdmin(t.server.services, { accountName: 'Brand B', adminEmail, adminPassword: 'brand-b-admin-password' });
    const adminB = (await call(t.server.app, 'login', { body: { email: adminEmail, password: 'brand-b-admin-password' } })).body.accessToken;
    const consumer = await a.consumer();
    await a.conversation(consumer.token);

    expect((await details(adminB, consumer.consumerId)).status).toBe(404);
    expect((await details(admin, crypto.randomUUID())).status).toBe(404);
    expect((await details(admin, 'not-a-uuid')).status).toBe(400);
    expect((await details(consumer.token, consumer.consumerId)).status).toBe(403);
  });
});
