import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { guard } from '../../scripts/cluster/reaper.ts';
import { pinnedCommand } from './machine.ts';

/** Child processes of the benchmarks: pinned, logged to a file or captured, and never left behind. */

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  running(): boolean;
  /** Captured stdout (when not logged to a file). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const alive = new Set<ChildProcess>();
// Whatever happens to the generator (an exception, process.exit), its children must not outlive it.
process.once('exit', () => {
  for (const child of alive) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Pin to this CPU with taskset (which execs the program, so the pid is the program's). */
  cpu: number | undefined;
  /** Append stdout and stderr to this file instead of capturing them. */
  logFile?: string;
}

export function spawnChild(name: string, argv: readonly string[], options: SpawnOptions): Child {
  const [command, args] = pinnedCommand(options.cpu, argv);
  const fd = options.logFile ? fs.openSync(options.logFile, 'a') : undefined;
  // Own process group: a Ctrl-C in the terminal reaches only the generator, which then stops everything in order.
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd] });
  if (fd !== undefined) fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  alive.add(child);
  // Killed with its process group by the reaper if the generator is killed (SIGKILL) before it can stop it.
  const release = guard({ kind: 'process', pid: child.pid, name });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      alive.delete(child);
      release();
      resolve();
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid,
    child,
    exited,
    running,
    stdout: () => out,
    stderr: () => err,
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves with the first line the child prints on stdout, parsed as JSON; rejects if it exits or times out first. */
export async function firstJsonLine<T>(child: Child, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = child.stdout().split('\n')[0];
    if (line && child.stdout().includes('\n')) return JSON.parse(line) as T;
    if (!child.running()) throw new Error(`${child.name} exited before answering: ${child.stderr().trim().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
