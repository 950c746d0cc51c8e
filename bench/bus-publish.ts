/**
 * The cluster-mode event bus alone: what a node spends to publish conversation events on Redis and receive them back,
 * in the bursts a group commit makes (one event per stored message, all published in one turn of the event loop).
 *
 *   npm run bench:bus                      # a throw-away Redis on a spare port
 *   npm run bench:bus -- --bursts 400 --burst 256 --rounds 3
 *
 * This process and its throw-away Redis are pinned to one CPU (taskset, when there is one), as a node and its Redis
 * are in `bench:messaging`. Three publishers take turns, `--rounds` times each, on the same Redis:
 *   1. Parley's bus (infra/bus/redis-bus.ts, the product's code), two nodes' buses in this process subscribed to one
 *      topic (a consumer on node A, its agent on node B): A publishes a burst of `conversation_event` messages, its
 *      own subscriber gets them at once, B through Redis. Redis also sends them back to A, which drops them unread;
 *   2. raw ioredis, one command written at a time (the library's default) — the reference for what pipelining saves;
 *   3. raw ioredis with auto-pipelining (commands issued in one turn written together).
 * Each publisher publishes a burst, waits until its subscriber has received all of it, and publishes the next.
 * Printed per publisher: messages per second and CPU microseconds per message (this process: publish, receive,
 * parse; and Redis's own), the medians over the rounds, then each round. Redis's CPU is read from /proc. The raw
 * publishers have one subscriber, so Redis sends each message once; Parley's two, so it sends each twice.
 */
import { parseArgs } from 'node:util';
import type { ConversationEvent } from '@parley/protocol';
import { Redis } from 'ioredis';
import { startLocalRedis } from '../scripts/cluster/local-services.ts';
import type { BusMessage } from '../packages/server/src/infra/bus/event-bus.ts';
import { createRedisBus } from '../packages/server/src/infra/bus/redis-bus.ts';
import { createLogger } from '../packages/server/src/infra/telemetry/logger.ts';
import { cpuMsOfTrees, findProcess, hasTaskset, machineInfo, pinTree } from './lib/machine.ts';

interface Publisher {
  name: string;
  /** Publishes `count` messages in one turn; resolves when every publish resolved. */
  burst(count: number): Promise<void>;
  /** Messages received so far. */
  received(): number;
  close(): Promise<void>;
}

interface Round {
  perSecond: number;
  processUsPerMessage: number;
  redisUsPerMessage: number;
}

const { values } = parseArgs({
  options: {
    bursts: { type: 'string', default: '400' },
    burst: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write('npm run bench:bus -- [--bursts 400] [--burst 256] [--rounds 3]\n');
  process.exit(0);
}
const BURSTS = positive(values.bursts, 'bursts');
const BURST = positive(values.burst, 'burst');
const ROUNDS = positive(values.rounds, 'rounds');
const TOPIC = 'conversation:7d1f0a52-8a8e-4d47-9c43-0f6ad3c1f0b2';

function positive(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, not "${text}"\n`);
    process.exit(2);
  }
  return n;
}

/** A message like the ones a group commit publishes: a consumer's 150-character text event. */
function eventMessage(sequence: number): BusMessage {
  const event = {
    conversationId: '7d1f0a52-8a8e-4d47-9c43-0f6ad3c1f0b2',
    sequence,
    id: `b3c5c2de-0d7b-4c55-8d4f-${String(sequence).padStart(12, '0')}`,
    at: new Date().toISOString(),
    type: 'content',
    audience: 'all',
    from: { participantId: '0b9c7c1e-3a54-4b43-a2f5-2f1f6fd8a0a1', role: 'consumer' },
    clientMessageId: `m-${sequence}`,
    content: { contentType: 'text/plain', message: 'x'.repeat(150) },
  } as unknown as ConversationEvent;
  return { kind: 'conversation_event', accountId: '5a0d3f7e-1c2b-4e8a-9f6d-3b2a1c0d9e8f', conversationId: event.conversationId, event };
}

/** Two nodes' buses in this process, both subscribed to the topic (a consumer on one node, its agent on the other). */
async function parleyBus(url: string): Promise<Publisher> {
  const logger = createLogger({ level: 'silent' });
  const onHandlerError = (error: unknown) => logger.error({ err: error });
  const [nodeA, nodeB] = await Promise.all([createRedisBus({ url, logger, onHandlerError }), createRedisBus({ url, logger, onHandlerError })]);
  let received = 0;
  nodeA.subscribe(TOPIC, () => {});
  nodeB.subscribe(TOPIC, () => {
    received += 1;
  });
  await Promise.all([nodeA.ready(), nodeB.ready()]);
  let sequence = 0;
  return {
    name: "Parley's bus, node A to A and B",
    async burst(count) {
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < count; i++) publishes.push(nodeA.publish(TOPIC, eventMessage(++sequence)));
      await Promise.all(publishes);
    },
    received: () => received,
    close: async () => {
      await Promise.all([nodeA.close(), nodeB.close()]);
    },
  };
}

async function rawIoredis(url: string, autoPipelining: boolean): Promise<Publisher> {
  const publisher = new Redis(url, { enableAutoPipelining: autoPipelining });
  const subscriber = new Redis(url);
  let received = 0;
  subscriber.on('message', (_channel: string, text: string) => {
    JSON.parse(text);
    received += 1;
  });
  await subscriber.subscribe(TOPIC);
  let sequence = 0;
  return {
    name: autoPipelining ? 'raw ioredis, auto-pipelined' : 'raw ioredis, a write per command',
    async burst(count) {
      const publishes: Promise<number>[] = [];
      for (let i = 0; i < count; i++) publishes.push(publisher.publish(TOPIC, JSON.stringify(eventMessage(++sequence))));
      await Promise.all(publishes);
    },
    received: () => received,
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

async function measure(publisher: Publisher, redisPid: number): Promise<Round> {
  // Each burst is received before the next is published: Parley's `publish` resolves before Redis has the message,
  // so without this the loop would flood Redis faster than it delivers (and past its subscriber buffer limit).
  const run = async (bursts: number) => {
    for (let b = 0; b < bursts; b++) {
      const target = publisher.received() + BURST;
      await publisher.burst(BURST);
      await until(() => publisher.received() >= target);
    }
  };
  await run(Math.max(10, Math.floor(BURSTS / 10))); // warm-up: JIT, connection buffers
  const cpuBefore = process.cpuUsage();
  const redisBefore = cpuMsOfTrees([redisPid]);
  const started = performance.now();
  await run(BURSTS);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const messages = BURSTS * BURST;
  return {
    perSecond: messages / seconds,
    processUsPerMessage: (cpu.user + cpu.system) / messages,
    redisUsPerMessage: ((cpuMsOfTrees([redisPid]) - redisBefore) * 1000) / messages,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const redis = await startLocalRedis();
  try {
    await redis.start();
    const redisPid = findProcess(['redis-server', `:${redis.port}`]);
    if (redisPid === undefined) throw new Error('could not find the throw-away redis-server process');
    const pinned = hasTaskset();
    if (pinned) {
      pinTree(process.pid, 0);
      pinTree(redisPid, 0);
    }
    const machine = machineInfo();
    process.stdout.write(
      `bench:bus — ${machine.cpuModel}, ${machine.cpus} CPUs, Node ${process.version}; this process and Redis ${pinned ? 'pinned to CPU 0' : 'not pinned (no taskset)'}\n` +
        `${ROUNDS} rounds of ${BURSTS} bursts of ${BURST} messages (~${JSON.stringify(eventMessage(1)).length} bytes each) per publisher, taking turns\n\n`,
    );
    const publishers = [await parleyBus(redis.url), await rawIoredis(redis.url, false), await rawIoredis(redis.url, true)];
    const rounds = new Map<Publisher, Round[]>(publishers.map((p) => [p, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const publisher of publishers) rounds.get(publisher)?.push(await measure(publisher, redisPid));
    }
    for (const publisher of publishers) await publisher.close();
    process.stdout.write(`${'publisher'.padEnd(36)}${'msg/s'.padStart(10)}${'µs CPU/msg (node)'.padStart(20)}${'(Redis)'.padStart(10)}   rounds (msg/s)\n`);
    for (const publisher of publishers) {
      const rs = rounds.get(publisher) ?? [];
      process.stdout.write(
        `${publisher.name.padEnd(36)}${fmt(median(rs.map((r) => r.perSecond)), 0).padStart(10)}${fmt(median(rs.map((r) => r.processUsPerMessage))).padStart(20)}${fmt(median(rs.map((r) => r.redisUsPerMessage))).padStart(10)}   ${rs.map((r) => fmt(r.perSecond, 0)).join(', ')}\n`,
      );
    }
  } finally {
    await redis.destroy();
  }
}

await main();
