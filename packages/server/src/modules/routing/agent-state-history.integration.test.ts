import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { until } from '../../test/until.ts';

/** Routing keeps agents' state history (`agent_state_periods`) for the analytics, in the transaction of each change. */
describe(`agent state history (${storageMode})`, () => {
  let t: TestServer;
  let clock: ManualClock;
  const app = () => t.server.app;
  const routing = () => t.server.services.routing;

  beforeAll(async () => {
    clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
    t = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '604800', CONSUMER_TOKEN_TTL_SECONDS: '604800' } });
  });
  afterAll(() => t.close());

  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const adminToken = (await call(app(), 'login', { body: { email, password: 'a-long-password' } })).body.accessToken as string;
    const agent = async (name: string) => {
      const userEmail = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@acme.test`;
      const user = await call(app(), 'createUser', { token: adminToken, body: { email: userEmail, name, role: 'agent', password: 'a-long-password' } });
      const token = (await call(app(), 'login', { body: { email: userEmail, password: 'a-long-password' } })).body.accessToken as string;
      const principal: Principal = { kind: 'user', userId: user.body.id, accountId: created.accountId, role: 'agent', name };
      const state = async (state: 'online' | 'away' | 'back_soon' | 'offline', reason?: string) =>
        expect((await call(app(), 'setMyState', { token, body: { state, ...(reason ? { reason } : {}) } })).status).toBe(200);
      return { id: user.body.id as string, token, principal, state };
    };
    return { accountId: created.accountId, adminToken, widgetKey: created.widgetKey, agent };
  }

  /** An agent's periods, oldest first, as [state, reason, started, ended] with times as HH:MM:SS. */
  async function periods(userId: string) {
    const rows = await t.server.database.db
      .selectFrom('agent_state_periods')
      .select(['state', 'reason', 'started_at', 'ended_at'])
      .where('user_id', '=', userId)
      .orderBy('started_at')
      .orderBy('id')
      .execute();
    const hms = (d: Date | null) => (d ? d.toISOString().slice(11, 19) : null);
    return rows.map((r) => [r.state, r.reason, hms(r.started_at), hms(r.ended_at)]);
  }

  const advance = (ms: number) => clock.advance(ms);

  it('closes the open period and opens the next at each change of state or reason, stamped with the service clock', async () => {
    const s = await scene();
    const ann = await s.agent('Ann');
    expect(await periods(ann.id)).toEqual([]); // configured, never in a state yet
    const start = clock.now().getTime();
    const hms = (offsetMs: number) => new Date(start + offsetMs).toISOString().slice(11, 19);

    await ann.state('online');
    advance(30 * 60_000);
    await ann.state('away', 'lunch');
    advance(10 * 60_000);
    await ann.state('away', 'meeting'); // same state, another reason: a period of its own
    advance(5 * 60_000);
    await ann.state('back_soon');
    advance(5 * 60_000);
    await ann.state('online');

    expect(await periods(ann.id)).toEqual([
      ['online', null, hms(0), hms(30 * 60_000)],
      ['away', 'lunch', hms(30 * 60_000), hms(40 * 60_000)],
      ['away', 'meeting', hms(40 * 60_000), hms(45 * 60_000)],
      ['back_soon', null, hms(45 * 60_000), hms(50 * 60_000)],
      ['online', null, hms(50 * 60_000), null],
    ]);
  });

  it('keeps one period when the same state is set again', async () => {
    const s = await scene();
    const bob = await s.agent('Bob');
    const since = clock.now().toISOString().slice(11, 19);
    await bob.state('online');
    advance(60_000);
    await bob.state('online');
    advance(60_000);
    // A manager setting it again changes nothing either.
    expect((await call(app(), 'setAgentState', { token: s.adminToken, params: { userId: bob.id }, body: { state: 'online' } })).status).toBe(200);
    expect(await periods(bob.id)).toEqual([['online', null, since, null]]);
  });

  it('ends the online period when the disconnect grace expires (not when the connection drops), and sends the conversations back', async () => {
    const s = await scene();
    const cat = await s.agent('Cat');
    const connectionId = randomUUID();
    await routing().connectionOpened(cat.principal, connectionId);
    const online = clock.now().toISOString().slice(11, 19);
    await cat.state('online');
    // A consumer writes; routing gives the conversation to Cat, who is online and connected.
    const consumer = (await call(app(), 'consumerSession', { body: { widgetKey: s.widgetKey } })).body.accessToken as string;
    const conversationId = (await call(app(), 'startConversation', { token: consumer, body: {} })).body.conversation.id as string;
    await call(app(), 'sendEvent', { token: consumer, params: { conversationId }, body: text('hello') });
    await until(
      async () => (await call(app(), 'getConversation', { token: s.adminToken, params: { conversationId } })).body.assignedAgentId,
      (agentId) => agentId === cat.id,
      'the conversation assigned to Cat',
    );

    advance(60_000);
    await routing().connectionClosed(cat.principal, connectionId);
    advance(30_000); // within the 60 s grace: still online
    await routing().sweep();
    expect(await periods(cat.id)).toEqual([['online', null, online, null]]);

    advance(31_000); // beyond it: the sweep sets her offline, and that is when the period ends
    const lost = clock.now().toISOString().slice(11, 19);
    expect((await routing().sweep()).agentsLost).toBe(1);
    expect(await periods(cat.id)).toEqual([
      ['online', null, online, lost],
      ['offline', 'connection lost', lost, null],
    ]);
    // Her hold of the conversation ended then too: a `released` fact with how long she held it.
    const released = await t.server.database.db
      .selectFrom('analytics_events')
      .select(['agent_id', 'duration_ms', 'detail'])
      .where('conversation_id', '=', conversationId)
      .where('type', '=', 'released')
      .execute();
    expect(released.map((r) => ({ ...r, duration_ms: Number(r.duration_ms) }))).toEqual([{ agent_id: cat.id, duration_ms: 121_000, detail: { reason: 'offline' } }]);
  });

  it('writes no period when the change fails, and none for another account', async () => {
    const s = await scene();
    const other = await scene();
    const dan = await s.agent('Dan');
    // Another account's manager cannot set Dan's state: nothing is written.
    expect((await call(app(), 'setAgentState', { token: other.adminToken, params: { userId: dan.id }, body: { state: 'online' } })).status).toBe(404);
    expect(await periods(dan.id)).toEqual([]);
    await dan.state('online');
    const rows = await t.server.database.db.selectFrom('agent_state_periods').select('account_id').where('user_id', '=', dan.id).execute();
    expect(rows).toEqual([{ account_id: s.accountId }]);
  });
});
