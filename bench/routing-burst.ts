/**
 * Routing burst: 10,000 conversations waiting, 1,000 agents with skills and a capacity of 5 each come to them; how
 * fast does the routing engine hand them out, and how long does a conversation wait for its agent?
 *
 *   npm run bench:routing                                                                   # PGlite in a temp folder
 *   PARLEY_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:routing   # scratch database
 *
 * The server code is the product's (createServer: services, routing, conversation events, the in-process bus), over a
 * real database, in this one process. Set-up is not timed: the account, skills and settings through the services;
 * 1,000 agents (online, connected, skills) and 10,000 conversations by SQL that clones the rows one conversation
 * created through the service API wrote (consumer, device, conversation, participant, its two events, routing row),
 * so the routing engine sees exactly what the product would have stored. Timed:
 *   1. the burst: every conversation enters the queue at T0 (one UPDATE, as their first messages would), then routing
 *      passes run until nothing more can be assigned;
 *   2. capacity freeing: N agents each close one conversation (through the conversation service, one after another,
 *      as agents would), and routing refills each freed place from the queue.
 * Latency: assigned_at - queued_at (burst) and assigned_at - closed_at of the freed place (refill), as stored by
 * routing; and the same up to when the assignment was published on the bus (after commit: what the agent sees).
 * The machine's own limits are measured in the same run and printed beside the figures. See bench/README.md.
 *
 * Environment: PARLEY_BENCH_DATABASE_URL or DATABASE_URL (PostgreSQL admin URL; a scratch database is created and
 * dropped), BENCH_CONVERSATIONS (10000), BENCH_AGENTS (1000), BENCH_CAPACITY (5), BENCH_SKILLS (4), BENCH_FREED (1000).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../packages/server/src/config/config.ts';
import type { Principal } from '../packages/server/src/core/principal.ts';
import { type BusMessage, topics } from '../packages/server/src/infra/bus/event-bus.ts';
import { createInProcessBus } from '../packages/server/src/infra/bus/in-process-bus.ts';
import type { DatabaseOptions, Db } from '../packages/server/src/infra/db/database.ts';
import { createLogger } from '../packages/server/src/infra/telemetry/logger.ts';
import { hashPassword } from '../packages/server/src/modules/accounts/passwords.ts';
import { createServer } from '../packages/server/src/server.ts';

const CONVERSATIONS = intEnv('BENCH_CONVERSATIONS', 10_000);
const AGENTS = intEnv('BENCH_AGENTS', 1_000);
const CAPACITY = intEnv('BENCH_CAPACITY', 5);
const SKILLS = intEnv('BENCH_SKILLS', 4);
const FREED = Math.min(intEnv('BENCH_FREED', 1_000), AGENTS);
const ADMIN_URL = process.env.PARLEY_BENCH_DATABASE_URL ?? process.env.DATABASE_URL;

function intEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${value}"`);
  return n;
}

const log = (line = '') => process.stdout.write(`${line}\n`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function summary(label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(0)} ms`);
  return `${label.padEnd(44)} p50 ${ms(percentile(sorted, 50)).padStart(9)}   p99 ${ms(percentile(sorted, 99)).padStart(9)}   max ${ms(sorted.at(-1) ?? Number.NaN).padStart(9)}   (n=${sorted.length})`;
}

/** Runs `fn` back to back for `ms` milliseconds; returns how many times per second it completed. */
async function rate(ms: number, fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < ms) {
    await fn();
    n += 1;
  }
  return n / ((performance.now() - started) / 1000);
}

async function scratchDatabase(): Promise<{ options: DatabaseOptions; describe: string; drop(): Promise<void> }> {
  if (ADMIN_URL) {
    const name = `parley_bench_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
    const sync = (await admin.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]?.synchronous_commit;
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      options: { mode: 'postgres', databaseUrl: url.toString(), poolSize: 10 },
      describe: `PostgreSQL ${version} at ${url.host} (scratch database ${name}, pool of 10, synchronous_commit=${sync})`,
      async drop() {
        const client = new pg.Client({ connectionString: ADMIN_URL });
        await client.connect();
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  return {
    options: { mode: 'embedded', dataDir: dir },
    describe: `PGlite (embedded mode) in ${dir}`,
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The database's own limits over the connection the server uses, to judge the figures by. */
async function machineLimits(db: Db) {
  await sql`create table bench_probe (id bigserial primary key, value text not null)`.execute(db);
  const roundTrips = await rate(2_000, () => sql`select 1`.execute(db));
  const insertsCommitted = await rate(2_000, () => sql`insert into bench_probe (value) values ('x')`.execute(db));
  let insertsInTransaction = 0;
  await db.transaction().execute(async (trx) => {
    insertsInTransaction = await rate(1_000, () => sql`insert into bench_probe (value) values ('x')`.execute(trx));
  });
  await sql`drop table bench_probe`.execute(db);
  return { roundTrips, insertsCommitted, insertsInTransaction };
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  const loadBefore = os.loadavg();
  const database = await scratchDatabase();
  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-files-'));
  const adminPassword = 'bench-admin-password';
  const config = loadConfig({
    FILES_DIR: filesDir,
    LOG_LEVEL: 'warn',
    // The bench drives routing itself; nothing else may route or sweep meanwhile.
    ROUTING_SWEEP_INTERVAL_MS: '0',
    // Connections are refreshed before each timed phase; this keeps them fresh through a slow phase.
    WS_HEARTBEAT_INTERVAL_MS: '600000',
    NODE_ID: 'bench',
    PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@bench.parley',
    BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
  });
  const bus = createInProcessBus(() => {});
  const server = await createServer(config, { databaseOptions: database.options, bus, logger: createLogger({ level: 'warn' }) });
  try {
    const { services } = server;
    const db = server.database.db;
    const bootstrap = server.bootstrap;
    if (!bootstrap) throw new Error('expected a fresh database');
    const accountId = bootstrap.accountId;

    log(`Parley routing burst: ${CONVERSATIONS} conversations, ${AGENTS} agents x ${CAPACITY} = ${AGENTS * CAPACITY} places, ${SKILLS} skills`);
    log(`  CPU          ${cpus[0]?.model ?? 'unknown'} x ${cpus.length}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
    log(`  Node         ${process.version} (${os.platform()} ${os.release()})`);
    log(`  Database     ${database.describe}`);
    const limits = await machineLimits(db);
    log(`  Round trips  ${limits.roundTrips.toFixed(0)}/s  (select 1, one after another, same connection)`);
    log(`  Inserts      ${limits.insertsCommitted.toFixed(0)}/s  committed one by one; ${limits.insertsInTransaction.toFixed(0)}/s  inside one transaction`);

    // ---------- set-up (not timed) ----------
    let mark = performance.now();
    const adminRow = await db.selectFrom('users').select(['id', 'name']).where('account_id', '=', accountId).executeTakeFirstOrThrow();
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
    await services.routing.updateSettings(manager, { defaultMaxConversations: CAPACITY, autoCloseSeconds: null });

    // One conversation through the service API, while nobody is online: the rows every other one is cloned from.
    const session = await services.consumers.createSession({ widgetKey: bootstrap.widgetKey });
    const consumer: Principal = { kind: 'consumer', consumerId: session.consumerId, accountId };
    const { conversation: template } = await services.conversations.start(consumer, { channel: 'web', skillId: skillIds[0] });
    await services.conversations.send(consumer, template.id, {
      clientMessageId: randomUUID(),
      audience: 'all',
      event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello, I need help' } },
    });
    await services.routing.settle();
    await cloneConversations(db, accountId, template.id, session.consumerId, skillIds, CONVERSATIONS - 1);

    const passwordHash = await hashPassword(randomBytes(12).toString('base64url'));
    const agents = await insertAgents(db, accountId, passwordHash, skillIds, config.routing.nodeId);
    await sql`analyze`.execute(db);
    log(`  Set-up       ${((performance.now() - mark) / 1000).toFixed(1)} s (not timed)`);
    log();

    // What agents see: the assignment published on the bus after commit.
    const published = new Map<string, number>();
    bus.subscribe(topics.account(accountId), (message: BusMessage) => {
      if (message.kind !== 'conversation_updated' || message.conversation.routing?.status !== 'assigned') return;
      if (!published.has(message.conversation.id)) published.set(message.conversation.id, Date.now());
    });

    // Routing's passes, from the node's own metric (parley_routing_pass_duration_seconds): how many ran in a phase and
    // what they took, so a change in throughput can be told apart from a change in how often passes run.
    const passes = async () => {
      const values = (await server.metrics.routingPassDuration.get()).values;
      const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
      const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
      return { count, sum };
    };
    const passLine = (before: { count: number; sum: number }, after: { count: number; sum: number }) => {
      const n = after.count - before.count;
      return `   routing passes                        ${n}, ${n > 0 ? (((after.sum - before.sum) * 1000) / n).toFixed(1) : '-'} ms each on average`;
    };

    // ---------- 1. the burst ----------
    const passesBeforeBurst = await passes();
    await services.routing.heartbeat(agents.map((a) => a.connectionId));
    const t0 = new Date();
    mark = performance.now();
    await db
      .updateTable('conversation_routing')
      .set({ status: 'queued', queued_at: t0, queue_order_at: t0, awaiting_since: t0, last_activity_at: t0 })
      .where('account_id', '=', accountId)
      .where('status', '=', 'new')
      .execute();
    const arrivalMs = performance.now() - mark;
    mark = performance.now();
    await services.routing.requestRouting(accountId);
    await services.routing.requestRouting(accountId); // nothing more: every place is taken
    const burstMs = performance.now() - mark;
    const burst = await db.selectFrom('conversation_routing').select(['conversation_id', 'queued_at', 'assigned_at']).where('account_id', '=', accountId).where('status', '=', 'assigned').execute();
    const stillQueued = await countStatus(db, accountId, 'queued');
    log('1. Burst: every conversation queued at T0, routing until no place is left');
    log(`   arrival UPDATE of ${CONVERSATIONS} rows     ${arrivalMs.toFixed(0)} ms (before routing starts; inside the latencies below)`);
    log(`   assigned                              ${burst.length} in ${(burstMs / 1000).toFixed(2)} s = ${(burst.length / (burstMs / 1000)).toFixed(0)} assignments/s; ${stillQueued} still queued`);
    log(passLine(passesBeforeBurst, await passes()));
    log(
      `   ${summary(
        'arrival -> assigned (assigned_at)',
        burst.map((r) => (r.assigned_at?.getTime() ?? Number.NaN) - t0.getTime()),
      )}`,
    );
    log(
      `   ${summary(
        'arrival -> published on the bus',
        burst.map((r) => (published.get(r.conversation_id) ?? Number.NaN) - t0.getTime()),
      )}`,
    );
    log();

    // ---------- 2. capacity freeing ----------
    await services.routing.heartbeat(agents.map((a) => a.connectionId));
    const toClose: { agent: (typeof agents)[number]; conversationId: string }[] = [];
    const heldBy = new Map<string, string>();
    for (const row of await db.selectFrom('conversation_routing').select(['conversation_id', 'agent_id']).where('account_id', '=', accountId).where('status', '=', 'assigned').execute()) {
      if (row.agent_id && !heldBy.has(row.agent_id)) heldBy.set(row.agent_id, row.conversation_id);
    }
    for (const agent of agents.slice(0, FREED)) {
      const conversationId = heldBy.get(agent.id);
      if (conversationId) toClose.push({ agent, conversationId });
    }
    const passesBeforeCloses = await passes();
    const firstClose = new Date();
    mark = performance.now();
    for (const { agent, conversationId } of toClose) await services.conversations.close(agent.principal, conversationId);
    const closesMs = performance.now() - mark;
    await services.routing.settle();
    await services.routing.requestRouting(accountId);
    const refillMs = performance.now() - mark;
    // Each agent closes one conversation and gets one in its place: their assignment since the first close. Routing
    // stamps assigned_at when its pass starts, which can be a moment before the close it refills committed (the pass
    // read the freed place later): such a refill counts, with a wait of 0.
    const refills = await sql<{ conversation_id: string | null; closed_at: Date; refilled_at: Date | null }>`
      select c.closed_at, r.conversation_id, greatest(r.assigned_at, c.closed_at) as refilled_at
      from conversations c
      left join lateral (
        select r.conversation_id, r.assigned_at from conversation_routing r
        where r.agent_id = c.assigned_agent_id and r.status = 'assigned' and r.assigned_at >= ${firstClose}
        order by r.assigned_at limit 1
      ) r on true
      where c.id in (${sql.join(toClose.map((c) => c.conversationId))})`.execute(db);
    const refilled = refills.rows.filter((r) => r.refilled_at !== null);
    log(`2. Capacity freeing: ${toClose.length} agents each close one conversation, one close after another`);
    log(`   closes                                ${toClose.length} in ${(closesMs / 1000).toFixed(2)} s = ${(toClose.length / (closesMs / 1000)).toFixed(0)} closes/s (routing runs meanwhile)`);
    log(
      `   refilled                              ${refilled.length} of ${toClose.length}, all done ${(refillMs / 1000).toFixed(2)} s after the first close = ${(refilled.length / (refillMs / 1000)).toFixed(0)} assignments/s`,
    );
    log(passLine(passesBeforeCloses, await passes()));
    log(
      `   ${summary(
        'freed -> assigned (assigned_at)',
        refilled.map((r) => (r.refilled_at?.getTime() ?? Number.NaN) - r.closed_at.getTime()),
      )}`,
    );
    log(
      `   ${summary(
        'freed -> published on the bus',
        refilled.map((r) => (published.get(r.conversation_id ?? '') ?? Number.NaN) - r.closed_at.getTime()),
      )}`,
    );
    log();

    // ---------- sanity: what routing promises ----------
    const over = await sql<{ n: number }>`
      select count(*)::int as n from (
        select agent_id from conversation_routing where account_id = ${accountId} and status = 'assigned' group by agent_id having count(*) > ${CAPACITY}
      ) o`.execute(db);
    const mismatched = await sql<{ n: number }>`
      select count(*)::int as n from conversation_routing r join conversations c on c.id = r.conversation_id
      where r.account_id = ${accountId} and r.status = 'assigned' and c.assigned_agent_id is distinct from r.agent_id`.execute(db);
    const idle = await sql<{ n: number }>`
      select count(*)::int as n from agent_states s
      where s.account_id = ${accountId} and s.state = 'online'
        and (select count(*) from conversation_routing r where r.agent_id = s.user_id and r.status = 'assigned') < ${CAPACITY}
        and exists (select 1 from conversation_routing q join agent_skills k on k.skill_id = q.skill_id and k.user_id = s.user_id
                    where q.account_id = ${accountId} and q.status = 'queued')`.execute(db);
    const [overN, mismatchedN, idleN] = [over.rows[0]?.n ?? 0, mismatched.rows[0]?.n ?? 0, idle.rows[0]?.n ?? 0];
    log(`Checks: agents over capacity ${overN}; conversations whose agent disagrees ${mismatchedN}; agents with a free place while their skill's queue waits ${idleN}`);
    log(
      `Load average now ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (overN + mismatchedN + idleN > 0) process.exitCode = 1;
  } finally {
    await server.close();
    await database.drop();
    fs.rmSync(filesDir, { recursive: true, force: true });
  }
}

async function countStatus(db: Db, accountId: string, status: 'queued' | 'assigned'): Promise<number> {
  const row = await db
    .selectFrom('conversation_routing')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Clones the rows of the template conversation (created through the service API) `count` times, each with its own
 * consumer, spreading them over the skills; routing rows are left 'new' until the burst puts them all in the queue.
 */
async function cloneConversations(db: Db, accountId: string, templateId: string, templateConsumerId: string, skillIds: string[], count: number): Promise<void> {
  // Ids this bench read from its own database: safe to inline into the statements below.
  const skills = `array[${skillIds.map((id) => `'${id}'::uuid`).join(', ')}]`;
  await db.transaction().execute(async (trx) => {
    await sql`create temporary table bench_clones on commit drop as
      select n, gen_random_uuid() as consumer_id, gen_random_uuid() as conversation_id from generate_series(1, ${count}) n`.execute(trx);
    const clone = (table: string, where: string, overrides: string) =>
      sql.raw(`insert into ${table} select (jsonb_populate_record(null::${table}, to_jsonb(t) || ${overrides})).* from ${table} t, bench_clones b where ${where}`).execute(trx);
    await clone('consumers', `t.id = '${templateConsumerId}'`, `jsonb_build_object('id', b.consumer_id)`);
    await clone('consumer_devices', `t.consumer_id = '${templateConsumerId}'`, `jsonb_build_object('id', gen_random_uuid(), 'consumer_id', b.consumer_id, 'token_hash', md5(random()::text || b.n))`);
    await clone('conversations', `t.id = '${templateId}'`, `jsonb_build_object('id', b.conversation_id, 'consumer_id', b.consumer_id)`);
    await clone(
      'conversation_participants',
      `t.conversation_id = '${templateId}'`,
      `jsonb_build_object('id', gen_random_uuid(), 'conversation_id', b.conversation_id, 'participant_id', b.consumer_id)`,
    );
    await clone(
      'conversation_events',
      `t.conversation_id = '${templateId}'`,
      `jsonb_build_object('id', gen_random_uuid(), 'conversation_id', b.conversation_id, 'originator_id', b.consumer_id, 'client_message_id', case when t.client_message_id is null then null else gen_random_uuid()::text end,
        'payload', case when t.type = 'participant' then jsonb_set(t.payload, '{participant,id}', to_jsonb(b.consumer_id::text)) else t.payload end)`,
    );
    await clone('conversation_routing', `t.conversation_id = '${templateId}'`, `jsonb_build_object('conversation_id', b.conversation_id, 'skill_id', (${skills})[1 + b.n % ${skillIds.length}])`);
  });
  await db.updateTable('conversation_routing').set({ status: 'new', queued_at: null, queue_order_at: null }).where('account_id', '=', accountId).execute();
}

/**
 * The agents as the product stores them once created, given skills and a capacity, connected and online. (Creating
 * them through the API would hash 1,000 passwords: 40 s of set-up; they share one hash instead.)
 */
async function insertAgents(db: Db, accountId: string, passwordHash: string, skillIds: string[], nodeId: string) {
  const now = new Date();
  const users = await db
    .insertInto('users')
    .values(
      Array.from({ length: AGENTS }, (_, i) => ({ account_id: accountId, email: `agent-${i}@bench.parley`, name: `Agent ${i}`, role: 'agent' as const, password_hash: passwordHash, updated_at: now })),
    )
    .returning(['id', 'name'])
    .execute();
  const agents = users.map((u, i) => ({
    id: u.id,
    connectionId: `bench-${i}`,
    principal: { kind: 'user' as const, userId: u.id, accountId, role: 'agent' as const, name: u.name },
    // Every agent holds one skill, half of them a second one.
    skills: i % 2 === 0 ? [skillIds[i % skillIds.length] as string] : [skillIds[i % skillIds.length] as string, skillIds[(i + 1) % skillIds.length] as string],
  }));
  await db
    .insertInto('agent_skills')
    .values(agents.flatMap((a) => [...new Set(a.skills)].map((skill_id) => ({ user_id: a.id, skill_id, account_id: accountId }))))
    .execute();
  await db
    .insertInto('agent_states')
    .values(agents.map((a) => ({ user_id: a.id, account_id: accountId, state: 'online' as const, reason: null, state_since: now, max_conversations: null })))
    .execute();
  await db
    .insertInto('agent_connections')
    .values(agents.map((a) => ({ id: a.connectionId, user_id: a.id, account_id: accountId, node_id: nodeId, connected_at: now, heartbeat_at: now })))
    .execute();
  return agents;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
