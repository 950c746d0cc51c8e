import { type ChildProcess, spawn } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a script leaves running or on disk outside its own process: a child in a process group of its own, a
 * PostgreSQL started by pg_ctl (which puts it in a session of its own), a temporary folder. A script's own clean-up
 * stops them in order; but a script killed with SIGKILL runs no clean-up at all, and they would outlive it (a
 * benchmark's node and PostgreSQL kept a core busy and spoilt the next run).
 *
 * So each script that starts such things has a reaper: a small process of its own, started with the first thing to
 * guard, that reads what to guard from a pipe and, when the pipe closes (its parent exited, however), kills and
 * deletes whatever is still registered, the last registered first. Something stopped in order is released first and
 * not touched again.
 */

export type Remains =
  /** A child process: killed, with its process group when it leads one (started `detached`). */
  | { kind: 'process'; pid: number; name: string }
  /** A PostgreSQL data folder: its postmaster (postmaster.pid) gets an immediate shutdown. */
  | { kind: 'postgres'; dataDir: string }
  /** A folder deleted with everything in it. */
  | { kind: 'folder'; path: string };

/** What the parent writes to the reaper, one JSON object per line. */
export type ReaperMessage = { op: 'guard'; id: number; remains: Remains } | { op: 'release'; id: number };

const PROGRAM = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reaper-process.ts');
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let reaper: ChildProcess | undefined;
let nextId = 1;

function send(message: ReaperMessage): void {
  if (!reaper) {
    // Detached (a session of its own): a Ctrl-C in the terminal reaches the script, which cleans up in order, not
    // the reaper. It inherits stderr only to say what it had to reap.
    reaper = spawn(process.execPath, ['--import', 'tsx', PROGRAM], { cwd: REPO_ROOT, detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
    reaper.unref();
    (reaper.stdin as net.Socket).unref();
    // A reaper that could not start, or died, leaves the script as it was before reapers: nothing to do here.
    reaper.stdin?.on('error', () => undefined);
    reaper.on('error', () => undefined);
  }
  reaper.stdin?.write(`${JSON.stringify(message)}\n`);
}

/**
 * Guards `remains` until the returned function is called (once they are cleaned up in order). Whatever is still
 * guarded when this process exits, however it exits, is killed or deleted by its reaper.
 */
export function guard(remains: Remains): () => void {
  const id = nextId++;
  send({ op: 'guard', id, remains });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    send({ op: 'release', id });
  };
}

/** Whether a process of this pid exists (one we may not signal counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
