/**
 * Messaging under load, over the real WebSocket protocol, with routing on: virtual consumers and agents in this
 * process (the load generator), Parley in child processes, the two pinned to different CPUs.
 *
 *   npm run bench:messaging                              # embedded (PGlite), 1,000 consumers, 100 agents, 200 msg/s
 *   npm run bench:messaging -- --postgres                # cluster mode, one node, throw-away PostgreSQL
 *   npm run bench:messaging -- --redis --nodes 2         # two nodes over PostgreSQL and Redis
 *   npm run bench:messaging -- --rate max --duration 30  # closed loop: the ceiling
 *   npm run bench:messaging -- --help
 *
 * Set-up (not timed): the first start creates the account and admin (BOOTSTRAP_ADMIN_PASSWORD); agents are created
 * through REST with their capacity, log in, open a socket each (presence) and go online; consumers get a session and a
 * conversation through REST. Then:
 *   1. connect ramp: every consumer opens its socket (upgrade, header authentication, first answer); connect rate and
 *      the nodes' memory per connection (VmRSS delta, and /metrics' process_resident_memory_bytes);
 *   (untimed) each consumer subscribes and writes a first message; routing assigns every conversation to an agent,
 *      who subscribes when the assignment (`conversation` frame) reaches them;
 *   2. steady messaging: consumers write at a target rate (open loop; or `max`: a closed loop where each consumer
 *      waits for its agent's answer before writing again); each agent answers each message it receives. Measured: send
 *      to acknowledgement, send to delivery to the other party, throughput, errors, and a correctness gate (every
 *      acknowledged message delivered exactly once, no sequence gap or duplicate, the database's last sequence equal to
 *      what both parties saw);
 *   3. burst: new consumers all write their first message at once; arrival to assignment reaching the agent.
 * Beside the figures, measured in the same run with the same pinning: a bare `ws` echo server (the protocol's
 * ceiling) and the storage's own commit rate. Results go to the terminal and to .tmp/bench/messaging-<time>.json.
 * See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ConversationSummary, ServerFrame } from '@parley/protocol';
import { createRestClient, type RestClient } from '@parley/sdk';
import pg from 'pg';
import { allowedCpus, cpuMsOfTrees, formatLoad, hasTaskset, loadAverage, machineInfo } from './lib/machine.ts';
import { MESSAGING_USAGE, type MessagingOptions, parseMessagingArgs, UsageError } from './lib/messaging-args.ts';
import { buildServerBundle, counterByLabels, metricValue, type ParleyUnderTest, REPO_ROOT, type Services, startParley, startServices } from './lib/parley-under-test.ts';
import { type CommitReference, type EchoReference, measureCommits, measureEcho } from './lib/references.ts';
import { formatMs, formatNumber, type LatencySummary, summarize, table } from './lib/stats.ts';
import { type ResponseFrame, WireClient } from './lib/wire-client.ts';

const log = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN_EMAIL = 'admin@bench.parley';
const ADMIN_PASSWORD = 'bench-admin-password';
const AGENT_PASSWORD = 'bench-agent-password';

// ---------------------------------------------------------------------------------------------------------------
// Clean-up: everything started is stopped and deleted, on success, failure and Ctrl-C.

const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (error) {
        process.stderr.write(`clean-up step failed: ${String(error)}\n`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping the nodes and services, deleting temporary data\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Virtual clients and what they record.

interface Message {
  from: 'consumer' | 'agent';
  consumer: number;
  sentAt: number;
  ackAt: number;
  sequence: number;
  deliveredAt: number;
  deliveries: number;
  error: string | undefined;
  measured: boolean;
}

interface VirtualConsumer {
  index: number;
  token: string;
  conversationId: string;
  client: WireClient | undefined;
  lastSeq: number;
  sent: number;
}

interface VirtualAgent {
  index: number;
  userId: string;
  token: string;
  client: WireClient;
  lastSeq: Map<string, number>;
  conversations: Set<string>;
}

const messages = new Map<string, Message>();
const errors = new Map<string, number>();
const integrity = { sequenceGaps: 0, sequenceDuplicates: 0, unexpectedCloses: 0 };
let nextMessage = 0;
/** Max mode: consumers write again when their agent's answer arrives, until this is false. */
let closedLoop = false;
let recording = false;
let consumers: VirtualConsumer[] = [];
const conversationOwner = new Map<string, VirtualConsumer>();
const assignments = new Map<string, { agent: VirtualAgent; at: number }>();
const burstFirstMessage = new Map<string, number>();
const onAssigned = new Set<(conversationId: string) => void>();

function countError(code: string): void {
  errors.set(code, (errors.get(code) ?? 0) + 1);
}

function checkSequence(previous: number | undefined, sequence: number): void {
  if (previous === undefined || previous === 0) return;
  if (sequence <= previous) integrity.sequenceDuplicates += 1;
  else if (sequence > previous + 1) integrity.sequenceGaps += 1;
}

function onAck(frame: ResponseFrame, at: number): void {
  const message = messages.get(frame.id);
  if (!message) return;
  if (frame.ok) {
    message.ackAt = at;
    message.sequence = (frame.result as { sequence: number }).sequence;
  } else {
    message.error = frame.error?.code ?? 'UNKNOWN';
    if (message.measured) countError(message.error);
    if (closedLoop && message.from === 'consumer') sendFromConsumer(consumers[message.consumer] as VirtualConsumer);
  }
}

function onDelivered(clientMessageId: string | null, at: number): Message | undefined {
  if (!clientMessageId) return undefined;
  const message = messages.get(clientMessageId);
  if (!message) return undefined;
  message.deliveries += 1;
  if (message.deliveries === 1) message.deliveredAt = at;
  return message;
}

function text(n: number): string {
  // 100 to 200 bytes, different every time.
  const length = 100 + (n % 101);
  const head = `message ${n} `;
  return head + 'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(6).slice(0, length - head.length);
}

function sendFromConsumer(consumer: VirtualConsumer): void {
  const client = consumer.client;
  if (!client?.open) return;
  const id = `c${nextMessage++}`;
  consumer.sent += 1;
  messages.set(id, { from: 'consumer', consumer: consumer.index, sentAt: performance.now(), ackAt: 0, sequence: 0, deliveredAt: 0, deliveries: 0, error: undefined, measured: recording });
  client.sendRaw({
    id,
    type: 'send',
    conversationId: consumer.conversationId,
    clientMessageId: id,
    audience: 'all',
    event: { type: 'content', content: { contentType: 'text/plain', message: text(nextMessage) } },
  });
}

function replyFromAgent(agent: VirtualAgent, conversationId: string, to: Message): void {
  if (!agent.client.open) return;
  const id = `a${nextMessage++}`;
  messages.set(id, { from: 'agent', consumer: to.consumer, sentAt: performance.now(), ackAt: 0, sequence: 0, deliveredAt: 0, deliveries: 0, error: undefined, measured: to.measured });
  agent.client.sendRaw({ id, type: 'send', conversationId, clientMessageId: id, audience: 'all', event: { type: 'content', content: { contentType: 'text/plain', message: text(nextMessage) } } });
}

function consumerFrame(consumer: VirtualConsumer, frame: ServerFrame, at: number): void {
  if (frame.type === 'response') onAck(frame, at);
  else if (frame.type === 'event') {
    const event = frame.event;
    checkSequence(consumer.lastSeq, event.sequence);
    consumer.lastSeq = Math.max(consumer.lastSeq, event.sequence);
    if (event.type === 'content' && event.clientMessageId?.startsWith('a')) {
      const message = onDelivered(event.clientMessageId, at);
      if (message && message.deliveries === 1 && closedLoop) sendFromConsumer(consumer);
    }
  }
}

function agentFrame(agent: VirtualAgent, frame: ServerFrame, at: number): void {
  if (frame.type === 'response') onAck(frame, at);
  else if (frame.type === 'event') {
    const event = frame.event;
    const previous = agent.lastSeq.get(event.conversationId);
    checkSequence(previous, event.sequence);
    agent.lastSeq.set(event.conversationId, Math.max(previous ?? 0, event.sequence));
    if (event.type === 'content' && event.clientMessageId?.startsWith('c')) {
      const message = onDelivered(event.clientMessageId, at);
      if (message && message.deliveries === 1) replyFromAgent(agent, event.conversationId, message);
    }
  } else if (frame.type === 'conversation') assigned(agent, frame.conversation, at);
}

function assigned(agent: VirtualAgent, conversation: ConversationSummary, at: number): void {
  if (conversation.assignedAgentId !== agent.userId || assignments.has(conversation.id) || !conversationOwner.has(conversation.id)) return;
  assignments.set(conversation.id, { agent, at });
  agent.conversations.add(conversation.id);
  agent.lastSeq.set(conversation.id, 0);
  // Replay from the start: the consumer's first message and the participant events, then live events.
  agent.client.request({ type: 'subscribe', conversationId: conversation.id, fromSeq: 0 }).catch((error: Error) => countError(`subscribe: ${error.message}`));
  for (const listener of onAssigned) listener(conversation.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

async function inParallel(count: number, concurrency: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!done()) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not done within ${timeoutMs / 1000} s`);
    await sleep(10);
  }
  return performance.now() - started;
}

function restAs(baseUrl: string, token: string): RestClient {
  return createRestClient({ baseUrl, getAccessToken: () => token });
}

const kB = (bytes: number) => `${formatNumber(bytes / 1024, 1)} kB`;
const MB = (bytes: number) => `${formatNumber(bytes / 2 ** 20, 0)} MB`;
const rate = (n: number) => `${formatNumber(n, 0)}/s`;
function latencyRow(label: string, s: LatencySummary): string[] {
  return [label, formatNumber(s.n), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.p999), formatMs(s.max)];
}

interface Snapshot {
  framesOut: Record<string, number>;
  framesIn: Record<string, number>;
  database: Record<string, number> | undefined;
}

/** What the server side counted: WebSocket frames by type, and PostgreSQL's own statistics (cluster mode). */
async function snapshot(nodeUrls: readonly string[], database: pg.Client | undefined): Promise<Snapshot> {
  const [framesOut, framesIn, stats] = await Promise.all([
    counterByLabels(nodeUrls, 'parley_ws_frames_out_total'),
    counterByLabels(nodeUrls, 'parley_ws_frames_in_total'),
    database?.query<Record<string, string>>(
      `select d.xact_commit, d.xact_rollback, d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, w.wal_records, w.wal_bytes, w.wal_sync
       from pg_stat_database d, pg_stat_wal w where d.datname = current_database()`,
    ),
  ]);
  const row = stats?.rows[0];
  return { framesOut, framesIn, database: row ? Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) : undefined };
}

function perMessage(before: Record<string, number> | undefined, after: Record<string, number> | undefined, messages: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after ?? {})) out[key] = Math.round(((value - (before?.[key] ?? 0)) / Math.max(1, messages)) * 100) / 100;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let options: MessagingOptions;
  try {
    const parsed = parseMessagingArgs(process.argv.slice(2));
    if (parsed === 'help') {
      log(MESSAGING_USAGE);
      return;
    }
    options = parsed;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${MESSAGING_USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }

  const startedAt = new Date();
  const machine = machineInfo();
  const loadBefore = loadAverage();
  const uptimeBefore = os.uptime();

  // Pinning: the server side (nodes, PostgreSQL, Redis, balancer) on CPU 0, this generator on CPU 1.
  let serverCpu: number | undefined;
  let pinning: string;
  if (!options.pin) pinning = 'none (--no-pin)';
  else if (machine.cpus < 2) pinning = `none (${machine.cpus} CPU)`;
  else if (!hasTaskset()) pinning = 'none (taskset not found: apt-get install util-linux)';
  else {
    execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
    serverCpu = 0;
    pinning = `server side (nodes${options.storage === 'postgres' ? ', PostgreSQL' : ''}${options.redis ? ', Redis' : ''}${options.balancer ? ', balancer' : ''}) on CPU 0 (taskset -c 0); generator pid ${process.pid} on CPU ${allowedCpus(process.pid)} (taskset -a -cp 1)`;
  }

  const mode =
    options.storage === 'embedded'
      ? 'embedded (PGlite)'
      : `cluster: PostgreSQL${options.redis ? ' + Redis' : ''}, ${options.nodes} node${options.nodes > 1 ? 's' : ''}${options.balancer ? ' behind the balancer' : ''}`;
  log(`Parley messaging load: ${mode}`);
  log(
    `  ${options.consumers} consumers, ${options.agents} agents x ${options.capacity}, ${options.rate === 'max' ? `closed loop (${options.concurrency} consumers)` : `${options.rate} consumer msg/s`}`,
  );
  log(`  plus an answer from the agent to each; ${options.warmup} s warm-up + ${options.duration} s measured; burst of ${options.burst}`);
  log(`  machine      ${machine.cpuModel} x ${machine.cpus}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}`);
  log(`  load average ${formatLoad(loadBefore)} (1, 5, 15 min) at start`);
  log(`  pinning      ${pinning}`);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-messaging-'));
  const buildDir = path.join(REPO_ROOT, '.tmp', 'bench', `build-${process.pid}`);
  cleanups.push(() => fs.rmSync(workDir, { recursive: true, force: true }));
  cleanups.push(() => fs.rmSync(buildDir, { recursive: true, force: true }));

  let services: Services | undefined;
  if (options.storage === 'postgres') {
    log('\nstarting a throw-away PostgreSQL' + (options.redis ? ' and Redis' : '') + ' …');
    services = await startServices({ postgres: true, redis: options.redis, cpu: serverCpu });
    const stopServices = services.stop;
    cleanups.push(() => stopServices());
  } else services = { postgres: undefined, redis: undefined, pids: [], stop: async () => {} };

  // The machine's limits, before Parley starts, with the same pinning.
  let echo: EchoReference | undefined;
  let commits: CommitReference | undefined;
  if (options.limits) {
    log('measuring the references (bare ws echo, raw commits) …');
    echo = await measureEcho({ cpu: serverCpu, cwd: REPO_ROOT, seconds: 3, sockets: 100 });
    commits = await measureCommits({ cpu: serverCpu, cwd: REPO_ROOT, postgresUrl: services.postgres?.url, seconds: 3 });
  }

  let entry: { kind: 'bundle'; file: string } | { kind: 'tsx' } = { kind: 'tsx' };
  if (options.server === 'bundle') entry = { kind: 'bundle', file: await buildServerBundle(buildDir) };
  log(`starting ${options.nodes} Parley node${options.nodes > 1 ? 's' : ''} (${entry.kind === 'bundle' ? 'prebuilt bundle' : 'tsx'}) …`);
  const serverEnv: Record<string, string> = {
    LOG_LEVEL: 'warn',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // A run may outlast the default 15-minute access token; a socket closed for expiry would count as an error.
    ACCESS_TOKEN_TTL_SECONDS: '86400',
    CONSUMER_TOKEN_TTL_SECONDS: '86400',
    // Every virtual consumer signs in from this one address: the per-address limit of public endpoints is off.
    PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
    ...options.serverEnv,
  };
  fs.mkdirSync(path.join(workDir, 'data'), { recursive: true });
  const parley: ParleyUnderTest = await startParley(
    {
      nodes: options.nodes,
      balancer: options.balancer,
      entry,
      cpu: serverCpu,
      dataDir: path.join(workDir, 'data'),
      services,
      env: serverEnv,
      nodeArgs: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`] : [],
    },
    (stop) => cleanups.push(stop),
  );
  const serverPids = parley.serverPids();
  const nodePids = parley.nodes.map((n) => n.process.pid);
  const nodeUrls = parley.nodes.map((n) => n.url);
  let statsClient: pg.Client | undefined;
  if (services.postgres) {
    const client = new pg.Client({ connectionString: services.postgres.url });
    await client.connect();
    statsClient = client;
    cleanups.push(() => client.end());
  }
  const clients: WireClient[] = [];
  cleanups.push(() => {
    for (const client of clients) client.terminate();
  });

  // ------------------------------------------------------------------ set-up (not timed)
  const setupStarted = performance.now();
  const publicRest = createRestClient({ baseUrl: parley.adminUrl });
  const adminToken = (await publicRest.login({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).accessToken;
  const admin = restAs(parley.adminUrl, adminToken);
  const account = await admin.call('getAccount');
  await admin.call('updateRoutingSettings', { body: { autoCloseSeconds: null, defaultMaxConversations: options.capacity } });

  const agents: VirtualAgent[] = [];
  await inParallel(options.agents, 4, async (i) => {
    const url = parley.urlFor(i);
    const user = await admin.call('createUser', { body: { email: `agent${i}@bench.parley`, name: `Agent ${i}`, role: 'agent', password: AGENT_PASSWORD } });
    await admin.call('updateAgentRouting', { params: { userId: user.id }, body: { maxConversations: options.capacity } });
    const token = (await createRestClient({ baseUrl: url }).login({ email: user.email, password: AGENT_PASSWORD })).accessToken;
    const client = await WireClient.connect(url, token);
    clients.push(client);
    const agent: VirtualAgent = { index: i, userId: user.id, token, client, lastSeq: new Map(), conversations: new Set() };
    client.onFrame = (frame, at) => agentFrame(agent, frame, at);
    client.onClose = (code) => {
      if (code !== 1000) integrity.unexpectedCloses += 1;
    };
    await restAs(url, token).call('setMyState', { body: { state: 'online' } });
    agents[i] = agent;
  });

  const newConsumer = async (i: number): Promise<VirtualConsumer> => {
    const url = parley.urlFor(i);
    const session = await publicRest.consumerSession({ widgetKey: account.widgetKey });
    const { conversation } = await restAs(url, session.accessToken).startConversation();
    const consumer: VirtualConsumer = { index: i, token: session.accessToken, conversationId: conversation.id, client: undefined, lastSeq: 0, sent: 0 };
    consumers[i] = consumer;
    conversationOwner.set(conversation.id, consumer);
    return consumer;
  };
  const connectConsumer = async (consumer: VirtualConsumer): Promise<void> => {
    const client = await WireClient.connect(parley.urlFor(consumer.index), consumer.token);
    clients.push(client);
    client.onFrame = (frame, at) => consumerFrame(consumer, frame, at);
    client.onClose = (code) => {
      if (code !== 1000) integrity.unexpectedCloses += 1;
    };
    consumer.client = client;
  };
  consumers = [];
  await inParallel(options.consumers, 16, async (i) => {
    await newConsumer(i);
  });
  log(
    `set-up: account, ${options.agents} agents online with a socket each, ${options.consumers} consumer sessions and conversations (${formatNumber((performance.now() - setupStarted) / 1000, 1)} s)`,
  );

  // ------------------------------------------------------------------ phase 1: connect ramp
  await sleep(2_000);
  const rssBefore = parley.nodesRss();
  const metricsRss = async () => (await Promise.all(parley.nodes.map((n) => metricValue(n.url, 'parley_process_resident_memory_bytes')))).reduce<number>((s, v) => s + (v ?? 0), 0);
  const metricsBefore = await metricsRss();
  const connectTimes: number[] = [];
  let connectFailures = 0;
  const rampStarted = performance.now();
  await inParallel(options.consumers, options.connectConcurrency, async (i) => {
    const t = performance.now();
    try {
      await connectConsumer(consumers[i] as VirtualConsumer);
      connectTimes.push(performance.now() - t);
    } catch (error) {
      connectFailures += 1;
      countError(`connect: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  const rampMs = performance.now() - rampStarted;
  await sleep(2_000);
  const rssAfter = parley.nodesRss();
  const metricsAfter = await metricsRss();
  const ramp = {
    sockets: connectTimes.length,
    failures: connectFailures,
    seconds: rampMs / 1000,
    perSecond: connectTimes.length / (rampMs / 1000),
    latency: summarize(connectTimes),
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    bytesPerConnection: (rssAfter - rssBefore) / Math.max(1, connectTimes.length),
    metricsBytesPerConnection: (metricsAfter - metricsBefore) / Math.max(1, connectTimes.length),
  };
  log(
    `phase 1, connect ramp: ${ramp.sockets} sockets in ${formatNumber(ramp.seconds, 2)} s = ${rate(ramp.perSecond)} (${options.connectConcurrency} at once), connect p50 ${formatMs(ramp.latency.p50)} ms p99 ${formatMs(ramp.latency.p99)} ms; nodes' RSS ${MB(rssBefore)} -> ${MB(rssAfter)}: ${kB(ramp.bytesPerConnection)} per connection`,
  );

  // ------------------------------------------------------------------ (untimed) subscribe, first message, routing
  const routingStarted = performance.now();
  await inParallel(consumers.length, 50, async (i) => {
    const consumer = consumers[i] as VirtualConsumer;
    if (!consumer.client) return;
    await consumer.client.request({ type: 'subscribe', conversationId: consumer.conversationId, fromSeq: 0 });
    await consumer.client.request({
      type: 'send',
      conversationId: consumer.conversationId,
      clientMessageId: `hello-${i}`,
      audience: 'all',
      event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello, I have a question about my order.' } },
    });
  });
  const connected = consumers.filter((c) => c.client).length;
  await waitFor('routing the conversations', () => assignments.size >= connected, 180_000);
  log(`set-up: ${assignments.size} conversations routed to agents and subscribed (${formatNumber((performance.now() - routingStarted) / 1000, 1)} s)`);
  await sleep(1_000);

  // The server side's CPU with every socket open and nothing sent: timers, heartbeats, the routing sweep.
  const idleMs = 5_000;
  const idleServerStart = cpuMsOfTrees(serverPids);
  const idleNodesStart = cpuMsOfTrees(nodePids);
  await sleep(idleMs);
  const idle = { serverCoreShare: (cpuMsOfTrees(serverPids) - idleServerStart) / idleMs, nodesCoreShare: (cpuMsOfTrees(nodePids) - idleNodesStart) / idleMs };

  // ------------------------------------------------------------------ phase 2: steady messaging
  const active = consumers.filter((c) => c.client);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const scheduleLag: number[] = [];
  const warmupMs = options.warmup * 1000;
  const totalMs = warmupMs + options.duration * 1000;
  let measuredStart = 0;
  let measuredEnd = 0;
  let cpuServerStart = 0;
  let cpuNodesStart = 0;
  let cpuGeneratorStart = process.cpuUsage();
  let snapshotStart: Promise<Snapshot> | undefined;
  let snapshotEnd: Promise<Snapshot> | undefined;
  const startRecording = () => {
    recording = true;
    measuredStart = performance.now();
    cpuServerStart = cpuMsOfTrees(serverPids);
    cpuNodesStart = cpuMsOfTrees(nodePids);
    snapshotStart = snapshot(nodeUrls, statsClient);
    cpuGeneratorStart = process.cpuUsage();
    loopDelay.enable();
  };
  let cpuServerMs = 0;
  let cpuNodesMs = 0;
  let cpuGeneratorMs = 0;
  const stopRecording = () => {
    recording = false;
    measuredEnd = performance.now();
    cpuServerMs = cpuMsOfTrees(serverPids) - cpuServerStart;
    cpuNodesMs = cpuMsOfTrees(nodePids) - cpuNodesStart;
    snapshotEnd = snapshot(nodeUrls, statsClient);
    const usage = process.cpuUsage(cpuGeneratorStart);
    cpuGeneratorMs = (usage.user + usage.system) / 1000;
    loopDelay.disable();
  };
  const steadyStarted = performance.now();
  if (options.rate === 'max') {
    closedLoop = true;
    for (const consumer of active.slice(0, options.concurrency)) sendFromConsumer(consumer);
    if (warmupMs > 0) await sleep(warmupMs);
    startRecording();
    await sleep(options.duration * 1000);
    stopRecording();
    closedLoop = false;
  } else {
    const perMs = options.rate / 1000;
    let sent = 0;
    let warm = warmupMs === 0;
    if (warm) startRecording();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        const elapsed = now - steadyStarted;
        if (!warm && elapsed >= warmupMs) {
          warm = true;
          startRecording();
        }
        if (elapsed >= totalMs) {
          clearInterval(timer);
          stopRecording();
          resolve();
          return;
        }
        const due = Math.floor(elapsed * perMs) - sent;
        for (let k = 0; k < due; k++) {
          const intended = steadyStarted + (sent + 1) / perMs;
          if (recording) scheduleLag.push(now - intended);
          sendFromConsumer(active[Math.floor(Math.random() * active.length)] as VirtualConsumer);
          sent += 1;
        }
      }, 1);
    });
  }
  // Drain: everything sent gets its answer, its delivery and the agent's reply (or the drain times out).
  const drainStarted = performance.now();
  const settled = (m: Message) => m.error !== undefined || (m.ackAt > 0 && m.deliveredAt > 0);
  const unsettled = () => {
    let n = 0;
    for (const m of messages.values()) if (!settled(m)) n += 1;
    return n;
  };
  // Until everything settled, or nothing more settled for 15 s (an overloaded open loop drains its backlog first).
  let drainTimedOut = false;
  let lastProgress = performance.now();
  let remaining = unsettled();
  while (remaining > 0) {
    await sleep(50);
    const now = unsettled();
    if (now < remaining) lastProgress = performance.now();
    remaining = now;
    if (performance.now() - lastProgress > 15_000) {
      drainTimedOut = true;
      break;
    }
  }
  const drainMs = performance.now() - drainStarted;
  await sleep(500); // late duplicates would show now

  const measured = [...messages.values()].filter((m) => m.measured);
  const windowMs = measuredEnd - measuredStart;
  const inWindow = (t: number) => t >= measuredStart && t <= measuredEnd;
  const byKind = (from: 'consumer' | 'agent') => measured.filter((m) => m.from === from);
  const ackLatency = (list: Message[]) => summarize(list.filter((m) => m.ackAt > 0).map((m) => m.ackAt - m.sentAt));
  const deliveryLatency = (list: Message[]) => summarize(list.filter((m) => m.deliveredAt > 0).map((m) => m.deliveredAt - m.sentAt));
  const fromConsumers = byKind('consumer');
  const fromAgents = byKind('agent');
  const allMessages = [...messages.values()];
  const ackedInWindow = allMessages.filter((m) => m.ackAt > 0 && inWindow(m.ackAt)).length;
  const [before, after] = await Promise.all([snapshotStart, snapshotEnd]);
  const serverCounts = {
    framesOutPerMessage: perMessage(before?.framesOut, after?.framesOut, ackedInWindow),
    framesInPerMessage: perMessage(before?.framesIn, after?.framesIn, ackedInWindow),
    databasePerMessage: after?.database ? perMessage(before?.database, after.database, ackedInWindow) : undefined,
  };
  const deliveredInWindow = allMessages.filter((m) => m.deliveredAt > 0 && inWindow(m.deliveredAt)).length;

  // The correctness gate: every acknowledged message delivered exactly once; the stored last sequence as seen.
  let persistedMismatches = 0;
  await inParallel(active.length, 16, async (i) => {
    const consumer = active[i] as VirtualConsumer;
    const stored = await admin.getConversation(consumer.conversationId);
    const agentSeen = assignments.get(consumer.conversationId)?.agent.lastSeq.get(consumer.conversationId) ?? -1;
    if (stored.lastSequence !== consumer.lastSeq || stored.lastSequence !== agentSeen) persistedMismatches += 1;
  });
  const gate = {
    sent: measured.length,
    acknowledged: measured.filter((m) => m.ackAt > 0).length,
    delivered: measured.filter((m) => m.deliveries > 0).length,
    failed: measured.filter((m) => m.error !== undefined).length,
    unanswered: measured.filter((m) => m.ackAt === 0 && m.error === undefined).length,
    acknowledgedNotDelivered: measured.filter((m) => m.ackAt > 0 && m.deliveries === 0).length,
    deliveredTwice: measured.filter((m) => m.deliveries > 1).length,
    ...integrity,
    persistedMismatches,
    drainTimedOut,
  };
  const valid =
    gate.unanswered === 0 &&
    gate.acknowledgedNotDelivered === 0 &&
    gate.deliveredTwice === 0 &&
    gate.sequenceGaps === 0 &&
    gate.sequenceDuplicates === 0 &&
    gate.persistedMismatches === 0 &&
    gate.unexpectedCloses === 0;
  const steady = {
    mode: options.rate === 'max' ? `closed loop, ${Math.min(options.concurrency, active.length)} consumers` : `open loop, ${options.rate} consumer msg/s`,
    measuredSeconds: windowMs / 1000,
    offeredConsumerPerSecond: fromConsumers.length / (windowMs / 1000),
    ackedPerSecond: ackedInWindow / (windowMs / 1000),
    deliveredPerSecond: deliveredInWindow / (windowMs / 1000),
    drainMs,
    latency: {
      consumerSendToAck: ackLatency(fromConsumers),
      agentSendToAck: ackLatency(fromAgents),
      consumerToAgentDelivery: deliveryLatency(fromConsumers),
      agentToConsumerDelivery: deliveryLatency(fromAgents),
    },
    errors: Object.fromEntries(errors),
    serverCpu: {
      ms: cpuServerMs,
      coreShare: cpuServerMs / windowMs,
      msPer1000Messages: (cpuServerMs / Math.max(1, ackedInWindow)) * 1000,
      nodesMsPer1000Messages: (cpuNodesMs / Math.max(1, ackedInWindow)) * 1000,
    },
    serverCounts,
    idle,
    generator: {
      coreShare: cpuGeneratorMs / windowMs,
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      scheduleLagP99Ms: scheduleLag.length > 0 ? summarize(scheduleLag).p99 : null,
    },
    gate,
    valid,
  };
  log(`phase 2, steady messaging (${steady.mode}): ${formatNumber(steady.ackedPerSecond, 1)} msg/s acknowledged, ${valid ? 'gate OK' : 'VOID: the correctness gate failed'}`);

  // ------------------------------------------------------------------ phase 3: burst of new conversations
  let burst: { conversations: number; assigned: number; seconds: number; perSecond: number; latency: LatencySummary; ackLatency: LatencySummary } | undefined;
  if (options.burst > 0) {
    const base = consumers.length;
    const fresh: VirtualConsumer[] = [];
    await inParallel(options.burst, 16, async (k) => {
      const consumer = await newConsumer(base + k);
      await connectConsumer(consumer);
      await consumer.client?.request({ type: 'subscribe', conversationId: consumer.conversationId, fromSeq: 0 });
      fresh.push(consumer);
    });
    await sleep(1_000);
    const acks: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      fresh.map(async (consumer) => {
        burstFirstMessage.set(consumer.conversationId, performance.now());
        const sentAt = performance.now();
        await consumer.client
          ?.request({
            type: 'send',
            conversationId: consumer.conversationId,
            clientMessageId: `first-${consumer.index}`,
            audience: 'all',
            event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello, is anybody there? I need help with a delivery.' } },
          })
          .then(
            () => acks.push(performance.now() - sentAt),
            (error: Error) => countError(`burst: ${error.message}`),
          );
      }),
    );
    await waitFor('the burst', () => fresh.every((c) => assignments.has(c.conversationId)), 60_000).catch(() => {});
    const waits = fresh.flatMap((c) => {
      const a = assignments.get(c.conversationId);
      const sent = burstFirstMessage.get(c.conversationId);
      return a && sent !== undefined ? [a.at - sent] : [];
    });
    const last = Math.max(...fresh.map((c) => assignments.get(c.conversationId)?.at ?? 0));
    burst = {
      conversations: fresh.length,
      assigned: waits.length,
      seconds: (last - t0) / 1000,
      perSecond: waits.length / ((last - t0) / 1000),
      latency: summarize(waits),
      ackLatency: summarize(acks),
    };
  }

  const loadAfter = loadAverage();
  // ------------------------------------------------------------------ report
  const lines: string[] = [''];
  lines.push(`== Parley messaging load: ${mode} ==`);
  lines.push(`machine: ${machine.cpuModel} x ${machine.cpus}, Node ${machine.node}; load average ${formatLoad(loadBefore)} at start, ${formatLoad(loadAfter)} at end`);
  lines.push(`pinning: ${pinning}`);
  if (echo && commits) {
    lines.push('');
    lines.push('machine limits (same pinning, same run)');
    lines.push(
      table([
        ['', 'rate', 'p50 ms', 'p99 ms'],
        ['bare ws echo, 1 socket, 1 in flight', rate(echo.single.perSecond), formatMs(echo.single.latency.p50), formatMs(echo.single.latency.p99)],
        [`bare ws echo, ${echo.parallel.sockets} sockets, 1 in flight each`, rate(echo.parallel.perSecond), formatMs(echo.parallel.latency.p50), formatMs(echo.parallel.latency.p99)],
        [`${commits.database}: single-row insert commits`, rate(commits.singleRowCommitsPerSecond), '', ''],
        ['  100-row insert commits (rows)', rate(commits.batchRowsPerSecond), '', ''],
      ]),
    );
    lines.push(`  (synchronous_commit=${commits.synchronousCommit}${options.storage === 'embedded' ? '; PGlite never fsyncs' : ''})`);
  }
  lines.push('');
  lines.push(
    `connect ramp: ${ramp.sockets} sockets in ${formatNumber(ramp.seconds, 2)} s = ${rate(ramp.perSecond)}; connect p50 ${formatMs(ramp.latency.p50)} ms, p99 ${formatMs(ramp.latency.p99)} ms${ramp.failures ? `; ${ramp.failures} FAILED` : ''}`,
  );
  lines.push(
    `  memory: nodes' RSS ${MB(ramp.rssBeforeBytes)} -> ${MB(ramp.rssAfterBytes)} = ${kB(ramp.bytesPerConnection)} per connection (/metrics process_resident_memory_bytes: ${kB(ramp.metricsBytesPerConnection)})`,
  );
  lines.push('');
  lines.push(`steady messaging, ${steady.mode}, ${formatNumber(steady.measuredSeconds, 1)} s measured:`);
  lines.push(
    `  throughput: ${formatNumber(steady.ackedPerSecond, 1)} msg/s stored and acknowledged (consumers ${formatNumber(fromConsumers.length / (windowMs / 1000), 1)}/s sent + agents' answers), ${formatNumber(steady.deliveredPerSecond, 1)} msg/s delivered; drain ${formatNumber(drainMs, 0)} ms`,
  );
  lines.push(
    table([
      ['  latency (ms)', 'n', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      latencyRow('  consumer send -> ack', steady.latency.consumerSendToAck),
      latencyRow('  consumer send -> delivered to agent', steady.latency.consumerToAgentDelivery),
      latencyRow('  agent send -> ack', steady.latency.agentSendToAck),
      latencyRow('  agent send -> delivered to consumer', steady.latency.agentToConsumerDelivery),
    ]),
  );
  lines.push(
    `  server side CPU: ${formatNumber(steady.serverCpu.coreShare * 100, 0)}% of a core, ${formatNumber(steady.serverCpu.msPer1000Messages, 0)} ms per 1,000 acknowledged messages; generator: ${formatNumber(steady.generator.coreShare * 100, 0)}% of a core, event-loop delay p99 ${formatMs(steady.generator.eventLoopDelayP99Ms)} ms${steady.generator.scheduleLagP99Ms !== null ? `, send schedule lag p99 ${formatMs(steady.generator.scheduleLagP99Ms)} ms` : ''}`,
  );
  const frames = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k.replace(/^type="(.*)"$/, '$1')} ${v}`)
      .join(', ');
  lines.push(
    `  per acknowledged message: nodes' CPU ${formatNumber(steady.serverCpu.nodesMsPer1000Messages / 1000, 2)} ms${options.storage === 'postgres' ? ` (PostgreSQL${options.redis ? ' and Redis' : ''} the rest)` : ' (PGlite runs inside)'}; WebSocket frames out ${frames(serverCounts.framesOutPerMessage)}; in ${frames(serverCounts.framesInPerMessage)}`,
  );
  if (serverCounts.databasePerMessage) {
    const d = serverCounts.databasePerMessage;
    lines.push(
      `  PostgreSQL per acknowledged message: ${d.xact_commit} commits, ${d.wal_sync} WAL syncs, ${d.wal_records} WAL records (${formatNumber(d.wal_bytes ?? 0)} bytes), rows: ${d.tup_fetched} fetched, ${d.tup_inserted} inserted, ${d.tup_updated} updated`,
    );
  }
  lines.push(
    `  idle (every socket open, nothing sent, 5 s before the phase): server side ${formatNumber(idle.serverCoreShare * 100, 1)}% of a core, nodes ${formatNumber(idle.nodesCoreShare * 100, 1)}%`,
  );
  lines.push(`  errors: ${errors.size === 0 ? 'none' : JSON.stringify(steady.errors)}`);
  lines.push(
    `  gate: ${valid ? 'OK' : 'VOID'}: sent ${gate.sent}, acknowledged ${gate.acknowledged}, delivered ${gate.delivered}, failed ${gate.failed}, unanswered ${gate.unanswered}, acknowledged but not delivered ${gate.acknowledgedNotDelivered}, delivered twice ${gate.deliveredTwice}, sequence gaps ${gate.sequenceGaps}, sequence duplicates ${gate.sequenceDuplicates}, stored last sequence differs ${gate.persistedMismatches}, sockets closed ${gate.unexpectedCloses}`,
  );
  if (burst) {
    lines.push('');
    lines.push(
      `burst: ${burst.conversations} new conversations' first messages at once: ${burst.assigned} assigned in ${formatNumber(burst.seconds, 2)} s (${rate(burst.perSecond)}); first message -> assignment reaching the agent p50 ${formatMs(burst.latency.p50)} ms, p99 ${formatMs(burst.latency.p99)} ms, max ${formatMs(burst.latency.max)} ms; send -> ack p50 ${formatMs(burst.ackLatency.p50)} ms, p99 ${formatMs(burst.ackLatency.p99)} ms`,
    );
  }
  log(lines.join('\n'));

  const outFile = options.out ?? path.join(REPO_ROOT, '.tmp', 'bench', `messaging-${startedAt.toISOString().replaceAll(':', '-').replace(/\..*/, '')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const result = {
    bench: 'messaging-load',
    startedAt: startedAt.toISOString(),
    options,
    mode,
    machine: { ...machine, loadBefore, loadAfter, uptimeSeconds: uptimeBefore },
    pinning,
    limits: { echo, commits },
    ramp,
    steady,
    burst,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nresults: ${path.relative(process.cwd(), outFile)}`);
  if (!valid) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const client of consumers) client.client?.close();
    await cleanUp();
    process.exit();
  });
