import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { storageMode } from '../../test/test-database.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';

describe(`routing over the realtime gateway (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    admin = await actors(t).adminToken();
  });
  afterAll(() => t.close());

  it('counts an agent as present while their socket is open, and routes to them once online', async () => {
    const a = actors(t);
    const agent = await a.createUser(admin, 'agent', 'Wendy');
    const before = await call(t.server.app, 'getMyState', { token: agent.token });
    expect(before.body).toMatchObject({ state: 'offline', connected: false });

    const socket = await WsTestClient.connect(t.baseUrl, { authorization: `Bearer ${agent.token}` });
    await socket.waitUntil(() => socket.frames.some((f) => f.type === 'agent_state' && f.agent.connected));
    await call(t.server.app, 'setMyState', { token: agent.token, body: { state: 'online' } });
    await socket.waitFor((f) => f.type === 'agent_state' && f.agent.state === 'online');

    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Hi there') });
    const assigned = await socket.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.assignedAgentId === agent.id);
    expect(assigned).toBeDefined();

    socket.close();
    await socket.waitClosed();
    await t.server.services.routing.settle();
    await expect.poll(async () => (await call(t.server.app, 'getMyState', { token: agent.token })).body.connected).toBe(false);
    // Still online and holding the conversation during the grace period.
    expect((await call(t.server.app, 'getConversation', { token: admin, params: { conversationId } })).body.assignedAgentId).toBe(agent.id);
  });

  it('tells an agent when a conversation they held leaves their view (transferred to another agent)', async () => {
    const a = actors(t);
    const first = await a.createUser(admin, 'agent', 'First');
    const second = await a.createUser(admin, 'agent', 'Second');
    const socket = await WsTestClient.connect(t.baseUrl, { authorization: `Bearer ${first.token}` });
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Hello?') });
    await call(t.server.app, 'takeConversation', { token: first.token, params: { conversationId } });
    await socket.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.assignedAgentId === first.id);

    await call(t.server.app, 'transferConversation', { token: first.token, params: { conversationId }, body: { agentId: second.id } });
    await call(t.server.app, 'takeConversation', { token: second.token, params: { conversationId } });
    const gone = await socket.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.assignedAgentId === second.id);
    expect(gone).toBeDefined();
    socket.close();
  });

  it('rings an agent with an offer frame, and pushes the live view to managers', async () => {
    const a = actors(t);
    const skill = await call(t.server.app, 'createSkill', { token: admin, body: { name: 'Ringing', routingMode: 'ring', ringTimeoutSeconds: 30 } });
    const agent = await a.createUser(admin, 'agent', 'Rhea');
    await call(t.server.app, 'updateAgentRouting', { token: admin, params: { userId: agent.id }, body: { skillIds: [skill.body.id] } });
    const manager = await a.createUser(admin, 'manager', 'Mona');
    const managerSocket = await WsTestClient.connect(t.baseUrl, { authorization: `Bearer ${manager.token}` });
    const agentSocket = await WsTestClient.connect(t.baseUrl, { authorization: `Bearer ${agent.token}` });
    await call(t.server.app, 'setMyState', { token: agent.token, body: { state: 'online' } });

    const consumer = await a.consumer();
    const started = await call(t.server.app, 'startConversation', { token: consumer.token, body: { skillId: skill.body.id } });
    const conversationId = started.body.conversation.id;
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Is anyone there?') });

    const offer = await agentSocket.waitFor((f) => f.type === 'offer' && f.conversation.id === conversationId);
    expect(offer.type === 'offer' && Date.parse(offer.expiresAt)).toBeGreaterThan(Date.now());
    const live = await managerSocket.waitFor((f) => f.type === 'live' && f.live.agents.some((ag) => ag.userId === agent.id && ag.offered === 1));
    expect(live.type === 'live' && live.live.skills.find((s) => s.skillId === skill.body.id)).toMatchObject({ agentsOnline: 1, queued: 1 });

    const accepted = await call(t.server.app, 'acceptOffer', { token: agent.token, params: { conversationId } });
    expect(accepted.body.assignedAgentId).toBe(agent.id);
    await managerSocket.waitFor((f) => f.type === 'live' && f.live.agents.some((ag) => ag.userId === agent.id && ag.assigned === 1 && ag.offered === 0));
    agentSocket.close();
    managerSocket.close();
  });
});
