/**
 * Runs a Parley cluster on this machine: N node processes on consecutive ports over one PostgreSQL and one Redis,
 * behind a small round-robin TCP load balancer (scripts/cluster/balancer.ts).
 *
 *   DATABASE_URL=postgres://... REDIS_URL=redis://... npm run cluster -- --nodes 3
 *   npm run cluster -- --nodes 3 --start-services     # throw-away PostgreSQL and Redis in a temp folder
 *
 * Options: --nodes N (3), --port P (front port, 8080), --node-port P (first node's port, front + 1), --host H
 * (127.0.0.1), --start-services. Ctrl-C stops everything: SIGTERM to the nodes (they drain), then the balancer, then
 * the services it started. Node logs are passed through, prefixed with the node's name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type Balancer, httpReady, startBalancer } from './cluster/balancer.ts';
import { type LocalPostgres, type LocalRedis, startLocalPostgres, startLocalRedis } from './cluster/local-services.ts';
import { SERVER_NODE_FLAGS } from './cluster/node-flags.ts';
import { guard } from './cluster/reaper.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_ENTRY = path.join(ROOT, 'packages/server/src/main.ts');

const USAGE = `usage: npm run cluster -- [--nodes 3] [--port 8080] [--node-port 8081] [--host 127.0.0.1] [--start-services]

Cluster mode needs one PostgreSQL and one Redis shared by every node:
  DATABASE_URL=postgres://user:password@host:5432/parley REDIS_URL=redis://host:6379 npm run cluster -- --nodes 3
or let this script start throw-away ones (PostgreSQL and redis-server must be installed):
  npm run cluster -- --nodes 3 --start-services`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 65535) fail(`--${name} must be an integer >= ${min}, not "${value}"`);
  return n;
}

interface Node {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Passes a child's output through line by line, each line prefixed with the node's name. */
function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, out: NodeJS.WriteStream): void {
  let buffered = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix} ${line}\n`);
  });
  stream?.on('end', () => {
    if (buffered) out.write(`${prefix} ${buffered}\n`);
  });
}

function startNode(name: string, port: number, env: NodeJS.ProcessEnv): Node {
  // node --import tsx (not the tsx wrapper), so the signals sent to the pid reach the server itself.
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', SERVER_ENTRY], { cwd: ROOT, env: { ...env, PORT: String(port), NODE_ID: name }, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(child.stdout, `[${name}]`, process.stdout);
  prefixLines(child.stderr, `[${name}]`, process.stderr);
  // Stopped in order by the clean-up; killed by the reaper if this script is killed (SIGKILL) first.
  const release = child.pid === undefined ? () => undefined : guard({ kind: 'process', pid: child.pid, name });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      release();
      resolve();
    }),
  );
  return { name, port, child, exited };
}

async function waitReady(node: Node, host: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) throw new Error(`${node.name} exited (${node.child.exitCode ?? node.child.signalCode}) before it was ready`);
    if (await httpReady({ name: node.name, host, port: node.port })) return;
    if (Date.now() > deadline) throw new Error(`${node.name} was not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string' },
      port: { type: 'string' },
      'node-port': { type: 'string' },
      host: { type: 'string' },
      'start-services': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const count = intOption(values.nodes, 'nodes', 3, 1);
  const frontPort = intOption(values.port, 'port', 8080, 0);
  const firstNodePort = intOption(values['node-port'], 'node-port', frontPort === 0 ? 8081 : frontPort + 1, 1);
  const host = values.host ?? '127.0.0.1';

  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  let balancer: Balancer | undefined;
  const nodes: Node[] = [];
  let stopping: Promise<void> | undefined;

  const stop = (reason: string, code: number): Promise<void> => {
    stopping ??= (async () => {
      process.stdout.write(`\n${reason}: stopping the cluster (SIGTERM to the nodes; they drain)\n`);
      for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGTERM');
      const killer = setTimeout(() => {
        for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
      }, 20_000);
      await Promise.all(nodes.map((n) => n.exited));
      clearTimeout(killer);
      await balancer?.close();
      await redis?.destroy().catch((error: unknown) => process.stderr.write(`stopping Redis failed: ${String(error)}\n`));
      await postgres?.destroy().catch((error: unknown) => process.stderr.write(`stopping PostgreSQL failed: ${String(error)}\n`));
      process.stdout.write('cluster stopped\n');
      process.exit(code);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));

  let databaseUrl = process.env.DATABASE_URL;
  let redisUrl = process.env.REDIS_URL;
  if (values['start-services']) {
    if (databaseUrl || redisUrl) process.stdout.write('--start-services: ignoring DATABASE_URL / REDIS_URL from the environment\n');
    try {
      postgres = await startLocalPostgres();
      redis = await startLocalRedis();
    } catch (error) {
      await redis?.destroy();
      await postgres?.destroy();
      fail(`could not start the throw-away services: ${error instanceof Error ? error.message : String(error)}`);
    }
    databaseUrl = postgres.url;
    redisUrl = redis.url;
    process.stdout.write(`started a throw-away PostgreSQL at ${postgres.url} (${postgres.dir})\nstarted a throw-away Redis at ${redis.url}\n`);
  } else {
    const missing = [databaseUrl ? undefined : 'DATABASE_URL', redisUrl ? undefined : 'REDIS_URL'].filter(Boolean);
    if (missing.length > 0) fail(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set.`);
  }

  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, HOST: host };
  const names = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
  try {
    // The first node alone: it migrates the database and, on an empty one, creates the first account (and prints it).
    const first = startNode(names[0] ?? 'node-1', firstNodePort, env);
    nodes.push(first);
    await waitReady(first, host);
    for (let i = 1; i < count; i++) nodes.push(startNode(names[i] ?? `node-${i + 1}`, firstNodePort + i, env));
    await Promise.all(nodes.slice(1).map((node) => waitReady(node, host)));
    balancer = await startBalancer({
      backends: nodes.map((node) => ({ name: node.name, host, port: node.port })),
      host,
      port: frontPort,
      onChange: (backend, ready) => {
        if (!stopping) process.stdout.write(`[balancer] ${backend.name} ${ready ? 'is ready' : 'is not ready: new connections go to the others'}\n`);
      },
    });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await stop('start-up failed', 1);
    return;
  }
  for (const node of nodes) {
    void node.exited.then(() => {
      if (!stopping) process.stdout.write(`[cluster] ${node.name} exited (${node.child.exitCode ?? node.child.signalCode}); the balancer routes around it\n`);
    });
  }

  const front = `http://${host}:${balancer.port}`;
  const lines = [
    '',
    `Parley cluster: ${count} node${count > 1 ? 's' : ''} over ${postgres ? 'a throw-away PostgreSQL' : 'DATABASE_URL'} and ${redis ? 'a throw-away Redis' : 'REDIS_URL'}`,
    `  load balancer: ${front}  (console ${front}/console/, WebSocket ${front.replace('http', 'ws')}/v1/ws)`,
    ...nodes.map((node) => `  ${node.name}:        http://${host}:${node.port}  (pid ${node.child.pid})`),
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
