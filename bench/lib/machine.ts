import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** What the benchmarks read about the machine and its processes (Linux /proc), and CPU pinning with taskset. */

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  /** CPUs this process may run on before pinning (`taskset` / cgroup view), e.g. "0-1". */
  allowedCpus: string;
  node: string;
  platform: string;
  memoryGiB: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    allowedCpus: allowedCpus(process.pid) ?? 'unknown',
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** `uptime`'s load averages, as the kernel keeps them. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [a, b, c];
}

export function formatLoad(load: readonly number[]): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

export function allowedCpus(pid: number): string | undefined {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes (VmRSS), undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s*(\d+)\s*kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  ppid: number;
  /** user + system CPU time of the process and of its children that exited and were reaped, in ms. */
  cpuMs: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; the fields after it are space separated.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: a PostgreSQL backend that exits (the pool's idle timeout) moves its time into the
    // postmaster's cutime, so a tree's total does not drop when one of its processes goes away.
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { ppid: Number(fields[1]), cpuMs: (ticks * 1000) / ticksPerSecond() };
  } catch {
    return undefined;
  }
}

/** A process's children from /proc/<pid>/task/<tid>/children (Linux 3.5+), undefined where the kernel lacks it. */
function childrenOf(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (child.trim() !== '') out.push(Number(child));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(`/proc/${pid}/task/${tid}`)) return undefined;
    }
  }
  return out;
}

/**
 * The process and all its descendants alive now. Walks the children files when the kernel has them (a few reads:
 * the generator calls this at the edges of a measured window, where a scan of every process would stall its sends).
 */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    const children = childrenOf(pid);
    if (children === undefined) return processTreeByScan(root);
    out.push(pid);
    stack.push(...children);
  }
  return out;
}

function processTreeByScan(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU ms used so far by these processes and their descendants (live ones, and the exited ones their parents reaped). */
export function cpuMsOfTrees(roots: readonly number[]): number {
  let total = 0;
  const seen = new Set<number>();
  for (const root of roots) {
    for (const pid of processTree(root)) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      total += procStat(pid)?.cpuMs ?? 0;
    }
  }
  return total;
}

/** The pid of a running process whose command line contains every one of `parts` (e.g. redis-server and its port). */
export function findProcess(parts: readonly string[]): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (parts.every((part) => cmdline.includes(part))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Moves every thread of each process of the tree to `cpu`; children started later inherit it. */
export function pinTree(root: number, cpu: number): number[] {
  const pids = processTree(root);
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    } catch {
      // A backend that exited in between.
    }
  }
  return pids;
}

/** The command that runs `argv` pinned to `cpu`, or `argv` itself when not pinning. */
export function pinnedCommand(cpu: number | undefined, argv: readonly string[]): [string, string[]] {
  if (cpu === undefined) return [argv[0] as string, argv.slice(1)];
  return ['taskset', ['-c', String(cpu), ...argv]];
}

/** The soft and hard limits on open files of a process (prlimit, util-linux), undefined when unknown. */
export function openFileLimit(pid: number): { soft: number; hard: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(text);
    if (!match) return undefined;
    const value = (v: string | undefined) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return { soft: value(match[1]), hard: value(match[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Raises a process's soft limit on open files towards `wanted` (at most its hard limit; an unprivileged process may
 * raise its own soft limit that far). Returns the limits afterwards. Children started later inherit them.
 */
export function raiseOpenFileLimit(pid: number, wanted: number): { soft: number; hard: number } | undefined {
  const limit = openFileLimit(pid);
  if (!limit || limit.soft >= wanted) return limit;
  const target = Math.min(wanted, limit.hard);
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${limit.hard}`], { stdio: 'ignore' });
  } catch {
    // prlimit missing or refused: the caller reports the limit it got.
  }
  return openFileLimit(pid);
}

/**
 * The summed resident memory of `pids` once it has settled: sampled every second until three samples in a row are
 * within 1% of each other (a garbage collection or the allocator returning memory), or `timeoutMs` passes.
 */
export async function settledRss(pids: readonly number[], timeoutMs = 30_000): Promise<number> {
  const read = () => pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
  const samples = [read()];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    samples.push(read());
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 0.01 * Math.max(...last)) break;
  }
  return samples.at(-1) as number;
}

/** Busy and total time of one CPU so far, in ms (/proc/stat: everything but idle and iowait is busy). */
export function cpuTimes(cpu: number): { busyMs: number; totalMs: number } | undefined {
  try {
    const line = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return undefined;
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((s, v) => s + v, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const ms = 1000 / ticksPerSecond();
    return { busyMs: (total - idle) * ms, totalMs: total * ms };
  } catch {
    return undefined;
  }
}
