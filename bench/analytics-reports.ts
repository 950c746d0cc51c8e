/**
 * Analytics reports on a year of a large account: one million conversations with their analytics facts, then the
 * hourly rollup, the report queries (the same `AnalyticsService.report` the REST endpoint calls), the live view and
 * the transcript search, each timed.
 *
 *   npm run bench:analytics                                  # 1,000,000 conversations (about 10 minutes on 2 cores)
 *   npm run bench:analytics -- --conversations 50000         # a quick run
 *
 * PostgreSQL only: DATABASE_URL (or PARLEY_BENCH_DATABASE_URL) is an administrative URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; the bench creates `parley_bench_analytics_<random>` there, runs Parley's
 * migrations in it (createServer → openDatabase) and drops it at the end. Options: --conversations N (1000000),
 * --transcripts N (message events stored for the N most recent conversations, for the search and the live view;
 * default min(N, 100000)), --runs N (5 per report), --keep (leave the database for EXPLAIN; its name is printed).
 *
 * Set-up, by set-based SQL (`insert … select … from generate_series`, values from `hashint8extended`, so every run
 * loads the same data): one account, 8 skills, 200 agents (25 per skill) and 8 bots, consumers, conversations,
 * conversation_routing, the analytics record (started, queued, consumer and agent messages with response times, first
 * response, assignments with waits, bot handling and escalations, transfers, closes with handle times and reasons),
 * CSAT surveys and responses, conversions, transcript events, and the agents' state periods (a working day each). The last 500 conversations are open (200 queued,
 * 300 assigned) and the 200 agents are online and connected, for the live view. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnalyticsReportQuery } from '@parley/protocol';
import pg from 'pg';
import { loadConfig } from '../packages/server/src/config/config.ts';
import type { Principal } from '../packages/server/src/core/principal.ts';
import { createInProcessBus } from '../packages/server/src/infra/bus/in-process-bus.ts';
import { createLogger } from '../packages/server/src/infra/telemetry/logger.ts';
import { createServer } from '../packages/server/src/server.ts';
import { formatLoad, loadAverage, machineInfo } from './lib/machine.ts';
import { percentile } from './lib/stats.ts';

const SKILLS = 8;
const AGENTS_PER_SKILL = 25;
const OPEN = 500;
const OPEN_QUEUED = 200;
const CHUNK = 50_000;
const YEAR_MS = 365 * 24 * 3_600_000;

interface Options {
  conversations: number;
  transcripts: number;
  runs: number;
  keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options = { conversations: 1_000_000, transcripts: -1, runs: 5, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${arg} takes a whole number`);
      return v;
    };
    if (arg === '--conversations') options.conversations = value();
    else if (arg === '--transcripts') options.transcripts = value();
    else if (arg === '--runs') options.runs = Math.max(1, value());
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('npm run bench:analytics -- [--conversations 1000000] [--transcripts 100000] [--runs 5] [--keep]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  if (options.conversations < OPEN * 2) throw new Error(`--conversations must be at least ${OPEN * 2}`);
  if (options.transcripts < 0) options.transcripts = Math.min(options.conversations, 100_000);
  options.transcripts = Math.min(options.transcripts, options.conversations);
  return options;
}

const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const N = options.conversations;
  const adminUrl = process.env.PARLEY_BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const machine = machineInfo();
  const loadBefore = loadAverage();

  const name = `parley_bench_analytics_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dropDatabase = async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };

  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-files-'));
  const config = loadConfig({
    FILES_DIR: filesDir,
    LOG_LEVEL: 'warn',
    // No sweeps and no periodic rollup scheduling: the bench runs the rollup itself.
    ROUTING_SWEEP_INTERVAL_MS: '0',
    NODE_ID: 'bench',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@bench.parley',
    BOOTSTRAP_ADMIN_PASSWORD: 'bench-admin-password',
  });
  let server: Awaited<ReturnType<typeof createServer>> | undefined;
  const loader = new pg.Client({ connectionString: url.toString() });
  try {
    server = await createServer(config, {
      databaseOptions: { mode: 'postgres', databaseUrl: url.toString(), poolSize: 10 },
      bus: createInProcessBus(() => {}),
      logger: createLogger({ level: 'warn' }),
    });
    const { services } = server;
    const bootstrap = server.bootstrap;
    if (!bootstrap) throw new Error('expected a fresh database');
    const accountId = bootstrap.accountId;
    await loader.connect();
    const q = async <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []) => (await loader.query<R>(text, values)).rows;
    const setting = async (s: string) => (await q<Record<string, string>>(`show ${s}`))[0]?.[s] ?? '?';

    log(`Parley analytics reports: ${fmt(N)} conversations over a year, one account`);
    log(`  CPU          ${machine.cpuModel} x ${machine.cpus} (allowed ${machine.allowedCpus}); ${machine.memoryGiB} GiB; load average ${formatLoad(loadBefore)}`);
    log(`  Node         ${machine.node} (${machine.platform})`);
    log(`  PostgreSQL   ${await setting('server_version')} at ${url.host}, scratch database ${name}`);
    log(
      `               shared_buffers ${await setting('shared_buffers')}, work_mem ${await setting('work_mem')}, max_parallel_workers_per_gather ${await setting('max_parallel_workers_per_gather')}, jit ${await setting('jit')}`,
    );
    log();

    // ---------- the account's people ----------
    const adminRow = await server.database.db.selectFrom('users').select(['id', 'name']).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    const manager: Principal = { kind: 'user', userId: adminRow.id, accountId, role: 'admin', name: adminRow.name };
    const skillIds: string[] = [];
    for (let s = 0; s < SKILLS; s += 1) {
      const skill = await services.routing.createSkill(manager, {
        name: `Skill ${s}`,
        routingMode: 'auto',
        ringTimeoutSeconds: 30,
        responseTargetSeconds: null,
        businessHours: null,
        offHoursMessage: null,
        noAgentsMessage: null,
      });
      skillIds.push(skill.id);
    }
    const passwordHash = 'bench-no-login';
    const persons = (
      await q<{ id: string }>(
        `insert into users (account_id, email, name, role, password_hash)
         select $1, 'agent-' || n || '@bench.parley', 'Agent ' || lpad(n::text, 3, '0'), 'agent', $2 from generate_series(0, $3 - 1) n order by n returning id`,
        [accountId, passwordHash, SKILLS * AGENTS_PER_SKILL],
      )
    ).map((r) => r.id);
    const bots = (
      await q<{ id: string }>(
        `insert into users (account_id, email, name, role, password_hash)
         select $1, 'bot-' || n || '@bench.parley', 'Bot ' || n, 'bot', $2 from generate_series(0, $3 - 1) n order by n returning id`,
        [accountId, passwordHash, SKILLS],
      )
    ).map((r) => r.id);
    await q(
      `insert into agent_skills (user_id, skill_id, account_id) select p.id, ($2::uuid[])[1 + (p.n - 1) / $3::int], $1::uuid from unnest($4::uuid[]) with ordinality p(id, n)
       union all select b.id, ($2::uuid[])[b.n], $1::uuid from unnest($5::uuid[]) with ordinality b(id, n)`,
      [accountId, skillIds, AGENTS_PER_SKILL, persons, bots],
    );
    await q(
      `insert into agent_states (user_id, account_id, state, state_since, always_available)
       select id, $1::uuid, 'online', now(), false from unnest($2::uuid[]) id union all select id, $1::uuid, 'online', now(), true from unnest($3::uuid[]) id`,
      [accountId, persons, bots],
    );
    await q(
      `insert into agent_connections (id, user_id, account_id, node_id, connected_at, heartbeat_at) select 'bench-' || n, id, $1, $3, now(), now() from unnest($2::uuid[]) with ordinality a(id, n)`,
      [accountId, persons, config.routing.nodeId],
    );

    // ---------- the year ----------
    await q('set synchronous_commit = off');
    await q(`set maintenance_work_mem = '512MB'`);
    await q(`create function bench_u(bigint, bigint) returns double precision language sql immutable parallel safe
      as $$ select (hashint8extended($1, $2) & 9007199254740991)::float8 / 9007199254740992.0 $$`);
    const now = new Date();
    const yearStart = new Date(now.getTime() - YEAR_MS);
    const consumers = Math.max(OPEN * 2, Math.floor(N / 10));
    const loadStarted = performance.now();
    await q(
      `insert into consumers (id, account_id, created_at, last_seen_at)
       select ('c1000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, $1, $2, $2 from generate_series(0, $3 - 1) n`,
      [accountId, yearStart, consumers],
    );
    const totals = new Map<string, number>();
    log(`Loading ${fmt(N)} conversations (${fmt(consumers)} consumers, transcripts for the last ${fmt(options.transcripts)}) in chunks of ${fmt(CHUNK)}`);
    for (let lo = 1; lo <= N; lo += CHUNK) {
      const hi = Math.min(N, lo + CHUNK - 1);
      const chunkStarted = performance.now();
      let rows = 0;
      await q('begin');
      await q(CONVERSATION_FACTS_SQL, [lo, hi, N, OPEN, now, yearStart, YEAR_MS - 3_600_000, SKILLS, AGENTS_PER_SKILL, skillIds, persons, bots, consumers, OPEN_QUEUED]);
      for (const [table, statement] of LOAD_STATEMENTS) {
        const params = [accountId, now, N - options.transcripts].slice(0, Math.max(0, ...[...statement.matchAll(/\$(\d)/g)].map((m) => Number(m[1]))));
        const count = (await loader.query(statement, params)).rowCount ?? 0;
        totals.set(table, (totals.get(table) ?? 0) + count);
        rows += count;
      }
      await q('commit');
      const seconds = (performance.now() - chunkStarted) / 1000;
      const elapsed = (performance.now() - loadStarted) / 1000;
      const facts = totals.get('analytics_events') ?? 0;
      log(
        `  ${fmt(hi).padStart(9)} conversations  ${fmt(rows / seconds).padStart(8)} rows/s this chunk   ${fmt(facts).padStart(11)} facts, ${fmt(totals.get('conversation_events') ?? 0)} transcript events   ${elapsed.toFixed(0)} s`,
      );
    }
    const periods = (await loader.query(AGENT_STATE_PERIODS_SQL, [accountId, persons, yearStart, now])).rowCount ?? 0;
    totals.set('agent_state_periods', periods);
    log(`  ${fmt(periods)} agent state periods (${persons.length} agents, a working day each: online, lunch away or back soon, online, offline)`);
    let mark = performance.now();
    await q('vacuum analyze');
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const rowsLoaded = [...totals.values()].reduce((a, b) => a + b, 0);
    log(`  loaded ${fmt(rowsLoaded)} rows in ${loadSeconds.toFixed(0)} s (${fmt(rowsLoaded / loadSeconds)} rows/s), vacuum analyze ${((performance.now() - mark) / 1000).toFixed(1)} s`);
    log();

    // ---------- the hourly rollup ----------
    mark = performance.now();
    const folded = await services.analytics.rollUp();
    const rollupMs = performance.now() - mark;
    await q('analyze analytics_hourly');
    const hourlyRows = Number((await q<{ n: string }>('select count(*) as n from analytics_hourly'))[0]?.n ?? 0);
    log(`Hourly rollup (AnalyticsService.rollUp, first fold of the whole year): ${folded.hours} hours in ${(rollupMs / 1000).toFixed(1)} s -> ${fmt(hourlyRows)} rows in analytics_hourly`);
    mark = performance.now();
    await services.analytics.rollUp();
    log(`  a fold with nothing new: ${(performance.now() - mark).toFixed(0)} ms`);
    // The daily rollups of the two zones the reports below use: what the first daily report in a zone registers
    // (AnalyticsService.registerZone) and the fold job then fills from the account's first fact.
    await q(`insert into analytics_report_zones (account_id, time_zone, registered_at) select $1, z, now() from unnest(array['UTC', 'America/New_York']) z`, [accountId]);
    mark = performance.now();
    const dailyFold = await services.analytics.rollUp();
    const dailyMs = performance.now() - mark;
    for (const t of ['analytics_daily', 'analytics_daily_durations', 'analytics_daily_agents']) await q(`analyze ${t}`);
    const dailyRows = await q<{ t: string; n: string }>(
      `select t, (xpath('/row/n/text()', query_to_xml('select count(*) as n from ' || t, false, true, '')))[1]::text as n from unnest(array['analytics_daily', 'analytics_daily_durations', 'analytics_daily_agents']) t`,
    );
    log(
      `Daily rollups, UTC and America/New_York (first fold of the year): ${dailyFold.days} local days in ${(dailyMs / 1000).toFixed(1)} s -> ${dailyRows.map((r) => `${fmt(Number(r.n))} rows in ${r.t}`).join(', ')}`,
    );
    log();

    // ---------- context ----------
    const counts = await q<{ t: string; n: string; size: string }>(
      `select t, (xpath('/row/n/text()', query_to_xml('select count(*) as n from ' || t, false, true, '')))[1]::text as n, pg_size_pretty(pg_total_relation_size(t::regclass)) as size
       from unnest(array['conversations', 'conversation_routing', 'conversation_events', 'analytics_events', 'analytics_hourly', 'analytics_daily', 'analytics_daily_durations', 'analytics_daily_agents', 'csat_surveys', 'csat_responses', 'conversions', 'consumers']) t`,
    );
    const dbSize = (await q<{ s: string }>('select pg_size_pretty(pg_database_size(current_database())) as s'))[0]?.s;
    log(`Database ${dbSize}:`);
    for (const c of counts) log(`  ${c.t.padEnd(22)} ${fmt(Number(c.n)).padStart(12)} rows  ${c.size.padStart(8)}`);
    log();

    // ---------- the reports ----------
    const to = new Date();
    const year = new Date(Math.floor((to.getTime() - 365 * 86_400_000) / 3_600_000) * 3_600_000);
    const month = new Date(Math.floor((to.getTime() - 30 * 86_400_000) / 3_600_000) * 3_600_000);
    const day = new Date(Math.floor((to.getTime() - 86_400_000) / 3_600_000) * 3_600_000);
    const cases: { label: string; query: Omit<AnalyticsReportQuery, 'timeZone'> }[] = [
      { label: 'year by day, whole account', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day' } },
      { label: 'year by day, one skill', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day', skillId: skillIds[0] } },
      { label: 'year by day, one agent', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day', agentId: persons[0] } },
      { label: 'year by day, channel sms', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day', channel: 'sms' } },
      { label: 'year by day, device mobile_web', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day', device: 'mobile_web' } },
      { label: 'year by day, skill + device', query: { from: year.toISOString(), to: to.toISOString(), interval: 'day', skillId: skillIds[0], device: 'mobile_web' } },
      { label: '30 days by day, whole account', query: { from: month.toISOString(), to: to.toISOString(), interval: 'day' } },
      { label: '1 day by hour, whole account', query: { from: day.toISOString(), to: to.toISOString(), interval: 'hour' } },
    ];
    log(`Reports (AnalyticsService.report, as GET /v1/analytics/report), ${options.runs} runs each, one after another:`);
    log(`  ${'report'.padEnd(32)} ${'time zone'.padEnd(17)} ${'p50'.padStart(8)} ${'max'.padStart(8)}  < 1 s   started   series`);
    let over = 0;
    for (const c of cases) {
      for (const timeZone of ['UTC', 'America/New_York']) {
        const times: number[] = [];
        let started = 0;
        let series = 0;
        // A slow case stops after 30 s of runs (at least one), so a run over a big account still ends.
        for (let r = 0; r < options.runs && (r === 0 || times.reduce((a, b) => a + b, 0) < 30_000); r += 1) {
          const t = performance.now();
          const report = await services.analytics.report(manager, { ...c.query, timeZone } as AnalyticsReportQuery);
          times.push(performance.now() - t);
          started = report.totals.conversations.started;
          series = report.series.length;
        }
        const sorted = [...times].sort((a, b) => a - b);
        const p50 = percentile(sorted, 50);
        const max = sorted.at(-1) ?? Number.NaN;
        if (max >= 1000) over += 1;
        log(
          `  ${c.label.padEnd(32)} ${timeZone.padEnd(17)} ${`${p50.toFixed(0)} ms`.padStart(8)} ${`${max.toFixed(0)} ms`.padStart(8)}  ${(max < 1000 ? 'yes' : p50 < 1000 ? 'p50' : 'NO').padEnd(5)} ${fmt(started).padStart(9)} ${String(series).padStart(8)}${times.length < options.runs ? `   (${times.length} run${times.length > 1 ? 's' : ''}: slow)` : ''}`,
        );
      }
    }
    log(`  ${over === 0 ? 'every report answered within a second' : `${over} of ${cases.length * 2} report cases took a second or more at least once`}`);
    log();

    // ---------- live view and search ----------
    const timed = async (label: string, runs: number, fn: () => Promise<string>) => {
      const times: number[] = [];
      let note = '';
      for (let r = 0; r < runs; r += 1) {
        const t = performance.now();
        note = await fn();
        times.push(performance.now() - t);
      }
      const sorted = [...times].sort((a, b) => a - b);
      log(`  ${label.padEnd(50)} p50 ${`${percentile(sorted, 50).toFixed(1)} ms`.padStart(9)}  max ${`${(sorted.at(-1) ?? 0).toFixed(1)} ms`.padStart(9)}  (${runs} runs; ${note})`);
    };
    log(`Live view (RoutingService.liveView): ${OPEN} open conversations (${OPEN_QUEUED} queued), ${persons.length} agents online and connected, ${bots.length} bots`);
    await timed('liveView(accountId)', 20, async () => {
      const view = await services.routing.liveView(accountId);
      return `${view.skills.reduce((s, k) => s + k.queued, 0)} queued, ${view.agents.length} agents, ${view.messagesPerMinute} msg/min`;
    });
    log();
    log(`Transcript search (MessageSearchService.search) over ${fmt(totals.get('conversation_events') ?? 0)} message events (the last ${fmt(options.transcripts)} conversations):`);
    const searches: { label: string; q: string; extra?: Record<string, string> }[] = [
      { label: 'common word "order"', q: 'order' },
      { label: 'rarer word "invoice"', q: 'invoice' },
      { label: 'phrase "refund to my card"', q: '"refund to my card"' },
      { label: 'rare word "warranty" + one skill', q: 'warranty', extra: { skillId: skillIds[1] as string } },
      { label: 'no match "zeppelin"', q: 'zeppelin' },
    ];
    for (const s of searches) {
      await timed(s.label, options.runs, async () => {
        const result = await services.search.search(manager, { q: s.q, limit: 25, ...s.extra });
        return `${result.items.length} hits on the first page`;
      });
    }
    log();
    log(`Load average now ${formatLoad(loadAverage())}`);
    if (options.keep) log(`Database kept: ${url.toString()}`);
  } finally {
    await loader.end().catch(() => {});
    await server?.close();
    if (!options.keep) await dropDatabase();
    fs.rmSync(filesDir, { recursive: true, force: true });
  }
}

/**
 * The conversations of one chunk, [$1, $2] of $3, with everything their rows are derived from: a temporary table the
 * statements of LOAD_STATEMENTS read. bench_u(i, k) is a deterministic pseudo-random number in [0, 1).
 * $4 open conversations at the end, $5 now, $6 the year's start, $7 the span starts are spread over (ms), $8 skills,
 * $9 agents per skill, $10 skill ids, $11 agent ids (skill by skill), $12 bot ids (one per skill), $13 consumers,
 * $14 open conversations still queued.
 */
const CONVERSATION_FACTS_SQL = `
create temporary table bench_conv on commit drop as
with base as (
  select i, i > $3::bigint - $4::bigint as open, i > $3::bigint - $4::bigint and i <= $3::bigint - $4::bigint + $14::bigint as queued_only,
    floor(bench_u(i, 1) * $8::int)::int as s, bench_u(i, 2) as cu, bench_u(i, 3) as du,
    bench_u(i, 4) < 0.2 and i <= $3::bigint - $4::bigint as bot, bench_u(i, 5) < 0.4 as esc_u, bench_u(i, 6) < 0.08 as tr_u,
    floor(bench_u(i, 7) * $9::int)::int as a, floor(bench_u(i, 8) * $9::int)::int as a2,
    case when i > $3::bigint - $4::bigint then $5::timestamptz - bench_u(i, 9) * interval '30 minutes'
      else $6::timestamptz + ((i - 1 + bench_u(i, 9)) * $7::float8 / $3::bigint) * interval '1 millisecond' end as start_at,
    least(1800000, -ln(1 - bench_u(i, 10)) * 40000)::bigint as wait_p,
    (300 + bench_u(i, 11) * 1700)::bigint as wait_b,
    1 + floor(bench_u(i, 12) * 5)::int as k,
    (3000 + least(600000, -ln(1 - bench_u(i, 13)) * 30000))::bigint as fr_ms,
    (60000 + least(3600000, -ln(1 - bench_u(i, 14)) * 480000))::bigint as work_ms,
    least(900000, -ln(1 - bench_u(i, 15)) * 45000)::bigint as wait2_ms,
    bench_u(i, 16) as ru, bench_u(i, 17) as csat_u, bench_u(i, 18) as score_u, bench_u(i, 19) as conv_u, bench_u(i, 20) as conv_u2
  from generate_series($1::bigint, $2::bigint) as i
), d as (
  select b.*, b.bot and b.esc_u as escalated, not b.bot and not b.open and b.tr_u as transferred,
    case when b.cu < 0.6 then 'web' when b.cu < 0.75 then 'in_app' when b.cu < 0.85 then 'sms' when b.cu < 0.93 then 'messenger' else 'whatsapp' end as channel,
    case when b.bot then b.wait_b else b.wait_p end as wait1_ms,
    start_at + interval '2 seconds' as queued_at
  from base b
), t as (
  select d.*,
    ('c0000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid as id,
    ('c1000000-0000-4000-8000-' || lpad(to_hex(i % $13::bigint), 12, '0'))::uuid as consumer_id,
    case when channel = 'web' then (case when du < 0.55 then 'desktop_web' else 'mobile_web' end) else channel end as device,
    ($10::uuid[])[1 + s] as skill_id,
    case when bot then ($12::uuid[])[1 + s] else ($11::uuid[])[1 + s * $9::int + a] end as agent1_id,
    case when escalated then ($11::uuid[])[1 + s * $9::int + a]
         when transferred then ($11::uuid[])[1 + ((s + 1) % $8::int) * $9::int + a2]
         when bot then ($12::uuid[])[1 + s] else ($11::uuid[])[1 + s * $9::int + a] end as final_agent_id,
    case when transferred then ($10::uuid[])[1 + (s + 1) % $8::int] else ($10::uuid[])[1 + s] end as final_skill_id,
    bot and not escalated as final_is_bot,
    escalated or transferred as handoff,
    queued_at + wait1_ms * interval '1 millisecond' as assigned_at,
    queued_at + wait1_ms * interval '1 millisecond' + (work_ms * 0.3)::float8 * interval '1 millisecond' as handoff_at,
    queued_at + wait1_ms * interval '1 millisecond' + (work_ms * 0.3 + wait2_ms)::float8 * interval '1 millisecond' as assigned2_at,
    queued_at + (wait1_ms + fr_ms) * interval '1 millisecond' as first_answer_at,
    queued_at + (wait1_ms + work_ms + case when escalated or transferred then wait2_ms else 0 end) * interval '1 millisecond' as closed_at,
    work_ms + case when escalated or transferred then wait2_ms else 0 end as handle_ms,
    case when ru < 0.4 then 'consumer' when ru < 0.85 then 'agent' when ru < 0.9 then 'system' else 'timeout' end as close_reason
  from d
)
select * from t`;

/**
 * The agents' state history over the year ($1 the account, $2 agent ids, $3 the year's start, $4 now): each day online
 * from 08:00–09:00, away for lunch (30 % back soon) for 45 minutes from 12:00–13:00, online again until 17:00–19:00,
 * offline until the next day's start; the last day's afternoon period is still open (the agents are online now).
 * Times are clamped to now; bench_u keys 1000 * agent + day, so every run loads the same periods.
 */
const AGENT_STATE_PERIODS_SQL = `
insert into agent_state_periods (account_id, user_id, state, reason, started_at, ended_at)
select $1::uuid, a.id, p.state, p.reason, least(p.s, $4::timestamptz), case when x.last and p.k = 3 then null else least(p.e, $4::timestamptz) end
from unnest($2::uuid[]) with ordinality a(id, n)
cross join generate_series(0, ceil(extract(epoch from ($4::timestamptz - date_trunc('day', $3::timestamptz))) / 86400)::int - 1) d
cross join lateral (
  select date_trunc('day', $3::timestamptz) + d * interval '1 day' as day, d = ceil(extract(epoch from ($4::timestamptz - date_trunc('day', $3::timestamptz))) / 86400)::int - 1 as last,
    bench_u(a.n * 1000 + d, 30) as u1, bench_u(a.n * 1000 + d, 31) as u2, bench_u(a.n * 1000 + d, 32) as u3, bench_u(a.n * 1000 + d + 1, 30) as next_u1
) x
cross join lateral (values
  (1, 'online', null, x.day + interval '8 hours' + x.u1 * interval '1 hour', x.day + interval '12 hours' + x.u2 * interval '1 hour'),
  (2, case when x.u3 < 0.3 then 'back_soon' else 'away' end, case when x.u3 < 0.3 then null else 'lunch' end,
    x.day + interval '12 hours' + x.u2 * interval '1 hour', x.day + interval '12 hours 45 minutes' + x.u2 * interval '1 hour'),
  (3, 'online', null, x.day + interval '12 hours 45 minutes' + x.u2 * interval '1 hour', x.day + interval '17 hours' + x.u3 * interval '2 hours'),
  (4, 'offline', null, x.day + interval '17 hours' + x.u3 * interval '2 hours', x.day + interval '1 day 8 hours' + x.next_u1 * interval '1 hour')
) p(k, state, reason, s, e)
where not (x.last and p.k = 4)`;

/** What each chunk inserts, from bench_conv; $1 the account, $2 now, $3 the first conversation with a transcript. */
const LOAD_STATEMENTS: [string, string][] = [
  [
    'conversations',
    `insert into conversations (id, account_id, consumer_id, state, channel, device, assigned_agent_id, last_seq, created_at, updated_at, closed_at, close_reason)
     select id, $1::uuid, consumer_id, case when open then 'open' else 'closed' end, channel, device, case when queued_only then null else final_agent_id end,
       case when open then 1 else 2 * k end, start_at, least($2::timestamptz, case when open then queued_at else closed_at end),
       case when open then null else least($2::timestamptz, closed_at) end, case when open then null else close_reason end
     from bench_conv`,
  ],
  [
    'conversation_routing',
    `insert into conversation_routing (conversation_id, account_id, status, skill_id, queue_order_at, queued_at, agent_id, assigned_at, first_response_at, awaiting_since, last_activity_at)
     select id, $1::uuid, case when queued_only then 'queued' when open then 'assigned' else 'closed' end, final_skill_id, queued_at, queued_at,
       case when queued_only then null else final_agent_id end, case when queued_only then null when open then least($2::timestamptz, assigned_at) else least($2::timestamptz, coalesce(case when handoff then assigned2_at end, assigned_at)) end,
       case when open then null else least($2::timestamptz, first_answer_at) end, case when open then queued_at end,
       least($2::timestamptz, case when open then queued_at else closed_at end)
     from bench_conv`,
  ],
  [
    'analytics_events',
    `insert into analytics_events (account_id, conversation_id, type, at, skill_id, agent_id, is_bot, channel, device, duration_ms, detail)
     select $1::uuid, id, f.type, least($2::timestamptz, f.at), f.skill_id, f.agent_id, f.is_bot, channel, device, f.duration_ms, f.detail
     from bench_conv c cross join lateral (
       select 'started' as type, start_at as at, skill_id, null::uuid as agent_id, false as is_bot, null::bigint as duration_ms, null::jsonb as detail
       union all select 'queued', queued_at, skill_id, null, false, null, null
       union all select 'consumer_message', queued_at, skill_id, null, false, null, null
       union all select 'assigned', assigned_at, skill_id, agent1_id, bot, wait1_ms, null where not queued_only
       union all select 'escalated', handoff_at, skill_id, agent1_id, true, null,
         jsonb_build_object('reason', case when ru < 0.5 then 'consumer_requested' else 'bot_requested' end, 'toSkillId', skill_id, 'toAgentId', null) where escalated
       union all select 'transferred', handoff_at, skill_id, agent1_id, false, null, jsonb_build_object('reason', null, 'toSkillId', final_skill_id, 'toAgentId', null) where transferred
       union all select 'assigned', assigned2_at, final_skill_id, final_agent_id, false, wait2_ms, null where handoff
       union all select 'first_response', first_answer_at, skill_id, agent1_id, bot, wait1_ms + fr_ms, null where not open
       union all select 'closed', closed_at, final_skill_id, final_agent_id, false, handle_ms, jsonb_build_object('reason', close_reason) where not open
       union all select m.type, m.at, case when handoff and m.at >= handoff_at then final_skill_id else skill_id end,
           case when handoff and m.at >= handoff_at then final_agent_id else agent1_id end,
           m.type = 'agent_message' and (case when handoff and m.at >= handoff_at then final_is_bot else bot end), m.duration_ms, null
         from (
           select 'agent_message' as type, first_answer_at as at, wait1_ms + fr_ms as duration_ms where not open
           union all select x.type, x.at, x.duration_ms from generate_series(1, k - 1) j cross join lateral (
             select assigned_at + (closed_at - assigned_at) * (j::float8 / (k + 1)) as msg_at,
                    least(600000, -ln(1 - bench_u(c.i * 8 + j, 21)) * 40000)::bigint as resp_ms
           ) r cross join lateral (
             select 'consumer_message' as type, r.msg_at as at, null::bigint as duration_ms
             union all select 'agent_message', r.msg_at + r.resp_ms * interval '1 millisecond', r.resp_ms
           ) x where not open
         ) m
     ) f`,
  ],
  [
    'csat_surveys',
    `insert into csat_surveys (conversation_id, account_id, consumer_id, channel, agent_id, asked_at, expires_at, answered_at)
     select id, $1::uuid, consumer_id, channel, final_agent_id, least($2::timestamptz, closed_at), least($2::timestamptz, closed_at) + interval '24 hours',
       case when score_u < 0.4 then least($2::timestamptz, closed_at + interval '2 minutes') end
     from bench_conv where not open and not final_is_bot and csat_u < 0.35`,
  ],
  [
    'csat_responses',
    `insert into csat_responses (conversation_id, account_id, consumer_id, score, at, agent_id, skill_id, channel, device)
     select id, $1::uuid, consumer_id, case when csat_u < 0.02 then 1 when csat_u < 0.04 then 2 when csat_u < 0.08 then 3 when csat_u < 0.2 then 4 else 5 end,
       least($2::timestamptz, closed_at + interval '2 minutes'), final_agent_id, final_skill_id, channel, device
     from bench_conv where not open and not final_is_bot and csat_u < 0.35 and score_u < 0.4`,
  ],
  [
    'conversions',
    `insert into conversions (account_id, consumer_id, type, value, currency, occurred_at, attributed_conversation_id, attributed_agent_id, attributed_skill_id, reported_by)
     select $1::uuid, consumer_id, 'purchase', round((10 + conv_u2 * 200)::numeric, 2), case when conv_u2 < 0.9 then 'USD' else 'EUR' end,
       case when conv_u < 0.05 then least($2::timestamptz, closed_at + interval '1 hour') else start_at - interval '1 day' end,
       case when conv_u < 0.05 then id end, case when conv_u < 0.05 then final_agent_id end, case when conv_u < 0.05 then final_skill_id end, 'consumer'
     from bench_conv where not open and conv_u < 0.08`,
  ],
  [
    'conversation_events',
    `insert into conversation_events (conversation_id, account_id, seq, type, originator_id, originator_role, audience, payload, created_at)
     select c.id, $1::uuid, j + 1, 'content', case when j % 2 = 0 then c.consumer_id else c.final_agent_id end,
       case when j % 2 = 0 then 'consumer' when c.final_is_bot then 'bot' else 'assigned_agent' end, 'all',
       jsonb_build_object('content', jsonb_build_object('contentType', 'text/plain', 'message',
         (case when j % 2 = 0 then array[
           'Hello, my order has not arrived yet', 'I would like a refund to my card please', 'Can you send me the invoice for my last order',
           'The app crashes when I open my basket', 'How do I change my delivery address', 'My parcel arrived damaged, what can I do',
           'Is the warranty still valid after two years', 'I was charged twice for the same order', 'Where can I find my tracking number',
           'I want to cancel my subscription', 'The discount code does not work', 'Thanks, that solved it']
          else array[
           'Sorry to hear that, let me check your order', 'I have started the refund, it takes three to five days', 'I just sent the invoice to your email',
           'Could you tell me which version of the app you use', 'You can change it under account settings', 'I am sorry, I will send a replacement today',
           'Your warranty covers three years', 'I see the double charge and have reversed it', 'Your tracking number is in the confirmation email',
           'Your subscription is cancelled as of today', 'I have applied the discount manually', 'You are welcome, have a nice day'] end)[1 + floor(bench_u(c.i * 16 + j, 22) * 12)::int]
         || ' (ref ' || c.i || ')')),
       least($2::timestamptz, case when j = 0 then c.queued_at when j = 1 then c.first_answer_at
         else c.assigned_at + (c.closed_at - c.assigned_at) * ((j / 2)::float8 / (c.k + 1)) + case when j % 2 = 1 then interval '30 seconds' else interval '0' end end)
     from bench_conv c cross join lateral generate_series(0, case when c.open then 0 else 2 * c.k - 1 end) j
     where c.i > $3::bigint`,
  ],
];

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
