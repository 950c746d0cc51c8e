import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { firstJsonLine, spawnChild } from './child-process.ts';
import { type LatencySummary, summarize } from './stats.ts';

/**
 * The machine's own limits, measured in the same run as the Parley figures and laid out the same way (the server side
 * pinned to one CPU, the client side to the other), so that the figures can be judged against them.
 */

export interface EchoReference {
  /** One socket, one message in flight: the round-trip time of the protocol's transport. */
  single: { perSecond: number; latency: LatencySummary };
  /** Many sockets, one message in flight on each: the echo server's throughput. */
  parallel: { sockets: number; perSecond: number; latency: LatencySummary };
}

export interface CommitReference {
  database: string;
  synchronousCommit: string;
  singleRowCommitsPerSecond: number;
  /** Each single-row commit's duration, one after another (ms). */
  singleRowCommitLatency: LatencySummary;
  batchRowsPerSecond: number;
  batchCommitsPerSecond: number;
}

const PAYLOAD = JSON.stringify({
  id: 'm123456',
  type: 'send',
  conversationId: '0193b7c2-5a4e-7c1a-9f53-3c1d2e4f5a6b',
  clientMessageId: 'm123456',
  event: { type: 'content', content: { contentType: 'text/plain', message: 'x'.repeat(150) } },
});

function openSocket(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Each socket sends, waits for its echo, sends again, for `ms`; returns messages per second and round-trip times. */
async function closedLoop(sockets: WebSocket[], ms: number): Promise<{ perSecond: number; latency: LatencySummary }> {
  const samples: number[] = [];
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let sentAt = 0;
          const send = () => {
            sentAt = performance.now();
            socket.send(PAYLOAD);
          };
          socket.on('message', () => {
            const now = performance.now();
            samples.push(now - sentAt);
            if (now < end) send();
            else resolve();
          });
          send();
        }),
    ),
  );
  for (const socket of sockets) socket.removeAllListeners('message');
  return { perSecond: samples.length / ((performance.now() - started) / 1000), latency: summarize(samples) };
}

/** A bare `ws` echo server (bench/lib/echo-server.ts) pinned to `cpu`, driven from this process. */
export async function measureEcho(options: { cpu: number | undefined; cwd: string; seconds: number; sockets: number }): Promise<EchoReference> {
  const server = spawnChild('echo server', [process.execPath, '--import', 'tsx', path.join(options.cwd, 'bench/lib/echo-server.ts')], {
    cwd: options.cwd,
    env: process.env,
    cpu: options.cpu,
  });
  try {
    const { port } = await firstJsonLine<{ port: number }>(server, 30_000);
    const one = await openSocket(port);
    await closedLoop([one], 500); // warm up
    const single = await closedLoop([one], options.seconds * 1000);
    one.close();
    const many = await Promise.all(Array.from({ length: options.sockets }, () => openSocket(port)));
    await closedLoop(many, 500);
    const parallel = await closedLoop(many, options.seconds * 1000);
    for (const socket of many) socket.close();
    return { single, parallel: { sockets: options.sockets, ...parallel } };
  } finally {
    await server.stop(2_000);
  }
}

/** bench/lib/commit-probe.ts pinned to `cpu`: PGlite in a fresh folder on the same disk, or the PostgreSQL at `url`. */
export async function measureCommits(options: { cpu: number | undefined; cwd: string; postgresUrl: string | undefined; seconds: number }): Promise<CommitReference> {
  const dir = options.postgresUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-probe-'));
  const probe = spawnChild(
    'commit probe',
    [process.execPath, '--import', 'tsx', path.join(options.cwd, 'bench/lib/commit-probe.ts'), options.postgresUrl ? 'postgres' : 'pglite', options.postgresUrl ?? (dir as string)],
    { cwd: options.cwd, env: { ...process.env, PROBE_SECONDS: String(options.seconds) }, cpu: options.cpu },
  );
  try {
    await probe.exited;
    if (probe.child.exitCode !== 0) throw new Error(`the commit probe failed: ${probe.stderr().trim().slice(-2000)}`);
    return JSON.parse(probe.stdout().trim().split('\n').at(-1) ?? '{}') as CommitReference;
  } finally {
    await probe.stop(2_000);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RelayReference {
  consumers: number;
  agents: number;
  /** Messages relayed and delivered per second, both directions (a consumer's message and its agent's answer). */
  perSecond: number;
  /** Send -> delivery to the paired socket. */
  latency: LatencySummary;
  /** The generator's share of its core meanwhile: near 1, the figure is the generator's, not the relay's. */
  generatorCoreShare: number;
}

/**
 * bench/lib/relay-server.ts pinned to `cpu`, driven from this process with Parley's pairing pattern: `consumers`
 * sockets, each paired with one of `agents` sockets (consumer k with agent k mod agents), a closed loop where each
 * consumer writes, its agent answers on receipt, and the consumer writes again when the answer arrives.
 */
export async function measureRelay(options: { cpu: number | undefined; cwd: string; seconds: number; consumers: number; agents: number }): Promise<RelayReference> {
  const server = spawnChild('relay server', [process.execPath, '--import', 'tsx', path.join(options.cwd, 'bench/lib/relay-server.ts')], {
    cwd: options.cwd,
    env: process.env,
    cpu: options.cpu,
  });
  const sockets: WebSocket[] = [];
  try {
    const { port } = await firstJsonLine<{ port: number }>(server, 30_000);
    const open = (pathName: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}${pathName}`, { perMessageDeflate: false });
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    const agents: WebSocket[] = [];
    for (let j = 0; j < options.agents; j++) agents.push(await open(`/a/${j}`));
    const consumers: WebSocket[] = [];
    for (let start = 0; start < options.consumers; start += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, options.consumers - start) }, (_, i) => open(`/c/${start + i}/${(start + i) % options.agents}`)));
      consumers.push(...batch);
    }
    sockets.push(...agents, ...consumers);
    const body = 'x'.repeat(150);
    const consumerSentAt = new Float64Array(options.consumers);
    const agentSentAt = new Float64Array(options.consumers);
    let recording = false;
    let running = true;
    let inFlight = 0;
    const samples: number[] = [];
    let next = 0;
    const send = (k: number) => {
      consumerSentAt[k] = performance.now();
      inFlight += 1;
      (consumers[k] as WebSocket).send(JSON.stringify({ id: `c${next++}`, message: body }));
    };
    for (const [j, agent] of agents.entries()) {
      agent.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; event?: { conversation: number } };
        if (frame.type !== 'event' || !frame.event) return;
        const k = frame.event.conversation;
        const now = performance.now();
        if (recording) samples.push(now - (consumerSentAt[k] as number));
        agentSentAt[k] = now;
        agents[j]?.send(JSON.stringify({ id: `a${next++}`, to: k, message: body }));
      });
    }
    for (const [k, consumer] of consumers.entries()) {
      consumer.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string };
        if (frame.type !== 'event') return;
        const now = performance.now();
        if (recording) samples.push(now - (agentSentAt[k] as number));
        inFlight -= 1;
        if (running) send(k);
      });
    }
    for (let k = 0; k < options.consumers; k++) send(k);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // warm up
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    recording = true;
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    recording = false;
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    running = false;
    const deadline = Date.now() + 5_000;
    while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return {
      consumers: options.consumers,
      agents: options.agents,
      perSecond: samples.length / (elapsed / 1000),
      latency: summarize(samples),
      generatorCoreShare: (cpu.user + cpu.system) / 1000 / elapsed,
    };
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.stop(2_000);
  }
}

export interface PubSubReference {
  oneInFlight: { perSecond: number; p50Ms: number; p99Ms: number };
  hundredInFlight: { perSecond: number; p50Ms: number; p99Ms: number };
}

/** bench/lib/pubsub-probe.ts pinned to `cpu`, through the Redis at `url` (the one the nodes use). */
export async function measurePubSub(options: { cpu: number | undefined; cwd: string; url: string; seconds: number }): Promise<PubSubReference> {
  const probe = spawnChild('pub/sub probe', [process.execPath, '--import', 'tsx', path.join(options.cwd, 'bench/lib/pubsub-probe.ts'), options.url], {
    cwd: options.cwd,
    env: { ...process.env, PROBE_SECONDS: String(options.seconds) },
    cpu: options.cpu,
  });
  try {
    await probe.exited;
    if (probe.child.exitCode !== 0) throw new Error(`the pub/sub probe failed: ${probe.stderr().trim().slice(-2000)}`);
    return JSON.parse(probe.stdout().trim().split('\n').at(-1) ?? '{}') as PubSubReference;
  } finally {
    await probe.stop(2_000);
  }
}
