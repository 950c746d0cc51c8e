import { randomUUID } from 'node:crypto';
import type { AnalyticsReport, Channel, DeviceType } from '@parley/protocol';
import { type Insertable, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../infra/db/database.ts';
import { call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { until } from '../../test/until.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { bucketUpperMs, coarseOf, coarseUpperMs } from './duration-histogram.ts';
import type { AnalyticsEventsTable, AnalyticsFactType } from './tables.ts';

/**
 * The daily rollups: a daily report reads its whole local days from them once they are folded, and every count, sum
 * and average is the same as the raw record's; percentiles are read on the coarse grid. The facts are written straight
 * into the record (the rollups' only input) so a week of varied facts, across New York's end of daylight saving time
 * (1 November 2026, a 25-hour local day), is quick to set up.
 */
describe(`analytics daily rollups (${storageMode})`, () => {
  let t: TestServer;
  let db: Db;
  let adminToken: string;
  let accountId: string;
  const clock = new ManualClock(new Date('2026-11-05T12:00:00Z'));
  const skills = [randomUUID(), randomUUID()] as const;
  const agents = [randomUUID(), randomUUID(), randomUUID()] as const;
  const bot = randomUUID();
  const places: [Channel, DeviceType][] = [
    ['web', 'desktop_web'],
    ['web', 'mobile_web'],
    ['web', 'in_app'],
    ['sms', 'sms'],
    ['whatsapp', 'whatsapp'],
  ];
  // Waits and handle times across the grid's regions: exact seconds, 2 s, 5 s, 10 s, 20 s, minute steps, beyond an hour.
  const durationsS = [0, 7, 29, 31, 45, 61, 64, 95, 133, 301, 459, 777, 1500, 3599, 5000];

  const week = { from: '2026-10-30T04:00:00Z', to: '2026-11-05T05:00:00Z', timeZone: 'America/New_York', interval: 'day' };

  async function report(query: Record<string, string>): Promise<AnalyticsReport> {
    const r = await call(t.server.app, 'getAnalyticsReport', { token: adminToken, query: query as never });
    expect(r.status).toBe(200);
    return r.body as AnalyticsReport;
  }

  beforeAll(async () => {
    t = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '604800' } });
    db = t.server.database.db;
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const { createAccountWithAdmin } = await import('../accounts/index.ts');
    const created = await createAccountWithAdmin(t.server.services, { accountName: 'Acme daily', adminEmail: email, adminPassword: 'a-long-password' });
    accountId = created.accountId;
    adminToken = (await call(t.server.app, 'login', { body: { email, password: 'a-long-password' } })).body.accessToken;

    // Every 37 minutes from 29 October to 5 November (UTC): a conversation's facts, varied deterministically.
    const facts: Insertable<AnalyticsEventsTable>[] = [];
    let i = 0;
    for (let ms = Date.parse('2026-10-29T00:00:00Z'); ms < Date.parse('2026-11-05T06:00:00Z'); ms += 37 * 60_000, i++) {
      const [channel, device] = places[i % places.length] ?? ['web', 'desktop_web'];
      const skill = skills[i % 2] ?? null;
      const byBot = i % 7 === 0;
      const agent = byBot ? bot : (agents[i % 3] ?? null);
      const base = { account_id: accountId, conversation_id: randomUUID(), channel, device, skill_id: skill, agent_id: null, is_bot: false, duration_ms: null, value: null, detail: null };
      const fact = (type: AnalyticsFactType, offsetS: number, extra: Partial<Insertable<AnalyticsEventsTable>> = {}) => facts.push({ ...base, type, at: new Date(ms + offsetS * 1000), ...extra });
      const d = (k: number) => (durationsS[(i * 5 + k) % durationsS.length] ?? 0) * 1000 + (i % 3) * 250;
      fact('started', 0);
      fact('queued', 0);
      fact('consumer_message', 0);
      fact('assigned', 60, { agent_id: agent, is_bot: byBot, duration_ms: d(0) });
      fact('agent_message', 120, { agent_id: agent, is_bot: byBot, duration_ms: d(1) });
      fact('first_response', 120, { agent_id: agent, is_bot: byBot, duration_ms: d(1) });
      if (byBot && i % 2 === 0) fact('escalated', 200, { agent_id: agent, is_bot: true, detail: JSON.stringify({ reason: 'consumer_asked' }) });
      if (i % 11 === 0) fact('transferred', 300, { agent_id: agent, detail: JSON.stringify({ reason: null }) });
      fact('closed', 900, { agent_id: agent, duration_ms: d(2), detail: JSON.stringify({ reason: i % 4 === 0 ? 'consumer' : 'agent' }) });
    }
    for (let k = 0; k < facts.length; k += 500)
      await db
        .insertInto('analytics_events')
        .values(facts.slice(k, k + 500))
        .execute();
  });
  afterAll(() => t?.close());

  /** What a percentile read on the per-second grid becomes on the coarse one. */
  function coarse(fineMs: number | null): number | null {
    if (fineMs === null) return null;
    for (let b = 0; b < 4000; b++) if (bucketUpperMs(b) === fineMs) return coarseUpperMs(coarseOf(b));
    throw new Error(`not a bucket edge: ${fineMs}`);
  }

  /** The raw record's figures with their percentiles moved to the coarse grid: what the daily path must answer. */
  function onCoarseGrid(r: AnalyticsReport): unknown {
    const figures = (f: AnalyticsReport['totals']) => ({
      ...f,
      ...Object.fromEntries((['waitTime', 'firstResponse', 'responseTime', 'handleTime'] as const).map((k) => [k, { ...f[k], medianMs: coarse(f[k].medianMs), p90Ms: coarse(f[k].p90Ms) }])),
    });
    return { totals: figures(r.totals), series: r.series.map((s) => ({ ...s, ...figures(s) })), agents: r.agents };
  }
  const comparable = (r: AnalyticsReport) => ({ totals: r.totals, series: r.series, agents: r.agents });

  const cases: Record<string, Record<string, string>> = {
    week,
    skill: { ...week, skillId: skills[1] },
    channel: { ...week, channel: 'sms' },
    device: { ...week, device: 'mobile_web' },
    skillAndDevice: { ...week, skillId: skills[0], device: 'sms' },
    skillAndChannel: { ...week, skillId: skills[1], channel: 'web' },
    kolkata: { from: '2026-10-29T18:30:00Z', to: '2026-11-04T18:30:00Z', timeZone: 'Asia/Kolkata', interval: 'day' },
  };

  /**
   * The report as the hourly rollup and the raw record answer it: the zones' daily rollups hidden for its duration.
   * A roll-up job still to run (each zone's registration schedules one, and the first test waits only until both
   * zones are folded) would fold them again while they are hidden, so this waits until none is pending or running.
   */
  async function withoutDailyRollups(query: Record<string, string>): Promise<AnalyticsReport> {
    await until(
      async () => Number((await sql<{ n: string }>`select count(*) as n from jobs where ordering_key = 'analytics:rollup' and state in ('pending', 'running')`.execute(db)).rows[0]?.n),
      (n) => n === 0,
      'the analytics roll-up jobs to finish',
    );
    const zones = await db
      .selectFrom('analytics_report_zones')
      .select(['time_zone', sql<string | null>`folded_to::text`.as('folded_to')])
      .where('account_id', '=', accountId)
      .execute();
    await db.updateTable('analytics_report_zones').set({ folded_to: null }).where('account_id', '=', accountId).execute();
    try {
      return await report(query);
    } finally {
      for (const z of zones) await db.updateTable('analytics_report_zones').set({ folded_to: z.folded_to }).where('account_id', '=', accountId).where('time_zone', '=', z.time_zone).execute();
    }
  }

  it('registers a zone on its first daily report, which reads the raw record, and folds its days in the background', async () => {
    const first = await report(week);
    expect(first.dailyRollup).toBeNull();
    const kolkata = await report(cases.kolkata as Record<string, string>);
    expect(kolkata.dailyRollup).toBeNull();
    const zones = await db.selectFrom('analytics_report_zones').select('time_zone').where('account_id', '=', accountId).orderBy('time_zone').execute();
    expect(zones.map((z) => z.time_zone)).toEqual(['America/New_York', 'Asia/Kolkata']);
    // The fold job the registration scheduled fills every finished local day since the account's first fact.
    await until(
      async () => [(await report(week)).dailyRollup, (await report(cases.kolkata as Record<string, string>)).dailyRollup],
      (both) => both.every((d) => d !== null),
      'the daily rollups of both zones',
    );
    const folded = await db.selectFrom('analytics_report_zones').select(sql<string>`folded_to::text`.as('d')).where('account_id', '=', accountId).orderBy('time_zone').execute();
    // 07:00 in New York and 17:30 in Kolkata on 5 November: the 4th is the last finished day in both.
    expect(folded.map((z) => z.d)).toEqual(['2026-11-05', '2026-11-05']);
    // The 25-hour local day (1 November in New York) is one bucket.
    expect(first.series.map((s) => s.start)).toEqual([
      '2026-10-30T04:00:00.000Z',
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
      '2026-11-03T05:00:00.000Z',
      '2026-11-04T05:00:00.000Z',
    ]);
  });

  it('answers whole local days from the daily rollups with the same figures, percentiles on the coarse grid', async () => {
    for (const [name, query] of Object.entries(cases)) {
      const daily = await report(query);
      expect(daily.dailyRollup, name).not.toBeNull();
      await t.server.services.analytics.scheduleRollUp();
      const reference = await withoutDailyRollups(query);
      expect(reference.dailyRollup).toBeNull();
      expect(comparable(daily), name).toEqual(onCoarseGrid(reference));
    }
    // Local 5 November has not ended in New York at 07:00 local: it is not folded.
    const longer = await report({ ...week, to: '2026-11-06T05:00:00Z' });
    expect(longer.dailyRollup).toEqual({ firstDay: '2026-10-30', endDay: '2026-11-05' });
  });

  it('mixes the edges of a period that does not start at local midnight from the other sources', async () => {
    const query = { ...week, from: '2026-10-30T13:17:00Z', to: '2026-11-03T21:00:00Z' };
    const before = await report({ ...query, channel: 'web', device: 'in_app' });
    expect(before.dailyRollup).toBeNull(); // a channel and a device: the hourly path
    const daily = await report(query);
    expect(daily.dailyRollup).toEqual({ firstDay: '2026-10-31', endDay: '2026-11-03' });
    const started = daily.series.reduce((n, s) => n + s.conversations.started, 0);
    expect(daily.totals.conversations.started).toBe(started);
    // Every fact of the period counted once: 13:17 is a fact boundary of nothing, so compare with the raw record.
    const rawCount = await db
      .selectFrom('analytics_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('account_id', '=', accountId)
      .where('type', '=', 'started')
      .where('at', '>=', new Date(query.from))
      .where('at', '<', new Date(query.to))
      .executeTakeFirstOrThrow();
    expect(started).toBe(Number(rawCount.n));
  });

  it('leaves agent-filtered reports, filters other than a skill with one more, and hourly reports on the hourly path', async () => {
    expect((await report({ ...week, agentId: agents[0] })).dailyRollup).toBeNull();
    expect((await report({ ...week, channel: 'web', device: 'mobile_web' })).dailyRollup).toBeNull();
    expect((await report({ ...week, skillId: skills[0], channel: 'web', device: 'mobile_web' })).dailyRollup).toBeNull();
    expect((await report({ ...week, from: '2026-11-02T05:00:00Z', to: '2026-11-03T05:00:00Z', interval: 'hour' })).dailyRollup).toBeNull();
  });

  it('folds idempotently: folding the same days again changes nothing', async () => {
    const first = comparable(await report(week));
    expect((await t.server.services.analytics.rollUp()).days).toBe(0);
    await db.updateTable('analytics_report_zones').set({ folded_to: '2026-10-31' }).where('account_id', '=', accountId).execute();
    expect((await t.server.services.analytics.rollUp()).days).toBeGreaterThan(0);
    expect(comparable(await report(week))).toEqual(first);
  });

  it('keeps daily rollups for at most eight zones per account', async () => {
    for (const timeZone of ['UTC', 'Europe/Paris', 'Europe/London', 'Asia/Tokyo', 'Australia/Sydney', 'America/Chicago', 'America/Los_Angeles']) {
      await report({ ...week, timeZone });
    }
    const zones = await db.selectFrom('analytics_report_zones').select('time_zone').where('account_id', '=', accountId).execute();
    expect(zones).toHaveLength(8);
    expect(zones.map((z) => z.time_zone)).not.toContain('America/Los_Angeles');
    await t.server.services.analytics.rollUp();
    expect((await report({ ...week, timeZone: 'America/Los_Angeles' })).dailyRollup).toBeNull();
    expect((await report({ ...week, timeZone: 'Asia/Tokyo' })).dailyRollup).not.toBeNull();
  });
});
