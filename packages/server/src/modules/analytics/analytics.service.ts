import type { AnalyticsFigures, AnalyticsReport, AnalyticsReportQuery } from '@parley/protocol';
import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { defineJob, type JobQueue } from '../../infra/jobs/index.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { addHistogram, bucketSql, type Histogram, percentileMs } from './duration-histogram.ts';
import { reportToCsv } from './report-csv.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Devices counted as mobile in "mobile share": everything but desktop browsers and unknown devices. */
export const MOBILE_DEVICES = ['mobile_web', 'in_app', 'sms', 'messenger', 'whatsapp'] as const;
/** Hours folded per transaction, so a first fold over a long history does not hold one huge transaction. */
const HOURS_PER_FOLD = 168;
const DURATION_TYPES = ['assigned', 'first_response', 'agent_message', 'closed'] as const;
type DurationType = (typeof DURATION_TYPES)[number];

export interface AnalyticsOptions {
  /** An hour is folded once it ended this long ago (a transaction still open across the hour's end commits by then). */
  rollupGraceMs?: number;
}

interface CountRow {
  b: Date | string;
  type: string;
  reason: string | null;
  channel: string;
  device: string;
  is_bot: boolean;
  n: number | string;
  dn: number | string;
  ds: number | string;
}
interface HistRow {
  b: Date | string;
  type: string;
  hb: number | string;
  n: number | string;
}
interface AgentRow {
  agent_id: string;
  is_bot: boolean;
  type: string;
  n: number | string;
  dn: number | string;
  ds: number | string;
}

/** Sums and histograms of one bucket (or the totals) before they become figures. */
class Accumulator {
  counts = new Map<string, number>();
  durations = new Map<DurationType, { n: number; sum: number; histogram: Histogram }>();

  add(key: string, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  duration(type: DurationType): { n: number; sum: number; histogram: Histogram } {
    let d = this.durations.get(type);
    if (!d) {
      d = { n: 0, sum: 0, histogram: new Map() };
      this.durations.set(type, d);
    }
    return d;
  }

  figures(): AnalyticsFigures {
    const started = this.get('started');
    const mobile = MOBILE_DEVICES.reduce((s, d) => s + this.get(`started.device.${d}`), 0);
    const byPrefix = (prefix: string) => Object.fromEntries([...this.counts].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    const durationFigures = (type: DurationType) => {
      const d = this.duration(type);
      return { count: d.n, avgMs: d.n > 0 ? d.sum / d.n : null, medianMs: percentileMs(d.histogram, 0.5), p90Ms: percentileMs(d.histogram, 0.9) };
    };
    const handled = this.get('assigned.bot');
    const escalated = this.get('escalated');
    const contained = Math.max(0, handled - escalated);
    return {
      conversations: {
        started,
        queued: this.get('queued'),
        closed: this.get('closed'),
        closedByReason: { consumer: this.get('closed.consumer'), agent: this.get('closed.agent'), system: this.get('closed.system'), timeout: this.get('closed.timeout') },
        byChannel: byPrefix('started.channel.'),
        byDevice: byPrefix('started.device.'),
        mobile,
        mobileShare: started > 0 ? mobile / started : null,
      },
      messages: { consumer: this.get('consumer_message'), agent: this.get('agent_message.person'), bot: this.get('agent_message.bot') },
      waitTime: durationFigures('assigned'),
      firstResponse: durationFigures('first_response'),
      responseTime: durationFigures('agent_message'),
      handleTime: durationFigures('closed'),
      transfers: this.get('transferred'),
      bots: {
        handled,
        escalated,
        contained,
        containmentRate: handled > 0 ? contained / handled : null,
        escalationRate: handled > 0 ? Math.min(1, escalated / handled) : null,
      },
    };
  }
}

/**
 * Historical reports over the analytics record, and the hourly rollup that keeps them fast. A report reads complete
 * UTC hours that the rollup has folded from `analytics_hourly` and everything else (the current hours, the partial
 * hours at the period's edges, hours split by a time zone's half-hour offset) from `analytics_events`, and adds the two.
 */
export class AnalyticsService {
  private readonly graceMs: number;

  constructor(
    private readonly db: Db,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: AnalyticsOptions = {},
  ) {
    this.graceMs = options.rollupGraceMs ?? 60_000;
  }

  /** The durable job that folds complete hours into the rollup (enqueued periodically by the composition root). */
  readonly rollUpJob = defineJob<Record<string, never>>({
    queue: 'analytics.rollup',
    version: 1,
    payload: z.strictObject({}) as z.ZodType<Record<string, never>>,
    maxAttempts: 3,
    handle: async () => {
      await this.rollUp();
    },
  });

  /** Enqueues a fold (the composition root calls this every few minutes; folds are ordered, one at a time). */
  async scheduleRollUp(): Promise<void> {
    await this.jobs.enqueue(this.db, this.rollUpJob, {}, { orderingKey: 'analytics:rollup' });
  }

  async report(principal: Principal, query: AnalyticsReportQuery): Promise<AnalyticsReport> {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (!(from < to)) throw validation('to', '`to` must be after `from`');
    const span = to.getTime() - from.getTime();
    if (query.interval === 'hour' && span > 31 * DAY_MS) throw validation('interval', 'Hourly series cover at most 31 days; use interval=day');
    if (span > 400 * DAY_MS) throw validation('to', 'A report covers at most 400 days');
    const accountId = principal.accountId;
    const interval = query.interval;
    const tz = query.timeZone;

    const state = await this.db.selectFrom('analytics_rollup_state').select('rolled_up_to').where('name', '=', 'hourly').executeTakeFirst();
    const rolledUpTo = state?.rolled_up_to ?? null;
    const coverFrom = new Date(Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS);
    const coverTo = new Date(Math.min(Math.floor(to.getTime() / HOUR_MS) * HOUR_MS, rolledUpTo?.getTime() ?? 0));
    const covered = coverFrom < coverTo;

    const bucket = (col: RawBuilder<unknown>) => sql`(date_trunc(${interval}::text, ${col} at time zone ${tz}::text) at time zone ${tz}::text)`;
    // A UTC hour lies within one report bucket (false for hourly series in half-hour time zones, and for the hour a
    // half-hour zone's day starts in): only such hours are read from the rollup.
    const aligned = (col: RawBuilder<unknown>) =>
      sql`(date_trunc(${interval}::text, ${col} at time zone ${tz}::text) = date_trunc(${interval}::text, (${col} + interval '3599.999999 seconds') at time zone ${tz}::text))`;
    const at = sql.ref('at');
    const hour = sql.ref('hour');
    const utcHourOfAt = sql`(date_trunc('hour', at at time zone 'UTC') at time zone 'UTC')`;
    const filters = sql.join(
      [
        sql`account_id = ${accountId}`,
        ...(query.skillId ? [sql`skill_id = ${query.skillId}`] : []),
        ...(query.agentId ? [sql`agent_id = ${query.agentId}`] : []),
        ...(query.channel ? [sql`channel = ${query.channel}`] : []),
        ...(query.device ? [sql`device = ${query.device}`] : []),
      ],
      sql` and `,
    );
    const rawWhere = covered
      ? sql`${filters} and at >= ${from} and at < ${to} and not (at >= ${coverFrom} and at < ${coverTo} and ${aligned(utcHourOfAt)})`
      : sql`${filters} and at >= ${from} and at < ${to}`;
    const rollupWhere = sql`${filters} and hour >= ${coverFrom} and hour < ${coverTo} and ${aligned(hour)}`;
    const durationTypes = sql.join(DURATION_TYPES.map((t) => sql`${t}`));

    const queries: Promise<{ rows: unknown[] }>[] = [
      sql<CountRow>`select ${bucket(at)} as b, type, detail->>'reason' as reason, channel, device, is_bot, count(*) as n, count(duration_ms) as dn, coalesce(sum(duration_ms), 0) as ds
        from analytics_events where ${rawWhere} group by 1, 2, 3, 4, 5, 6`.execute(this.db),
      sql<HistRow>`select ${bucket(at)} as b, type, ${sql.raw(bucketSql('duration_ms'))} as hb, count(*) as n
        from analytics_events where ${rawWhere} and duration_ms is not null and type in (${durationTypes}) group by 1, 2, 3`.execute(this.db),
      sql<AgentRow>`select agent_id, is_bot, type, count(*) as n, count(duration_ms) as dn, coalesce(sum(duration_ms), 0) as ds
        from analytics_events where ${rawWhere} and agent_id is not null group by 1, 2, 3`.execute(this.db),
    ];
    if (covered) {
      queries.push(
        sql<CountRow>`select ${bucket(hour)} as b, type, reason, channel, device, is_bot, sum(count) as n, sum(duration_count) as dn, sum(duration_sum) as ds
          from analytics_hourly where ${rollupWhere} group by 1, 2, 3, 4, 5, 6`.execute(this.db),
        sql<HistRow>`select ${bucket(hour)} as b, type, (kv.key)::int as hb, sum((kv.value)::int) as n
          from analytics_hourly, jsonb_each_text(histogram) as kv where ${rollupWhere} group by 1, 2, 3`.execute(this.db),
        sql<AgentRow>`select agent_id, is_bot, type, sum(count) as n, sum(duration_count) as dn, sum(duration_sum) as ds
          from analytics_hourly where ${rollupWhere} and agent_id is not null group by 1, 2, 3`.execute(this.db),
      );
    }
    const [rawCounts, rawHist, rawAgents, rollCounts, rollHist, rollAgents] = await Promise.all(queries);
    const slots = await sql<{ b: Date | string }>`select (g at time zone ${tz}::text) as b from generate_series(
        date_trunc(${interval}::text, ${from}::timestamptz at time zone ${tz}::text),
        date_trunc(${interval}::text, (${to}::timestamptz - interval '1 microsecond') at time zone ${tz}::text),
        ${`1 ${interval}`}::interval) as g`.execute(this.db);

    const totals = new Accumulator();
    const series = new Map<string, Accumulator>();
    for (const slot of slots.rows) series.set(iso(slot.b), new Accumulator());
    const slotOf = (b: Date | string) => {
      const key = iso(b);
      let acc = series.get(key);
      if (!acc) {
        acc = new Accumulator();
        series.set(key, acc);
      }
      return acc;
    };
    for (const row of [...(rawCounts?.rows ?? []), ...(rollCounts?.rows ?? [])] as CountRow[]) {
      for (const acc of [totals, slotOf(row.b)]) addCounts(acc, row);
    }
    for (const row of [...(rawHist?.rows ?? []), ...(rollHist?.rows ?? [])] as HistRow[]) {
      for (const acc of [totals, slotOf(row.b)]) addHistogram(acc.duration(row.type as DurationType).histogram, Number(row.hb), Number(row.n));
    }
    const agents = new Map<string, { isBot: boolean; counts: Map<string, { n: number; dn: number; ds: number }> }>();
    for (const row of [...(rawAgents?.rows ?? []), ...(rollAgents?.rows ?? [])] as AgentRow[]) {
      let agent = agents.get(row.agent_id);
      if (!agent) {
        agent = { isBot: false, counts: new Map() };
        agents.set(row.agent_id, agent);
      }
      if (row.is_bot) agent.isBot = true;
      const c = agent.counts.get(row.type) ?? { n: 0, dn: 0, ds: 0 };
      c.n += Number(row.n);
      c.dn += Number(row.dn);
      c.ds += Number(row.ds);
      agent.counts.set(row.type, c);
    }

    return {
      from: from.toISOString(),
      to: to.toISOString(),
      timeZone: tz,
      interval,
      totals: totals.figures(),
      series: [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([start, acc]) => ({ start, ...acc.figures() })),
      agents: [...agents.entries()]
        .map(([agentId, a]) => {
          const c = (t: string) => a.counts.get(t) ?? { n: 0, dn: 0, ds: 0 };
          return {
            agentId,
            isBot: a.isBot,
            assigned: c('assigned').n,
            answers: c('agent_message').n,
            closed: c('closed').n,
            transfers: c('transferred').n + c('escalated').n,
            responseTime: { count: c('agent_message').dn, avgMs: c('agent_message').dn > 0 ? c('agent_message').ds / c('agent_message').dn : null },
            handleTime: { count: c('closed').dn, avgMs: c('closed').dn > 0 ? c('closed').ds / c('closed').dn : null },
            handleMsTotal: c('closed').ds,
          };
        })
        .sort((x, y) => x.agentId.localeCompare(y.agentId)),
      csat: await this.csat(accountId, query, from, to),
      conversions: await this.conversions(accountId, query, from, to, totals.figures().conversations.started),
      rolledUpTo: rolledUpTo ? rolledUpTo.toISOString() : null,
    };
  }

  async reportCsv(principal: Principal, query: AnalyticsReportQuery): Promise<string> {
    return reportToCsv(await this.report(principal, query));
  }

  /**
   * Folds every complete UTC hour (ended at least the grace ago) since the watermark into `analytics_hourly`. An hour is
   * recomputed from its raw facts (delete, then insert the aggregate), so folding it again is harmless. Serialised
   * across nodes by an advisory lock.
   */
  async rollUp(): Promise<{ hours: number }> {
    const target = new Date(Math.floor((this.clock.now().getTime() - this.graceMs) / HOUR_MS) * HOUR_MS);
    let hours = 0;
    for (;;) {
      const folded = await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('parley:analytics:rollup'))`.execute(trx);
        const state = await trx.selectFrom('analytics_rollup_state').select('rolled_up_to').where('name', '=', 'hourly').executeTakeFirst();
        let start = state?.rolled_up_to ?? null;
        if (!start) {
          const first = await trx
            .selectFrom('analytics_events')
            .select((eb) => eb.fn.min('at').as('at'))
            .executeTakeFirst();
          start = first?.at ? new Date(Math.floor(new Date(first.at).getTime() / HOUR_MS) * HOUR_MS) : target;
        }
        if (start >= target) {
          if (!state) await trx.insertInto('analytics_rollup_state').values({ name: 'hourly', rolled_up_to: target }).execute();
          return 0;
        }
        const end = new Date(Math.min(target.getTime(), start.getTime() + HOURS_PER_FOLD * HOUR_MS));
        await trx.deleteFrom('analytics_hourly').where('hour', '>=', start).where('hour', '<', end).execute();
        await sql`insert into analytics_hourly (account_id, hour, type, skill_id, agent_id, is_bot, channel, device, reason, count, duration_count, duration_sum, histogram)
          select account_id, hour, type, skill_id, agent_id, is_bot, channel, device, reason, sum(n)::int, sum(dn)::int, sum(ds)::bigint,
            coalesce(jsonb_object_agg(hb::text, dn) filter (where hb is not null), '{}'::jsonb)
          from (
            select account_id, (date_trunc('hour', at at time zone 'UTC') at time zone 'UTC') as hour, type, skill_id, agent_id, is_bot, channel, device,
              detail->>'reason' as reason, ${sql.raw(bucketSql('duration_ms'))} as hb, count(*) as n, count(duration_ms) as dn, coalesce(sum(duration_ms), 0) as ds
            from analytics_events where at >= ${start} and at < ${end}
            group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
          ) as grouped
          group by 1, 2, 3, 4, 5, 6, 7, 8, 9`.execute(trx);
        await trx
          .insertInto('analytics_rollup_state')
          .values({ name: 'hourly', rolled_up_to: end })
          .onConflict((oc) => oc.column('name').doUpdateSet({ rolled_up_to: end }))
          .execute();
        return Math.round((end.getTime() - start.getTime()) / HOUR_MS);
      });
      hours += folded;
      if (folded === 0) break;
    }
    if (hours > 0) this.logger.debug({ hours }, 'analytics rolled up');
    return { hours };
  }

  private async csat(accountId: string, query: AnalyticsReportQuery, from: Date, to: Date): Promise<AnalyticsReport['csat']> {
    let responses = this.db
      .selectFrom('csat_responses')
      .select(['score', (eb) => eb.fn.countAll<string>().as('n')])
      .where('account_id', '=', accountId)
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy('score');
    if (query.skillId) responses = responses.where('skill_id', '=', query.skillId);
    if (query.agentId) responses = responses.where('agent_id', '=', query.agentId);
    if (query.channel) responses = responses.where('channel', '=', query.channel);
    if (query.device) responses = responses.where('device', '=', query.device);
    let asked = this.db
      .selectFrom('csat_surveys as s')
      .innerJoin('conversations as c', 'c.id', 's.conversation_id')
      .leftJoin('conversation_routing as r', 'r.conversation_id', 's.conversation_id')
      .select([(eb) => eb.fn.countAll<string>().as('asked'), (eb) => eb.fn.countAll<string>().filterWhere('s.answered_at', 'is not', null).as('answered')])
      .where('s.account_id', '=', accountId)
      .where('s.asked_at', '>=', from)
      .where('s.asked_at', '<', to);
    if (query.skillId) asked = asked.where('r.skill_id', '=', query.skillId);
    if (query.agentId) asked = asked.where('s.agent_id', '=', query.agentId);
    if (query.channel) asked = asked.where('s.channel', '=', query.channel);
    if (query.device) asked = asked.where('c.device', '=', query.device);
    const [rows, survey] = await Promise.all([responses.execute(), asked.executeTakeFirst()]);
    const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
    let n = 0;
    let sum = 0;
    for (const row of rows) {
      const k = String(row.score) as keyof typeof distribution;
      distribution[k] = Number(row.n);
      n += Number(row.n);
      sum += Number(row.n) * row.score;
    }
    const askedCount = Number(survey?.asked ?? 0);
    return {
      responses: n,
      averageScore: n > 0 ? sum / n : null,
      distribution,
      satisfiedShare: n > 0 ? (distribution['4'] + distribution['5']) / n : null,
      asked: askedCount,
      responseRate: askedCount > 0 ? Number(survey?.answered ?? 0) / askedCount : null,
    };
  }

  private async conversions(accountId: string, query: AnalyticsReportQuery, from: Date, to: Date, started: number): Promise<AnalyticsReport['conversions']> {
    let q = this.db
      .selectFrom('conversions as v')
      .leftJoin('conversations as c', 'c.id', 'v.attributed_conversation_id')
      .select([
        'v.currency',
        (eb) => eb.fn.countAll<string>().as('n'),
        sql<string>`sum(v.value)::text`.as('value'),
        sql<string>`count(*) filter (where v.attributed_conversation_id is not null)`.as('influenced'),
        sql<string>`coalesce(sum(v.value) filter (where v.attributed_conversation_id is not null), 0)::text`.as('influenced_value'),
        sql<string | null>`round(avg(v.value) filter (where v.attributed_conversation_id is not null), 2)::text`.as('aov_with'),
        sql<string | null>`round(avg(v.value) filter (where v.attributed_conversation_id is null), 2)::text`.as('aov_without'),
      ])
      .where('v.account_id', '=', accountId)
      .where('v.occurred_at', '>=', from)
      .where('v.occurred_at', '<', to)
      .groupBy('v.currency');
    if (query.skillId) q = q.where('v.attributed_skill_id', '=', query.skillId);
    if (query.agentId) q = q.where('v.attributed_agent_id', '=', query.agentId);
    if (query.channel) q = q.where('c.channel', '=', query.channel);
    if (query.device) q = q.where('c.device', '=', query.device);
    const rows = await q.execute();
    // Conversations started in the period (the record's `started` facts, as `started` counts them) that led to a
    // conversion, attributed at write time, at any later date.
    let converted = this.db
      .selectFrom('conversions as v')
      .innerJoin('analytics_events as e', (join) => join.onRef('e.conversation_id', '=', 'v.attributed_conversation_id').on('e.type', '=', 'started'))
      .select(sql<string>`count(distinct v.attributed_conversation_id)`.as('n'))
      .where('v.account_id', '=', accountId)
      .where('e.account_id', '=', accountId)
      .where('e.at', '>=', from)
      .where('e.at', '<', to);
    if (query.skillId) converted = converted.where('v.attributed_skill_id', '=', query.skillId);
    if (query.agentId) converted = converted.where('v.attributed_agent_id', '=', query.agentId);
    if (query.channel) converted = converted.where('e.channel', '=', query.channel);
    if (query.device) converted = converted.where('e.device', '=', query.device);
    const convertedConversations = Number((await converted.executeTakeFirst())?.n ?? 0);
    return {
      count: rows.reduce((s, r) => s + Number(r.n), 0),
      revenue: rows
        .map((r) => ({
          currency: r.currency,
          value: r.value,
          count: Number(r.n),
          influencedCount: Number(r.influenced),
          influencedValue: r.influenced_value,
          averageOrderValueWithConversation: r.aov_with,
          averageOrderValueWithoutConversation: r.aov_without,
        }))
        .sort((a, b) => (a.currency ?? '').localeCompare(b.currency ?? '')),
      convertedConversations,
      conversionRate: started > 0 ? convertedConversations / started : null,
    };
  }
}

function addCounts(acc: Accumulator, row: CountRow): void {
  const n = Number(row.n);
  switch (row.type) {
    case 'started':
      acc.add('started', n);
      acc.add(`started.channel.${row.channel}`, n);
      acc.add(`started.device.${row.device}`, n);
      break;
    case 'closed':
      acc.add('closed', n);
      if (row.reason) acc.add(`closed.${row.reason}`, n);
      break;
    case 'agent_message':
      acc.add(row.is_bot ? 'agent_message.bot' : 'agent_message.person', n);
      break;
    case 'assigned':
      acc.add('assigned', n);
      if (row.is_bot) acc.add('assigned.bot', n);
      break;
    default:
      acc.add(row.type, n);
  }
  if ((DURATION_TYPES as readonly string[]).includes(row.type)) {
    const d = acc.duration(row.type as DurationType);
    d.n += Number(row.dn);
    d.sum += Number(row.ds);
  }
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

function validation(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { issues: [{ path, message, code: 'invalid' }] });
}
