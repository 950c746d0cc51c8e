import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { processAlive, type ReaperMessage, type Remains } from './reaper.ts';

/**
 * The reaper of scripts/cluster/reaper.ts: reads what to guard from stdin and, once stdin closes (its parent has
 * exited), kills and deletes what is still guarded, the last guarded first, then exits.
 */

const guarded = new Map<number, Remains>();

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** What was done, for the line on stderr; undefined when there was nothing left to do. */
async function reap(remains: Remains): Promise<string | undefined> {
  switch (remains.kind) {
    case 'process': {
      if (!processAlive(remains.pid)) return undefined;
      try {
        process.kill(-remains.pid, 'SIGKILL');
      } catch {
        signal(remains.pid, 'SIGKILL');
      }
      await gone(remains.pid, 5_000);
      return `killed ${remains.name} (pid ${remains.pid})`;
    }
    case 'postgres': {
      let pid: number;
      try {
        pid = Number(fs.readFileSync(path.join(remains.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return undefined; // not running
      }
      if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
      // SIGQUIT: PostgreSQL's immediate shutdown (its backends exit at once, nothing is written).
      signal(pid, 'SIGQUIT');
      if (!(await gone(pid, 10_000))) signal(pid, 'SIGKILL');
      await gone(pid, 5_000);
      return `stopped PostgreSQL of ${remains.dataDir} (pid ${pid})`;
    }
    case 'folder': {
      if (!fs.existsSync(remains.path)) return undefined;
      fs.rmSync(remains.path, { recursive: true, force: true });
      return `deleted ${remains.path}`;
    }
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let message: ReaperMessage;
  try {
    message = JSON.parse(line) as ReaperMessage;
  } catch {
    return;
  }
  if (message.op === 'guard') guarded.set(message.id, message.remains);
  else guarded.delete(message.id);
});
lines.on('close', () => {
  void (async () => {
    const done: string[] = [];
    for (const remains of [...guarded.values()].reverse()) {
      try {
        const what = await reap(remains);
        if (what) done.push(what);
      } catch (error) {
        done.push(`could not reap ${JSON.stringify(remains)}: ${String(error)}`);
      }
    }
    if (done.length > 0) process.stderr.write(`reaper (pid ${process.pid}): its script exited without cleaning up; ${done.join('; ')}\n`);
    process.exit(0);
  })();
});
