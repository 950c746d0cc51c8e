import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An exclusive lock on the embedded data folder. PGlite takes no lock of its own, and two processes opening one data
 * folder corrupt it for good, so the server refuses to start while another live process holds the lock.
 *
 * The lock file records pid, host and the process start time (from /proc), so a lock left by a crashed process, or
 * by an earlier container whose pid was reused, is recognised as stale and taken over.
 */
export class DataDirLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: LockInfo,
  ) {
    super(`The data folder is in use by another Parley process (pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt}). Stop it first, or set DATA_DIR to another folder. Lock: ${lockPath}`);
    this.name = 'DataDirLockedError';
  }
}

interface LockInfo {
  pid: number;
  host: string;
  startTime: string | null;
  acquiredAt: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Locks this process holds now (lock path -> acquiredAt): our own pid in a lock file is only stale if it is not one of these. */
const heldHere = new Map<string, string>();

function isAlive(info: LockInfo, lockPath: string): boolean {
  if (info.host !== os.hostname()) return true; // Cannot check another host: assume it is alive (shared volume).
  // Our own pid: held by this very process (a second opener here would corrupt the folder just the same), or else
  // left by a previous incarnation (a restarted container reuses low pids).
  if (info.pid === process.pid) return heldHere.get(lockPath) === info.acquiredAt;
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStartTime(info.pid);
  return info.startTime === null || start === null || start === info.startTime;
}

function readLock(lockPath: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.resolve(dataDir, 'parley.lock');
  const info: LockInfo = { pid: process.pid, host: os.hostname(), startTime: processStartTime(process.pid), acquiredAt: new Date().toISOString() };

  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(info), { flag: 'wx' });
      heldHere.set(lockPath, info.acquiredAt);
      let released = false;
      return {
        path: lockPath,
        release() {
          if (released) return;
          released = true;
          if (heldHere.get(lockPath) === info.acquiredAt) heldHere.delete(lockPath);
          const current = readLock(lockPath);
          if (current && current.pid === info.pid && current.acquiredAt === info.acquiredAt) fs.rmSync(lockPath, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(lockPath);
    if (holder && isAlive(holder, lockPath)) throw new DataDirLockedError(lockPath, holder);
    // Stale (or unreadable half-written) lock: move it aside atomically; only one contender's rename succeeds.
    const aside = `${lockPath}.stale-${process.pid}-${attempt}`;
    try {
      fs.renameSync(lockPath, aside);
    } catch {
      continue;
    }
    const moved = readLock(aside);
    if (moved && holder && (moved.pid !== holder.pid || moved.acquiredAt !== holder.acquiredAt) && isAlive(moved, lockPath)) {
      // We raced another process that had just taken the lock: give it back.
      fs.renameSync(aside, lockPath);
      throw new DataDirLockedError(lockPath, moved);
    }
    fs.rmSync(aside, { force: true });
  }
  throw new Error(`Could not acquire the data folder lock ${lockPath}`);
}
