import type { AnalyticsFigures, AnalyticsReport, AnalyticsReportQuery } from '@parley/protocol';
import { type RawBuilder, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database as Schema } from '../../infra/db/schema.ts';
import { defineJob, type JobQueue } from '../../infra/jobs/index.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { AgentTimeReader, agentTimeFigures, HOLD_ENDING_FACTS, listedForTime, withEndedHolds } from './agent-time.ts';
import { addHistogram, bucketSql, COARSE_THRESHOLDS_SQL, coarseUpperMs, type Histogram, percentileMs, toCoarse } from './duration-histogram.ts';
import { reportToCsv } from './report-csv.ts';
import { factFilters } from './report-filters.ts';
import { AGENT_FACT_TYPES } from './tables.ts';
import { mergeRanges, subtractRanges, type TimeRange } from './time-ranges.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Devices counted as mobile in "mobile share": everything but desktop browsers and unknown devices. */
export const MOBILE_DEVICES = ['mobile_web', 'in_app', 'sms', 'messenger', 'whatsapp'] as const;
/** Hours folded per transaction, so a first fold over a long history does not hold one huge transaction. */
const HOURS_PER_FOLD = 168;
/** Local days folded per transaction into the daily rollups. */
const DAYS_PER_FOLD = 31;
/** Time zones an account's daily rollups are kept in; reports in further zones read the hourly rollup. */
const MAX_REPORT_ZONES = 8;
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
interface DailyCoverage {
  /** Local days [firstDay, lastDay) are read from the daily rollups: the instants [from, to). */
  firstDay: string;
  lastDay: string;
  from: Date;
  to: Date;
  /** The slice of the daily histograms and agent rows that matches the report's filter. */
  slice: string;
}
interface DailyHistRow {
  b: Date | string;
  type: string;
  histogram: Record<string, number>;
}
interface AgentRow {
  agent_id: string;
  is_bot: boolean;
  type: string;
  n: number | string;
  dn: number | string;
  ds: number | string;
}

/** Count and sum of one kind of duration, with its per-second histogram and, from daily rollups, its coarse one. */
interface DurationSums {
  n: number;
  sum: number;
  histogram: Histogram;
  coarse: Histogram;
}

function mergeHistograms(a: Histogram, b: Histogram): Histogram {
  const merged: Histogram = new Map(a);
  for (const [bucket, n] of b) addHistogram(merged, bucket, n);
  return merged;
}

/** Sums and histograms of one bucket (or the totals) before they become figures. */
class Accumulator {
  counts = new Map<string, number>();
  durations = new Map<DurationType, DurationSums>();

  add(key: string, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  duration(type: DurationType): DurationSums {
    let d = this.durations.get(type);
    if (!d) {
      d = { n: 0, sum: 0, histogram: new Map(), coarse: new Map() };
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
      // Days read from the daily rollups hold coarse buckets: then the whole bucket is read on the coarse grid.
      const [histogram, upperMs] = d.coarse.size === 0 ? [d.histogram, undefined] : [mergeHistograms(toCoarse(d.histogram), d.coarse), coarseUpperMs];
      return { count: d.n, avgMs: d.n > 0 ? d.sum / d.n : null, medianMs: percentileMs(histogram, 0.5, upperMs), p90Ms: percentileMs(histogram, 0.9, upperMs) };
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
  /** Zones known to be registered for daily rollups (`<account> <zone>`), so a report writes nothing once known. */
  private readonly zones = new Set<string>();
  private readonly agentTime: AgentTimeReader;

  constructor(
    private readonly db: Db,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: AnalyticsOptions = {},
  ) {
    this.graceMs = options.rollupGraceMs ?? 60_000;
    this.agentTime = new AgentTimeReader(db, clock);
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
    if (interval === 'day') await this.registerZone(accountId, tz);
    const daily = await this.dailyCoverage(accountId, query, from, to);

    const bucket = (col: RawBuilder<unknown>) => sql`(date_trunc(${interval}::text, ${col} at time zone ${tz}::text) at time zone ${tz}::text)`;
    // A UTC hour lies within one report bucket (false for hourly series in half-hour time zones, and for the hour a
    // half-hour zone's day starts in): only such hours are read from the hourly rollup.
    const aligned = (col: RawBuilder<unknown>) =>
      sql`(date_trunc(${interval}::text, ${col} at time zone ${tz}::text) = date_trunc(${interval}::text, (${col} + interval '3599.999999 seconds') at time zone ${tz}::text))`;
    // Three sources over disjoint time ranges, each read by index ranges: whole local days from the daily rollups,
    // complete aligned UTC hours from the hourly one, everything else (edges, hours not folded yet) from the record.
    const dailyRange: TimeRange[] = daily ? [[daily.from, daily.to]] : [];
    const coverFrom = new Date(Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS);
    const coverTo = new Date(Math.min(Math.floor(to.getTime() / HOUR_MS) * HOUR_MS, rolledUpTo?.getTime() ?? 0));
    const hourlyRanges = coverFrom < coverTo ? subtractRanges([[coverFrom, coverTo]], dailyRange) : [];
    const unaligned = hourlyRanges.length > 0 ? await this.unalignedHours(hourlyRanges, aligned) : [];
    const rawRanges = mergeRanges([...subtractRanges(subtractRanges([[from, to]], dailyRange), hourlyRanges), ...unaligned]);
    const within = (col: string, ranges: TimeRange[]) =>
      sql`(${sql.join(
        ranges.map(([a, b]) => sql`(${sql.ref(col)} >= ${a} and ${sql.ref(col)} < ${b})`),
        sql` or `,
      )})`;
    const at = sql.ref('at');
    const hour = sql.ref('hour');
    const filters = factFilters(accountId, query);
    const durationTypes = sql.join(DURATION_TYPES.map((t) => sql`${t}`));
    const none = Promise.resolve({ rows: [] as unknown[] });

    const rawWhere = rawRanges.length > 0 ? sql`${filters} and ${within('at', rawRanges)}` : null;
    const rawQueries: Promise<{ rows: unknown[] }>[] = rawWhere
      ? [
          sql<CountRow>`select ${bucket(at)} as b, type, detail->>'reason' as reason, channel, device, is_bot, count(*) as n, count(duration_ms) as dn, coalesce(sum(duration_ms), 0) as ds
            from analytics_events where ${rawWhere} group by 1, 2, 3, 4, 5, 6`.execute(this.db),
          sql<HistRow>`select ${bucket(at)} as b, type, ${sql.raw(bucketSql('duration_ms'))} as hb, count(*) as n
            from analytics_events where ${rawWhere} and duration_ms is not null and type in (${durationTypes}) group by 1, 2, 3`.execute(this.db),
          sql<AgentRow>`select agent_id, is_bot, type, count(*) as n, count(duration_ms) as dn, coalesce(sum(duration_ms), 0) as ds
            from analytics_events where ${rawWhere} and agent_id is not null group by 1, 2, 3`.execute(this.db),
        ]
      : [none, none, none];
    const rollupWhere = hourlyRanges.length > 0 ? sql`${filters} and ${within('hour', hourlyRanges)} and ${aligned(hour)}` : null;
    const hourlyQueries: Promise<{ rows: unknown[] }>[] = rollupWhere
      ? [
          sql<CountRow>`select ${bucket(hour)} as b, type, reason, channel, device, is_bot, sum(count) as n, sum(duration_count) as dn, sum(duration_sum) as ds
            from analytics_hourly where ${rollupWhere} group by 1, 2, 3, 4, 5, 6`.execute(this.db),
          sql<HistRow>`select ${bucket(hour)} as b, type, (kv.key)::int as hb, sum((kv.value)::int) as n
            from analytics_hourly, jsonb_each_text(histogram) as kv where ${rollupWhere} group by 1, 2, 3`.execute(this.db),
          sql<AgentRow>`select agent_id, is_bot, type, sum(count) as n, sum(duration_count) as dn, sum(duration_sum) as ds
            from analytics_hourly where ${rollupWhere} and agent_id is not null group by 1, 2, 3`.execute(this.db),
        ]
      : [none, none, none];
    const dailyQueries: Promise<{ rows: unknown[] }>[] = daily ? this.dailyQueries(accountId, query, tz, daily) : [none, none, none];
    // The figures that do not depend on the record's rows run beside them (agent time adds the ended holds afterwards).
    const agentTimeP = this.agentTime.read(accountId, { from, to, agentId: query.agentId, skillId: query.skillId, channel: query.channel, device: query.device });
    const csatP = this.csat(accountId, query, from, to);
    const conversionsP = this.conversions(accountId, query, from, to);
    const slotsP = sql<{ b: Date | string }>`select (g at time zone ${tz}::text) as b from generate_series(
        date_trunc(${interval}::text, ${from}::timestamptz at time zone ${tz}::text),
        date_trunc(${interval}::text, (${to}::timestamptz - interval '1 microsecond') at time zone ${tz}::text),
        ${`1 ${interval}`}::interval) as g`.execute(this.db);
    // Nothing may stay unobserved if a query fails first (the others would reject unhandled).
    for (const p of [agentTimeP, csatP, conversionsP, slotsP]) p.catch(() => {});
    const [[rawCounts, rawHist, rawAgents], [rollCounts, rollHist, rollAgents], [dayCounts, dayHist, dayAgents], slots] = await Promise.all([
      Promise.all(rawQueries),
      Promise.all(hourlyQueries),
      Promise.all(dailyQueries),
      slotsP,
    ]);

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
    for (const row of [...(rawCounts?.rows ?? []), ...(rollCounts?.rows ?? []), ...(dayCounts?.rows ?? [])] as CountRow[]) {
      for (const acc of [totals, slotOf(row.b)]) addCounts(acc, row);
    }
    for (const row of [...(rawHist?.rows ?? []), ...(rollHist?.rows ?? [])] as HistRow[]) {
      for (const acc of [totals, slotOf(row.b)]) addHistogram(acc.duration(row.type as DurationType).histogram, Number(row.hb), Number(row.n));
    }
    for (const row of (dayHist?.rows ?? []) as DailyHistRow[]) {
      for (const acc of [totals, slotOf(row.b)]) {
        const coarse = acc.duration(row.type as DurationType).coarse;
        for (const [cb, n] of Object.entries(row.histogram)) addHistogram(coarse, Number(cb), n);
      }
    }
    const dailyAgentRows = ((dayAgents?.rows ?? []) as Record<string, string | number | boolean>[]).flatMap((row) =>
      AGENT_FACT_TYPES.map(
        (type): AgentRow => ({
          agent_id: String(row.agent_id),
          is_bot: row.is_bot === true,
          type,
          n: Number(row[`${type}_count`]),
          dn: Number(row[`${type}_duration_count`]),
          ds: Number(row[`${type}_duration_sum`]),
        }),
      ),
    );
    const agents = new Map<string, { isBot: boolean; counts: Map<string, { n: number; dn: number; ds: number }> }>();
    for (const row of [...(rawAgents?.rows ?? []), ...(rollAgents?.rows ?? []), ...dailyAgentRows] as AgentRow[]) {
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
    // Time in states and engaged time (agent-time.ts); agents logged in who got nothing are listed too.
    const [timesInPeriod, csat, conversions] = await Promise.all([agentTimeP, csatP, conversionsP]);
    const agentTime = withEndedHolds(timesInPeriod, new Map([...agents].map(([id, a]) => [id, HOLD_ENDING_FACTS.reduce((sum, t) => sum + (a.counts.get(t)?.ds ?? 0), 0)])));
    const totalFigures = totals.figures();
    for (const [id, t] of agentTime) if (!agents.has(id) && listedForTime(t)) agents.set(id, { isBot: t.isBot, counts: new Map() });

    return {
      from: from.toISOString(),
      to: to.toISOString(),
      timeZone: tz,
      interval,
      totals: totalFigures,
      series: [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([start, acc]) => ({ start, ...acc.figures(), csat: csat.buckets.get(start) ?? NO_CSAT })),
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
            ...agentTimeFigures(agentTime.get(agentId), c('assigned').n),
          };
        })
        .sort((x, y) => x.agentId.localeCompare(y.agentId)),
      csat: csat.totals,
      conversions: { ...conversions, conversionRate: totalFigures.conversations.started > 0 ? conversions.convertedConversations / totalFigures.conversations.started : null },
      rolledUpTo: rolledUpTo ? rolledUpTo.toISOString() : null,
      dailyRollup: daily ? { firstDay: daily.firstDay, endDay: daily.lastDay } : null,
    };
  }

  /**
   * Keeps daily rollups for a zone the account asks daily reports in (up to MAX_REPORT_ZONES zones): the first such
   * report reads the hourly rollup, and the fold it schedules fills the zone's days from the start of the record.
   */
  private async registerZone(accountId: string, timeZone: string): Promise<void> {
    const key = `${accountId} ${timeZone}`;
    if (this.zones.has(key)) return;
    const registered = await this.db.transaction().execute(async (trx) => {
      const zones = await trx.selectFrom('analytics_report_zones').select('time_zone').where('account_id', '=', accountId).execute();
      if (zones.some((z) => z.time_zone === timeZone)) return 'known';
      if (zones.length >= MAX_REPORT_ZONES) return 'full';
      const inserted = await trx
        .insertInto('analytics_report_zones')
        .values({ account_id: accountId, time_zone: timeZone, registered_at: this.clock.now(), folded_to: null })
        .onConflict((oc) => oc.columns(['account_id', 'time_zone']).doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? 'new' : 'known';
    });
    if (registered === 'full') return;
    this.zones.add(key);
    if (registered === 'new') {
      this.logger.info({ accountId, timeZone }, 'analytics: daily rollups kept for a new report time zone');
      await this.scheduleRollUp();
    }
  }

  /** The whole local days of the period the zone's daily rollups hold, when the report's filters allow reading them. */
  private async dailyCoverage(accountId: string, query: AnalyticsReportQuery, from: Date, to: Date): Promise<DailyCoverage | null> {
    if (query.interval !== 'day' || query.agentId) return null;
    const filters = [query.skillId ? `skill:${query.skillId}` : null, query.channel ? `channel:${query.channel}` : null, query.device ? `device:${query.device}` : null].filter(
      (f): f is string => f !== null,
    );
    // The daily histograms and agent rows are sliced by one dimension at a time; combined filters read the hourly path.
    // Sliced by one skill, channel or device, or a skill with a channel or a device; other combinations (and agents) read
    // the hourly path.
    if (filters.length > 2 || (filters.length === 2 && !query.skillId)) return null;
    const tz = query.timeZone;
    const row = (
      await sql<{ first_day: string; last_day: string; from_i: Date | string; to_i: Date | string }>`
        select first_day::text, last_day::text, (first_day::timestamp at time zone ${tz}::text) as from_i, (last_day::timestamp at time zone ${tz}::text) as to_i
        from (
          select (case when date_trunc('day', ${from}::timestamptz at time zone ${tz}::text) = (${from}::timestamptz at time zone ${tz}::text)
                    then (${from}::timestamptz at time zone ${tz}::text)::date
                    else (${from}::timestamptz at time zone ${tz}::text)::date + 1 end) as first_day,
                 least((${to}::timestamptz at time zone ${tz}::text)::date, folded_to) as last_day
          from analytics_report_zones where account_id = ${accountId} and time_zone = ${tz} and folded_to is not null
        ) as days
        where first_day < last_day`.execute(this.db)
    ).rows[0];
    if (!row) return null;
    return { firstDay: row.first_day, lastDay: row.last_day, from: new Date(row.from_i), to: new Date(row.to_i), slice: filters.join('|') };
  }

  /** The UTC hours within `ranges` that straddle two report buckets (half-hour zones), as merged ranges. */
  private async unalignedHours(ranges: TimeRange[], aligned: (col: RawBuilder<unknown>) => RawBuilder<unknown>): Promise<TimeRange[]> {
    const h = sql.ref('h');
    const series = sql.join(
      ranges.map(([a, b]) => sql`select h from generate_series(${a}::timestamptz, ${b}::timestamptz - interval '1 hour', interval '1 hour') as h`),
      sql` union all `,
    );
    const rows = await sql<{ h: Date | string }>`select h from (${series}) as hours where not ${aligned(h)}`.execute(this.db);
    return mergeRanges(rows.rows.map((r): TimeRange => [new Date(r.h), new Date(new Date(r.h).getTime() + HOUR_MS)]));
  }

  /** Counts, coarse histograms and agent rows of the covered days, in the shapes of the other sources' rows. */
  private dailyQueries(accountId: string, query: AnalyticsReportQuery, tz: string, daily: DailyCoverage): Promise<{ rows: unknown[] }>[] {
    const days = sql`account_id = ${accountId} and time_zone = ${tz} and day >= ${daily.firstDay}::date and day < ${daily.lastDay}::date`;
    const counted = sql.join(
      [
        days,
        query.skillId ? sql`slice = 'skill' and skill_id = ${query.skillId}` : sql`slice = ''`,
        ...(query.channel ? [sql`channel = ${query.channel}`] : []),
        ...(query.device ? [sql`device = ${query.device}`] : []),
      ],
      sql` and `,
    );
    const local = (day: RawBuilder<unknown>) => sql`(${day}::timestamp at time zone ${tz}::text)`;
    const agentSums = sql.join(AGENT_FACT_TYPES.flatMap((t) => [`${t}_count`, `${t}_duration_count`, `${t}_duration_sum`].map((c) => sql`sum(${sql.ref(c)}) as ${sql.ref(c)}`)));
    return [
      // A slice's rows are already one per (day, type, reason, channel, device, bot): nothing to group.
      sql<CountRow>`select ${local(sql.ref('day'))} as b, type, reason, channel, device, is_bot, count as n, duration_count as dn, duration_sum as ds
        from analytics_daily where ${counted}`.execute(this.db),
      // One histogram per day and type: merged here, not unnested by the database.
      sql<DailyHistRow>`select ${local(sql.ref('day'))} as b, type, histogram
        from analytics_daily_durations where ${days} and slice = ${daily.slice}`.execute(this.db),
      sql<Record<string, string | number | boolean>>`select agent_id, is_bot, ${agentSums}
        from analytics_daily_agents where ${days} and slice = ${daily.slice} group by 1, 2`.execute(this.db),
    ];
  }

  async reportCsv(principal: Principal, query: AnalyticsReportQuery): Promise<string> {
    return reportToCsv(await this.report(principal, query));
  }

  /**
   * Folds every complete UTC hour (ended at least the grace ago) since the watermark into `analytics_hourly`. An hour is
   * recomputed from its raw facts (delete, then insert the aggregate), so folding it again is harmless. Serialised
   * across nodes by an advisory lock.
   */
  async rollUp(): Promise<{ hours: number; days: number }> {
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
    const days = await this.foldDaily();
    if (hours > 0 || days > 0) this.logger.debug({ hours, days }, 'analytics rolled up');
    return { hours, days };
  }

  /**
   * Folds, for each account and report zone, every local day that ended (at least the grace ago) since the zone's
   * watermark, into the daily rollups: recomputed from the raw record, a batch of days per transaction, under the
   * rollup's advisory lock. A newly registered zone starts at the account's first fact.
   */
  private async foldDaily(): Promise<number> {
    const until = new Date(this.clock.now().getTime() - this.graceMs);
    const zones = await this.db.selectFrom('analytics_report_zones').select(['account_id', 'time_zone']).execute();
    const durationTypes = sql.join(DURATION_TYPES.map((t) => sql`${t}`));
    const agentTypes = sql.join(AGENT_FACT_TYPES.map((t) => sql`${t}`));
    // Each agent fact type's (count, duration count, duration sum), side by side in one row per agent and day.
    const agentColumns = sql.join(AGENT_FACT_TYPES.flatMap((t) => [`${t}_count`, `${t}_duration_count`, `${t}_duration_sum`].map((c) => sql.ref(c))));
    const agentSums = sql.join(
      AGENT_FACT_TYPES.flatMap((t) => [sql`count(*) filter (where type = ${t})`, sql`count(duration_ms) filter (where type = ${t})`, sql`coalesce(sum(duration_ms) filter (where type = ${t}), 0)`]),
    );
    let total = 0;
    for (const { account_id: accountId, time_zone: tz } of zones) {
      for (;;) {
        const folded = await this.db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(hashtext('parley:analytics:rollup'))`.execute(trx);
          const state = (
            await sql<{ folded_to: string | null; target: string; first: string | null }>`
              select folded_to::text as folded_to, ((${until}::timestamptz at time zone ${tz}::text)::date)::text as target,
                case when folded_to is null then
                  (select ((min(at) at time zone ${tz}::text)::date)::text from analytics_events where account_id = ${accountId})
                end as first
              from analytics_report_zones where account_id = ${accountId} and time_zone = ${tz}`.execute(trx)
          ).rows[0];
          if (!state) return 0;
          const start = state.folded_to ?? state.first ?? state.target;
          if (start >= state.target) {
            if (state.folded_to === null) await this.setFoldedTo(trx, accountId, tz, state.target);
            return 0;
          }
          const end = minDay(addDays(start, DAYS_PER_FOLD), state.target);
          const zone = sql`account_id = ${accountId} and time_zone = ${tz} and day >= ${start}::date and day < ${end}::date`;
          for (const table of ['analytics_daily', 'analytics_daily_durations', 'analytics_daily_agents'] as const) {
            await sql`delete from ${sql.table(table)} where ${zone}`.execute(trx);
          }
          const facts = sql`from analytics_events where account_id = ${accountId}
            and at >= (${start}::date::timestamp at time zone ${tz}::text) and at < (${end}::date::timestamp at time zone ${tz}::text)`;
          const day = sql`((at at time zone ${tz}::text)::date)`;
          // The slice a grouping set stands for, named as dailyCoverage names a report's filters: 'skill:<id>|device:<d>'.
          const slice = sql.raw(
            "concat_ws('|', case when grouping(skill_id) = 0 then 'skill:' || coalesce(skill_id::text, '') end, case when grouping(channel) = 0 then 'channel:' || channel end, case when grouping(device) = 0 then 'device:' || device end)",
          );
          await sql`insert into analytics_daily (account_id, time_zone, day, slice, type, skill_id, is_bot, channel, device, reason, count, duration_count, duration_sum)
            select ${accountId}, ${tz}, day, case when grouping(skill_id) = 0 then 'skill' else '' end, type, skill_id, is_bot, channel, device, reason,
              count(*), count(duration_ms), coalesce(sum(duration_ms), 0)
            from (select ${day} as day, type, skill_id, is_bot, channel, device, detail->>'reason' as reason, duration_ms ${facts}) as e
            group by grouping sets ((day, type, is_bot, channel, device, reason), (day, type, skill_id, is_bot, channel, device, reason))`.execute(trx);
          await sql`insert into analytics_daily_durations (account_id, time_zone, day, type, slice, histogram)
            select ${accountId}, ${tz}, day, type, slice, jsonb_object_agg(cb::text, n)
            from (
              select day, type, ${slice} as slice, cb, count(*) as n
              from (select ${day} as day, type, skill_id, channel, device, width_bucket(${sql.raw(bucketSql('duration_ms'))}, ${sql.raw(COARSE_THRESHOLDS_SQL)}) as cb
                ${facts} and duration_ms is not null and type in (${durationTypes})) as e
              group by grouping sets ((day, type, cb), (day, type, skill_id, cb), (day, type, channel, cb), (day, type, device, cb),
                (day, type, skill_id, channel, cb), (day, type, skill_id, device, cb))
            ) as g
            group by day, type, slice`.execute(trx);
          await sql`insert into analytics_daily_agents (account_id, time_zone, day, slice, agent_id, is_bot, ${agentColumns})
            select ${accountId}, ${tz}, day, ${slice}, agent_id, is_bot, ${agentSums}
            from (select ${day} as day, agent_id, is_bot, type, skill_id, channel, device, duration_ms ${facts} and agent_id is not null and type in (${agentTypes})) as e
            group by grouping sets ((day, agent_id, is_bot), (day, agent_id, is_bot, skill_id), (day, agent_id, is_bot, channel), (day, agent_id, is_bot, device),
              (day, agent_id, is_bot, skill_id, channel), (day, agent_id, is_bot, skill_id, device))`.execute(trx);
          await this.setFoldedTo(trx, accountId, tz, end);
          return daysBetween(start, end);
        });
        total += folded;
        if (folded === 0) break;
      }
    }
    return total;
  }

  private async setFoldedTo(trx: Transaction<Schema>, accountId: string, timeZone: string, day: string): Promise<void> {
    await trx.updateTable('analytics_report_zones').set({ folded_to: day }).where('account_id', '=', accountId).where('time_zone', '=', timeZone).execute();
  }

  /**
   * CSAT of the period and of each bucket (the report's `date_trunc(interval, … at time zone tz)` buckets): responses
   * by their answer time, surveys by the time they were asked (answered whenever). Two grouped queries over the
   * engagement tables' (account, time) indexes; the survey query joins `conversations` (device) and
   * `conversation_routing` (skill) only when such a filter asks for them.
   */
  private async csat(accountId: string, query: AnalyticsReportQuery, from: Date, to: Date): Promise<{ totals: AnalyticsReport['csat']; buckets: Map<string, AnalyticsReport['csat']> }> {
    const bucket = (col: RawBuilder<unknown>) => sql<Date | string>`(date_trunc(${query.interval}::text, ${col} at time zone ${query.timeZone}::text) at time zone ${query.timeZone}::text)`;
    // Rows are first counted per quarter hour (every zone's offset is a multiple of it), so the time zone conversion
    // runs once per quarter hour, not once per survey.
    const quarter = (col: RawBuilder<unknown>) => sql<Date | string>`date_bin('15 minutes', ${col}, timestamptz '2000-01-01 00:00:00+00')`;
    let responses = this.db
      .selectFrom('csat_responses')
      .select([quarter(sql.ref('at')).as('q'), 'score', (eb) => eb.fn.countAll<string>().as('n')])
      .where('account_id', '=', accountId)
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy([sql`1`, 'score']);
    if (query.skillId) responses = responses.where('skill_id', '=', query.skillId);
    if (query.agentId) responses = responses.where('agent_id', '=', query.agentId);
    if (query.channel) responses = responses.where('channel', '=', query.channel);
    if (query.device) responses = responses.where('device', '=', query.device);
    let asked = this.db
      .selectFrom('csat_surveys as s')
      .select([quarter(sql.ref('s.asked_at')).as('q'), (eb) => eb.fn.countAll<string>().as('asked'), (eb) => eb.fn.countAll<string>().filterWhere('s.answered_at', 'is not', null).as('answered')])
      .where('s.account_id', '=', accountId)
      .where('s.asked_at', '>=', from)
      .where('s.asked_at', '<', to)
      .groupBy(sql`1`);
    if (query.skillId) {
      const skillId = query.skillId;
      asked = asked.where(({ exists, selectFrom }) =>
        exists(selectFrom('conversation_routing as r').select(sql`1`.as('one')).whereRef('r.conversation_id', '=', 's.conversation_id').where('r.skill_id', '=', skillId)),
      );
    }
    if (query.device) {
      const device = query.device;
      asked = asked.where(({ exists, selectFrom }) => exists(selectFrom('conversations as c').select(sql`1`.as('one')).whereRef('c.id', '=', 's.conversation_id').where('c.device', '=', device)));
    }
    if (query.agentId) asked = asked.where('s.agent_id', '=', query.agentId);
    if (query.channel) asked = asked.where('s.channel', '=', query.channel);
    const [rows, surveys] = await Promise.all([
      this.db
        .selectFrom(responses.as('r'))
        .select([bucket(sql.ref('r.q')).as('b'), 'r.score', sql<string>`sum(r.n)`.as('n')])
        .groupBy([sql`1`, 'r.score'])
        .execute(),
      this.db
        .selectFrom(asked.as('a'))
        .select([bucket(sql.ref('a.q')).as('b'), sql<string>`sum(a.asked)`.as('asked'), sql<string>`sum(a.answered)`.as('answered')])
        .groupBy(sql`1`)
        .execute(),
    ]);

    const totals = new CsatCounts();
    const buckets = new Map<string, CsatCounts>();
    const of = (b: Date | string) => {
      const key = iso(b);
      let counts = buckets.get(key);
      if (!counts) {
        counts = new CsatCounts();
        buckets.set(key, counts);
      }
      return counts;
    };
    for (const row of rows) for (const c of [totals, of(row.b)]) c.addResponses(row.score, Number(row.n));
    for (const row of surveys) for (const c of [totals, of(row.b)]) c.addSurveys(Number(row.asked), Number(row.answered));
    return { totals: totals.figures(), buckets: new Map([...buckets].map(([key, c]) => [key, c.figures()])) };
  }

  /** Conversions in the period; the rate is the caller's (it divides by the conversations started). */
  private async conversions(accountId: string, query: AnalyticsReportQuery, from: Date, to: Date): Promise<Omit<AnalyticsReport['conversions'], 'conversionRate'>> {
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
    // Conversations started in the period (when the conversation was created, as the record's `started` fact is written
    // in that transaction) that led to a conversion, attributed at write time, at any later date: from the conversions,
    // each looking its conversation up by key.
    let converted = this.db
      .selectFrom('conversions as v')
      .innerJoin('conversations as c', 'c.id', 'v.attributed_conversation_id')
      .select(sql<string>`count(distinct v.attributed_conversation_id)`.as('n'))
      .where('v.account_id', '=', accountId)
      .where('v.occurred_at', '>=', from)
      .where('c.account_id', '=', accountId)
      .where('c.created_at', '>=', from)
      .where('c.created_at', '<', to);
    if (query.skillId) converted = converted.where('v.attributed_skill_id', '=', query.skillId);
    if (query.agentId) converted = converted.where('v.attributed_agent_id', '=', query.agentId);
    if (query.channel) converted = converted.where('c.channel', '=', query.channel);
    if (query.device) converted = converted.where('c.device', '=', query.device);
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
    };
  }
}

/** CSAT counts of one bucket (or the period) before they become figures. */
class CsatCounts {
  private readonly distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  private asked = 0;
  private answered = 0;

  addResponses(score: number, n: number): void {
    const k = String(score) as keyof typeof this.distribution;
    this.distribution[k] += n;
  }
  addSurveys(asked: number, answered: number): void {
    this.asked += asked;
    this.answered += answered;
  }
  figures(): AnalyticsReport['csat'] {
    const d = this.distribution;
    const n = d['1'] + d['2'] + d['3'] + d['4'] + d['5'];
    const sum = d['1'] + 2 * d['2'] + 3 * d['3'] + 4 * d['4'] + 5 * d['5'];
    return {
      responses: n,
      averageScore: n > 0 ? sum / n : null,
      distribution: { ...d },
      satisfiedShare: n > 0 ? (d['4'] + d['5']) / n : null,
      asked: this.asked,
      responseRate: this.asked > 0 ? this.answered / this.asked : null,
    };
  }
}

/** A bucket without surveys or responses. */
const NO_CSAT = new CsatCounts().figures();

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

/** 'YYYY-MM-DD' plus n days. */
function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

function validation(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { issues: [{ path, message, code: 'invalid' }] });
}
