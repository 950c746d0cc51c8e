import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processAlive } from './reaper.ts';

const FIXTURE = path.join(import.meta.dirname, 'reaper-fixture.ts');

interface Started {
  sleeperPid: number;
  folder: string;
  postgresDir: string | null;
  postmasterPid: number | null;
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const leftovers: Array<() => void> = [];
afterEach(() => {
  for (const clean of leftovers.splice(0)) clean();
});

/** Runs the fixture script and resolves with what it says it started. */
async function runScript(mode: 'wait' | 'release'): Promise<{ script: ChildProcess; started: Started; stderr: () => string; closed: Promise<void> }> {
  const script = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close': the script's stdout and stderr are closed by all who hold them, its reaper too (it shares stderr), so the
  // reaper has exited as well.
  const closed = new Promise<void>((resolve) => script.once('close', () => resolve()));
  let out = '';
  let err = '';
  script.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  script.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  await until('the script says what it started', () => out.includes('\n') || script.exitCode !== null, 60_000);
  const line = out.split('\n')[0];
  if (!line) throw new Error(`the script failed: ${err}`);
  const started = JSON.parse(line) as Started;
  leftovers.push(() => {
    for (const pid of [started.sleeperPid, started.postmasterPid]) if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const dir of [started.folder, started.postgresDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return { script, started, stderr: () => err, closed };
}

describe('the reaper of scripts that start servers', () => {
  it("stops the script's PostgreSQL and children and deletes its folders when the script is killed with SIGKILL", async () => {
    const { script, started, stderr, closed } = await runScript('wait');
    expect(started.postmasterPid && processAlive(started.postmasterPid)).toBe(true);
    expect(processAlive(started.sleeperPid)).toBe(true);
    script.kill('SIGKILL');
    await until('the child is killed', () => !processAlive(started.sleeperPid));
    await until('PostgreSQL is stopped', () => !processAlive(started.postmasterPid ?? 0));
    await until('the folders are deleted', () => !fs.existsSync(started.folder) && !fs.existsSync(started.postgresDir ?? ''));
    // It says what it did, on the stderr it shares with the script, and exits.
    await closed;
    expect(stderr()).toContain(`killed sleeper (pid ${started.sleeperPid})`);
    expect(stderr()).toContain(`stopped PostgreSQL of ${started.postgresDir}`);
  });

  it('leaves alone what the script released before it exited', async () => {
    const { started, closed } = await runScript('release');
    await closed;
    expect(processAlive(started.sleeperPid)).toBe(true);
    expect(fs.existsSync(started.folder)).toBe(true);
  });
});
