import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { guard } from './reaper.ts';

/**
 * Throw-away PostgreSQL and Redis instances for a local cluster and for the cluster failure tests: each in its own
 * temporary folder, on a spare port, never touching the machine's own services. PostgreSQL's initdb refuses to run as
 * root, so as root both PostgreSQL programs run as the `postgres` user (runuser), as docs/stack-notes describe.
 */

/** A port nobody listens on right now (the OS picks it; it is free again when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tcpAnswers(port: number, probe: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(probe));
    socket.once('data', (data) => done(data.toString().startsWith(expected)));
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The folder of PostgreSQL's server programs (initdb, pg_ctl): Debian's newest, else whatever is on the PATH. */
export function postgresBinDir(): string {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => fs.existsSync(path.join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  try {
    return path.dirname(execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error('PostgreSQL is not installed (no initdb): apt-get install postgresql, or set DATABASE_URL');
  }
}

export interface LocalPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Starts it again after `stop()`, on the same port and data. */
  start(): Promise<void>;
  /** Fast shutdown (connections are cut, committed data is kept); waits until it is down. */
  stop(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

/** initdb in a temporary folder, then starts PostgreSQL on `port` (default: a spare one). */
export async function startLocalPostgres(options: { port?: number } = {}): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  const port = options.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pg-'));
  // Stopped and deleted by destroy(), or by the reaper if this process dies first (pg_ctl's server outlives it).
  const releaseDir = guard({ kind: 'folder', path: dir });
  const asPostgres = isRoot();
  if (asPostgres) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (program: string, args: string[]) => {
    const [command, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]] : [path.join(bin, program), args];
    execFileSync(command as string, argv as string[], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const data = path.join(dir, 'data');
  const releaseServer = guard({ kind: 'postgres', dataDir: data });
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;
  const instance: LocalPostgres = {
    url,
    port,
    dir,
    async start() {
      // pg_ctl puts the server in its own session: a Ctrl-C in the terminal does not reach it, the owner stops it.
      run('pg_ctl', ['-D', data, '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200`, '-l', path.join(dir, 'pg.log'), '-w', 'start']);
      running = true; // -w: pg_ctl returned once the server accepts connections
    },
    async stop() {
      if (!running) return;
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      try {
        await instance.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        releaseServer();
        releaseDir();
      }
    },
  };
  await instance.start();
  return instance;
}

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Starts it again after `stop()`, on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
  /** SIGTERM; waits until it is gone. */
  stop(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

/** Starts a Redis without persistence on `port` (default: a spare one), as a child process in its own group. */
export async function startLocalRedis(options: { port?: number } = {}): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-redis-'));
  const releaseDir = guard({ kind: 'folder', path: dir });
  let child: ChildProcess | undefined;
  let releaseServer: (() => void) | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  const instance: LocalRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async start() {
      if (child) return;
      // Detached: a Ctrl-C in the terminal does not reach it, so the cluster's nodes can drain before it stops.
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { detached: true, stdio: 'ignore' });
      await new Promise<void>((resolve, reject) => {
        started.once('spawn', resolve);
        started.once('error', (error) => reject(new Error(`could not start redis-server (apt-get install redis-server): ${error.message}`)));
      });
      child = started;
      process.once('exit', killOnExit);
      // The exit handler above does not run on SIGKILL; the reaper does.
      if (started.pid !== undefined) releaseServer = guard({ kind: 'process', pid: started.pid, name: 'redis-server' });
      await waitUntil('Redis', () => tcpAnswers(port, 'PING\r\n', '+PONG'), 10_000);
    },
    async stop() {
      const current = child;
      if (!current) return;
      child = undefined;
      process.off('exit', killOnExit);
      releaseServer?.(); // stopped here (a SIGTERM it acts on at once)
      releaseServer = undefined;
      if (current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
      current.kill('SIGTERM');
      await exited;
    },
    async destroy() {
      try {
        await instance.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        releaseDir();
      }
    },
  };
  await instance.start();
  return instance;
}
