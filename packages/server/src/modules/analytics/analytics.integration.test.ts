import { randomUUID } from 'node:crypto';
import type { AnalyticsReport, DeviceType, FlowBotDefinition } from '@parley/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { until } from '../../test/until.ts';

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
 *
 * CSAT: each close asks the survey. C1's (asked 22:10) is answered 5 at 23:20, after Paris midnight; C2's (asked
 * 00:05) is answered 2 at 00:07; C3's (asked 00:30) is never answered.
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
  const rate = async (token: string, conversationId: string, score: number) => expect((await call(app(), 'submitCsat', { token, params: { conversationId }, body: { score } })).status).toBe(201);
  /** CSAT figures from the scores given and the surveys asked (and answered, whenever) in a bucket. */
  const csatOf = (scores: number[], asked: number, answered: number) => {
    const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
    for (const score of scores) distribution[String(score) as keyof typeof distribution] += 1;
    const n = scores.length;
    return {
      responses: n,
      averageScore: n > 0 ? scores.reduce((a, b) => a + b, 0) / n : null,
      distribution,
      satisfiedShare: n > 0 ? scores.filter((x) => x >= 4).length / n : null,
      asked,
      responseRate: asked > 0 ? answered / asked : null,
    };
  };

  const dur = (count: number, avgS: number | null, medianS: number | null, p90S: number | null) => ({
    count,
    avgMs: avgS === null ? null : avgS * S,
    medianMs: medianS === null ? null : medianS * S,
    p90Ms: p90S === null ? null : p90S * S,
  });

  const noStateTime = { loggedInMs: 0, onlineMs: 0, awayMs: 0, backSoonMs: 0, conversationsPerOnlineHour: null, concurrency: null, utilisation: null };

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
          // Never in a state but offline (they take from the queue): no logged-in time, so no ratios.
          ...noStateTime,
          engagedMs: (540 + 600) * S, // C1 22:01–22:10, C3 00:15–00:25
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
          ...noStateTime,
          engagedMs: (780 + 240) * S, // C2 23:52–00:05, C3 00:26–00:30
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
    // CSAT by bucket: responses when given, surveys when asked. Paris's 23rd asked C1's survey (answered, but on the
    // 24th); the 24th has both answers (5 and 2) and asked C2's (answered) and C3's (not).
    expect(paris.series.map((b) => b.csat)).toEqual([csatOf([], 1, 1), csatOf([5, 2], 2, 1)]);
    expect(newYork.series[0]?.csat).toEqual(csatOf([5, 2], 3, 2));
    expect(paris.csat).toEqual({ responses: 2, averageScore: 3.5, distribution: { '1': 0, '2': 1, '3': 0, '4': 0, '5': 1 }, satisfiedShare: 0.5, asked: 3, responseRate: 2 / 3 });
    expect(newYork.csat).toEqual(paris.csat);
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
    at('2026-11-23T23:20:00Z');
    await rate(c1.token, c1.id, 5);

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
    at('2026-11-24T00:07:00Z');
    await rate(c2.token, c2.id, 2);

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
    // C1's survey: asked in the 22:00 hour, answered in the 23:00 hour; C2's and C3's asked and C2's answered at 00:xx.
    expect(byStart.get('2026-11-23T22:00:00.000Z')?.csat).toEqual(csatOf([], 1, 1));
    expect(byStart.get('2026-11-23T23:00:00.000Z')?.csat).toEqual(csatOf([5], 0, 0));
    expect(byStart.get('2026-11-24T00:00:00.000Z')?.csat).toEqual(csatOf([2], 2, 1));
    expect(byStart.get('2026-11-24T01:00:00.000Z')?.csat).toEqual(csatOf([], 0, 0));

    const supportOnly = await s.report({ ...newYorkDay, skillId: support });
    expect(supportOnly.totals.conversations.started).toBe(2);
    expect(supportOnly.totals.waitTime).toEqual(dur(2, 90, 60, 120));
    expect(supportOnly.totals.transfers).toBe(0); // attributed to the skill it left
    // Surveys by the conversation's skill now (C3 was transferred to Support), responses by the skill at the answer.
    expect(supportOnly.csat).toEqual(csatOf([2], 2, 1));
    const salesOnly = await s.report({ ...newYorkDay, skillId: sales });
    expect(salesOnly.totals.transfers).toBe(1);
    expect(salesOnly.csat).toEqual(csatOf([5], 1, 1));
    expect(salesOnly.series[0]?.csat).toEqual(csatOf([5], 1, 1));

    const aliceOnly = await s.report({ ...newYorkDay, agentId: alice.id });
    expect(aliceOnly.totals.waitTime).toEqual(dur(2, 180, 60, 300));
    expect(aliceOnly.totals.firstResponse).toEqual(dur(2, 345, 90, 600));
    expect(aliceOnly.totals.handleTime).toEqual(dur(1, 540, 540, 540));
    expect(aliceOnly.csat).toEqual(csatOf([5], 1, 1)); // she held C1 at its close; Bob held C2 and C3
    expect((await s.report({ ...newYorkDay, agentId: bob.id })).csat).toEqual(csatOf([2], 2, 1));

    const mobileWeb = await s.report({ ...newYorkDay, device: 'mobile_web' });
    expect(mobileWeb.totals.conversations.started).toBe(1);
    expect(mobileWeb.totals.handleTime).toEqual(dur(1, 780, 780, 780));
    expect(mobileWeb.csat).toEqual(csatOf([2], 1, 1));
    expect((await s.report({ ...newYorkDay, device: 'sms' })).csat).toEqual(csatOf([], 0, 0)); // C4 is still open: no survey
    expect((await s.report({ ...newYorkDay, channel: 'web' })).csat).toEqual(csatOf([5, 2], 3, 2));
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
    expect([col(day1, 'csat_responses'), col(day1, 'csat_average_score'), col(day1, 'csat_asked'), col(day1, 'csat_response_rate')]).toEqual(['0', '', '1', '1']);
    const csatCells = ['csat_responses', 'csat_average_score', 'csat_satisfied_share', 'csat_score_2', 'csat_score_5', 'csat_asked'];
    expect(csatCells.map((name) => col(day2, name))).toEqual(['2', '3.5', '0.5', '1', '1', '2']);
    expect([col(total, 'csat_responses'), col(total, 'csat_asked'), col(total, 'csat_response_rate')]).toEqual(['2', '3', '0.6667']);
  });

  /**
   * A second scripted night, around New York's midnight of the 24th (05:00 UTC on the 25th), in an account of its own:
   * a flow bot serves Front and hands to people on Support when asked for a person; Dan takes from the queue.
   *
   * B1 04:30 start "opening hours" → bot (handled) answers · 04:40 consumer closes · 04:45 rates 4
   * B2 04:50 start "hello" → bot (handled) · 05:05 "a person please" → escalated to Support · 05:10 Dan takes
   *    05:12 Dan answers · 05:20 Dan closes · 05:30 rates 1
   * B3 05:15 start "opening hours" → bot (handled), still with it
   *
   * New York's 24th (until 05:00 UTC): handled 2, escalated 0; its 25th: handled 1 (B3), escalated 1 (B2, handled the
   * day before). The period: handled 3, escalated 1, contained 2.
   */
  it('plays a night with a bot that contains some conversations and escalates another, with CSAT across New York midnight', async () => {
    at('2026-11-25T04:00:00Z');
    const n = await scene();
    const front = await n.skill('Front');
    const people = await n.skill('People');
    const dan = await n.agent('Dan', [people]);
    const flow: FlowBotDefinition = {
      greeting: { text: 'Hi! Ask me about our hours.', choices: [] },
      intents: [
        { id: 'hours', name: 'Hours', phrases: ['opening hours'], answer: { text: 'We are open 9 to 5.', choices: [] }, collect: [], after: 'continue', escalateToSkillId: null },
        { id: 'person', name: 'Person', phrases: ['person'], answer: { text: 'Connecting you.', choices: [] }, collect: [], after: 'escalate', escalateToSkillId: people },
      ],
      fallback: { text: 'Sorry?', escalateAfter: 5 },
      escalation: { text: 'A person will help.', skillId: null },
    };
    const created = await call(app(), 'createBot', { token: n.adminToken, body: { name: 'Nightbot', delivery: 'flow', flow, skillIds: [front], escalationSkillId: people } });
    expect(created.status).toBe(201);
    const botId = created.body.bot.id as string;
    const conversation = async (id: string) => (await call(app(), 'getConversation', { token: n.adminToken, params: { conversationId: id } })).body as { assignedAgentId: string | null };
    const messages = async (c: { token: string; id: string }) => {
      const events = await call(app(), 'listEvents', { token: c.token, params: { conversationId: c.id }, query: { fromSeq: 1, limit: 200 } });
      return (events.body.items as { content?: { message?: string } }[]).map((e) => e.content?.message);
    };
    const botSaid = async (c: { token: string; id: string }, message: string) =>
      until(
        () => messages(c),
        (messages) => messages.includes(message),
        `the bot to say "${message}"`,
      );
    const withBot = async (message: string) => {
      const c = await n.start(front, 'desktop_web');
      await say(c.token, c.id, message);
      await until(
        () => conversation(c.id),
        (v) => v.assignedAgentId === botId,
        'the bot to get it',
      );
      await botSaid(c, 'Hi! Ask me about our hours.');
      return c;
    };

    at('2026-11-25T04:30:00Z');
    const b1 = await withBot('What are your opening hours?');
    await botSaid(b1, 'We are open 9 to 5.');
    at('2026-11-25T04:40:00Z');
    await close(b1.token, b1.id);
    at('2026-11-25T04:45:00Z');
    await rate(b1.token, b1.id, 4);

    at('2026-11-25T04:50:00Z');
    const b2 = await withBot('hello');
    at('2026-11-25T05:05:00Z');
    await say(b2.token, b2.id, 'I want a person please');
    await until(
      () => conversation(b2.id),
      (v) => v.assignedAgentId === null,
      'the bot to hand it over',
    );
    at('2026-11-25T05:10:00Z');
    await take(dan.token, b2.id);
    at('2026-11-25T05:12:00Z');
    await say(dan.token, b2.id);
    at('2026-11-25T05:15:00Z');
    const b3 = await withBot('opening hours?');
    await botSaid(b3, 'We are open 9 to 5.');
    at('2026-11-25T05:20:00Z');
    await close(dan.token, b2.id);
    at('2026-11-25T05:30:00Z');
    await rate(b2.token, b2.id, 1);

    const nights = { from: '2026-11-24T05:00:00Z', to: '2026-11-26T05:00:00Z', timeZone: 'America/New_York', interval: 'day' };
    const expectNight = (r: AnalyticsReport) => {
      expect(r.totals.conversations.started).toBe(3);
      expect(r.totals.bots).toEqual({ handled: 3, escalated: 1, contained: 2, containmentRate: 2 / 3, escalationRate: 1 / 3 });
      expect(r.totals.transfers).toBe(0); // an escalation is not an agent's transfer
      expect(r.series.map((b) => [b.start, b.conversations.started, b.bots])).toEqual([
        ['2026-11-24T05:00:00.000Z', 2, { handled: 2, escalated: 0, contained: 2, containmentRate: 1, escalationRate: 0 }],
        ['2026-11-25T05:00:00.000Z', 1, { handled: 1, escalated: 1, contained: 0, containmentRate: 0, escalationRate: 1 }],
      ]);
      // B1's survey (the bot held it at the close) on the 24th, B2's (Dan's) on the 25th; both answered the same day.
      expect(r.series.map((b) => b.csat)).toEqual([csatOf([4], 1, 1), csatOf([1], 1, 1)]);
      expect(r.csat).toEqual({ responses: 2, averageScore: 2.5, distribution: { '1': 1, '2': 0, '3': 0, '4': 1, '5': 0 }, satisfiedShare: 0.5, asked: 2, responseRate: 1 });
      const bot = r.agents.find((a) => a.agentId === botId);
      expect(bot).toMatchObject({ isBot: true, assigned: 3, transfers: 1 });
      expect(r.agents.find((a) => a.agentId === dan.id)).toMatchObject({ isBot: false, assigned: 1, answers: 1, closed: 1 });
    };
    expectNight(await n.report(nights));
    // The bot's own figures and its surveys, filtered by the bot as agent.
    const botOnly = await n.report({ ...nights, agentId: botId });
    expect(botOnly.totals.bots).toEqual({ handled: 3, escalated: 1, contained: 2, containmentRate: 2 / 3, escalationRate: 1 / 3 });
    expect(botOnly.csat).toEqual(csatOf([4], 1, 1));

    // The same from the hourly rollup.
    at('2026-11-25T08:00:00Z');
    await t.server.services.analytics.rollUp();
    const rolled = await n.report(nights);
    expect(rolled.rolledUpTo).toBe('2026-11-25T07:00:00.000Z');
    expectNight(rolled);
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
