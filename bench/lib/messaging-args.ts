import { parseArgs } from 'node:util';

/**
 * What `npm run bench:messaging -- …` was asked to do. Three phases, any of which a run may leave out:
 * - messaging: an open-loop ladder of steps then a closed-loop ceiling (the default), or one open-loop rate (`--rate`),
 *   or the closed loop alone (`--rate max`);
 * - the arrival burst (`--burst N`);
 * - idle connections for the memory figure (`--idle N`; alone unless `--steps` or `--rate` is given too).
 */
export interface MessagingOptions {
  /** Consumer sockets opened in the connect ramp; each has one conversation. */
  consumers: number;
  agents: number;
  /** Conversations per agent; default: enough for the consumers and the burst (10 for the default workload). */
  capacity: number;
  /** What the messaging phase does; `none` when only idle connections were asked for. */
  messaging: MessagingPlan;
  /** Max mode and the ceiling: how many consumers take part in the closed loop. */
  concurrency: number;
  /** Seconds of each step (or of the single rate, or of `--rate max`) that are measured, after `warmup` that are not. */
  duration: number;
  warmup: number;
  /** A step whose p99 (send -> delivery to the other party) passes this stops the ladder after it. */
  stopP99Ms: number;
  /** Share of the conversations a supervisor (a manager's socket) watches: 0 to 1. */
  supervise: number;
  /** New conversations of the arrival burst; 0 skips it. */
  burst: number;
  /** Idle consumer sockets opened for the memory figure; 0 skips it. */
  idle: number;
  /** Idle sockets opened per batch (the node's memory is read after each). */
  idleBatch: number;
  /** Sockets opened at once during the ramps. */
  connectConcurrency: number;
  storage: 'embedded' | 'postgres';
  redis: boolean;
  nodes: number;
  /** Nodes behind scripts/cluster/balancer.ts (a process of its own) instead of the generator spreading its sockets. */
  balancer: boolean;
  pin: boolean;
  /** Start the server from a prebuilt bundle (default) or through tsx. */
  server: 'bundle' | 'tsx';
  /** Measure the references (echo, relay, commits, pub/sub). */
  limits: boolean;
  /** Extra environment for the server, e.g. `WS_RATE_LIMIT_PER_SECOND=100`. */
  serverEnv: Record<string, string>;
  /** A previous run's JSON: this run's ceiling is printed as a ratio of its (two nodes against one). */
  baseline: string | undefined;
  /** Write a V8 CPU profile of each node into this folder (node --cpu-prof), to see where the server's time goes. */
  profile: string | undefined;
  /** Extra Node.js options for the nodes (after scripts/cluster/node-flags.ts), e.g. `--single-threaded-gc`. */
  nodeOptions: string[];
  /** Write what each node allocated in each measured window into this folder (V8's sampling heap profiler). */
  allocProfile: string | undefined;
  /** With allocProfile: only what outlived the young generation (what the scavenges copy and promote). */
  allocProfilePromoted: boolean;
  /** Where the JSON results go; default .tmp/bench/messaging-<timestamp>.json. */
  out: string | undefined;
  /** Write each step's slowest 1% of deliveries, with wall-clock times, to this file (JSON lines). */
  tailLog: string | undefined;
}

/**
 * Rates are stored messages per second in both directions: a consumer's message and its agent's answer are two. So a
 * step of 1,000 has consumers writing 500/s, each answered. (`--rate` keeps its old meaning: consumer messages/s.)
 */
export type MessagingPlan = { kind: 'ladder'; steps: number[]; ceilingSeconds: number } | { kind: 'rate'; consumerPerSecond: number } | { kind: 'max' } | { kind: 'none' };

export const DEFAULT_STEPS = [500, 1000, 2000, 5000, 10000, 20000];

export const MESSAGING_USAGE = `usage: npm run bench:messaging -- [options]

Rates are stored messages per second counted in both directions: a consumer's message and its agent's
answer are two, so at a step of 1,000 the consumers write 500/s. (--rate keeps its old meaning.)

What runs (default: the ladder of steps, then the closed-loop ceiling):
  --steps R,R,...         open-loop steps, rising (1k = 1000)        default 500,1000,2000,5000,10000,20000
                          each: --warmup s, --step-duration s measured, a drain, the correctness gate.
                          A void step, one achieving < 90% of its rate, one whose p99 passes --stop-p99,
                          or one whose send schedule lags (generator) stops the ladder; a step whose
                          oldest unacknowledged message waits 5 s (or 4x --stop-p99) is cut short
  --step-duration S       measured seconds of each step                              default 30
  --ceiling S             seconds of closed loop after the ladder (0: none)    default the step duration
  --stop-p99 MS           p99 send -> delivery that stops the ladder                 default 500
  --warmup S              unmeasured seconds before each measurement   default 2 (steps), 5 (--rate)
  --rate R|max            instead of the ladder: one open-loop rate of R consumer messages/s (each
                          answered: 2R stored), or max: the closed loop alone
  --duration S            measured seconds with --rate                               default 60
  --concurrency N         consumers in the closed loop                               default all
  --idle N                N idle authenticated consumer sockets: memory per idle connection and the
                          most connections a node holds; alone unless --steps or --rate is given   default 0
  --idle-batch N          idle sockets per batch (memory read after each)            default 500
  --burst N               new conversations at once, arrival -> assignment (0: none)  default 0

The workload:
  --consumers N           consumer sockets, one conversation each                    default 2000
  --agents N              agents, each online with a socket                          default 200
  --capacity N            conversations per agent        default enough for consumers + burst (10)
  --supervise F           share of the conversations a supervisor's socket watches   default 0.1
  --connect-concurrency N sockets opening at once                                    default 50

Where Parley runs (default: embedded PGlite, one node, server side on CPU 0, generator on CPU 1):
  --postgres              cluster mode: a throw-away PostgreSQL
  --redis                 and a throw-away Redis as the event bus (implies --postgres)
  --nodes N               Parley nodes (N > 1 needs --redis)                         default 1
  --balancer              put the nodes behind scripts/cluster/balancer.ts
  --no-pin                do not pin with taskset
  --tsx                   start the server through tsx instead of a prebuilt bundle
  --server-env K=V        extra server environment (repeatable); unless given here, the bench sets
                          WS_RATE_LIMIT_PER_SECOND and WS_RATE_LIMIT_BURST to 100000

Output:
  --no-limits             skip the references (ws echo and relay, raw commits, Redis pub/sub)
  --baseline FILE         a previous run's JSON (e.g. one node): this run's ceiling as a ratio of its
  --profile DIR           write each node's CPU profile there (node --cpu-prof)
  --node-option=FLAG      an extra Node.js option for the nodes, e.g. --node-option=--trace-gc (repeatable; with =)
  --alloc-profile DIR     write what each node allocated in each step there (sampling heap profiler)
  --alloc-profile-promoted  with --alloc-profile: only what outlived the young generation
  --out FILE              JSON results                 default .tmp/bench/messaging-<timestamp>.json
  --tail-log FILE         each step's slowest 1% of deliveries with wall-clock times (JSON lines), to set
                          beside the nodes' and PostgreSQL's own logs and name what made each stall
  --help                  this text`;

export class UsageError extends Error {}

function integer(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not "${value}"`);
  return n;
}

/** `500,1000,2k` -> [500, 1000, 2000]: positive, strictly rising. */
export function parseSteps(text: string): number[] {
  const steps = text.split(',').map((part) => {
    const trimmed = part.trim().toLowerCase();
    const n = trimmed.endsWith('k') ? Number(trimmed.slice(0, -1)) * 1000 : Number(trimmed);
    if (trimmed === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--steps takes rising positive rates like 500,1000,2k, not "${text}"`);
    return n;
  });
  for (let i = 1; i < steps.length; i++) {
    if ((steps[i] as number) <= (steps[i - 1] as number)) throw new UsageError(`--steps must rise: ${text}`);
  }
  return steps;
}

/** Parses the command line (without node and the script). Throws UsageError on anything it does not understand. */
export function parseMessagingArgs(argv: readonly string[]): MessagingOptions | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const consumers = integer(values.consumers, 'consumers', 2000);
  const agents = integer(values.agents, 'agents', 200);
  const burst = integer(values.burst, 'burst', 0, 0);
  const idle = integer(values.idle, 'idle', 0, 0);
  if (values.rate !== undefined && values.steps !== undefined) throw new UsageError('--rate and --steps exclude each other');
  if (values['alloc-profile-promoted'] === true && values['alloc-profile'] === undefined) throw new UsageError('--alloc-profile-promoted goes with --alloc-profile DIR');
  const stepDuration = integer(values['step-duration'], 'step-duration', 30);

  let messaging: MessagingPlan;
  if (values.rate === 'max') messaging = { kind: 'max' };
  else if (values.rate !== undefined) {
    const r = Number(values.rate);
    if (!Number.isFinite(r) || r <= 0) throw new UsageError(`--rate must be a positive number or "max", not "${values.rate}"`);
    messaging = { kind: 'rate', consumerPerSecond: r };
  } else if (values.steps !== undefined || idle === 0) {
    messaging = { kind: 'ladder', steps: values.steps === undefined ? DEFAULT_STEPS : parseSteps(values.steps), ceilingSeconds: integer(values.ceiling, 'ceiling', stepDuration, 0) };
  } else messaging = { kind: 'none' };
  if (values.ceiling !== undefined && messaging.kind !== 'ladder') throw new UsageError('--ceiling goes with the ladder (--steps); with --rate use --rate max');

  const neededCapacity = Math.max(1, Math.ceil((consumers + burst) / agents));
  const capacity = integer(values.capacity, 'capacity', neededCapacity);
  if (capacity > 100) throw new UsageError(`--capacity ${capacity}: at most 100 conversations per agent (the server's limit); add agents`);
  if (capacity * agents < consumers + burst) throw new UsageError(`${agents} agents x ${capacity} = ${agents * capacity} places, fewer than ${consumers} consumers + ${burst} burst conversations`);
  const supervise = values.supervise === undefined ? 0.1 : Number(values.supervise);
  if (!Number.isFinite(supervise) || supervise < 0 || supervise > 1) throw new UsageError(`--supervise takes a share from 0 to 1, not "${values.supervise}"`);
  const stopP99Ms = values['stop-p99'] === undefined ? 500 : Number(values['stop-p99']);
  if (!Number.isFinite(stopP99Ms) || stopP99Ms <= 0) throw new UsageError(`--stop-p99 takes milliseconds, not "${values['stop-p99']}"`);
  const redis = values.redis === true;
  const storage = values.postgres || redis ? 'postgres' : 'embedded';
  const nodes = integer(values.nodes, 'nodes', 1);
  if (nodes > 1 && !redis) throw new UsageError('--nodes above 1 needs --redis (the event bus between nodes)');
  if (values.balancer && nodes === 1) throw new UsageError('--balancer needs --nodes 2 or more');
  const serverEnv: Record<string, string> = {};
  for (const pair of values['server-env'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--server-env takes KEY=VALUE, not "${pair}"`);
    serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    consumers,
    agents,
    capacity,
    messaging,
    concurrency: Math.min(consumers, integer(values.concurrency, 'concurrency', consumers)),
    duration: messaging.kind === 'ladder' ? stepDuration : integer(values.duration, 'duration', 60),
    warmup: integer(values.warmup, 'warmup', messaging.kind === 'ladder' ? 2 : 5, 0),
    stopP99Ms,
    supervise,
    burst,
    idle,
    idleBatch: integer(values['idle-batch'], 'idle-batch', 500),
    connectConcurrency: integer(values['connect-concurrency'], 'connect-concurrency', 50),
    storage,
    redis,
    nodes,
    balancer: values.balancer === true,
    pin: values['no-pin'] !== true,
    server: values.tsx ? 'tsx' : 'bundle',
    limits: values['no-limits'] !== true,
    serverEnv,
    baseline: values.baseline,
    profile: values.profile,
    nodeOptions: values['node-option'] ?? [],
    allocProfile: values['alloc-profile'],
    allocProfilePromoted: values['alloc-profile-promoted'] === true,
    out: values.out,
    tailLog: values['tail-log'],
  };
}

/** Every option the command line takes (the help text documents each: a unit test checks it). */
export const MESSAGING_OPTIONS = {
  consumers: { type: 'string' },
  agents: { type: 'string' },
  capacity: { type: 'string' },
  steps: { type: 'string' },
  'step-duration': { type: 'string' },
  ceiling: { type: 'string' },
  'stop-p99': { type: 'string' },
  rate: { type: 'string' },
  concurrency: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  supervise: { type: 'string' },
  burst: { type: 'string' },
  idle: { type: 'string' },
  'idle-batch': { type: 'string' },
  'connect-concurrency': { type: 'string' },
  postgres: { type: 'boolean' },
  redis: { type: 'boolean' },
  nodes: { type: 'string' },
  balancer: { type: 'boolean' },
  'no-pin': { type: 'boolean' },
  tsx: { type: 'boolean' },
  'no-limits': { type: 'boolean' },
  'server-env': { type: 'string', multiple: true },
  baseline: { type: 'string' },
  profile: { type: 'string' },
  'node-option': { type: 'string', multiple: true },
  'alloc-profile': { type: 'string' },
  'alloc-profile-promoted': { type: 'boolean' },
  out: { type: 'string' },
  'tail-log': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: MESSAGING_OPTIONS });
}
