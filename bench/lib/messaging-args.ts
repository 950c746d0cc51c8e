import { parseArgs } from 'node:util';

/** What `npm run bench:messaging -- …` was asked to do. */
export interface MessagingOptions {
  /** Consumer sockets opened in the connect ramp; each has one conversation. */
  consumers: number;
  agents: number;
  /** Conversations per agent; default: enough for the consumers and the burst. */
  capacity: number;
  /** Consumer messages per second in the steady phase (open loop), or `max`: a closed loop (send, await the reply, send). */
  rate: number | 'max';
  /** Max mode: how many consumers take part in the closed loop. */
  concurrency: number;
  /** Seconds of steady messaging that are measured, after `warmup` seconds that are not. */
  duration: number;
  warmup: number;
  /** New conversations of the arrival burst (phase 3); 0 skips it. */
  burst: number;
  /** Sockets opened at once during the ramp. */
  connectConcurrency: number;
  storage: 'embedded' | 'postgres';
  redis: boolean;
  nodes: number;
  /** Nodes behind scripts/cluster/balancer.ts (a process of its own) instead of the generator spreading its sockets. */
  balancer: boolean;
  pin: boolean;
  /** Start the server from a prebuilt bundle (default) or through tsx. */
  server: 'bundle' | 'tsx';
  /** Measure the machine's limits (echo and commit references). */
  limits: boolean;
  /** Extra environment for the server, e.g. `WS_RATE_LIMIT_PER_SECOND=100`. */
  serverEnv: Record<string, string>;
  /** Write a V8 CPU profile of each node into this folder (node --cpu-prof), to see where the server's time goes. */
  profile: string | undefined;
  /** Where the JSON results go; default .tmp/bench/messaging-<timestamp>.json. */
  out: string | undefined;
}

export const MESSAGING_USAGE = `usage: npm run bench:messaging -- [options]

  --consumers N        consumer sockets (one conversation each)                 1000
  --agents N           agents, each online with a socket                          100
  --capacity N         conversations per agent           enough for consumers + burst
  --rate R|max         consumer messages/s in the steady phase (each is answered
                       by its agent, so twice as many are stored); max: closed loop   20
  --concurrency N      max mode: consumers in the closed loop                all of them
  --duration S         measured seconds of steady messaging                        60
  --warmup S           unmeasured seconds before them                               5
  --burst N            new conversations at once, arrival -> assignment (0: none)   200
  --connect-concurrency N   sockets opening at once during the ramp                 50
  --postgres           cluster mode: a throw-away PostgreSQL (default: embedded PGlite)
  --redis              and a throw-away Redis as the event bus (implies --postgres)
  --nodes N            Parley nodes (N > 1 needs --redis)                           1
  --balancer           put the nodes behind scripts/cluster/balancer.ts
  --no-pin             do not pin with taskset
  --tsx                start the server through tsx instead of a prebuilt bundle
  --no-limits          skip the machine's reference measurements
  --server-env K=V     extra server environment (repeatable)
  --profile DIR        write each node's CPU profile there (node --cpu-prof)
  --out FILE           JSON results (default .tmp/bench/messaging-<timestamp>.json)`;

export class UsageError extends Error {}

function positiveInt(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not "${value}"`);
  return n;
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
  const consumers = positiveInt(values.consumers, 'consumers', 1000);
  const agents = positiveInt(values.agents, 'agents', 100);
  const burst = positiveInt(values.burst, 'burst', 200, 0);
  const rateText = values.rate ?? '20';
  let rate: number | 'max';
  if (rateText === 'max') rate = 'max';
  else {
    rate = Number(rateText);
    if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--rate must be a positive number or "max", not "${rateText}"`);
  }
  const neededCapacity = Math.ceil((consumers + burst) / agents);
  const capacity = positiveInt(values.capacity, 'capacity', neededCapacity);
  if (capacity > 100) throw new UsageError(`--capacity ${capacity}: at most 100 conversations per agent (the server's limit); add agents`);
  if (capacity * agents < consumers + burst) throw new UsageError(`${agents} agents x ${capacity} = ${agents * capacity} places, fewer than ${consumers} consumers + ${burst} burst conversations`);
  const redis = values.redis === true;
  const storage = values.postgres || redis ? 'postgres' : 'embedded';
  const nodes = positiveInt(values.nodes, 'nodes', 1);
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
    rate,
    concurrency: Math.min(consumers, positiveInt(values.concurrency, 'concurrency', consumers)),
    duration: positiveInt(values.duration, 'duration', 60),
    warmup: positiveInt(values.warmup, 'warmup', 5, 0),
    burst,
    connectConcurrency: positiveInt(values['connect-concurrency'], 'connect-concurrency', 50),
    storage,
    redis,
    nodes,
    balancer: values.balancer === true,
    pin: values['no-pin'] !== true,
    server: values.tsx ? 'tsx' : 'bundle',
    limits: values['no-limits'] !== true,
    serverEnv,
    profile: values.profile,
    out: values.out,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      consumers: { type: 'string' },
      agents: { type: 'string' },
      capacity: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      burst: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      postgres: { type: 'boolean' },
      redis: { type: 'boolean' },
      nodes: { type: 'string' },
      balancer: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      tsx: { type: 'boolean' },
      'no-limits': { type: 'boolean' },
      'server-env': { type: 'string', multiple: true },
      profile: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
