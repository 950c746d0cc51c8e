import fs from 'node:fs';
import path from 'node:path';
import { freePort, type LocalPostgres, type LocalRedis, startLocalPostgres, startLocalRedis } from '../../scripts/cluster/local-services.ts';
import { type Child, firstJsonLine, spawnChild } from './child-process.ts';
import { findProcess, pinTree, rssBytes } from './machine.ts';
import { SERVER_NODE_FLAGS } from '../../scripts/cluster/node-flags.ts';
import type { Plugin } from 'esbuild';

/**
 * The server side of the messaging benchmark: Parley node processes (embedded PGlite, or over a throw-away PostgreSQL
 * and optionally Redis, from scripts/cluster/local-services.ts), optionally behind the cluster balancer, all pinned to
 * one CPU. Everything it starts is stopped and deleted by `stop()`.
 */

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const SERVER_ENTRY = path.join(REPO_ROOT, 'packages/server/src/main.ts');

export interface Services {
  postgres: LocalPostgres | undefined;
  redis: LocalRedis | undefined;
  /** The postmaster and the Redis server, for CPU accounting. */
  pids: number[];
  stop(): Promise<void>;
}

/** Starts the throw-away PostgreSQL (and Redis) and pins them to `cpu`. */
export async function startServices(options: { postgres: boolean; redis: boolean; cpu: number | undefined }): Promise<Services> {
  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  const pids: number[] = [];
  const stop = async () => {
    await redis?.destroy().catch(() => {});
    await postgres?.destroy().catch(() => {});
  };
  try {
    if (options.postgres) {
      postgres = await startLocalPostgres();
      const postmaster = Number(fs.readFileSync(path.join(postgres.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      pids.push(postmaster);
      // The postmaster and its auxiliary processes now; the backends it forks later inherit the affinity.
      if (options.cpu !== undefined) pinTree(postmaster, options.cpu);
    }
    if (options.redis) {
      redis = await startLocalRedis();
      const pid = findProcess(['redis-server', `:${redis.port}`]) ?? findProcess(['redis-server', String(redis.port)]);
      if (pid !== undefined) {
        pids.push(pid);
        if (options.cpu !== undefined) pinTree(pid, options.cpu);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { postgres, redis, pids, stop };
}

/** Bundles `entry` into `outfile`, an ES module for Node.js 20. */
async function bundleForNode(entry: string, outfile: string, plugins: Plugin[] = []): Promise<string> {
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error', plugins });
  return outfile;
}

/** Bundles the server (workspace code inlined, npm packages left external) so the nodes run without tsx's loader. */
export function buildServerBundle(outDir: string): Promise<string> {
  return bundleForNode(SERVER_ENTRY, path.join(outDir, 'main.mjs'), [
    {
      name: 'npm-packages-external',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@parley/') ? undefined : { path: args.path, external: true }));
      },
    },
  ]);
}

/** Bundles bench/lib/allocation-sampler.ts, preloaded into the nodes by `--alloc-profile` (`node --import`). */
export function buildAllocationSampler(outDir: string): Promise<string> {
  return bundleForNode(path.join(REPO_ROOT, 'bench', 'lib', 'allocation-sampler.ts'), path.join(outDir, 'allocation-sampler.mjs'));
}

export interface Node {
  name: string;
  url: string;
  process: Child;
  logFile: string;
}

export interface ParleyUnderTest {
  nodes: Node[];
  /** Where clients connect: the balancer, else the nodes round robin (by client index). */
  urlFor(index: number): string;
  /** Any node, for set-up requests. */
  adminUrl: string;
  balancer: Child | undefined;
  /** Every process on the server side (nodes, balancer, PostgreSQL, Redis), for CPU accounting. */
  serverPids(): number[];
  /** Sum of the nodes' resident memory. */
  nodesRss(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  nodes: number;
  balancer: boolean;
  entry: { kind: 'bundle'; file: string } | { kind: 'tsx' };
  cpu: number | undefined;
  dataDir: string;
  services: Services;
  env: Record<string, string>;
  /** Extra node options for the nodes (e.g. --cpu-prof). */
  nodeArgs: string[];
}

/** Settings the nodes must not inherit from the shell the bench runs in. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(DATABASE_|REDIS_|DATA_DIR|FILES_DIR|PORT$|HOST$|PUBLIC_URL|JWT_SECRET|LOG_|BOOTSTRAP_|WS_|NODE_ID|NODE_OPTIONS|ROUTING_)/.test(key)) delete env[key];
  }
  return env;
}

async function waitReady(node: Node, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!node.process.running()) throw new Error(`${node.name} exited before it was ready; its log (${node.logFile}):\n${tail(node.logFile)}`);
    const ok = await fetch(`${node.url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${node.name} was not ready within ${timeoutMs / 1000} s; its log:\n${tail(node.logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '(no log)';
  }
}

/** Starts the nodes (the first alone: it migrates and creates the first account), then the balancer if asked. */
export async function startParley(options: StartOptions, onStarted: (stop: () => Promise<void>) => void): Promise<ParleyUnderTest> {
  const nodes: Node[] = [];
  let balancer: Child | undefined;
  const stop = async () => {
    await balancer?.stop(2_000);
    await Promise.all(nodes.map((n) => n.process.stop(10_000)));
  };
  onStarted(stop);
  const argv = [process.execPath, ...SERVER_NODE_FLAGS, ...options.nodeArgs, ...(options.entry.kind === 'bundle' ? [options.entry.file] : ['--import', 'tsx', SERVER_ENTRY])];
  const env: NodeJS.ProcessEnv = { ...baseEnv(), ...options.env, DATA_DIR: options.dataDir, FILES_DIR: path.join(options.dataDir, 'files'), HOST: '127.0.0.1' };
  if (options.services.postgres) env.DATABASE_URL = options.services.postgres.url;
  if (options.services.redis) env.REDIS_URL = options.services.redis.url;
  const startNode = async (i: number) => {
    const name = `node-${i + 1}`;
    const port = await freePort();
    const logFile = path.join(options.dataDir, `${name}.log`);
    const proc = spawnChild(name, argv, { cwd: REPO_ROOT, env: { ...env, PORT: String(port), NODE_ID: name }, cpu: options.cpu, logFile });
    const node = { name, url: `http://127.0.0.1:${port}`, process: proc, logFile };
    nodes.push(node);
    await waitReady(node, 120_000);
  };
  await startNode(0);
  await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) => startNode(i + 1)));
  let front: string | undefined;
  if (options.balancer) {
    const backends = nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: Number(new URL(n.url).port) }));
    balancer = spawnChild('balancer', [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'bench/lib/balancer-process.ts'), JSON.stringify(backends)], {
      cwd: REPO_ROOT,
      env: baseEnv(),
      cpu: options.cpu,
    });
    front = `http://127.0.0.1:${(await firstJsonLine<{ port: number }>(balancer, 30_000)).port}`;
  }
  const first = nodes[0] as Node;
  return {
    nodes,
    urlFor: (index) => front ?? (nodes[index % nodes.length] as Node).url,
    adminUrl: front ?? first.url,
    balancer,
    serverPids: () => [...nodes.map((n) => n.process.pid), ...(balancer ? [balancer.pid] : []), ...options.services.pids],
    nodesRss: () => nodes.reduce((sum, n) => sum + (rssBytes(n.process.pid) ?? 0), 0),
    stop,
  };
}

/** `parley_process_resident_memory_bytes` (and any other gauge) from a node's /metrics. */
export async function metricValue(url: string, name: string): Promise<number | undefined> {
  const text = await fetch(`${url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A counter's value per label set, summed over the nodes: `{ 'type="event"': 123, … }`. */
export async function counterByLabels(urls: readonly string[], name: string): Promise<Record<string, number>> {
  return (await countersByLabels(urls, [name]))[name] ?? {};
}

/** Each node's /metrics read once: per node, name → label set → value. */
export async function metricsByNode<Name extends string>(urls: readonly string[], names: readonly Name[]): Promise<Array<Record<Name, Record<string, number>>>> {
  const nodes: Array<Record<Name, Record<string, number>>> = [];
  for (const url of urls) {
    const out = Object.fromEntries(names.map((name) => [name, {}])) as Record<Name, Record<string, number>>;
    const text = await fetch(`${url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    for (const line of text.split('\n')) {
      const name = names.find((n) => line.startsWith(`${n}{`) || line.startsWith(`${n} `));
      if (name === undefined) continue;
      const labels = /\{(.*)\}/.exec(line)?.[1] ?? '';
      const values: Record<string, number> = out[name];
      values[labels] = Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    nodes.push(out);
  }
  return nodes;
}

/** Several counters at once, each node's /metrics read once: name → label set → value summed over the nodes. */
export async function countersByLabels<Name extends string>(urls: readonly string[], names: readonly Name[]): Promise<Record<Name, Record<string, number>>> {
  return sumOverNodes(await metricsByNode(urls, names), names);
}

/** What `metricsByNode` read, summed over the nodes: name → label set → value. */
export function sumOverNodes<Name extends string>(nodes: ReadonlyArray<Record<Name, Record<string, number>>>, names: readonly Name[]): Record<Name, Record<string, number>> {
  const out = Object.fromEntries(names.map((name) => [name, {}])) as Record<Name, Record<string, number>>;
  for (const node of nodes) {
    for (const name of names) {
      const values: Record<string, number> = out[name];
      for (const [labels, value] of Object.entries(node[name])) values[labels] = (values[labels] ?? 0) + value;
    }
  }
  return out;
}
