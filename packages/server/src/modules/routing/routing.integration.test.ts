import { randomUUID } from 'node:crypto';
import type { ConversationEvent } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import { call, text } from '../../test/rest-client.ts';
import { roundTripsOf } from '../../test/statement-counter.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { storageMode } from '../../test/test-database.ts';

describe(`routing (${storageMode})`, () => {
  let t: TestServer;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(new Date('2026-11-23T10:00:00Z')); // a Monday
    // Tests move the clock by hours: tokens must outlive that.
    t = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '604800', CONSUMER_TOKEN_TTL_SECONDS: '604800' } });
  });
  afterAll(() => t.close());

  const app = () => t.server.app;
  const routing = () => t.server.services.routing;
  const connections: string[] = [];

  /** Time passes; the gateway's heartbeat keeps the connected agents' presence fresh meanwhile. */
  async function advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 20_000) {
      clock.advance(Math.min(left, 20_000));
      await routing().heartbeat(connections);
    }
  }

  /** A fresh account per test keeps queues apart. */
  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const login = await call(app(), 'login', { body: { email, password: 'a-long-password' } });
    const adminToken = login.body.accessToken;
    const accountId = created.accountId;
    const widgetKey = created.widgetKey;

    const agent = async (name: string, options: { skills?: string[]; max?: number; online?: boolean; connected?: boolean; role?: 'agent' | 'manager' } = {}) => {
      const userEmail = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@acme.test`;
      const user = await call(app(), 'createUser', { token: adminToken, body: { email: userEmail, name, role: options.role ?? 'agent', password: 'a-long-password' } });
      const token = (await call(app(), 'login', { body: { email: userEmail, password: 'a-long-password' } })).body.accessToken;
      const principal: Principal = { kind: 'user', userId: user.body.id, accountId, role: options.role ?? 'agent', name };
      const connectionId = randomUUID();
      await call(app(), 'updateAgentRouting', { token: adminToken, params: { userId: user.body.id }, body: { skillIds: options.skills ?? [], maxConversations: options.max ?? 3 } });
      if (options.connected !== false) {
        await routing().connectionOpened(principal, connectionId);
        connections.push(connectionId);
      }
      if (options.online !== false) await call(app(), 'setMyState', { token, body: { state: 'online' } });
      await routing().settle();
      return { id: user.body.id, token, principal, connectionId, name };
    };
    const skill = async (name: string, extra: Record<string, unknown> = {}) => {
      const r = await call(app(), 'createSkill', { token: adminToken, body: { name, ...extra } });
      expect(r.status).toBe(201);
      return r.body.id;
    };
    const consumer = async (options: { skillId?: string; message?: string | null } = {}) => {
      const session = await call(app(), 'consumerSession', { body: { widgetKey } });
      const token = session.body.accessToken;
      const started = await call(app(), 'startConversation', { token, body: options.skillId ? { skillId: options.skillId } : {} });
      expect(started.status).toBe(200);
      const conversationId = started.body.conversation.id;
      if (options.message !== null) await call(app(), 'sendEvent', { token, params: { conversationId }, body: text(options.message ?? 'Hello, I need help') });
      await routing().settle();
      return { token, conversationId, consumerId: session.body.consumerId };
    };
    const conversation = async (id: string) => (await call(app(), 'getConversation', { token: adminToken, params: { conversationId: id } })).body;
    const events = async (id: string, token = adminToken) => (await call(app(), 'listEvents', { token, params: { conversationId: id }, query: { fromSeq: 1 } })).body.items as ConversationEvent[];
    const settings = (body: Record<string, unknown>) => call(app(), 'updateRoutingSettings', { token: adminToken, body });
    return { adminToken, accountId, agent, skill, consumer, conversation, events, settings };
  }

  describe('assignment', () => {
    it('gives a waiting conversation to an online, connected agent as soon as the consumer writes', async () => {
      const s = await scene();
      const ann = await s.agent('Ann');
      const c = await s.consumer({ message: null });
      expect((await s.conversation(c.conversationId)).routing?.status).toBe('new'); // nothing to answer yet
      await call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.conversationId }, body: text('Where is my order?') });
      await routing().settle();
      const summary = await s.conversation(c.conversationId);
      expect(summary.assignedAgentId).toBe(ann.id);
      expect(summary.routing).toMatchObject({ status: 'assigned', awaitingResponseSince: expect.any(String) });
      expect(summary.participants).toContainEqual(expect.objectContaining({ id: ann.id, role: 'assigned_agent', name: 'Ann' }));
      const joined = (await s.events(c.conversationId, c.token)).find((e) => e.type === 'participant' && e.participant.id === ann.id);
      expect(joined).toBeDefined();
    });

    it('stores a burst of first messages into new conversations in one commit, queues each, and assigns them all', async () => {
      const s = await scene();
      const ann = await s.agent('Ann', { max: 10 });
      const fresh: Array<{ token: string; conversationId: string }> = [];
      for (let i = 0; i < 6; i++) fresh.push(await s.consumer({ message: null }));
      const auth = t.server.services.auth;
      const principals = await Promise.all(fresh.map((c) => auth.authenticate(c.token)));
      const conversations = t.server.services.conversations;
      // Submitted at the same moment (a campaign's burst): one group commit, not one transaction per first message.
      const { result: acks, roundTrips } = await roundTripsOf(() =>
        Promise.all(fresh.map((c, i) => conversations.send(principals[i] as Principal, c.conversationId, { ...text(`question ${i}`), audience: 'all' }))),
      );
      expect(
        roundTrips.filter((r) => r.includes('send.store')),
        roundTrips.join('\n'),
      ).toHaveLength(1);
      expect(acks.map((ack) => ack.sequence)).toEqual(acks.map(() => acks[0]?.sequence));
      // The commit asked routing to look again: every conversation went to Ann, after the message that queued it.
      await routing().settle();
      for (const [i, c] of fresh.entries()) {
        const summary = await s.conversation(c.conversationId);
        expect(summary.assignedAgentId).toBe(ann.id);
        expect(summary.routing).toMatchObject({ status: 'assigned', awaitingResponseSince: expect.any(String) });
        const events = await s.events(c.conversationId, c.token);
        expect(events.map((e) => e.sequence)).toEqual(events.map((_, k) => k + 1));
        expect(events.slice(-2)).toMatchObject([
          { type: 'content', sequence: acks[i]?.sequence, content: { message: `question ${i}` } },
          { type: 'participant', change: 'joined', participant: { id: ann.id } },
        ]);
      }
    });

    it('routes nothing to agents who are away, offline or not connected, and routes at once when one comes online', async () => {
      const s = await scene();
      const away = await s.agent('Away', { online: false });
      await call(app(), 'setMyState', { token: away.token, body: { state: 'away', reason: 'lunch' } });
      const unplugged = await s.agent('Unplugged', { connected: false });
      const c = await s.consumer();
      expect((await s.conversation(c.conversationId)).routing?.status).toBe('queued');
      expect(unplugged.id).toBeDefined();

      const back = await call(app(), 'setMyState', { token: away.token, body: { state: 'online' } });
      expect(back.body).toMatchObject({ state: 'online', reason: null, connected: true });
      await routing().settle();
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(away.id);
    });

    it('gives a conversation only to agents with its skill, and picks the one with the most free capacity', async () => {
      const s = await scene();
      const billing = await s.skill('Billing');
      const sales = await s.skill('Sales');
      await s.agent('Seller', { skills: [sales], max: 10 });
      const busy = await s.agent('Busy', { skills: [billing], max: 2 });
      const free = await s.agent('Free', { skills: [billing], max: 4 });
      const first = await s.consumer({ skillId: billing });
      expect((await s.conversation(first.conversationId)).assignedAgentId).toBe(free.id); // 4 free beats 2 free
      const second = await s.consumer({ skillId: billing });
      expect((await s.conversation(second.conversationId)).assignedAgentId).toBe(free.id); // 3 free beats 2 free
      const third = await s.consumer({ skillId: billing });
      // 2 free each: the longest idle (never assigned) wins.
      expect((await s.conversation(third.conversationId)).assignedAgentId).toBe(busy.id);
    });

    it('makes the next conversation wait when capacity is full, and assigns it the moment a conversation closes', async () => {
      const s = await scene();
      const solo = await s.agent('Solo', { max: 1 });
      const first = await s.consumer();
      const second = await s.consumer();
      expect((await s.conversation(second.conversationId)).routing?.status).toBe('queued');
      expect((await call(app(), 'getMyState', { token: solo.token })).body).toMatchObject({ assigned: 1, maxConversations: 1 });

      await call(app(), 'closeConversation', { token: solo.token, params: { conversationId: first.conversationId } });
      await routing().settle();
      expect((await s.conversation(second.conversationId)).assignedAgentId).toBe(solo.id);
    });

    it('serves the queue by priority, then arrival', async () => {
      const s = await scene();
      const early = await s.consumer();
      await advance(1000);
      const late = await s.consumer();
      const solo = await s.agent('Solo', { max: 1 });
      expect((await s.conversation(early.conversationId)).assignedAgentId).toBe(solo.id);
      expect((await s.conversation(late.conversationId)).routing?.status).toBe('queued');
    });

    it('refuses a take beyond the agent’s capacity, changing nothing', async () => {
      const s = await scene();
      const held = await s.consumer();
      const waiting = await s.consumer();
      const zero = await s.agent('Zero', { max: 0 });
      const r = await call(app(), 'takeConversation', { token: zero.token, params: { conversationId: waiting.conversationId } });
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('AGENT_AT_CAPACITY');
      expect((await s.conversation(waiting.conversationId)).assignedAgentId).toBeNull();

      // A take within capacity counts against it like an assignment.
      const one = await s.agent('One', { max: 1, online: false });
      expect((await call(app(), 'takeConversation', { token: one.token, params: { conversationId: held.conversationId } })).status).toBe(200);
      expect((await call(app(), 'getMyState', { token: one.token })).body).toMatchObject({ assigned: 1, maxConversations: 1 });
      const second = await call(app(), 'takeConversation', { token: one.token, params: { conversationId: waiting.conversationId } });
      expect(second.body.error?.code).toBe('AGENT_AT_CAPACITY');
    });
  });

  describe('a pass with many assignments', () => {
    /** `waiting` conversations queue for a skill nobody is online for; then one agent comes online for all of them. */
    async function queueThenComeOnline(waiting: number) {
      const s = await scene();
      const sales = await s.skill('Sales');
      const ann = await s.agent('Ann', { skills: [sales], max: 20, online: false });
      const queued = [];
      for (let i = 0; i < waiting; i++) queued.push(await s.consumer({ skillId: sales, message: `question ${i}` }));
      const { roundTrips } = await roundTripsOf(async () => {
        await call(app(), 'setMyState', { token: ann.token, body: { state: 'online' } });
        await routing().settle();
      });
      return { s, ann, queued, roundTrips };
    }

    it('assigns a whole queue in as many round trips as one conversation, each with its agent joined at its next sequence', async () => {
      const few = await queueThenComeOnline(2);
      const many = await queueThenComeOnline(9);
      // One statement locks the pass's conversations, one claims their routing rows, one joins the agent to all of them
      // (participants, sequences, events); not a handful of statements per conversation.
      expect(many.roundTrips.length, many.roundTrips.join('\n')).toBe(few.roundTrips.length);
      for (const { s, ann, queued } of [few, many]) {
        for (const c of queued) {
          const summary = await s.conversation(c.conversationId);
          expect(summary.assignedAgentId).toBe(ann.id);
          expect(summary.routing?.status).toBe('assigned');
          expect(summary.participants.filter((p: { id: string }) => p.id === ann.id)).toEqual([expect.objectContaining({ role: 'assigned_agent', name: 'Ann' })]);
          const events = await s.events(c.conversationId, c.token);
          expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
          expect(events.at(-1)).toMatchObject({ type: 'participant', change: 'joined', participant: { id: ann.id, role: 'assigned_agent', name: 'Ann' } });
          expect(summary.lastSequence).toBe(events.length);
        }
      }
    });

    it('reads past the head of a long queue when only a conversation further back can be served', async () => {
      const s = await scene();
      const sales = await s.skill('Sales');
      const billing = await s.skill('Billing');
      const bea = await s.agent('Bea', { skills: [billing], max: 2, online: false });
      // More conversations than a pass reads at first (router.ts, QUEUE_READS), all for a skill nobody serves...
      for (let i = 0; i < 13; i++) await Promise.all(Array.from({ length: 20 }, () => s.consumer({ skillId: sales })));
      // ... and behind them (the test's clock stands still unless moved), one that Bea can take.
      await advance(1_000);
      const last = await s.consumer({ skillId: billing });
      await call(app(), 'setMyState', { token: bea.token, body: { state: 'online' } });
      await routing().settle();
      expect((await s.conversation(last.conversationId)).assignedAgentId).toBe(bea.id);
    });

    it('promotes an agent already in one of the conversations, in the same pass as the others', async () => {
      const s = await scene();
      const sales = await s.skill('Sales');
      const meg = await s.agent('Meg', { skills: [sales], max: 5, online: false, role: 'manager' });
      const first = await s.consumer({ skillId: sales });
      const second = await s.consumer({ skillId: sales });
      // Meg writes into the first one while it waits: she is in it as a manager.
      expect((await call(app(), 'sendEvent', { token: meg.token, params: { conversationId: first.conversationId }, body: text('Someone will be with you shortly') })).status).toBe(201);
      await routing().settle();
      await call(app(), 'setMyState', { token: meg.token, body: { state: 'online' } });
      await routing().settle();
      for (const c of [first, second]) {
        const summary = await s.conversation(c.conversationId);
        expect(summary.assignedAgentId).toBe(meg.id);
        expect(summary.participants.filter((p: { id: string }) => p.id === meg.id)).toEqual([expect.objectContaining({ role: 'assigned_agent' })]);
        const events = await s.events(c.conversationId, c.token);
        expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
        expect(events.at(-1)).toMatchObject({ type: 'participant', change: 'joined', participant: { id: meg.id, role: 'assigned_agent' } });
      }
      const joins = (await s.events(first.conversationId, first.token)).filter((e) => e.type === 'participant' && e.participant.id === meg.id);
      expect(joins.map((e) => e.type === 'participant' && e.participant.role)).toEqual(['manager', 'assigned_agent']);
    });
  });

  describe('ringing one agent at a time', () => {
    it('offers to one agent, who accepts within the time-out', async () => {
      const s = await scene();
      const ring = await s.skill('Concierge', { routingMode: 'ring', ringTimeoutSeconds: 20 });
      const rita = await s.agent('Rita', { skills: [ring] });
      const c = await s.consumer({ skillId: ring });
      const offered = await s.conversation(c.conversationId);
      expect(offered.routing).toMatchObject({ status: 'offered', offeredTo: rita.id });
      expect(offered.assignedAgentId).toBeNull();
      const accepted = await call(app(), 'acceptOffer', { token: rita.token, params: { conversationId: c.conversationId } });
      expect(accepted.status).toBe(200);
      expect(accepted.body.assignedAgentId).toBe(rita.id);
      const again = await call(app(), 'acceptOffer', { token: rita.token, params: { conversationId: c.conversationId } });
      expect(again.body.error?.code).toBe('NOT_OFFERED');
    });

    it('rings the next agent when the first declines or lets the time-out pass', async () => {
      const s = await scene();
      const ring = await s.skill('Concierge', { routingMode: 'ring', ringTimeoutSeconds: 20 });
      const first = await s.agent('First', { skills: [ring] });
      await advance(10);
      const second = await s.agent('Second', { skills: [ring] });
      const third = await s.agent('Third', { skills: [ring] });
      const c = await s.consumer({ skillId: ring });
      const offeredTo = (await s.conversation(c.conversationId)).routing?.offeredTo;
      const [x, y] = [first, second, third].filter((agent) => agent.id !== offeredTo);
      const initial = [first, second, third].find((agent) => agent.id === offeredTo);
      if (!initial || !x || !y) throw new Error('expected an offer');

      const declined = await call(app(), 'declineOffer', { token: initial.token, params: { conversationId: c.conversationId } });
      expect(declined.body.status).toBe('queued');
      await routing().settle();
      const next = (await s.conversation(c.conversationId)).routing?.offeredTo;
      expect(next).not.toBe(initial.id);

      await advance(21_000);
      await routing().sweep();
      await routing().settle();
      const last = (await s.conversation(c.conversationId)).routing?.offeredTo;
      expect(last).not.toBe(initial.id);
      expect(last).not.toBe(next);
    });
  });

  describe('transfer', () => {
    it('moves the conversation to another skill with a note only agents see, and never back to the same agent', async () => {
      const s = await scene();
      const support = await s.skill('Support');
      const billing = await s.skill('Billing');
      const sam = await s.agent('Sam', { skills: [support, billing] });
      const c = await s.consumer({ skillId: support });
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(sam.id);
      const bill = await s.agent('Bill', { skills: [billing] });

      const moved = await call(app(), 'transferConversation', {
        token: sam.token,
        params: { conversationId: c.conversationId },
        body: { skillId: billing, note: 'Refund of order 1234, already verified' },
      });
      expect(moved.status).toBe(200);
      await routing().settle();
      const summary = await s.conversation(c.conversationId);
      expect(summary.assignedAgentId).toBe(bill.id);
      expect(summary.routing).toMatchObject({ skillId: billing, transferNote: 'Refund of order 1234, already verified' });

      const agentView = await s.events(c.conversationId, bill.token);
      expect(agentView.some((e) => e.type === 'content' && e.audience === 'agents_and_managers' && e.content.contentType === 'text/plain' && e.content.message.includes('Refund of order 1234'))).toBe(
        true,
      );
      const consumerView = await s.events(c.conversationId, c.token);
      expect(JSON.stringify(consumerView)).not.toContain('Refund of order 1234');
    });

    it('waits for a named agent, then falls back to anyone with the skill', async () => {
      const s = await scene();
      const ann = await s.agent('Ann');
      const c = await s.consumer();
      const bob = await s.agent('Bob', { online: false });
      await s.agent('Cleo');
      const r = await call(app(), 'transferConversation', { token: ann.token, params: { conversationId: c.conversationId }, body: { agentId: bob.id } });
      expect(r.status).toBe(200);
      await routing().settle();
      expect((await s.conversation(c.conversationId)).routing).toMatchObject({ status: 'queued', targetAgentId: bob.id });

      await advance(121_000); // transferFallbackSeconds defaults to 120
      await routing().sweep();
      await routing().settle();
      const after = await s.conversation(c.conversationId);
      expect(after.routing?.status).toBe('assigned');
      expect(after.assignedAgentId).not.toBe(bob.id);
    });

    it('refuses a skill of another account, an unknown agent and a consumer, changing nothing', async () => {
      const s = await scene();
      const other = await scene();
      const foreignSkill = await other.skill('Theirs');
      const ann = await s.agent('Ann');
      const c = await s.consumer();
      const before = await s.conversation(c.conversationId);

      const foreign = await call(app(), 'transferConversation', { token: ann.token, params: { conversationId: c.conversationId }, body: { skillId: foreignSkill } });
      expect(foreign.status).toBe(400);
      expect(foreign.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: 'skillId' })] } });
      const unknown = await call(app(), 'transferConversation', { token: ann.token, params: { conversationId: c.conversationId }, body: { agentId: randomUUID() } });
      expect(unknown.body.error?.code).toBe('VALIDATION_FAILED');
      const empty = await call(app(), 'transferConversation', { token: ann.token, params: { conversationId: c.conversationId }, body: {} });
      expect(empty.body.error?.code).toBe('VALIDATION_FAILED');
      const byConsumer = await call(app(), 'transferConversation', { token: c.token, params: { conversationId: c.conversationId }, body: { agentId: ann.id } });
      expect(byConsumer.status).toBe(403);

      const after = await s.conversation(c.conversationId);
      expect(after.assignedAgentId).toBe(before.assignedAgentId);
      expect(after.lastSequence).toBe(before.lastSequence);
    });
  });

  describe('back to the queue', () => {
    it('returns an agent’s conversations to the queue, keeping their place, when they go offline', async () => {
      const s = await scene();
      const leaving = await s.agent('Leaving');
      const c = await s.consumer();
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(leaving.id);
      await call(app(), 'setMyState', { token: leaving.token, body: { state: 'offline', reason: 'end of shift' } });
      await routing().settle();
      const queued = await s.conversation(c.conversationId);
      expect(queued).toMatchObject({ assignedAgentId: null, routing: { status: 'queued' } });
      const staying = await s.agent('Staying');
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(staying.id);
    });

    it('keeps the conversations through a short disconnect, and returns them after the grace period', async () => {
      const s = await scene();
      await s.settings({ disconnectGraceSeconds: 60 });
      const flaky = await s.agent('Flaky');
      const c = await s.consumer();
      await routing().connectionClosed(flaky.principal, flaky.connectionId);
      await advance(30_000);
      await routing().sweep();
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(flaky.id);

      await advance(31_000);
      const swept = await routing().sweep();
      expect(swept.agentsLost).toBe(1);
      await routing().settle();
      expect((await s.conversation(c.conversationId)).routing?.status).toBe('queued');
      expect((await call(app(), 'getMyState', { token: flaky.token })).body).toMatchObject({ state: 'offline', reason: 'connection lost', connected: false });
    });
  });

  describe('lifecycle', () => {
    it('warns, then closes a conversation that waits on a silent consumer', async () => {
      const s = await scene();
      await s.settings({ autoCloseSeconds: 3600, autoCloseWarningSeconds: 600 });
      const ann = await s.agent('Ann');
      const c = await s.consumer();
      await call(app(), 'sendEvent', { token: ann.token, params: { conversationId: c.conversationId }, body: text('Could you send me your order number?') });
      await advance(3000_000);
      expect((await routing().sweep()).warnings).toBe(1);
      const warning = (await s.events(c.conversationId, c.token)).at(-1);
      expect(warning).toMatchObject({ type: 'content', originator: { role: 'system' }, content: { message: expect.stringContaining('will close') } });
      expect((await routing().sweep()).warnings).toBe(0); // once

      await advance(601_000);
      expect((await routing().sweep()).closes).toBe(1);
      expect(await s.conversation(c.conversationId)).toMatchObject({ state: 'closed', closeReason: 'timeout' });
    });

    it('never auto-closes a conversation waiting on the agent', async () => {
      const s = await scene();
      await s.settings({ autoCloseSeconds: 600, autoCloseWarningSeconds: 0 });
      const c = await s.consumer();
      await advance(7200_000);
      await routing().sweep();
      expect((await s.conversation(c.conversationId)).state).toBe('open');
    });

    it('closes a conversation whose time has come even when many others have been silent for less', async () => {
      const s = await scene();
      await s.settings({ autoCloseSeconds: 3600, autoCloseWarningSeconds: 0 });
      const ann = await s.agent('Ann', { max: 3 });
      const waiting = [await s.consumer(), await s.consumer(), await s.consumer()];
      for (const c of waiting) await call(app(), 'sendEvent', { token: ann.token, params: { conversationId: c.conversationId }, body: text('Anything else?') });
      await advance(600_000);
      // The last one has been silent for two hours; the others for ten minutes, which is not an hour yet.
      const [first, second, late] = waiting as [(typeof waiting)[0], (typeof waiting)[0], (typeof waiting)[0]];
      await t.server.database.db
        .updateTable('conversation_routing')
        .set({ last_activity_at: new Date(clock.now().getTime() - 7_200_000) })
        .where('conversation_id', '=', late.conversationId)
        .execute();
      const batch = routing().idleSweepBatch;
      routing().idleSweepBatch = 2;
      try {
        for (let sweeps = 0; sweeps < 20 && (await s.conversation(late.conversationId)).state === 'open'; sweeps++) {
          if ((await routing().sweep()).closes === 0) break;
        }
      } finally {
        routing().idleSweepBatch = batch;
      }
      expect(await s.conversation(late.conversationId)).toMatchObject({ state: 'closed', closeReason: 'timeout' });
      expect((await s.conversation(first.conversationId)).state).toBe('open');
      expect((await s.conversation(second.conversationId)).state).toBe('open');
    });

    it('reopens a conversation when its consumer writes again within the window, back to the same agent', async () => {
      const s = await scene();
      await s.settings({ reopenWindowSeconds: 3600 });
      const ann = await s.agent('Ann');
      await s.agent('Other');
      const c = await s.consumer();
      const holder = (await s.conversation(c.conversationId)).assignedAgentId;
      const holderToken = holder === ann.id ? ann.token : undefined;
      await call(app(), 'closeConversation', { token: holderToken ?? s.adminToken, params: { conversationId: c.conversationId } });
      await advance(60_000);
      const again = await call(app(), 'startConversation', { token: c.token, body: {} });
      expect(again.body).toMatchObject({ created: false, conversation: { id: c.conversationId, state: 'open' } });
      await routing().settle();
      expect((await s.conversation(c.conversationId)).assignedAgentId).toBe(holder);
      const reopened = (await s.events(c.conversationId)).find((e) => e.type === 'conversation_state' && e.state === 'open');
      expect(reopened).toMatchObject({ reason: 'reopened' });
    });

    it('flags a conversation whose response target passed, and clears the flag when the agent answers', async () => {
      const s = await scene();
      const fast = await s.skill('Fast lane', { responseTargetSeconds: 60 });
      const ann = await s.agent('Ann', { skills: [fast] });
      const c = await s.consumer({ skillId: fast });
      await advance(61_000);
      expect((await routing().sweep()).breaches).toBe(1);
      expect((await s.conversation(c.conversationId)).routing).toMatchObject({ breached: true, responseDueAt: expect.any(String) });
      await call(app(), 'sendEvent', { token: ann.token, params: { conversationId: c.conversationId }, body: text('Sorry for the wait!') });
      expect((await s.conversation(c.conversationId)).routing).toMatchObject({ breached: false, awaitingResponseSince: null });
    });
  });

  describe('telling the consumer', () => {
    it('tells a waiting consumer their position and, with nobody online, says so', async () => {
      const s = await scene();
      const first = await s.consumer();
      await advance(1000);
      const second = await s.consumer();
      const position = await call(app(), 'getQueuePosition', { token: second.token, params: { conversationId: second.conversationId } });
      expect(position.body).toMatchObject({ status: 'queued', position: 2, agentsOnline: 0, open: true });
      await advance(4000);
      expect((await routing().sweep()).queueNotices).toBeGreaterThanOrEqual(2); // other tests' waiting consumers may be told too
      const notice = (await s.events(first.conversationId, first.token)).at(-1);
      expect(notice).toMatchObject({ originator: { role: 'system' }, content: { message: expect.stringContaining('Nobody is available') } });
    });

    it('tells the consumer when the skill is outside its business hours', async () => {
      const s = await scene();
      const night = await s.skill('Weekend desk', {
        businessHours: { timeZone: 'Europe/Paris', weekly: [{ day: 6, open: '09:00', close: '12:00' }], holidays: [] },
        offHoursMessage: 'We are open on Saturdays from 9 to 12.',
      });
      const c = await s.consumer({ skillId: night });
      await advance(4000);
      await routing().sweep();
      expect((await s.events(c.conversationId, c.token)).at(-1)).toMatchObject({ content: { message: 'We are open on Saturdays from 9 to 12.' } });
      expect((await call(app(), 'getQueuePosition', { token: c.token, params: { conversationId: c.conversationId } })).body.open).toBe(false);
    });
  });

  describe('managers', () => {
    it('see the live view and reassign within capacity', async () => {
      const s = await scene();
      const billing = await s.skill('Billing');
      const ann = await s.agent('Ann', { skills: [billing], max: 1 });
      const bob = await s.agent('Bob', { skills: [billing], max: 1 });
      const c1 = await s.consumer({ skillId: billing });
      const c2 = await s.consumer({ skillId: billing });
      await advance(5000);
      await s.consumer({ skillId: billing });

      const live = await call(app(), 'getLiveView', { token: s.adminToken });
      expect(live.status).toBe(200);
      expect(live.body.skills.find((k) => k.skillId === billing)).toMatchObject({ queued: 1, agentsOnline: 2, assigned: 2, capacity: 2, longestWaitSeconds: 0 });
      expect(
        live.body.agents
          .filter((ag) => ag.assigned === 1)
          .map((ag) => ag.name)
          .sort(),
      ).toEqual(['Ann', 'Bob']);

      const holderOfC1 = (await s.conversation(c1.conversationId)).assignedAgentId;
      const other = holderOfC1 === ann.id ? bob : ann;
      const full = await call(app(), 'assignConversation', { token: s.adminToken, params: { conversationId: c1.conversationId }, body: { agentId: other.id } });
      expect(full.body.error?.code).toBe('AGENT_AT_CAPACITY');
      await call(app(), 'closeConversation', {
        token: other.token,
        params: { conversationId: (await s.conversation(c2.conversationId)).assignedAgentId === other.id ? c2.conversationId : c1.conversationId },
      });
      expect(c2).toBeDefined();
    });

    it('may not be impersonated: agents cannot read the live view or set another agent’s state', async () => {
      const s = await scene();
      const ann = await s.agent('Ann');
      const bob = await s.agent('Bob');
      expect((await call(app(), 'getLiveView', { token: ann.token })).status).toBe(403);
      const r = await call(app(), 'setAgentState', { token: ann.token, params: { userId: bob.id }, body: { state: 'offline' } });
      expect(r.status).toBe(403);
      expect((await call(app(), 'getMyState', { token: bob.token })).body.state).toBe('online');
    });

    it('validate settings and capacities: nothing below zero, no unknown skill', async () => {
      const s = await scene();
      const ann = await s.agent('Ann');
      const negative = await call(app(), 'updateAgentRouting', { token: s.adminToken, params: { userId: ann.id }, body: { maxConversations: -1 } });
      expect(negative.status).toBe(400);
      expect(negative.body.error?.code).toBe('VALIDATION_FAILED');
      const unknownSkill = await call(app(), 'updateAgentRouting', { token: s.adminToken, params: { userId: ann.id }, body: { skillIds: [randomUUID()] } });
      expect(unknownSkill.body.error?.code).toBe('VALIDATION_FAILED');
      expect((await call(app(), 'getMyState', { token: ann.token })).body).toMatchObject({ maxConversations: 3, skillIds: [] });
      const badHours = await call(app(), 'createSkill', { token: s.adminToken, body: { name: 'X', businessHours: { timeZone: 'Mars/Olympus', weekly: [] } } });
      expect(badHours.body.error?.code).toBe('VALIDATION_FAILED');
      const dup = await s.skill('Dup');
      expect(dup).toBeDefined();
      expect((await call(app(), 'createSkill', { token: s.adminToken, body: { name: 'dup' } })).body.error?.code).toBe('CONFLICT');
    });
  });
});
