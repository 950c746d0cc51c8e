import { randomUUID } from 'node:crypto';
import type { AnalyticsReport } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { until } from '../../test/until.ts';

const MIN = 60_000;
const H = 60 * MIN;

/**
 * Agents' time figures: a scripted day (UTC) of two agents, reported over the morning [08:00, 12:00), whose edges
 * cut through a state period and through two conversations, while the day goes on and after it:
 *
 * Ann (capacity 4)  07:00 online · 09:00 away (lunch) · 09:30 back soon · 10:00 online · 13:00 offline
 *                   C1: takes it 07:30, closes it 10:30 (held 3 h, 2.5 h of it in the morning)
 *                   C2: takes it 10:00, transfers it to another skill 11:00 (held 1 h)
 *                   C3: takes it 11:15, still holds it at 13:00 when going offline sends it back to the queue
 * Bob (capacity 2)  08:30 online · 11:30 offline; gets nothing
 *
 * Morning, reported at 14:00: Ann logged in 4 h (online 3 h: 08–09, 10–12; away 1 h, of which back soon 0.5 h);
 * engaged 2.5 h + 1 h + 0.75 h = 4.25 h; assigned 2 (C2, C3; C1 was before 08:00).
 */
describe(`agent time figures (${storageMode})`, () => {
  let t: TestServer;
  let clock: ManualClock;
  const app = () => t.server.app;

  beforeAll(async () => {
    clock = new ManualClock(new Date('2026-11-23T06:00:00Z'));
    t = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '604800', CONSUMER_TOKEN_TTL_SECONDS: '604800' } });
  });
  afterAll(() => t.close());

  const at = (iso: string) => {
    const ms = new Date(iso).getTime() - clock.now().getTime();
    expect(ms).toBeGreaterThanOrEqual(0);
    clock.advance(ms);
  };

  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const adminToken = (await call(app(), 'login', { body: { email, password: 'a-long-password' } })).body.accessToken as string;
    const skill = async (name: string) => (await call(app(), 'createSkill', { token: adminToken, body: { name } })).body.id as string;
    const agent = async (name: string, skillIds: string[], maxConversations: number) => {
      const userEmail = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@acme.test`;
      const user = await call(app(), 'createUser', { token: adminToken, body: { email: userEmail, name, role: 'agent', password: 'a-long-password' } });
      const token = (await call(app(), 'login', { body: { email: userEmail, password: 'a-long-password' } })).body.accessToken as string;
      await call(app(), 'updateAgentRouting', { token: adminToken, params: { userId: user.body.id }, body: { skillIds, maxConversations } });
      // Never connected: routing gives them nothing by itself, they take from the queue when the script says so.
      const state = async (state: 'online' | 'away' | 'back_soon' | 'offline', reason?: string) =>
        expect((await call(app(), 'setMyState', { token, body: { state, ...(reason ? { reason } : {}) } })).status).toBe(200);
      return { id: user.body.id as string, token, state };
    };
    const waiting = async (skillId: string) => {
      const token = (await call(app(), 'consumerSession', { body: { widgetKey: created.widgetKey } })).body.accessToken as string;
      const started = await call(app(), 'startConversation', { token, body: { skillId } });
      const id = started.body.conversation.id as string;
      expect((await call(app(), 'sendEvent', { token, params: { conversationId: id }, body: text('hello') })).status).toBe(201);
      return id;
    };
    const take = async (token: string, conversationId: string) => expect((await call(app(), 'takeConversation', { token, params: { conversationId } })).status).toBe(200);
    const report = async (query: Record<string, string>): Promise<AnalyticsReport> => {
      const r = await call(app(), 'getAnalyticsReport', { token: adminToken, query: { timeZone: 'UTC', interval: 'hour', ...query } as never });
      expect(r.status).toBe(200);
      return r.body as AnalyticsReport;
    };
    return { accountId: created.accountId, adminToken, skill, agent, waiting, take, report };
  }

  /** The time figures of one agent in a report, in hours (rounded to the millisecond). */
  const timeOf = (r: AnalyticsReport, agentId: string) => {
    const a = r.agents.find((x) => x.agentId === agentId);
    if (!a) throw new Error(`agent ${agentId} is not in the report`);
    return {
      assigned: a.assigned,
      loggedInH: a.loggedInMs / H,
      onlineH: a.onlineMs / H,
      awayH: a.awayMs / H,
      backSoonH: a.backSoonMs / H,
      engagedH: a.engagedMs / H,
      conversationsPerOnlineHour: a.conversationsPerOnlineHour,
      concurrency: a.concurrency,
      utilisation: a.utilisation,
    };
  };

  const morning = { from: '2026-11-23T08:00:00Z', to: '2026-11-23T12:00:00Z' };
  const day = { from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' };

  it('clips state periods and held conversations to the period, counts the open ones up to now, and lists agents who got nothing', async () => {
    const s = await scene();
    const sales = await s.skill('Sales');
    const billing = await s.skill('Billing');
    const ann = await s.agent('Ann', [sales], 4);
    const bob = await s.agent('Bob', [billing], 2);

    at('2026-11-23T07:00:00Z');
    await ann.state('online');
    at('2026-11-23T07:30:00Z');
    const c1 = await s.waiting(sales);
    await s.take(ann.token, c1);
    at('2026-11-23T08:30:00Z');
    await bob.state('online');
    at('2026-11-23T09:00:00Z');
    await ann.state('away', 'lunch');
    at('2026-11-23T09:30:00Z');
    await ann.state('back_soon');
    at('2026-11-23T10:00:00Z');
    await ann.state('online');
    const c2 = await s.waiting(sales);
    await s.take(ann.token, c2);
    at('2026-11-23T10:30:00Z');
    expect((await call(app(), 'closeConversation', { token: ann.token, params: { conversationId: c1 } })).status).toBe(200);
    at('2026-11-23T11:00:00Z');
    expect((await call(app(), 'transferConversation', { token: ann.token, params: { conversationId: c2 }, body: { skillId: billing } })).status).toBe(200);
    at('2026-11-23T11:15:00Z');
    const c3 = await s.waiting(sales);
    await s.take(ann.token, c3);
    at('2026-11-23T11:30:00Z');
    await bob.state('offline');

    // While the morning is not over: Ann's online period and C3 are open and count up to now (11:45).
    at('2026-11-23T11:45:00Z');
    const sofar = await s.report(morning);
    expect(timeOf(sofar, ann.id)).toEqual({
      assigned: 2,
      loggedInH: 3.75, // 08–09 online, 09–10 away and back soon, 10–11:45 online
      onlineH: 2.75,
      awayH: 1,
      backSoonH: 0.5,
      engagedH: 4, // C1 08:00–10:30, C2 10:00–11:00, C3 11:15–11:45
      conversationsPerOnlineHour: 2 / 2.75,
      concurrency: 4 / 3.75,
      utilisation: 4 / (4 * 3.75),
    });

    at('2026-11-23T13:00:00Z');
    await ann.state('offline');
    // Going offline sent C3 back to the queue: her hold of it ended now.
    await until(
      async () => (await call(app(), 'getConversation', { token: s.adminToken, params: { conversationId: c3 } })).body.routing?.status,
      (status) => status === 'queued',
      'C3 back in the queue',
    );
    at('2026-11-23T14:00:00Z');
    const done = await s.report(morning);
    expect(timeOf(done, ann.id)).toEqual({
      assigned: 2,
      loggedInH: 4,
      onlineH: 3,
      awayH: 1,
      backSoonH: 0.5,
      engagedH: 4.25, // C3 now ended at 13:00 (back to the queue): 11:15–12:00 of it is in the morning
      conversationsPerOnlineHour: 2 / 3,
      concurrency: 4.25 / 4,
      utilisation: 4.25 / (4 * 4),
    });
    // Bob was online 08:30–11:30 and got nothing: listed, with zeros, not nulls.
    expect(timeOf(done, bob.id)).toEqual({
      assigned: 0,
      loggedInH: 3,
      onlineH: 3,
      awayH: 0,
      backSoonH: 0,
      engagedH: 0,
      conversationsPerOnlineHour: 0,
      concurrency: 0,
      utilisation: 0,
    });

    // The whole day: Ann online 07–09 and 10–13, C1 3 h, C2 1 h, C3 1.75 h; her open offline period counts nothing.
    const whole = await s.report({ ...day, interval: 'day' });
    expect(timeOf(whole, ann.id)).toEqual({
      assigned: 3,
      loggedInH: 6,
      onlineH: 5,
      awayH: 1,
      backSoonH: 0.5,
      engagedH: 5.75,
      conversationsPerOnlineHour: 3 / 5,
      concurrency: 5.75 / 6,
      utilisation: 5.75 / (4 * 6),
    });

    // The same figures once the hours are folded into the rollup; and for one agent only.
    await t.server.services.analytics.rollUp();
    expect(timeOf(await s.report(morning), ann.id)).toEqual(timeOf(done, ann.id));
    expect(timeOf(await s.report({ ...day, interval: 'day' }), ann.id)).toEqual(timeOf(whole, ann.id));
    const onlyBob = await s.report({ ...morning, agentId: bob.id });
    expect(onlyBob.agents.map((a) => a.agentId)).toEqual([bob.id]);
    expect(timeOf(onlyBob, bob.id).loggedInH).toBe(3);
    // A skill filter narrows the conversations (engaged time) and lists, of the agents who got none, those of the skill.
    const salesOnly = await s.report({ ...morning, skillId: sales });
    expect(salesOnly.agents.map((a) => a.agentId)).toEqual([ann.id]);
    expect(timeOf(salesOnly, ann.id)).toEqual(timeOf(done, ann.id));
    const billingOnly = await s.report({ ...morning, skillId: billing });
    expect(billingOnly.agents.map((a) => a.agentId)).toEqual([bob.id]);

    // A period nobody was logged in: nobody listed; the CSV carries the agents' columns.
    expect((await s.report({ from: '2026-11-23T02:00:00Z', to: '2026-11-23T03:00:00Z' })).agents).toEqual([]);
    const csv = await app().inject({
      method: 'GET',
      url: `/v1/analytics/report.csv?from=${encodeURIComponent(morning.from)}&to=${encodeURIComponent(morning.to)}&timeZone=UTC&interval=hour`,
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    const [, agentTable] = csv.body.split('\r\n\r\n');
    const [header, ...rows] = (agentTable ?? '').trim().split('\r\n');
    const columns = header?.split(',') ?? [];
    const annRow = rows.map((r) => r.split(',')).find((r) => r[0] === ann.id);
    const col = (name: string) => annRow?.[columns.indexOf(name)];
    expect(col('logged_in_ms')).toBe(String(4 * H));
    expect(col('engaged_ms')).toBe(String(4.25 * H));
    expect(col('concurrency')).toBe('1.0625');
  });

  it('ends a hold when a manager gives the conversation to someone else', async () => {
    const s = await scene();
    const sales = await s.skill('Sales');
    const dan = await s.agent('Dan', [sales], 3);
    const eve = await s.agent('Eve', [sales], 3);
    at('2026-11-23T15:00:00Z');
    await dan.state('online');
    await eve.state('online');
    const c = await s.waiting(sales);
    await s.take(dan.token, c);
    at('2026-11-23T15:20:00Z');
    expect((await call(app(), 'assignConversation', { token: s.adminToken, params: { conversationId: c }, body: { agentId: eve.id } })).status).toBe(200);
    at('2026-11-23T15:50:00Z');
    expect((await call(app(), 'closeConversation', { token: eve.token, params: { conversationId: c } })).status).toBe(200);
    at('2026-11-23T16:00:00Z');
    const r = await s.report({ from: '2026-11-23T15:00:00Z', to: '2026-11-23T16:00:00Z' });
    // Dan held it 15:00–15:20, Eve 15:20–15:50; both logged in the whole hour, capacity 3.
    const danTime = timeOf(r, dan.id);
    expect(danTime).toMatchObject({ assigned: 1, loggedInH: 1, engagedH: 20 / 60 });
    expect(danTime.utilisation).toBeCloseTo(20 / 60 / 3, 12);
    const eveTime = timeOf(r, eve.id);
    expect(eveTime).toMatchObject({ assigned: 1, loggedInH: 1, engagedH: 0.5, concurrency: 0.5 });
    expect(eveTime.utilisation).toBeCloseTo(0.5 / 3, 12);
  });
});
