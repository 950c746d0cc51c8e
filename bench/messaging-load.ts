/**
 * Messaging under load, over the real WebSocket protocol, with routing on: virtual consumers, agents and a supervisor
 * in this process (the load generator), Parley in child processes, the two pinned to different CPUs.
 *
 *   npm run bench:messaging                              # embedded (PGlite): the ladder of steps, then the ceiling
 *   npm run bench:messaging -- --postgres                # cluster mode, one node, throw-away PostgreSQL
 *   npm run bench:messaging -- --redis --nodes 2         # two nodes over PostgreSQL and Redis
 *   npm run bench:messaging -- --idle 10000              # memory per idle connection, most connections held
 *   npm run bench:messaging -- --rate 20 --duration 30   # one open-loop rate (consumer messages/s), quick
 *   npm run bench:messaging -- --help
 *
 * Set-up (not timed): the first start creates the account and admin (BOOTSTRAP_ADMIN_PASSWORD); agents are created
 * through REST with their capacity, log in, open a socket each (presence) and go online; consumers get a session and a
 * conversation through REST. Then:
 *   1. connect ramp: every consumer opens its socket; connect rate and the nodes' memory per connection;
 *   (untimed) each consumer subscribes and writes a first message; routing assigns every conversation to an agent,
 *      who subscribes when the assignment (`conversation` frame) reaches them; a supervisor (a manager's socket)
 *      subscribes to a share of the conversations;
 *   2. messaging: open-loop steps at rising rates (stored messages/s, both directions), each measured for a fixed
 *      time, drained, and put through the correctness gate (persisted = acknowledged = delivered, no gap, no
 *      duplicate, the supervisor saw every event of what it watches); a void step or one that falls behind stops the
 *      ladder; then a closed loop for the ceiling. Or one open-loop rate, or the closed loop alone;
 *   3. burst (optional): new consumers all write their first message at once; arrival to assignment at the agent;
 *   4. idle connections (optional): N authenticated idle consumer sockets; memory per idle connection, most held.
 * Beside the figures, measured in the same run with the same pinning: a bare `ws` echo server, a raw `ws` relay with
 * the same pairing, the storage's own commit rate (single-row and 100-row) and Redis pub/sub; Parley's ceiling is
 * printed as a ratio of each. Results go to the terminal and to .tmp/bench/messaging-<time>.json, each node's log beside
 * it (messaging-<time>-node-<n>.log).
 * See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { ConversationSummary, ServerFrame } from '@parley/protocol';
import { createRestClient, type RestClient } from '@parley/sdk';
import pg from 'pg';
import { guard } from '../scripts/cluster/reaper.ts';
import { GENERATOR_NODE_FLAGS, relaunchWithFlags } from './lib/generator-flags.ts';
import { allowedCpus, cpuMsOfTrees, cpuTimes, formatLoad, hasTaskset, loadAverage, machineInfo, openFileLimit, raiseOpenFileLimit, settledRss } from './lib/machine.ts';
import { MESSAGING_USAGE, type MessagingOptions, parseMessagingArgs, UsageError } from './lib/messaging-args.ts';
import {
  buildAllocationSampler,
  buildServerBundle,
  counterByLabels,
  metricsByNode,
  metricValue,
  type ParleyUnderTest,
  REPO_ROOT,
  type Services,
  startParley,
  startServices,
  sumOverNodes,
} from './lib/parley-under-test.ts';
import { formatRatio } from './lib/ratios.ts';
import { type CommitReference, type EchoReference, measureCommits, measureEcho, measurePubSub, measureRelay, type PubSubReference, type RelayReference } from './lib/references.ts';
import {
  bucketsByLe,
  formatMs,
  formatNumber,
  histogramQuantile,
  inFlightDuringPauses,
  type LatencySummary,
  type Pause,
  slope,
  summarize,
  type TailClustering,
  table,
  tailClustering,
} from './lib/stats.ts';
import { abortAfterMs, cpuPer1000At, HELD_P99_MS, highestHeld, judgeStep, KEEP_UP_SHARE, type StepOutcome, type StepVerdict } from './lib/step-ladder.ts';
import { type ResponseFrame, WireClient } from './lib/wire-client.ts';

// The generator's own garbage collector must not pause it for long (lib/generator-flags.ts): V8 takes the flags only
// at start, so without them this process starts itself again with them and only passes on the exit code.
const relaunched = relaunchWithFlags(GENERATOR_NODE_FLAGS);
if (relaunched) process.exit(await relaunched);

const log = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN_EMAIL = 'admin@bench.parley';
const ADMIN_PASSWORD = 'bench-admin-password';
const AGENT_PASSWORD = 'bench-agent-password';
/** The nodes' per-connection frame limit, unless --server-env sets it: the default 20/s would refuse agents' answers. */
const BENCH_WS_RATE_LIMIT = '100000';

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
  /** The step it belongs to (an agent's answer belongs to the step of the message it answers). */
  step: number;
  /** Its conversation is watched by the supervisor. */
  watched: boolean;
  sentAt: number;
  ackAt: number;
  sequence: number;
  deliveredAt: number;
  /** Deliveries to the other party (must end at exactly 1). */
  deliveries: number;
  /** Deliveries to the supervisor (exactly 1 when watched, else 0). */
  supervisorDeliveries: number;
  error: string | undefined;
  measured: boolean;
}

interface VirtualConsumer {
  index: number;
  token: string;
  conversationId: string;
  client: WireClient | undefined;
  lastSeq: number;
  watched: boolean;
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
/** The current step's messages in the order they were created (the drain and the backlog check walk it). */
let stepMessages: Message[] = [];
let errors = new Map<string, number>();
const integrity = { sequenceGaps: 0, sequenceDuplicates: 0, unexpectedCloses: 0, supervisorSequenceGaps: 0, supervisorSequenceDuplicates: 0 };
let nextMessage = 0;
let currentStep = 0;
/** Closed loop: consumers write again when their agent's answer arrives, until this is false. */
let closedLoop = false;
let recording = false;
let consumers: VirtualConsumer[] = [];
const conversationOwner = new Map<string, VirtualConsumer>();
const assignments = new Map<string, { agent: VirtualAgent; at: number }>();
const burstFirstMessage = new Map<string, number>();
/** The supervisor's last sequence per watched conversation. */
const supervisorSeen = new Map<string, number>();

function countError(code: string): void {
  errors.set(code, (errors.get(code) ?? 0) + 1);
}

/** 1 for a gap, -1 for a duplicate (or a step back), 0 when `sequence` follows `previous`. */
function sequenceCheck(previous: number | undefined, sequence: number): -1 | 0 | 1 {
  if (previous === undefined || previous === 0) return 0;
  if (sequence <= previous) return -1;
  return sequence > previous + 1 ? 1 : 0;
}
function checkSequence(previous: number | undefined, sequence: number): void {
  const check = sequenceCheck(previous, sequence);
  if (check === -1) integrity.sequenceDuplicates += 1;
  else if (check === 1) integrity.sequenceGaps += 1;
}

function onAck(frame: ResponseFrame, at: number): void {
  const message = messages.get(frame.id);
  if (!message) return;
  if (frame.ok) {
    message.ackAt = at;
    message.sequence = (frame.result as { sequence: number }).sequence;
  } else {
    message.error = frame.error?.code ?? 'UNKNOWN';
    countError(message.error);
    if (closedLoop && message.from === 'consumer') {
      const consumer = consumers[message.consumer] as VirtualConsumer;
      setTimeout(() => closedLoop && sendFromConsumer(consumer), 100);
    }
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

function record(id: string, message: Message): void {
  messages.set(id, message);
  stepMessages.push(message);
}

function sendFromConsumer(consumer: VirtualConsumer): void {
  const client = consumer.client;
  if (!client?.open) return;
  const id = `c${nextMessage++}`;
  record(id, {
    from: 'consumer',
    consumer: consumer.index,
    step: currentStep,
    watched: consumer.watched,
    sentAt: performance.now(),
    ackAt: 0,
    sequence: 0,
    deliveredAt: 0,
    deliveries: 0,
    supervisorDeliveries: 0,
    error: undefined,
    measured: recording,
  });
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
  record(id, {
    from: 'agent',
    consumer: to.consumer,
    step: to.step,
    watched: to.watched,
    sentAt: performance.now(),
    ackAt: 0,
    sequence: 0,
    deliveredAt: 0,
    deliveries: 0,
    supervisorDeliveries: 0,
    error: undefined,
    measured: to.measured,
  });
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

function supervisorFrame(frame: ServerFrame): void {
  if (frame.type !== 'event') return;
  const event = frame.event;
  if (!supervisorSeen.has(event.conversationId)) return;
  const check = sequenceCheck(supervisorSeen.get(event.conversationId), event.sequence);
  if (check === -1) integrity.supervisorSequenceDuplicates += 1;
  else if (check === 1) integrity.supervisorSequenceGaps += 1;
  supervisorSeen.set(event.conversationId, Math.max(supervisorSeen.get(event.conversationId) ?? 0, event.sequence));
  if (event.type === 'content' && event.clientMessageId) {
    const message = messages.get(event.clientMessageId);
    if (message) message.supervisorDeliveries += 1;
  }
}

function assigned(agent: VirtualAgent, conversation: ConversationSummary, at: number): void {
  if (conversation.assignedAgentId !== agent.userId || assignments.has(conversation.id) || !conversationOwner.has(conversation.id)) return;
  assignments.set(conversation.id, { agent, at });
  agent.conversations.add(conversation.id);
  agent.lastSeq.set(conversation.id, 0);
  // Replay from the start: the consumer's first message and the participant events, then live events.
  agent.client.request({ type: 'subscribe', conversationId: conversation.id, fromSeq: 0 }).catch((error: Error) => countError(`subscribe: ${error.message}`));
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
  /** The nodes' group-commit histograms (cumulative bucket counts by `le`, and the messages' sum and count). */
  batches: { seconds: Record<string, number>; wait: Record<string, number>; messagesSum: number; count: number };
  /** The nodes' garbage collections: pause bucket counts by `le` (every kind together) and seconds in all. */
  gc: { buckets: Record<string, number>; seconds: number };
  /** The longest a node's event loop was late since the snapshot before (prom-client resets it at each scrape), ms. */
  loopDelayMaxMs: number;
}

const SNAPSHOT_COUNTERS = [
  'parley_ws_frames_out_total',
  'parley_ws_frames_in_total',
  'parley_send_batch_seconds_bucket',
  'parley_send_batch_wait_seconds_bucket',
  'parley_send_batch_messages_sum',
  'parley_send_batch_messages_count',
  'parley_nodejs_gc_duration_seconds_bucket',
  'parley_nodejs_gc_duration_seconds_sum',
] as const;

/** What the server side counted: WebSocket frames by type, and PostgreSQL's own statistics (cluster mode). */
async function snapshot(nodeUrls: readonly string[], database: pg.Client | undefined): Promise<Snapshot> {
  // One scrape per node: prom-client resets the event loop's delay figures at each, so a second would read them empty.
  const [perNode, stats] = await Promise.all([
    metricsByNode(nodeUrls, [...SNAPSHOT_COUNTERS, 'parley_nodejs_eventloop_lag_max_seconds']),
    database?.query<Record<string, string>>(
      `select d.xact_commit, d.xact_rollback, d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.blks_hit + d.blks_read as blks, w.wal_records, w.wal_bytes, w.wal_sync
       from pg_stat_database d, pg_stat_wal w where d.datname = current_database()`,
    ),
  ]);
  const counters = sumOverNodes(perNode, SNAPSHOT_COUNTERS);
  const delays = perNode.flatMap((node) => node.parley_nodejs_eventloop_lag_max_seconds[''] ?? []);
  const loopDelayMax = delays.length > 0 ? Math.max(...delays) : Number.NaN;
  const row = stats?.rows[0];
  return {
    framesOut: counters.parley_ws_frames_out_total,
    framesIn: counters.parley_ws_frames_in_total,
    database: row ? Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) : undefined,
    batches: {
      seconds: counters.parley_send_batch_seconds_bucket,
      wait: counters.parley_send_batch_wait_seconds_bucket,
      messagesSum: counters.parley_send_batch_messages_sum[''] ?? 0,
      count: counters.parley_send_batch_messages_count[''] ?? 0,
    },
    gc: { buckets: bucketsByLe(counters.parley_nodejs_gc_duration_seconds_bucket), seconds: Object.values(counters.parley_nodejs_gc_duration_seconds_sum).reduce((a, b) => a + b, 0) },
    loopDelayMaxMs: loopDelayMax * 1000,
  };
}

/** The nodes' garbage collections in the window: how many, their time in all, how many paused over 10 ms, the longest (s, a bucket's bound). */
function collectionsBetween(before: Snapshot['gc'], after: Snapshot['gc']): StepResult['collections'] {
  const count = (after.buckets['le="+Inf"'] ?? 0) - (before.buckets['le="+Inf"'] ?? 0);
  if (count <= 0) return undefined;
  const upTo10ms = (after.buckets['le="0.01"'] ?? 0) - (before.buckets['le="0.01"'] ?? 0);
  return { count, ms: (after.seconds - before.seconds) * 1000, over10ms: count - upTo10ms, maxSeconds: histogramQuantile(before.buckets, after.buckets, 1) };
}

function groupCommitsBetween(before: Snapshot['batches'], after: Snapshot['batches']): StepResult['groupCommits'] {
  const count = after.count - before.count;
  if (count <= 0) return undefined;
  return {
    count,
    meanMessages: (after.messagesSum - before.messagesSum) / count,
    p50Seconds: histogramQuantile(before.seconds, after.seconds, 0.5),
    p99Seconds: histogramQuantile(before.seconds, after.seconds, 0.99),
    maxSeconds: histogramQuantile(before.seconds, after.seconds, 1),
    waitP99Seconds: histogramQuantile(before.wait, after.wait, 0.99),
  };
}

function perMessage(before: Record<string, number> | undefined, after: Record<string, number> | undefined, messages: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after ?? {})) out[key] = Math.round(((value - (before?.[key] ?? 0)) / Math.max(1, messages)) * 100) / 100;
  return out;
}

/** Every conversation's stored last sequence, through the REST API (pages of 200, as a manager sees them). */
async function storedLastSequences(admin: RestClient): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await admin.listConversations({ scope: 'all', state: 'all', limit: 200, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) out.set(c.id, c.lastSequence);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** The open WebSocket connections each node counts (its `parley_ws_connections` gauge, all kinds). */
async function nodeConnections(nodeUrls: readonly string[]): Promise<number[]> {
  return Promise.all(nodeUrls.map(async (url) => Object.values(await counterByLabels([url], 'parley_ws_connections')).reduce((s, v) => s + v, 0)));
}

// ---------------------------------------------------------------------------------------------------------------
// One measured step of messaging: open loop at a rate, or closed loop; then the drain and the correctness gate.

interface StepSpec {
  index: number;
  label: string;
  loop: 'open' | 'closed';
  /** Open loop: stored messages per second offered, both directions (consumers write half of it). */
  offered: number | undefined;
  warmupMs: number;
  measureMs: number;
  /** Cut the step short when the backlog shows the server cannot keep up (the ladder; not the single rate). */
  abortable: boolean;
  concurrency: number;
}

interface StepContext {
  active: VirtualConsumer[];
  serverPids: number[];
  nodePids: number[];
  nodeUrls: string[];
  statsClient: pg.Client | undefined;
  admin: RestClient;
  /** Each conversation's stored last sequence before the step (after the previous step's drain). */
  stored: Map<string, number>;
  stopP99Ms: number;
  /** The CPUs the server side and the generator are pinned to, to see how much of them other processes took. */
  serverCpu: number | undefined;
  generatorCpu: number | undefined;
  /** The nodes sample their allocations in each measured window (`--alloc-profile`): signalled at its start and end. */
  allocProfile: boolean;
  /** `--tail-log`: append each step's slowest 1% of deliveries here, with wall-clock times. */
  tailLog: string | undefined;
}

interface Gate {
  sent: number;
  persisted: number;
  acknowledged: number;
  delivered: number;
  failed: number;
  unanswered: number;
  acknowledgedNotDelivered: number;
  deliveredTwice: number;
  supervisorExpected: number;
  supervisorDelivered: number;
  supervisorMissed: number;
  supervisorTwice: number;
  sequenceGaps: number;
  sequenceDuplicates: number;
  supervisorSequenceGaps: number;
  supervisorSequenceDuplicates: number;
  persistedMismatches: number;
  supervisorMismatches: number;
  unexpectedCloses: number;
  drainTimedOut: boolean;
}

interface StepResult extends StepOutcome, StepVerdict {
  index: number;
  label: string;
  loop: 'open' | 'closed';
  consumerPerSecond: number;
  measuredSeconds: number;
  /** Messages (both directions) sent per second in the measured window. */
  sentPerSecond: number;
  deliveredPerSecond: number;
  latency: {
    delivery: LatencySummary;
    ack: LatencySummary;
    consumerToAgent: LatencySummary;
    agentToConsumer: LatencySummary;
    consumerAck: LatencySummary;
    agentAck: LatencySummary;
  };
  /** Where the slowest 1% of deliveries were sent: in a few stalls, or spread over the step. */
  tail: TailClustering | undefined;
  cpuMsPer1000: number;
  /** coreBusyShare: how busy the server side's CPU was in all (the rest of it beyond coreShare was other processes). */
  serverCpu: { ms: number; coreShare: number; nodesMsPer1000: number; coreBusyShare: number | undefined };
  generator: { coreShare: number; eventLoopDelayP99Ms: number; eventLoopDelayMaxMs: number; coreBusyShare: number | undefined };
  /**
   * The generator's own garbage collections in the window, and how many of the slowest 1% of deliveries were in flight
   * during one (it timestamps a receipt only when it runs again, so those may be its pause rather than Parley's).
   */
  generatorCollections: { count: number; ms: number; longestMs: number; slowestInFlight: number };
  serverCounts: { framesOutPerMessage: Record<string, number>; framesInPerMessage: Record<string, number>; databasePerMessage: Record<string, number> | undefined };
  /** The nodes' group commits in the window: how many, their mean size, and quantiles (s) of their duration and of their oldest send's wait. */
  groupCommits: { count: number; meanMessages: number; p50Seconds: number; p99Seconds: number; maxSeconds: number; waitP99Seconds: number } | undefined;
  /** The nodes' garbage collections in the window (each pauses the node's event loop: a batch waits it out). */
  collections: { count: number; ms: number; over10ms: number; maxSeconds: number } | undefined;
  /** The longest any node's event loop was late in the step (ms; NaN when not read). */
  nodeLoopDelayMaxMs: number;
  errors: Record<string, number>;
  drainMs: number;
  gate: Gate;
}

function gateValid(gate: Gate): boolean {
  return (
    gate.unanswered === 0 &&
    gate.acknowledgedNotDelivered === 0 &&
    gate.deliveredTwice === 0 &&
    gate.persisted === gate.acknowledged &&
    gate.supervisorMissed === 0 &&
    gate.supervisorTwice === 0 &&
    gate.sequenceGaps === 0 &&
    gate.sequenceDuplicates === 0 &&
    gate.supervisorSequenceGaps === 0 &&
    gate.supervisorSequenceDuplicates === 0 &&
    gate.persistedMismatches === 0 &&
    gate.supervisorMismatches === 0 &&
    gate.unexpectedCloses === 0
  );
}

async function runStep(spec: StepSpec, ctx: StepContext): Promise<StepResult> {
  currentStep = spec.index;
  stepMessages = [];
  errors = new Map();
  const closesBefore = integrity.unexpectedCloses;
  integrity.sequenceGaps = 0;
  integrity.sequenceDuplicates = 0;
  integrity.supervisorSequenceGaps = 0;
  integrity.supervisorSequenceDuplicates = 0;
  const { active } = ctx;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const generatorPauses: Pause[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) generatorPauses.push({ start: entry.startTime, ms: entry.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const scheduleLag: number[] = [];
  const stepStarted = performance.now();
  let measuredStart = 0;
  let measuredEnd = 0;
  let cpuServerStart = cpuMsOfTrees(ctx.serverPids);
  let cpuNodesStart = cpuMsOfTrees(ctx.nodePids);
  let cpuGeneratorStart = process.cpuUsage();
  let snapshotStart = snapshot(ctx.nodeUrls, ctx.statsClient);
  let snapshotEnd: Promise<Snapshot> | undefined;
  const coreTimes = () => ({
    server: ctx.serverCpu === undefined ? undefined : cpuTimes(ctx.serverCpu),
    generator: ctx.generatorCpu === undefined ? undefined : cpuTimes(ctx.generatorCpu),
  });
  let coreStart = coreTimes();
  let coreEnd = coreStart;
  const busyShare = (which: 'server' | 'generator') => {
    const a = coreStart[which];
    const b = coreEnd[which];
    return a && b && b.totalMs > a.totalMs ? (b.busyMs - a.busyMs) / (b.totalMs - a.totalMs) : undefined;
  };
  // The nodes' allocation samplers (`--alloc-profile`) start or stop at each signal: the measured window's edges.
  const markAllocationWindow = () => {
    if (ctx.allocProfile) for (const pid of ctx.nodePids) process.kill(pid, 'SIGUSR2');
  };
  const startRecording = () => {
    recording = true;
    measuredStart = performance.now();
    coreStart = coreTimes();
    cpuServerStart = cpuMsOfTrees(ctx.serverPids);
    cpuNodesStart = cpuMsOfTrees(ctx.nodePids);
    snapshotStart = snapshot(ctx.nodeUrls, ctx.statsClient);
    cpuGeneratorStart = process.cpuUsage();
    loopDelay.enable();
    markAllocationWindow();
  };
  let cpuServerMs = 0;
  let cpuNodesMs = 0;
  let cpuGeneratorMs = 0;
  const stopRecording = () => {
    if (measuredStart === 0) {
      // Cut short during the warm-up: what was sent is what is measured.
      measuredStart = stepStarted;
      for (const m of stepMessages) m.measured = true;
    }
    recording = false;
    measuredEnd = performance.now();
    coreEnd = coreTimes();
    cpuServerMs = cpuMsOfTrees(ctx.serverPids) - cpuServerStart;
    cpuNodesMs = cpuMsOfTrees(ctx.nodePids) - cpuNodesStart;
    snapshotEnd = snapshot(ctx.nodeUrls, ctx.statsClient);
    const usage = process.cpuUsage(cpuGeneratorStart);
    cpuGeneratorMs = (usage.user + usage.system) / 1000;
    loopDelay.disable();
    markAllocationWindow();
  };

  let aborted: string | undefined;
  if (spec.loop === 'closed') {
    closedLoop = true;
    for (const consumer of active.slice(0, spec.concurrency)) sendFromConsumer(consumer);
    if (spec.warmupMs > 0) await sleep(spec.warmupMs);
    startRecording();
    await sleep(spec.measureMs);
    stopRecording();
    closedLoop = false;
  } else {
    const perMs = (spec.offered as number) / 2 / 1000;
    const totalMs = spec.warmupMs + spec.measureMs;
    const abortMs = abortAfterMs(ctx.stopP99Ms);
    let sent = 0;
    let warm = spec.warmupMs === 0;
    let head = 0;
    let lastBacklogCheck = 0;
    if (warm) startRecording();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        const elapsed = now - stepStarted;
        if (!warm && elapsed >= spec.warmupMs) {
          warm = true;
          startRecording();
        }
        if (spec.abortable && now - lastBacklogCheck >= 250) {
          lastBacklogCheck = now;
          while (head < stepMessages.length && ((stepMessages[head] as Message).ackAt > 0 || (stepMessages[head] as Message).error !== undefined)) head += 1;
          const oldest = stepMessages[head];
          if (oldest && now - oldest.sentAt > abortMs) {
            aborted = `cut short after ${formatNumber(elapsed / 1000, 1)} s: a message had waited ${formatNumber((now - oldest.sentAt) / 1000, 1)} s for its acknowledgement (the server side fell behind)`;
          }
        }
        if (elapsed >= totalMs || aborted !== undefined) {
          clearInterval(timer);
          stopRecording();
          resolve();
          return;
        }
        const due = Math.floor(elapsed * perMs) - sent;
        for (let k = 0; k < due; k++) {
          const intended = stepStarted + (sent + 1) / perMs;
          if (recording) scheduleLag.push(now - intended);
          sendFromConsumer(active[Math.floor(Math.random() * active.length)] as VirtualConsumer);
          sent += 1;
        }
      }, 1);
    });
  }

  // Drain: everything sent gets its answer, its delivery, the agent's reply, and the supervisor's copy.
  const drainStarted = performance.now();
  const settled = (m: Message) => m.error !== undefined || (m.ackAt > 0 && m.deliveredAt > 0 && (!m.watched || m.supervisorDeliveries > 0));
  const unsettled = () => {
    let n = 0;
    for (const m of stepMessages) if (!settled(m)) n += 1;
    return n;
  };
  // Until everything settled, or nothing more settled for 15 s (an overloaded open loop drains its backlog first).
  let drainTimedOut = false;
  let lastProgress = performance.now();
  let remaining = unsettled();
  while (remaining > 0) {
    await sleep(100);
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

  const all = stepMessages;
  const windowMs = Math.max(1, measuredEnd - measuredStart);
  const inWindow = (t: number) => t >= measuredStart && t <= measuredEnd;
  // Open loop: the messages sent in the measured window. Closed loop: those acknowledged in it (at the ceiling a
  // round trip may outlast the window, and the window's own messages would all complete in the drain).
  const measured = spec.loop === 'open' ? all.filter((m) => m.measured) : all.filter((m) => m.ackAt > 0 && inWindow(m.ackAt));
  const ackLatency = (list: Message[]) => summarize(list.filter((m) => m.ackAt > 0).map((m) => m.ackAt - m.sentAt));
  const deliveryLatency = (list: Message[]) => summarize(list.filter((m) => m.deliveredAt > 0).map((m) => m.deliveredAt - m.sentAt));
  const fromConsumers = measured.filter((m) => m.from === 'consumer');
  const fromAgents = measured.filter((m) => m.from === 'agent');
  const ackedInWindow = all.filter((m) => m.ackAt > 0 && inWindow(m.ackAt)).length;
  const deliveredInWindow = all.filter((m) => m.deliveredAt > 0 && inWindow(m.deliveredAt)).length;
  const sentInWindow = all.filter((m) => inWindow(m.sentAt)).length;
  const [before, after] = await Promise.all([snapshotStart, snapshotEnd]);
  gcObserver.disconnect();
  const pausesInWindow = generatorPauses.filter((p) => p.start + p.ms > measuredStart && p.start < measuredEnd);
  const deliveries = measured.filter((m) => m.deliveredAt > 0).map((m) => ({ at: m.sentAt, ms: m.deliveredAt - m.sentAt }));
  const tail = tailClustering(deliveries);
  if (ctx.tailLog && tail) {
    // Wall-clock milliseconds (performance.timeOrigin + the monotonic clock), to set beside the nodes' logs (pino's
    // `time`), PostgreSQL's log and the generator's own collections.
    const wall = (t: number) => Math.round((performance.timeOrigin + t) * 1000) / 1000;
    const lines = measured
      .filter((m) => m.deliveredAt > 0 && m.deliveredAt - m.sentAt >= tail.thresholdMs)
      .map((m) => JSON.stringify({ step: spec.label, from: m.from, sentAt: wall(m.sentAt), deliveredAt: wall(m.deliveredAt), ms: m.deliveredAt - m.sentAt }));
    const pauses = pausesInWindow.map((p) => JSON.stringify({ step: spec.label, generatorGc: wall(p.start), ms: p.ms }));
    fs.mkdirSync(path.dirname(ctx.tailLog), { recursive: true });
    fs.appendFileSync(ctx.tailLog, [...lines, ...pauses].map((l) => `${l}\n`).join(''));
  }

  // The correctness gate: persisted = acknowledged = delivered, no gap, no duplicate, the supervisor saw everything.
  const stored = await storedLastSequences(ctx.admin);
  let persisted = 0;
  let persistedMismatches = 0;
  let supervisorMismatches = 0;
  for (const consumer of active) {
    const last = stored.get(consumer.conversationId) ?? 0;
    persisted += last - (ctx.stored.get(consumer.conversationId) ?? 0);
    const agentSeen = assignments.get(consumer.conversationId)?.agent.lastSeq.get(consumer.conversationId) ?? -1;
    if (last !== consumer.lastSeq || last !== agentSeen) persistedMismatches += 1;
    if (consumer.watched && supervisorSeen.get(consumer.conversationId) !== last) supervisorMismatches += 1;
  }
  ctx.stored = stored;
  const acknowledged = all.filter((m) => m.ackAt > 0);
  const watchedAcked = acknowledged.filter((m) => m.watched);
  const gate: Gate = {
    sent: all.length,
    persisted,
    acknowledged: acknowledged.length,
    delivered: all.filter((m) => m.deliveries > 0).length,
    failed: all.filter((m) => m.error !== undefined).length,
    unanswered: all.filter((m) => m.ackAt === 0 && m.error === undefined).length,
    acknowledgedNotDelivered: acknowledged.filter((m) => m.deliveries === 0).length,
    deliveredTwice: all.filter((m) => m.deliveries > 1).length,
    supervisorExpected: watchedAcked.length,
    supervisorDelivered: watchedAcked.filter((m) => m.supervisorDeliveries > 0).length,
    supervisorMissed: watchedAcked.filter((m) => m.supervisorDeliveries === 0).length,
    supervisorTwice: all.filter((m) => m.supervisorDeliveries > 1).length,
    sequenceGaps: integrity.sequenceGaps,
    sequenceDuplicates: integrity.sequenceDuplicates,
    supervisorSequenceGaps: integrity.supervisorSequenceGaps,
    supervisorSequenceDuplicates: integrity.supervisorSequenceDuplicates,
    persistedMismatches,
    supervisorMismatches,
    unexpectedCloses: integrity.unexpectedCloses - closesBefore,
    drainTimedOut,
  };
  const valid = gateValid(gate);
  const deliveryAll = deliveryLatency(measured);
  const achieved = ackedInWindow / (windowMs / 1000);
  const outcome: StepOutcome = {
    offered: spec.offered ?? achieved,
    achieved,
    deliveryP99Ms: deliveryAll.p99,
    scheduleLagP99Ms: scheduleLag.length > 0 ? summarize(scheduleLag).p99 : null,
    valid,
    aborted,
  };
  const verdict = spec.loop === 'open' ? judgeStep(outcome, ctx.stopP99Ms) : { held: false, stop: undefined };
  const result: StepResult = {
    index: spec.index,
    label: spec.label,
    loop: spec.loop,
    ...outcome,
    ...verdict,
    consumerPerSecond: fromConsumers.length / (windowMs / 1000),
    measuredSeconds: windowMs / 1000,
    sentPerSecond: sentInWindow / (windowMs / 1000),
    deliveredPerSecond: deliveredInWindow / (windowMs / 1000),
    latency: {
      delivery: deliveryAll,
      ack: ackLatency(measured),
      consumerToAgent: deliveryLatency(fromConsumers),
      agentToConsumer: deliveryLatency(fromAgents),
      consumerAck: ackLatency(fromConsumers),
      agentAck: ackLatency(fromAgents),
    },
    tail,
    cpuMsPer1000: (cpuServerMs / Math.max(1, ackedInWindow)) * 1000,
    serverCpu: {
      ms: cpuServerMs,
      coreShare: cpuServerMs / windowMs,
      nodesMsPer1000: (cpuNodesMs / Math.max(1, ackedInWindow)) * 1000,
      coreBusyShare: busyShare('server'),
    },
    generator: { coreShare: cpuGeneratorMs / windowMs, eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6, eventLoopDelayMaxMs: loopDelay.max / 1e6, coreBusyShare: busyShare('generator') },
    generatorCollections: {
      count: pausesInWindow.length,
      ms: pausesInWindow.reduce((sum, p) => sum + p.ms, 0),
      longestMs: pausesInWindow.reduce((most, p) => Math.max(most, p.ms), 0),
      slowestInFlight: tail ? inFlightDuringPauses(deliveries, tail.thresholdMs, generatorPauses) : 0,
    },
    serverCounts: {
      framesOutPerMessage: perMessage(before.framesOut, after?.framesOut, ackedInWindow),
      framesInPerMessage: perMessage(before.framesIn, after?.framesIn, ackedInWindow),
      databasePerMessage: after?.database ? perMessage(before.database, after.database, ackedInWindow) : undefined,
    },
    groupCommits: after ? groupCommitsBetween(before.batches, after.batches) : undefined,
    collections: after ? collectionsBetween(before.gc, after.gc) : undefined,
    nodeLoopDelayMaxMs: after?.loopDelayMaxMs ?? Number.NaN,
    errors: Object.fromEntries(errors),
    drainMs,
    gate,
  };
  // The step's messages are no longer needed (a long ladder would otherwise hold millions).
  for (const [id, m] of messages) if (m.step === spec.index) messages.delete(id);
  stepMessages = [];
  return result;
}

function gateLine(gate: Gate, valid: boolean): string {
  return `${valid ? 'OK' : 'VOID'}: sent ${gate.sent}, persisted ${gate.persisted}, acknowledged ${gate.acknowledged}, delivered ${gate.delivered}, failed ${gate.failed}, unanswered ${gate.unanswered}, acknowledged but not delivered ${gate.acknowledgedNotDelivered}, delivered twice ${gate.deliveredTwice}; supervisor ${gate.supervisorDelivered} of ${gate.supervisorExpected} (missed ${gate.supervisorMissed}, twice ${gate.supervisorTwice}); sequence gaps ${gate.sequenceGaps + gate.supervisorSequenceGaps}, duplicates ${gate.sequenceDuplicates + gate.supervisorSequenceDuplicates}; stored last sequence differs ${gate.persistedMismatches} (supervisor ${gate.supervisorMismatches}); sockets closed ${gate.unexpectedCloses}${gate.drainTimedOut ? '; the drain timed out' : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Idle connections: the node's memory per idle connection, and the most connections it holds.

interface IdleResult {
  requested: number;
  held: number;
  failed: number;
  firstFailure: { at: number; reason: string } | undefined;
  closedMeanwhile: number;
  fdLimit: { soft: number; hard: number } | undefined;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  /**
   * The slope of the nodes' RSS over the later half of the batches: what one more connection costs, without the
   * one-off growth of V8's young generation (up to 3 × 64 MB with the nodes' flags) that the first batches pay for.
   */
  marginalBytesPerConnection: number;
  /** Each node's open WebSocket connections (its own gauge, all kinds) with the idle sockets open. */
  nodes: { name: string; connectionsBefore: number; connectionsHeld: number }[];
  mostOnOneNode: number;
  batches: { open: number; rssBytes: number }[];
  openSeconds: number;
}

async function idlePhase(options: MessagingOptions, parley: ParleyUnderTest, widgetKey: string): Promise<IdleResult> {
  const publicRest = createRestClient({ baseUrl: parley.adminUrl });
  const started = performance.now();
  const tokens: string[] = [];
  await inParallel(options.idle, 16, async (i) => {
    tokens[i] = (await publicRest.consumerSession({ widgetKey })).accessToken;
  });
  log(`idle connections: ${options.idle} consumer sessions (${formatNumber((performance.now() - started) / 1000, 1)} s); reading the nodes' memory until it settles …`);
  const nodePids = parley.nodes.map((n) => n.process.pid);
  const nodeUrls = parley.nodes.map((n) => n.url);
  const rssBefore = await settledRss(nodePids);
  const connectionsBefore = await nodeConnections(nodeUrls);
  const idle: WireClient[] = [];
  let failed = 0;
  let closedMeanwhile = 0;
  let firstFailure: { at: number; reason: string } | undefined;
  const batches: { open: number; rssBytes: number }[] = [];
  const openStarted = performance.now();
  for (let start = 0; start < options.idle; start += options.idleBatch) {
    const count = Math.min(options.idleBatch, options.idle - start);
    let batchFailures = 0;
    await inParallel(count, options.connectConcurrency, async (k) => {
      const i = start + k;
      try {
        const client = await WireClient.connect(parley.urlFor(i), tokens[i] as string);
        client.onClose = () => {
          closedMeanwhile += 1;
        };
        idle.push(client);
      } catch (error) {
        batchFailures += 1;
        firstFailure ??= { at: idle.length + 1, reason: error instanceof Error ? error.message : String(error) };
      }
    });
    failed += batchFailures;
    const open = idle.filter((c) => c.open).length;
    batches.push({ open, rssBytes: parley.nodesRss() });
    log(`  ${open} idle sockets open, nodes' RSS ${MB(parley.nodesRss())}${batchFailures > 0 ? `; ${batchFailures} failed in this batch, stopping: ${firstFailure?.reason}` : ''}`);
    if (batchFailures > 0) break;
  }
  const openSeconds = (performance.now() - openStarted) / 1000;
  const rssAfter = await settledRss(nodePids);
  const held = idle.filter((c) => c.open).length;
  const connectionsHeld = await nodeConnections(nodeUrls);
  const closedByServer = closedMeanwhile;
  for (const client of idle) client.close();
  await sleep(2_000);
  return {
    requested: options.idle,
    held,
    failed,
    firstFailure,
    closedMeanwhile: closedByServer,
    fdLimit: openFileLimit(process.pid),
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    bytesPerConnection: (rssAfter - rssBefore) / Math.max(1, held),
    marginalBytesPerConnection: slope(batches.slice(Math.floor(batches.length / 2)).map((b) => ({ x: b.open, y: b.rssBytes }))),
    nodes: parley.nodes.map((n, i) => ({ name: n.name, connectionsBefore: connectionsBefore[i] ?? 0, connectionsHeld: connectionsHeld[i] ?? 0 })),
    mostOnOneNode: Math.max(0, ...connectionsHeld),
    batches,
    openSeconds,
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface Summary {
  highestHeld: number | undefined;
  cpuMsPer1000At1k: number | undefined;
  cpuMsPer1000At5k: number | undefined;
  ceilingPerSecond: number | undefined;
  ceilingLabel: string | undefined;
  ceilingServerCoreShare: number | undefined;
  memoryPerIdleConnectionBytes: number | undefined;
  mostConnectionsOneNode: number | undefined;
  nodes: number;
}

function readBaseline(file: string): { summary: Summary; mode: string } {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { summary?: Summary; mode?: string };
  if (!json.summary) throw new UsageError(`--baseline ${file}: not a results file of this benchmark (no summary)`);
  return { summary: json.summary, mode: json.mode ?? '?' };
}

async function main(): Promise<void> {
  let options: MessagingOptions;
  let baseline: { summary: Summary; mode: string } | undefined;
  try {
    const parsed = parseMessagingArgs(process.argv.slice(2));
    if (parsed === 'help') {
      log(MESSAGING_USAGE);
      return;
    }
    options = parsed;
    if (options.baseline) baseline = readBaseline(options.baseline);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${MESSAGING_USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }
  const plan = options.messaging;
  const messaging = plan.kind !== 'none';

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
  // Every socket is a file descriptor here and on a node (which inherits this limit): raise the soft limit first.
  const socketsWanted = (messaging ? options.consumers + options.agents + options.burst + 1 : 0) + options.idle;
  const fdLimit = raiseOpenFileLimit(process.pid, socketsWanted + 1024);

  const mode =
    options.storage === 'embedded'
      ? 'embedded (PGlite)'
      : `cluster: PostgreSQL${options.redis ? ' + Redis' : ''}, ${options.nodes} node${options.nodes > 1 ? 's' : ''}${options.balancer ? ' behind the balancer' : ''}`;
  const planText =
    plan.kind === 'ladder'
      ? `open-loop steps ${plan.steps.map((s) => formatNumber(s)).join(', ')} stored msg/s (both directions), ${options.warmup} s warm-up + ${options.duration} s each${plan.ceilingSeconds > 0 ? `, then the closed-loop ceiling for ${plan.ceilingSeconds} s` : ''}`
      : plan.kind === 'rate'
        ? `one open-loop rate: ${plan.consumerPerSecond} consumer msg/s, each answered (${formatNumber(plan.consumerPerSecond * 2, 1)} stored msg/s), ${options.warmup} s warm-up + ${options.duration} s`
        : plan.kind === 'max'
          ? `closed loop (${options.concurrency} consumers), ${options.warmup} s warm-up + ${options.duration} s`
          : 'no messaging';
  log(`Parley messaging load: ${mode}`);
  if (messaging) {
    log(`  ${options.consumers} consumers, ${options.agents} agents x ${options.capacity}, a supervisor watching ${formatNumber(options.supervise * 100, 0)}% of the conversations`);
    log(`  ${planText}${options.burst > 0 ? `; burst of ${options.burst}` : ''}`);
  }
  if (options.idle > 0) log(`  ${options.idle} idle connections, in batches of ${options.idleBatch}`);
  log(`  machine      ${machine.cpuModel} x ${machine.cpus}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}`);
  log(`  load average ${formatLoad(loadBefore)} (1, 5, 15 min) at start`);
  log(`  pinning      ${pinning}`);
  log(`  open files   ${fdLimit ? `soft ${fdLimit.soft}, hard ${fdLimit.hard}` : 'limit unknown'} (this process and the nodes; ${socketsWanted} sockets wanted)`);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-messaging-'));
  const buildDir = path.join(REPO_ROOT, '.tmp', 'bench', `build-${process.pid}`);
  // Deleted by the clean-up, or by the reaper if this process is killed before it runs (scripts/cluster/reaper.ts).
  const releaseWorkDir = guard({ kind: 'folder', path: workDir });
  const releaseBuildDir = guard({ kind: 'folder', path: buildDir });
  cleanups.push(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
    releaseWorkDir();
  });
  cleanups.push(() => {
    fs.rmSync(buildDir, { recursive: true, force: true });
    releaseBuildDir();
  });

  let services: Services | undefined;
  if (options.storage === 'postgres') {
    log(`\nstarting a throw-away PostgreSQL${options.redis ? ' and Redis' : ''} …`);
    services = await startServices({ postgres: true, redis: options.redis, cpu: serverCpu });
    const stopServices = services.stop;
    cleanups.push(() => stopServices());
  } else services = { postgres: undefined, redis: undefined, pids: [], stop: async () => {} };

  // The references, before Parley starts, with the same pinning.
  let echo: EchoReference | undefined;
  let relay: RelayReference | undefined;
  let commits: CommitReference | undefined;
  let pubsub: PubSubReference | undefined;
  if (options.limits && messaging) {
    log(`measuring the references (ws echo, ws relay, raw commits${services.redis ? ', Redis pub/sub' : ''}) …`);
    echo = await measureEcho({ cpu: serverCpu, cwd: REPO_ROOT, seconds: 3, sockets: 100 });
    relay = await measureRelay({ cpu: serverCpu, cwd: REPO_ROOT, seconds: 5, consumers: options.consumers, agents: options.agents });
    commits = await measureCommits({ cpu: serverCpu, cwd: REPO_ROOT, postgresUrl: services.postgres?.url, seconds: 3 });
    if (services.redis) pubsub = await measurePubSub({ cpu: serverCpu, cwd: REPO_ROOT, url: services.redis.url, seconds: 3 });
  }

  let entry: { kind: 'bundle'; file: string } | { kind: 'tsx' } = { kind: 'tsx' };
  if (options.server === 'bundle') entry = { kind: 'bundle', file: await buildServerBundle(buildDir) };
  let allocationSampler: string | undefined;
  if (options.allocProfile) {
    fs.mkdirSync(options.allocProfile, { recursive: true });
    allocationSampler = await buildAllocationSampler(buildDir);
  }
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
    // An agent with 10 conversations answers 50 messages/s at 20,000 msg/s: the default 20 frames/s would refuse them.
    WS_RATE_LIMIT_PER_SECOND: BENCH_WS_RATE_LIMIT,
    WS_RATE_LIMIT_BURST: BENCH_WS_RATE_LIMIT,
    ...options.serverEnv,
    ...(options.allocProfile ? { PARLEY_ALLOC_PROFILE_DIR: path.resolve(options.allocProfile) } : {}),
    ...(options.allocProfile && options.allocProfilePromoted ? { PARLEY_ALLOC_PROFILE_PROMOTED: '1' } : {}),
  };
  log(`  per-connection frame limit: WS_RATE_LIMIT_PER_SECOND=${serverEnv.WS_RATE_LIMIT_PER_SECOND}, WS_RATE_LIMIT_BURST=${serverEnv.WS_RATE_LIMIT_BURST}`);
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
      nodeArgs: [
        ...options.nodeOptions,
        ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`] : []),
        ...(allocationSampler ? ['--import', pathToFileURL(allocationSampler).href] : []),
      ],
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
    const setting = (await client.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]?.synchronous_commit;
    if (setting !== 'on') log(`  WARNING: the nodes' PostgreSQL has synchronous_commit=${setting}: commits do not wait for their WAL flush`);
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

  let ramp:
    | {
        sockets: number;
        failures: number;
        seconds: number;
        perSecond: number;
        latency: LatencySummary;
        rssBeforeBytes: number;
        rssAfterBytes: number;
        bytesPerConnection: number;
        metricsBytesPerConnection: number;
      }
    | undefined;
  let quiet: { serverCoreShare: number; nodesCoreShare: number } | undefined;
  const steps: StepResult[] = [];
  let ceiling: StepResult | undefined;
  let ladderStop: string | undefined;
  let burst: { conversations: number; assigned: number; seconds: number; perSecond: number; latency: LatencySummary; ackLatency: LatencySummary } | undefined;
  let watchedCount = 0;

  if (messaging) {
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

    const watchEvery = options.supervise;
    const newConsumer = async (i: number): Promise<VirtualConsumer> => {
      const url = parley.urlFor(i);
      const session = await publicRest.consumerSession({ widgetKey: account.widgetKey });
      const { conversation } = await restAs(url, session.accessToken).startConversation();
      // An even spread: consumer i is watched when the running share crosses a whole number.
      const watched = i < options.consumers && Math.floor((i + 1) * watchEvery) > Math.floor(i * watchEvery);
      const consumer: VirtualConsumer = { index: i, token: session.accessToken, conversationId: conversation.id, client: undefined, lastSeq: 0, watched };
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
    ramp = {
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
    await waitFor('routing the conversations', () => assignments.size >= connected, 600_000);
    log(`set-up: ${assignments.size} conversations routed to agents and subscribed (${formatNumber((performance.now() - routingStarted) / 1000, 1)} s)`);

    // The supervisor: a manager's socket subscribed to a share of the conversations, from their first event.
    const active = consumers.filter((c) => c.client);
    const watched = active.filter((c) => c.watched);
    watchedCount = watched.length;
    if (watched.length > 0) {
      const user = await admin.call('createUser', { body: { email: 'supervisor@bench.parley', name: 'Supervisor', role: 'manager', password: AGENT_PASSWORD } });
      const token = (await publicRest.login({ email: user.email, password: AGENT_PASSWORD })).accessToken;
      const supervisor = await WireClient.connect(parley.urlFor(0), token);
      clients.push(supervisor);
      supervisor.onFrame = (frame) => supervisorFrame(frame);
      supervisor.onClose = (code) => {
        if (code !== 1000) integrity.unexpectedCloses += 1;
      };
      for (const consumer of watched) supervisorSeen.set(consumer.conversationId, 0);
      await inParallel(watched.length, 20, async (i) => {
        await supervisor.request({ type: 'subscribe', conversationId: (watched[i] as VirtualConsumer).conversationId, fromSeq: 0 });
      });
    }
    // Everyone caught up with what routing wrote (the agents' and the supervisor's replays) before the first step.
    await waitFor(
      'the replays after routing',
      () => active.every((c) => assignments.get(c.conversationId)?.agent.lastSeq.get(c.conversationId) === c.lastSeq && (!c.watched || supervisorSeen.get(c.conversationId) === c.lastSeq)),
      60_000,
    ).catch((error: Error) => log(`  (${error.message}; the first step's gate will show it)`));
    log(`set-up: a supervisor watching ${watched.length} conversations`);
    await sleep(1_000);

    // The server side's CPU with every socket open and nothing sent: timers, heartbeats, the routing sweep.
    const quietMs = 5_000;
    const quietServerStart = cpuMsOfTrees(serverPids);
    const quietNodesStart = cpuMsOfTrees(nodePids);
    await sleep(quietMs);
    quiet = { serverCoreShare: (cpuMsOfTrees(serverPids) - quietServerStart) / quietMs, nodesCoreShare: (cpuMsOfTrees(nodePids) - quietNodesStart) / quietMs };

    // ------------------------------------------------------------------ phase 2: messaging
    const ctx: StepContext = {
      active,
      serverPids,
      nodePids,
      nodeUrls,
      statsClient,
      admin,
      stored: await storedLastSequences(admin),
      stopP99Ms: options.stopP99Ms,
      serverCpu,
      generatorCpu: serverCpu === undefined ? undefined : 1,
      allocProfile: options.allocProfile !== undefined,
      tailLog: options.tailLog,
    };
    const concurrency = Math.min(options.concurrency, active.length);
    const announce = (r: StepResult) =>
      log(
        `phase 2, ${r.label}: ${formatNumber(r.achieved, 1)} msg/s acknowledged${r.loop === 'open' ? ` of ${formatNumber(r.offered)} offered` : ''}, delivery p99 ${formatMs(r.latency.delivery.p99)} ms, ack p99 ${formatMs(r.latency.ack.p99)} ms, ${r.valid ? 'gate OK' : 'VOID: the correctness gate failed'}${r.aborted ? `; ${r.aborted}` : ''}`,
      );
    if (plan.kind === 'ladder') {
      for (const [i, offered] of plan.steps.entries()) {
        const result = await runStep(
          { index: i + 1, label: `step ${formatNumber(offered)} msg/s`, loop: 'open', offered, warmupMs: options.warmup * 1000, measureMs: options.duration * 1000, abortable: true, concurrency },
          ctx,
        );
        steps.push(result);
        announce(result);
        if (result.stop) {
          ladderStop = `the ladder stopped after ${formatNumber(offered)} msg/s: ${result.stop}`;
          log(`  ${ladderStop}`);
          break;
        }
      }
      if (plan.ceilingSeconds > 0) {
        ceiling = await runStep(
          {
            index: plan.steps.length + 1,
            label: `ceiling (closed loop, ${concurrency} consumers)`,
            loop: 'closed',
            offered: undefined,
            warmupMs: options.warmup * 1000,
            measureMs: plan.ceilingSeconds * 1000,
            abortable: false,
            concurrency,
          },
          ctx,
        );
        announce(ceiling);
      }
    } else if (plan.kind === 'rate') {
      const result = await runStep(
        {
          index: 1,
          label: `open loop, ${plan.consumerPerSecond} consumer msg/s`,
          loop: 'open',
          offered: plan.consumerPerSecond * 2,
          warmupMs: options.warmup * 1000,
          measureMs: options.duration * 1000,
          abortable: false,
          concurrency,
        },
        ctx,
      );
      steps.push(result);
      announce(result);
    } else if (plan.kind === 'max') {
      ceiling = await runStep(
        {
          index: 1,
          label: `closed loop, ${concurrency} consumers`,
          loop: 'closed',
          offered: undefined,
          warmupMs: options.warmup * 1000,
          measureMs: options.duration * 1000,
          abortable: false,
          concurrency,
        },
        ctx,
      );
      announce(ceiling);
    }

    // ------------------------------------------------------------------ phase 3: burst of new conversations
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
  }

  // ------------------------------------------------------------------ phase 4: idle connections
  const idle = options.idle > 0 ? await idlePhase(options, parley, account.widgetKey) : undefined;

  const loadAfter = loadAverage();
  const allSteps = [...steps, ...(ceiling ? [ceiling] : [])];
  const ceilingFigure = ceiling ?? (plan.kind === 'rate' ? steps[0] : undefined);
  const summary: Summary = {
    highestHeld: highestHeld(steps),
    cpuMsPer1000At1k: cpuPer1000At(steps, 1000),
    cpuMsPer1000At5k: cpuPer1000At(steps, 5000),
    ceilingPerSecond: ceilingFigure?.achieved,
    ceilingLabel: ceilingFigure ? (ceiling ? 'ceiling' : 'achieved at the single rate (no ceiling measured)') : undefined,
    ceilingServerCoreShare: ceilingFigure?.serverCpu.coreShare,
    memoryPerIdleConnectionBytes: idle && idle.held > 0 ? idle.bytesPerConnection : undefined,
    mostConnectionsOneNode: idle?.mostOnOneNode,
    nodes: options.nodes,
  };

  // ------------------------------------------------------------------ report
  const lines: string[] = [''];
  lines.push(`== Parley messaging load: ${mode} ==`);
  lines.push(`machine: ${machine.cpuModel} x ${machine.cpus}, Node ${machine.node}; load average ${formatLoad(loadBefore)} at start, ${formatLoad(loadAfter)} at end`);
  lines.push(`pinning: ${pinning}`);
  if (messaging) lines.push(`workload: ${options.consumers} consumers, ${options.agents} agents x ${options.capacity}, supervisor watching ${watchedCount}; ${planText}`);
  if (echo || relay || commits || pubsub) {
    const rows: string[][] = [['', 'rate', 'p50 ms', 'p99 ms']];
    if (echo) {
      rows.push(['bare ws echo, 1 socket, 1 in flight', rate(echo.single.perSecond), formatMs(echo.single.latency.p50), formatMs(echo.single.latency.p99)]);
      rows.push([`bare ws echo, ${echo.parallel.sockets} sockets, 1 in flight each`, rate(echo.parallel.perSecond), formatMs(echo.parallel.latency.p50), formatMs(echo.parallel.latency.p99)]);
    }
    if (relay) {
      rows.push([`raw ws relay, ${relay.consumers} + ${relay.agents} sockets, closed loop (msgs, both ways)`, rate(relay.perSecond), formatMs(relay.latency.p50), formatMs(relay.latency.p99)]);
    }
    if (commits) {
      const l = commits.singleRowCommitLatency;
      rows.push([`${commits.database}: single-row insert commits (p99.9 ${formatMs(l.p999)}, max ${formatMs(l.max)})`, rate(commits.singleRowCommitsPerSecond), formatMs(l.p50), formatMs(l.p99)]);
      rows.push(['  100-row insert commits (rows)', rate(commits.batchRowsPerSecond), '', '']);
    }
    if (pubsub) {
      rows.push(['Redis pub/sub, 1 in flight', rate(pubsub.oneInFlight.perSecond), formatMs(pubsub.oneInFlight.p50Ms), formatMs(pubsub.oneInFlight.p99Ms)]);
      rows.push(['Redis pub/sub, 100 in flight', rate(pubsub.hundredInFlight.perSecond), formatMs(pubsub.hundredInFlight.p50Ms), formatMs(pubsub.hundredInFlight.p99Ms)]);
    }
    lines.push('');
    lines.push('references (server side pinned as Parley is, same run)');
    lines.push(table(rows));
    const notes: string[] = [];
    if (relay) notes.push(`the relay's generator used ${formatNumber(relay.generatorCoreShare * 100, 0)}% of its core${relay.generatorCoreShare > 0.9 ? ' (so the figure is the generator’s)' : ''}`);
    if (commits) notes.push(`synchronous_commit=${commits.synchronousCommit}${options.storage === 'embedded' ? '; PGlite never fsyncs' : ', the nodes’ own PostgreSQL'}`);
    lines.push(`  (${notes.join('; ')})`);
  }
  if (ramp) {
    lines.push('');
    lines.push(
      `connect ramp: ${ramp.sockets} sockets in ${formatNumber(ramp.seconds, 2)} s = ${rate(ramp.perSecond)}; connect p50 ${formatMs(ramp.latency.p50)} ms, p99 ${formatMs(ramp.latency.p99)} ms${ramp.failures ? `; ${ramp.failures} FAILED` : ''}`,
    );
    lines.push(
      `  memory: nodes' RSS ${MB(ramp.rssBeforeBytes)} -> ${MB(ramp.rssAfterBytes)} = ${kB(ramp.bytesPerConnection)} per connection (/metrics process_resident_memory_bytes: ${kB(ramp.metricsBytesPerConnection)})`,
    );
  }
  if (quiet) lines.push(`quiet (every socket open, nothing sent, 5 s): server side ${formatNumber(quiet.serverCoreShare * 100, 1)}% of a core, nodes ${formatNumber(quiet.nodesCoreShare * 100, 1)}%`);
  if (allSteps.length > 0) {
    lines.push('');
    lines.push('messaging: rates are stored messages/s, both directions (a consumer message and its answer are two); latency over both directions');
    const rows: string[][] = [['', 'offered', 'achieved', 'delivery p50', 'p99', 'p99.9', 'ack p50', 'p99', 'p99.9', 'CPU ms/1k', 'errors', 'gate', 'held']];
    for (const r of allSteps) {
      const errorCount = Object.values(r.errors).reduce((s, v) => s + v, 0);
      rows.push([
        `  ${r.label}`,
        r.loop === 'open' ? formatNumber(r.offered) : 'closed',
        formatNumber(r.achieved, 0),
        formatMs(r.latency.delivery.p50),
        formatMs(r.latency.delivery.p99),
        formatMs(r.latency.delivery.p999),
        formatMs(r.latency.ack.p50),
        formatMs(r.latency.ack.p99),
        formatMs(r.latency.ack.p999),
        formatNumber(r.cpuMsPer1000, 0),
        String(errorCount),
        r.valid ? 'OK' : 'VOID',
        r.loop === 'open' ? (r.held ? 'yes' : 'no') : '',
      ]);
    }
    lines.push(table(rows));
    for (const r of allSteps) {
      lines.push(`  ${r.label}: ${formatNumber(r.measuredSeconds, 1)} s measured, drain ${formatNumber(r.drainMs / 1000, 1)} s${r.aborted ? `; ${r.aborted}` : ''}`);
      lines.push(
        table([
          ['    latency (ms)', 'n', 'p50', 'p90', 'p99', 'p99.9', 'max'],
          latencyRow('    consumer send -> ack', r.latency.consumerAck),
          latencyRow('    consumer send -> delivered to agent', r.latency.consumerToAgent),
          latencyRow('    agent send -> ack', r.latency.agentAck),
          latencyRow('    agent send -> delivered to consumer', r.latency.agentToConsumer),
        ]),
      );
      lines.push(
        `    server side CPU ${formatNumber(r.serverCpu.coreShare * 100, 0)}% of a core, ${formatNumber(r.cpuMsPer1000, 0)} ms per 1,000 messages (nodes ${formatNumber(r.serverCpu.nodesMsPer1000, 0)})${r.serverCpu.coreBusyShare !== undefined ? `; CPU ${serverCpu} ${formatNumber(r.serverCpu.coreBusyShare * 100, 0)}% busy in all${r.serverCpu.coreBusyShare - r.serverCpu.coreShare > 0.1 ? ' (other processes took the difference)' : ''}` : ''}; generator ${formatNumber(r.generator.coreShare * 100, 0)}% of its core${r.generator.coreBusyShare !== undefined ? ` (its CPU ${formatNumber(r.generator.coreBusyShare * 100, 0)}% busy in all)` : ''}, event-loop delay p99 ${formatMs(r.generator.eventLoopDelayP99Ms)} ms (max ${formatMs(r.generator.eventLoopDelayMaxMs)})${r.scheduleLagP99Ms !== null ? `, send-schedule lag p99 ${formatMs(r.scheduleLagP99Ms)} ms` : ''}`,
      );
      const frames = (counts: Record<string, number>) =>
        Object.entries(counts)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k.replace(/^type="(.*)"$/, '$1')} ${v}`)
          .join(', ');
      const out = frames(r.serverCounts.framesOutPerMessage);
      const t = r.tail;
      if (t) {
        lines.push(
          `    slowest 1% of deliveries (${formatNumber(t.count)}, ≥ ${formatMs(t.thresholdMs)} ms): sent in ${formatNumber(t.windows)} of ${formatNumber(t.totalWindows)} 100-ms windows, ${formatNumber(t.topShare * 100)}% of them in the ${t.top} worst; the worst held ${formatNumber(t.worst.count)} at ${formatNumber(t.worst.atMs / 1000, 1)} s`,
        );
      }
      lines.push(`    per acknowledged message: WebSocket frames ${out === '' ? '(no counters read from the nodes’ /metrics)' : `out ${out}; in ${frames(r.serverCounts.framesInPerMessage)}`}`);
      const d = r.serverCounts.databasePerMessage;
      if (d) {
        lines.push(
          `    PostgreSQL per acknowledged message: ${d.xact_commit} commits, ${d.wal_sync} WAL syncs, ${d.wal_records} WAL records (${formatNumber(d.wal_bytes ?? 0)} bytes), rows: ${d.tup_fetched} fetched, ${d.tup_inserted} inserted, ${d.tup_updated} updated; ${d.blks} buffers read or hit (a plan that scans shows here)`,
        );
      }
      const g = r.groupCommits;
      if (g) {
        const le = (seconds: number) => (Number.isFinite(seconds) ? `≤ ${formatMs(seconds * 1000)}` : '> 1,000');
        lines.push(
          `    group commits: ${formatNumber(g.count)} (${formatNumber(g.meanMessages, 1)} sends each); storing p50 ${le(g.p50Seconds)}, p99 ${le(g.p99Seconds)}, max ${le(g.maxSeconds)} ms; oldest send's wait p99 ${le(g.waitP99Seconds)} ms`,
        );
      }
      const c = r.collections;
      if (c) {
        lines.push(
          `    node garbage collection: ${formatNumber(c.count)} collections, ${formatNumber(c.ms)} ms in all (${formatNumber((c.ms / (r.measuredSeconds * 1000)) * 100, 1)}% of the step); ${formatNumber(c.over10ms)} paused over 10 ms, the longest ${Number.isFinite(c.maxSeconds) ? `≤ ${formatMs(c.maxSeconds * 1000)}` : '> 1,000'} ms; event loop late at most ${formatMs(r.nodeLoopDelayMaxMs)} ms`,
        );
      }
      const own = r.generatorCollections;
      lines.push(
        `    generator garbage collection: ${formatNumber(own.count)} collections, ${formatNumber(own.ms)} ms in all, the longest ${formatMs(own.longestMs)} ms; ${formatNumber(own.slowestInFlight)} of the slowest 1% of deliveries were in flight during one`,
      );
      lines.push(`    errors: ${Object.keys(r.errors).length === 0 ? 'none' : JSON.stringify(r.errors)}`);
      lines.push(`    gate: ${gateLine(r.gate, r.valid)}`);
    }
    if (ladderStop) lines.push(`  ${ladderStop}`);
    else if (plan.kind === 'ladder' && steps.length === plan.steps.length) lines.push('  the ladder ran every step');
  }
  if (burst) {
    lines.push('');
    lines.push(
      `burst: ${burst.conversations} new conversations' first messages at once: ${burst.assigned} assigned in ${formatNumber(burst.seconds, 2)} s (${rate(burst.perSecond)}); first message -> assignment reaching the agent p50 ${formatMs(burst.latency.p50)} ms, p99 ${formatMs(burst.latency.p99)} ms, max ${formatMs(burst.latency.max)} ms; send -> ack p50 ${formatMs(burst.ackLatency.p50)} ms, p99 ${formatMs(burst.ackLatency.p99)} ms`,
    );
  }
  if (idle) {
    lines.push('');
    lines.push(
      `idle connections: ${idle.held} of ${idle.requested} held open (${formatNumber(idle.openSeconds, 1)} s to open, batches of ${options.idleBatch}); nodes' RSS ${MB(idle.rssBeforeBytes)} -> ${MB(idle.rssAfterBytes)} (settled)`,
    );
    lines.push(`  per node: ${idle.nodes.map((n) => `${n.name} ${n.connectionsBefore} -> ${n.connectionsHeld} connections`).join('; ')} (its parley_ws_connections gauge)`);
    if (idle.firstFailure) lines.push(`  FAILED from socket ${idle.firstFailure.at} on (${idle.failed} failed): ${idle.firstFailure.reason}`);
    if (idle.closedMeanwhile > 0) lines.push(`  ${idle.closedMeanwhile} idle sockets were closed by the server while open`);
  }

  // The summary: what the issue asks for, in one place.
  const notReached = (v: number | undefined, what: string) => (v === undefined ? `not reached (${what})` : `${formatNumber(v, 0)} ms`);
  const firstStep = steps[0];
  lines.push('');
  lines.push(`== summary: ${mode} ==`);
  if (messaging) {
    lines.push(
      `highest rate held (p99 send -> delivery <= ${HELD_P99_MS} ms, >= ${KEEP_UP_SHARE * 100}% achieved, not void): ${
        summary.highestHeld !== undefined
          ? `${formatNumber(summary.highestHeld)} msg/s`
          : firstStep
            ? `none (the lowest step, ${formatNumber(firstStep.offered)} msg/s: ${firstStep.valid ? `p99 ${formatMs(firstStep.deliveryP99Ms)} ms, ${formatNumber(firstStep.achieved, 0)} msg/s achieved` : 'void'})`
            : 'no open-loop step ran'
      }`,
    );
    const notInLadder = (r: number) => (plan.kind === 'ladder' && plan.steps.includes(r) ? 'the ladder stopped below it' : 'not a step of this run');
    lines.push(`server CPU ms per 1,000 messages: at 1k msg/s ${notReached(summary.cpuMsPer1000At1k, notInLadder(1000))}; at 5k msg/s ${notReached(summary.cpuMsPer1000At5k, notInLadder(5000))}`);
    if (ceilingFigure) {
      lines.push(
        `${summary.ceilingLabel}: ${formatNumber(ceilingFigure.achieved, 0)} msg/s, delivery p99 ${formatMs(ceilingFigure.latency.delivery.p99)} ms, server side ${formatNumber(ceilingFigure.serverCpu.coreShare * 100, 0)}% of a core, ${formatNumber(ceilingFigure.cpuMsPer1000, 0)} ms per 1,000; gate ${ceilingFigure.valid ? 'OK' : 'VOID'}`,
      );
    } else lines.push('ceiling: not measured (--ceiling 0)');
    const voids = allSteps.filter((r) => !r.valid);
    lines.push(`void steps: ${voids.length === 0 ? 'none' : voids.map((r) => r.label).join(', ')}`);
    if (ladderStop) lines.push(ladderStop);
  }
  lines.push(
    `memory per idle connection: ${summary.memoryPerIdleConnectionBytes !== undefined ? `${kB(summary.memoryPerIdleConnectionBytes)} (nodes' RSS delta / ${idle?.held} idle sockets, settled)${summary.memoryPerIdleConnectionBytes <= 0 ? ': RSS fell, a collection of what the messaging phases left; run --idle alone for this figure' : ''}; ${idle && Number.isFinite(idle.marginalBytesPerConnection) ? `${kB(idle.marginalBytesPerConnection)} per connection more (RSS slope over the later half of the batches, without V8's one-off growth)` : 'no slope (too few batches)'}` : idle ? 'no socket held' : 'not measured (--idle N)'}`,
  );
  lines.push(
    `most connections held by one node: ${
      idle
        ? `${idle.mostOnOneNode}${idle.firstFailure ? ` (opening stopped at idle socket ${idle.held + 1}: ${idle.firstFailure.reason})` : ` (every one of the ${idle.requested} idle sockets asked for was held, so this is a lower bound: ask for more with --idle)`}`
        : 'not measured (--idle N)'
    }`,
  );
  if (ceilingFigure && (commits || relay || pubsub || baseline)) {
    const c = ceilingFigure.achieved;
    lines.push(`Parley's ${ceiling ? 'ceiling' : 'achieved rate'} (${formatNumber(c, 0)} msg/s) as a ratio of the references:`);
    if (commits) {
      lines.push(`  raw single-row inserts (${rate(commits.singleRowCommitsPerSecond)}, synchronous_commit=${commits.synchronousCommit}): ${formatRatio(c, commits.singleRowCommitsPerSecond, 0.9)}`);
      lines.push(`  raw 100-row batched inserts (${rate(commits.batchRowsPerSecond)} rows): ${formatRatio(c, commits.batchRowsPerSecond, 0.2)}`);
    }
    if (relay) lines.push(`  raw ws relay (${rate(relay.perSecond)}): ${formatRatio(c, relay.perSecond, 0.2)}`);
    if (pubsub) lines.push(`  raw Redis pub/sub, 100 in flight (${rate(pubsub.hundredInFlight.perSecond)}): ${formatRatio(c, pubsub.hundredInFlight.perSecond)}`);
    if (baseline) {
      const b = baseline.summary;
      const perCore = (v: number | undefined, share: number | undefined) => (v !== undefined && share ? v / share : undefined);
      lines.push(
        `  baseline ${options.baseline} (${baseline.mode}, ${b.ceilingPerSecond !== undefined ? rate(b.ceilingPerSecond) : 'no ceiling'}): ${formatRatio(c, b.ceilingPerSecond)}; per core of server CPU used: ${formatRatio(
          perCore(c, summary.ceilingServerCoreShare),
          perCore(b.ceilingPerSecond, b.ceilingServerCoreShare),
          options.nodes > b.nodes ? 0.8 : undefined,
        )}`,
      );
    }
  }
  log(lines.join('\n'));

  const outFile = options.out ?? path.join(REPO_ROOT, '.tmp', 'bench', `messaging-${startedAt.toISOString().replaceAll(':', '-').replace(/\..*/, '')}.json`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const result = {
    bench: 'messaging-load',
    startedAt: startedAt.toISOString(),
    options,
    mode,
    machine: { ...machine, loadBefore, loadAfter, uptimeSeconds: uptimeBefore, openFiles: fdLimit },
    pinning,
    references: { echo, relay, commits, pubsub },
    ramp,
    quiet,
    steps,
    ceiling,
    ladderStop,
    burst,
    idle,
    summary,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nresults: ${path.relative(process.cwd(), outFile)}`);
  // The nodes' own logs (warnings and up: a slow group commit with its phases, a failed batch) beside the results,
  // before the clean-up deletes the work folder.
  for (const node of parley.nodes) {
    if (!fs.existsSync(node.logFile)) continue;
    const kept = outFile.replace(/\.json$/, `-${node.name}.log`);
    fs.copyFileSync(node.logFile, kept);
    const lines = fs
      .readFileSync(kept, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{')).length;
    log(`${node.name}'s log: ${path.relative(process.cwd(), kept)} (${lines} entries)`);
  }
  if (allSteps.some((r) => !r.valid)) process.exitCode = 1;
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
