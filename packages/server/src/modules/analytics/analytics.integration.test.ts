import { randomUUID } from 'node:crypto';
import type { AnalyticsReport, DeviceType } from '@parley/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';

const S = 1000;

/**
 * A scripted day around midnight UTC (Paris is UTC+1, New York UTC−5 in November), with two skills, two agents taking
 * conversations from the queue at known times, so every figure can be computed by hand:
 *
 * C1 desktop_web Sales   22:00:00 start+msg · 22:01:00 Alice takes (wait 60) · 22:01:30 answer (first 90, resp 90)
 *                        22:02:00, 22:02:20 consumer · 22:03:00 answer (resp 60) · 22:10:00 Alice closes (handle 540)
 * C2 mobile_web Support  23:50:00 start+msg · 23:52:00 Bob takes (wait 120) · 23:53:00 answer (first 180, resp 180)
 *                        00:05:00 consumer closes (handle 780)
 * C3 in_app Sales        00:10:00 start+msg · 00:15:00 Alice takes (wait 300) · 00:20:00 answer (first 600, resp 600)
 *                        00:25:00 transfer to Support · 00:26:00 Bob takes (wait 60) · 00:30:00 Bob closes (handle 240)
 * C4 sms Support         00:40:00 start+msg, still waiting
 */
describe(`analytics (${storageMode})`, () => {
  let t: TestServer;
  let clock: ManualClock;
  const app = () => t.server.app;
  let s: Awaited<ReturnType<typeof scene>>;
  let alice: Awaited<ReturnType<Awaited<ReturnType<typeof scene>>['agent']>>;
  let bob: typeof alice;
  let sales: string;
  let support: string;

  beforeAll(async () => {
    clock = new ManualClock(new Date('2026-11-23T21:00:00Z'));
    t = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '604800', CONSUMER_TOKEN_TTL_SECONDS: '604800' } });
    s = await scene();
    sales = await s.skill('Sales');
    support = await s.skill('Support');
    alice = await s.agent('Alice', [sales, support]);
    bob = await s.agent('Bob', [support]);
  });
  afterAll(() => t.close());

  const at = (iso: string) => clock.advance(new Date(iso).getTime() - clock.now().getTime());

  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const adminToken = (await call(app(), 'login', { body: { email, password: 'a-long-password' } })).body.accessToken;
    const agent = async (name: string, skillIds: string[]) => {
      const userEmail = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@acme.test`;
      const user = await call(app(), 'createUser', { token: adminToken, body: { email: userEmail, name, role: 'agent', password: 'a-long-password' } });
      const token = (await call(app(), 'login', { body: { email: userEmail, password: 'a-long-password' } })).body.accessToken;
      // Offline: routing gives them nothing, they take from the queue when the script says so.
      await call(app(), 'updateAgentRouting', { token: adminToken, params: { userId: user.body.id }, body: { skillIds, maxConversations: 5 } });
      return { id: user.body.id as string, token };
    };
    const skill = async (name: string) => (await call(app(), 'createSkill', { token: adminToken, body: { name } })).body.id as string;
    const start = async (skillId: string, device: DeviceType) => {
      const token = (await call(app(), 'consumerSession', { body: { widgetKey: created.widgetKey } })).body.accessToken;
      const started = await call(app(), 'startConversation', { token, body: { skillId, device } });
      expect(started.status).toBe(200);
      return { token, id: started.body.conversation.id as string };
    };
    const report = async (query: Record<string, string>): Promise<AnalyticsReport> => {
      const r = await call(app(), 'getAnalyticsReport', { token: adminToken, query: query as never });
      expect(r.status).toBe(200);
      return r.body as AnalyticsReport;
    };
    return { accountId: created.accountId, adminToken, agent, skill, start, report };
  }

  const say = async (token: string, conversationId: string, message = 'hello') => {
    const r = await call(app(), 'sendEvent', { token, params: { conversationId }, body: text(message) });
    expect(r.status).toBe(201);
  };
  const take = async (token: string, conversationId: string) => expect((await call(app(), 'takeConversation', { token, params: { conversationId } })).status).toBe(200);
  const close = async (token: string, conversationId: string) => expect((await call(app(), 'closeConversation', { token, params: { conversationId } })).status).toBe(200);

  const dur = (count: number, avgS: number | null, medianS: number | null, p90S: number | null) => ({
    count,
    avgMs: avgS === null ? null : avgS * S,
    medianMs: medianS === null ? null : medianS * S,
    p90Ms: p90S === null ? null : p90S * S,
  });

  /** The whole period's figures, the same whichever path (raw or rollup) answers them. */
  function expectDayTotals(r: AnalyticsReport) {
    expect(r.totals.conversations).toEqual({
      started: 4,
      queued: 4,
      closed: 3,
      closedByReason: { consumer: 1, agent: 2, system: 0, timeout: 0 },
      byChannel: { web: 4 },
      byDevice: { desktop_web: 1, mobile_web: 1, in_app: 1, sms: 1 },
      mobile: 3,
      mobileShare: 0.75,
    });
    expect(r.totals.messages).toEqual({ consumer: 6, agent: 4, bot: 0 });
    expect(r.totals.waitTime).toEqual(dur(4, 135, 60, 300)); // 60, 60, 120, 300
    expect(r.totals.firstResponse).toEqual(dur(3, 290, 180, 600)); // 90, 180, 600
    expect(r.totals.responseTime).toEqual(dur(4, 232.5, 90, 600)); // 60, 90, 180, 600
    expect(r.totals.handleTime).toEqual(dur(3, 520, 540, 780)); // 240, 540, 780
    expect(r.totals.transfers).toBe(1);
    expect(r.totals.bots).toEqual({ handled: 0, escalated: 0, contained: 0, containmentRate: null, escalationRate: null });
    expect(r.agents).toEqual(
      [
        {
          agentId: alice.id,
          isBot: false,
          assigned: 2,
          answers: 3,
          closed: 1,
          transfers: 1,
          responseTime: { count: 3, avgMs: 250 * S },
          handleTime: { count: 1, avgMs: 540 * S },
          handleMsTotal: 540 * S,
        },
        {
          agentId: bob.id,
          isBot: false,
          assigned: 2,
          answers: 1,
          closed: 2,
          transfers: 0,
          responseTime: { count: 1, avgMs: 180 * S },
          handleTime: { count: 2, avgMs: 510 * S },
          handleMsTotal: 1020 * S,
        },
      ].sort((a, b) => a.agentId.localeCompare(b.agentId)),
    );
  }

  function expectZoneSeries(paris: AnalyticsReport, newYork: AnalyticsReport) {
    // Paris days start at 23:00 UTC: C1 is on the 23rd, C2–C4 on the 24th.
    expect(paris.series.map((b) => [b.start, b.conversations.started, b.conversations.closed])).toEqual([
      ['2026-11-22T23:00:00.000Z', 1, 1],
      ['2026-11-23T23:00:00.000Z', 3, 2],
    ]);
    expect(paris.series[0]?.waitTime).toEqual(dur(1, 60, 60, 60));
    expect(paris.series[1]?.waitTime).toEqual(dur(3, 160, 120, 300)); // 120, 300, 60
    expect(paris.series[1]?.firstResponse).toEqual(dur(2, 390, 180, 600));
    expect(paris.series[1]?.handleTime).toEqual(dur(2, 510, 240, 780));
    expect(paris.series[1]?.conversations.mobileShare).toBe(1);
    // New York's 23rd runs 05:00 UTC to 05:00 UTC: the whole script.
    expect(newYork.series.map((b) => [b.start, b.conversations.started, b.conversations.closed])).toEqual([['2026-11-23T05:00:00.000Z', 4, 3]]);
    expect(newYork.series[0]?.handleTime).toEqual(dur(3, 520, 540, 780));
    expectDayTotals(paris);
    expectDayTotals(newYork);
  }

  const parisDays = { from: '2026-11-22T23:00:00Z', to: '2026-11-24T23:00:00Z', timeZone: 'Europe/Paris', interval: 'day' };
  const newYorkDay = { from: '2026-11-23T05:00:00Z', to: '2026-11-24T05:00:00Z', timeZone: 'America/New_York', interval: 'day' };

  it('plays the scripted day and reports every figure, from raw events and from rollups alike', async () => {
    at('2026-11-23T22:00:00Z');
    const c1 = await s.start(sales, 'desktop_web');
    await say(c1.token, c1.id);
    at('2026-11-23T22:01:00Z');
    await take(alice.token, c1.id);
    at('2026-11-23T22:01:30Z');
    await say(alice.token, c1.id);
    at('2026-11-23T22:02:00Z');
    await say(c1.token, c1.id);
    at('2026-11-23T22:02:20Z');
    await say(c1.token, c1.id);
    at('2026-11-23T22:03:00Z');
    await say(alice.token, c1.id);
    at('2026-11-23T22:10:00Z');
    await close(alice.token, c1.id);

    at('2026-11-23T23:50:00Z');
    // The 22:00 hour is folded now; the report adds the rollup and the raw events after it.
    expect((await t.server.services.analytics.rollUp()).hours).toBeGreaterThan(0);
    const c2 = await s.start(support, 'mobile_web');
    await say(c2.token, c2.id);
    at('2026-11-23T23:52:00Z');
    await take(bob.token, c2.id);
    at('2026-11-23T23:53:00Z');
    await say(bob.token, c2.id);
    at('2026-11-24T00:05:00Z');
    await close(c2.token, c2.id);

    at('2026-11-24T00:10:00Z');
    const c3 = await s.start(sales, 'in_app');
    await say(c3.token, c3.id);
    at('2026-11-24T00:15:00Z');
    await take(alice.token, c3.id);
    at('2026-11-24T00:20:00Z');
    await say(alice.token, c3.id);
    at('2026-11-24T00:25:00Z');
    expect((await call(app(), 'transferConversation', { token: alice.token, params: { conversationId: c3.id }, body: { skillId: support } })).status).toBe(200);
    at('2026-11-24T00:26:00Z');
    await take(bob.token, c3.id);
    at('2026-11-24T00:30:00Z');
    await close(bob.token, c3.id);

    at('2026-11-24T00:40:00Z');
    const c4 = await s.start(support, 'sms');
    await say(c4.token, c4.id);

    const mixed = [await s.report(parisDays), await s.report(newYorkDay)] as const;
    expect(mixed[0].rolledUpTo).toBe('2026-11-23T23:00:00.000Z');
    expectZoneSeries(...mixed);

    at('2026-11-24T03:00:00Z');
    await t.server.services.analytics.rollUp();
    const rolled = [await s.report(parisDays), await s.report(newYorkDay)] as const;
    expect(rolled[0].rolledUpTo).toBe('2026-11-24T02:00:00.000Z');
    expectZoneSeries(...rolled);
    // Folding again changes nothing.
    await t.server.services.analytics.rollUp();
    expectZoneSeries(await s.report(parisDays), await s.report(newYorkDay));
  });

  it('buckets hours in the requested zone and filters by skill, agent and device', async () => {
    const hours = await s.report({ ...newYorkDay, interval: 'hour' });
    expect(hours.series).toHaveLength(24);
    const byStart = new Map(hours.series.map((b) => [b.start, b]));
    expect(byStart.get('2026-11-23T22:00:00.000Z')?.waitTime).toEqual(dur(1, 60, 60, 60));
    expect(byStart.get('2026-11-24T00:00:00.000Z')?.waitTime).toEqual(dur(2, 180, 60, 300));
    expect(byStart.get('2026-11-24T00:00:00.000Z')?.conversations.started).toBe(2);

    const supportOnly = await s.report({ ...newYorkDay, skillId: support });
    expect(supportOnly.totals.conversations.started).toBe(2);
    expect(supportOnly.totals.waitTime).toEqual(dur(2, 90, 60, 120));
    expect(supportOnly.totals.transfers).toBe(0); // attributed to the skill it left
    const salesOnly = await s.report({ ...newYorkDay, skillId: sales });
    expect(salesOnly.totals.transfers).toBe(1);

    const aliceOnly = await s.report({ ...newYorkDay, agentId: alice.id });
    expect(aliceOnly.totals.waitTime).toEqual(dur(2, 180, 60, 300));
    expect(aliceOnly.totals.firstResponse).toEqual(dur(2, 345, 90, 600));
    expect(aliceOnly.totals.handleTime).toEqual(dur(1, 540, 540, 540));

    const mobileWeb = await s.report({ ...newYorkDay, device: 'mobile_web' });
    expect(mobileWeb.totals.conversations.started).toBe(1);
    expect(mobileWeb.totals.handleTime).toEqual(dur(1, 780, 780, 780));
  });

  it('exports the same figures as CSV', async () => {
    const r = await app().inject({
      method: 'GET',
      url: `/v1/analytics/report.csv?from=${encodeURIComponent(parisDays.from)}&to=${encodeURIComponent(parisDays.to)}&timeZone=Europe%2FParis`,
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const [header, day1, day2, total] = r.body
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    const col = (row: string[] | undefined, name: string) => row?.[header?.indexOf(name) ?? -1];
    expect(col(day1, 'start')).toBe('2026-11-22T23:00:00.000Z');
    expect(col(day2, 'started')).toBe('3');
    expect(col(total, 'start')).toBe('total');
    expect(col(total, 'wait_median_ms')).toBe('60000');
    expect(col(total, 'first_response_p90_ms')).toBe('600000');
    expect(col(total, 'mobile_share')).toBe('0.75');
  });

  it('shows another account nothing, and agents are not allowed', async () => {
    const other = await scene();
    const r = await other.report(newYorkDay);
    expect(r.totals.conversations.started).toBe(0);
    expect(r.agents).toEqual([]);
    expect((await call(app(), 'getAnalyticsReport', { token: alice.token, query: newYorkDay as never })).status).toBe(403);
  });

  it('writes no fact when the transaction that would record it fails', async () => {
    const other = await scene();
    const skill = await other.skill('Any');
    let fail = true;
    t.server.services.conversations.addEventSink({
      eventsStored: async () => {},
      activity: async (_trx, row, activity) => {
        if (fail && activity.type === 'opened' && row.account_id === other.accountId) throw new Error('a later sink fails');
      },
    });
    const token = (await call(app(), 'consumerSession', { body: { widgetKey: await widgetKeyOf(other.accountId) } })).body.accessToken;
    const r = await call(app(), 'startConversation', { token, body: { skillId: skill } });
    expect(r.status).toBe(500);
    fail = false;
    const count = await sql<{ n: string }>`select count(*) as n from analytics_events where account_id = ${other.accountId}`.execute(t.server.database.db);
    expect(Number(count.rows[0]?.n)).toBe(0);
    expect(await sql<{ n: string }>`select count(*) as n from conversations where account_id = ${other.accountId}`.execute(t.server.database.db).then((c) => Number(c.rows[0]?.n))).toBe(0);
  });

  async function widgetKeyOf(accountId: string): Promise<string> {
    const row = await sql<{ widget_key: string }>`select widget_key from accounts where id = ${accountId}`.execute(t.server.database.db);
    return row.rows[0]?.widget_key ?? '';
  }
});
