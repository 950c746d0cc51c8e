import { randomUUID } from 'node:crypto';
import type { ConversationEvent } from '@parley/protocol';
import { expect } from 'vitest';
import { createAccountWithAdmin } from '../modules/accounts/index.ts';
import { call } from './rest-client.ts';
import type { TestServer } from './test-server.ts';
import { WsTestClient } from './ws-test-client.ts';

/** Polls `read` until `ok` holds (every 50 ms), or fails naming `what` with the last value read. */
import { until } from './until.ts';

export { until };

export type AgentScene = Awaited<ReturnType<typeof agentScene>>;

/**
 * For the channel suites: a fresh account with its admin, a skill, and an agent (Ann) on it, connected over the
 * realtime protocol and online, so routing gives her what the channel brings in. Everything through the public API.
 */
export async function agentScene(t: TestServer, skillName = 'Support') {
  const app = t.server.app;
  const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
  await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
  const login = async (address: string) => (await call(app, 'login', { body: { email: address, password: 'a-long-password' } })).body.accessToken;
  const admin = await login(email);
  const skill = (await call(app, 'createSkill', { token: admin, body: { name: skillName } })).body.id;
  const agentEmail = `ann-${randomUUID().slice(0, 8)}@acme.test`;
  const user = await call(app, 'createUser', { token: admin, body: { email: agentEmail, name: 'Ann', role: 'agent', password: 'a-long-password' } });
  expect(user.status).toBe(201);
  await call(app, 'updateAgentRouting', { token: admin, params: { userId: user.body.id }, body: { skillIds: [skill], maxConversations: 10 } });
  const agent = { id: user.body.id as string, email: agentEmail, token: await login(agentEmail), ws: await WsTestClient.connect(t.baseUrl) };
  expect((await agent.ws.request({ type: 'auth', token: agent.token })).ok).toBe(true);
  expect((await call(app, 'setMyState', { token: agent.token, body: { state: 'online' } })).status).toBe(200);

  const scene = {
    admin,
    skill,
    agent,
    /** New access tokens for the admin and Ann (after a test moved the server's clock past their lifetime). */
    async signInAgain() {
      scene.admin = await login(email);
      agent.token = await login(agentEmail);
    },
    conversations: async () => (await call(app, 'listConversations', { token: scene.admin, query: { scope: 'all', state: 'all', limit: 100 } })).body.items,
    events: async (conversationId: string) => (await call(app, 'listEvents', { token: scene.admin, params: { conversationId }, query: { fromSeq: 1, limit: 200 } })).body.items as ConversationEvent[],
    /** The texts of the conversation's content events, internal notes included, oldest first. */
    texts: async (conversationId: string) => (await scene.events(conversationId)).flatMap((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? [e.content.message] : [])),
    /** The one conversation of the account, once routing has given it to Ann. */
    async assignedConversation() {
      const [conversation] = await until(scene.conversations, (l) => l.length === 1 && l[0]?.assignedAgentId === agent.id, 'the conversation given to Ann');
      if (!conversation) throw new Error('no conversation');
      return conversation;
    },
    /** The internal note starting with `prefix`, once it is there. */
    async noteStartingWith(conversationId: string, prefix: string, timeoutMs = 10_000) {
      const events = await until(
        () => scene.events(conversationId),
        (list) => list.some((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message.startsWith(prefix)),
        `a note starting with "${prefix}"`,
        timeoutMs,
      );
      const note = events.find((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message.startsWith(prefix));
      if (note?.type !== 'content' || note.content.contentType !== 'text/plain') throw new Error('no note');
      return { audience: note.audience, originator: note.originator, message: note.content.message };
    },
    /** Ann writes in the conversation (a text, optionally with quick replies that publish their title). */
    reply: async (conversationId: string, message: string, quickReplies: string[] = []) => {
      const sent = await call(app, 'sendEvent', {
        token: agent.token,
        params: { conversationId },
        body: {
          clientMessageId: randomUUID(),
          event: {
            type: 'content',
            content: {
              contentType: 'text/plain',
              message,
              ...(quickReplies.length > 0
                ? { quickReplies: { type: 'quickReplies', replies: quickReplies.map((title) => ({ type: 'button', title, click: { actions: [{ type: 'publishText', text: title }] } })) } }
                : {}),
            },
          },
        },
      });
      expect(sent.status).toBe(201);
      return sent.body;
    },
    /** Whether the consumer's side acknowledged (`accept`) or read a sequence. */
    receipted: async (conversationId: string, sequence: number, status: 'accept' | 'read') =>
      until(
        () => scene.events(conversationId),
        (list) => list.some((e) => e.type === 'accept_status' && e.status === status && e.originator.role === 'consumer' && e.sequences.includes(sequence)),
        `a ${status} receipt of ${sequence}`,
      ),
    close() {
      agent.ws.close();
    },
  };
  return scene;
}
