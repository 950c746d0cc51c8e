import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EndpointBody, type EndpointName, type EndpointQuery, type EndpointResponse, endpoints } from '@parley/protocol';
import pg from 'pg';

/**
 * Helpers for tests that run Parley as a real child process (`node --import tsx main.ts`), to kill it, restart it
 * and look at its exit code and output. The child is node itself (not an `npx`/`tsx` wrapper), so a signal sent to
 * its pid reaches the server.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SERVER_ENTRY = path.join(REPO_ROOT, 'packages/server/src/main.ts');
export const CLI_ENTRY = path.join(REPO_ROOT, 'packages/server/src/cli.ts');

/** Settings the tests' children must not inherit from the environment the tests run in. */
const STRIPPED_ENV = ['DATABASE_URL', 'DATA_DIR', 'FILES_DIR', 'PORT', 'HOST', 'JWT_SECRET', 'LOG_PRETTY', 'LOG_LEVEL'];

export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of STRIPPED_ENV) delete base[key];
  for (const key of Object.keys(base)) if (key.startsWith('BOOTSTRAP_') || key.startsWith('WS_')) delete base[key];
  return { ...base, ...env };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TsProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote so far. */
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Undefined while running. */
  exit(): Exit | undefined;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every child these helpers started that is still running. Safe to call any number of times. */
export function killAllChildren(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
// A worker that dies without running afterAll must not leave servers behind holding ports and data folders.
process.once('exit', killAllChildren);

/** Runs a TypeScript entry point with the node running the tests. */
export function spawnTs(entry: string, args: string[], env: Record<string, string>): TsProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${entry}`);
  running.add(child);
  let out = '';
  let err = '';
  let exit: Exit | undefined;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  // 'close' comes after 'exit' and after the child's pipes are drained, so the output is complete by then.
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited, exit: () => exit };
}

export interface ServerProcess extends TsProcess {
  readonly baseUrl: string;
  /** From the first-start notice, when this start created the first account. */
  readonly widgetKey: string | undefined;
  readonly accountId: string | undefined;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<Exit>;
  /** SIGTERM (graceful), and wait until the process is gone. */
  stop(): Promise<Exit>;
}

interface LogLine {
  msg?: string;
  address?: string;
  accountId?: string;
}

function logLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line still being written.
    }
  }
  return lines;
}

/**
 * Starts `main.ts` on PORT=0 and resolves once it logs "Parley is listening". Rejects (with its output) if it exits
 * first or does not listen within the timeout.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 45_000): Promise<ServerProcess> {
  // Tests' bots, webhook receivers and provider simulators listen on loopback.
  const proc = spawnTs(SERVER_ENTRY, [], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8,::1', ...env });
  const deadline = Date.now() + timeoutMs;
  let listening: LogLine | undefined;
  while (!listening) {
    listening = logLines(proc.stdout()).find((l) => l.msg === 'Parley is listening');
    if (listening) break;
    const exit = proc.exit();
    if (exit) {
      await proc.exited;
      throw new Error(`server exited (${exit.code ?? exit.signal}) before listening\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
    }
    if (Date.now() > deadline) {
      proc.child.kill('SIGKILL');
      throw new Error(`server did not listen within ${timeoutMs} ms\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!listening.address) throw new Error(`"Parley is listening" without an address: ${JSON.stringify(listening)}`);
  const out = proc.stdout();
  const widgetKey = /widget key:\s+(pwk_\S+)/.exec(out)?.[1];
  const accountId = logLines(out).find((l) => l.msg === 'first start: created the first account and admin')?.accountId;
  const signal = async (name: NodeJS.Signals) => {
    if (!proc.exit()) proc.child.kill(name);
    return proc.exited;
  };
  return { ...proc, baseUrl: listening.address, widgetKey, accountId, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** A new, empty database on the PostgreSQL server of PARLEY_TEST_DATABASE_URL (as test-database.ts does). */
export async function createScratchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface HttpResult<T> {
  status: number;
  body: T;
}

/** Calls an endpoint of the contract over real HTTP; returns status and parsed body whatever the status. */
export async function http<N extends EndpointName>(
  baseUrl: string,
  name: N,
  options: { token?: string; params?: Record<string, string>; query?: EndpointQuery<N> & Record<string, unknown>; body?: EndpointBody<N> } = {},
): Promise<HttpResult<EndpointResponse<N> & { error?: { code: string; message: string } }>> {
  const endpoint = endpoints[name];
  let url = endpoint.path as string;
  for (const [key, value] of Object.entries(options.params ?? {})) url = url.replace(`:${key}`, encodeURIComponent(value));
  const query = options.query ? `?${new URLSearchParams(Object.entries(options.query).map(([k, v]) => [k, String(v)])).toString()}` : '';
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(baseUrl + url + query, { method: endpoint.method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
