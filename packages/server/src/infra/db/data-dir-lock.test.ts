import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllChildren, SERVER_ENTRY, type ServerProcess, spawnTs, startServerProcess } from '../../test/server-process.ts';
import { acquireDataDirLock, type DataDirLock, DataDirLockedError } from './data-dir-lock.ts';

interface LockFile {
  pid: number;
  host: string;
  startTime: string | null;
  acquiredAt: string;
}

const dirs: string[] = [];
const held: DataDirLock[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-lock-'));
  dirs.push(dir);
  return dir;
}

function acquire(dir: string): DataDirLock {
  const lock = acquireDataDirLock(dir);
  held.push(lock);
  return lock;
}

function readLockFile(dir: string): LockFile {
  return JSON.parse(fs.readFileSync(path.join(dir, 'parley.lock'), 'utf8')) as LockFile;
}

function writeLockFile(dir: string, info: LockFile): void {
  fs.writeFileSync(path.join(dir, 'parley.lock'), JSON.stringify(info));
}

function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  if (!start) throw new Error(`no start time for ${pid}`);
  return start;
}

/** The pid of a process that has exited (and been reaped), so nothing answers to it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn');
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

/** Throws the DataDirLockedError of `fn`, or fails. */
function lockedError(fn: () => unknown): DataDirLockedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DataDirLockedError) return error;
    throw error;
  }
  throw new Error('expected DataDirLockedError, but the lock was acquired');
}

afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('acquireDataDirLock', () => {
  it('refuses a second acquire while the lock is held, naming the holder', () => {
    const dir = tempDir();
    const lock = acquire(dir);
    expect(lock.path).toBe(path.join(dir, 'parley.lock'));
    const before = readLockFile(dir);
    expect(before).toMatchObject({ pid: process.pid, host: os.hostname() });

    const error = lockedError(() => acquire(dir));
    expect(error.holder).toMatchObject({ pid: process.pid, host: os.hostname(), acquiredAt: before.acquiredAt });
    expect(error.lockPath).toBe(lock.path);
    expect(error.message).toContain('in use by another Parley process');
    expect(error.message).toContain(`pid ${process.pid} on ${os.hostname()}`);
    // The refused attempt left the holder's lock as it was.
    expect(readLockFile(dir)).toEqual(before);
  });

  it('can be acquired again after release, and release removes the file once', () => {
    const dir = tempDir();
    const lock = acquire(dir);
    lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);
    lock.release();
    const again = acquire(dir);
    expect(fs.existsSync(again.path)).toBe(true);
    // The first handle's (repeated) release must not remove a lock that is no longer its own.
    lock.release();
    expect(fs.existsSync(again.path)).toBe(true);
  });

  it('does not remove a lock that another process took over in the meantime', () => {
    const dir = tempDir();
    const lock = acquire(dir);
    const other: LockFile = { pid: process.pid + 1, host: os.hostname(), startTime: null, acquiredAt: new Date(Date.now() + 1000).toISOString() };
    writeLockFile(dir, other);
    lock.release();
    expect(readLockFile(dir)).toEqual(other);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dir = tempDir();
    const pid = await deadPid();
    writeLockFile(dir, { pid, host: os.hostname(), startTime: '12345', acquiredAt: '2020-01-01T00:00:00.000Z' });
    acquire(dir);
    expect(readLockFile(dir)).toMatchObject({ pid: process.pid });
    // Nothing is left behind from moving the stale lock aside.
    expect(fs.readdirSync(dir)).toEqual(['parley.lock']);
  });

  it('takes over a lock with our own pid from an earlier incarnation (a restarted container)', () => {
    const dir = tempDir();
    writeLockFile(dir, { pid: process.pid, host: os.hostname(), startTime: startTimeOf(process.pid), acquiredAt: '2020-01-01T00:00:00.000Z' });
    acquire(dir);
    const lock = readLockFile(dir);
    expect(lock.pid).toBe(process.pid);
    expect(lock.acquiredAt).not.toBe('2020-01-01T00:00:00.000Z');
  });

  it('respects a live holder, but takes over when its pid now belongs to a process started later', async () => {
    const dir = tempDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid;
      if (pid === undefined) throw new Error('could not spawn');
      const live: LockFile = { pid, host: os.hostname(), startTime: startTimeOf(pid), acquiredAt: '2020-01-01T00:00:00.000Z' };
      writeLockFile(dir, live);
      expect(lockedError(() => acquire(dir)).holder).toEqual(live);
      expect(readLockFile(dir)).toEqual(live);

      // Same pid, different start time: the pid was reused, the holder is gone.
      writeLockFile(dir, { ...live, startTime: '1' });
      acquire(dir);
      expect(readLockFile(dir).pid).toBe(process.pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('assumes a holder on another host is alive (a shared volume)', async () => {
    const dir = tempDir();
    const pid = await deadPid();
    const remote: LockFile = { pid, host: `not-${os.hostname()}`, startTime: null, acquiredAt: '2020-01-01T00:00:00.000Z' };
    writeLockFile(dir, remote);
    expect(lockedError(() => acquire(dir)).holder).toEqual(remote);
  });

  it('takes over an unreadable (half-written) lock file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'parley.lock'), '{"pid": 12');
    acquire(dir);
    expect(readLockFile(dir).pid).toBe(process.pid);
  });

  it('creates the data folder when it does not exist', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    acquire(dir);
    expect(readLockFile(dir).pid).toBe(process.pid);
  });
});

describe('the data folder lock between server processes', () => {
  let first: ServerProcess | undefined;
  afterAll(async () => {
    killAllChildren();
    await first?.exited;
  });

  it('refuses to start a second server on the same DATA_DIR (exit 2) and leaves the first one serving', async () => {
    const dataDir = tempDir();
    first = await startServerProcess({ DATA_DIR: dataDir });
    expect(readLockFile(dataDir).pid).toBe(first.pid);

    const second = spawnTs(SERVER_ENTRY, [], { DATA_DIR: dataDir, PORT: '0' });
    const exit = await second.exited;
    expect(exit, `stdout: ${second.stdout()}\nstderr: ${second.stderr()}`).toEqual({ code: 2, signal: null });
    expect(second.stderr()).toContain('in use by another Parley process');
    expect(second.stderr()).toContain(`pid ${first.pid}`);
    // A refusal, not a crash: no stack trace.
    expect(second.stderr()).not.toContain('    at ');

    const health = await fetch(`${first.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(readLockFile(dataDir).pid).toBe(first.pid);

    // A graceful stop releases the lock.
    const stopped = await first.stop();
    expect(stopped.code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'parley.lock'))).toBe(false);
  }, 60_000);
});
