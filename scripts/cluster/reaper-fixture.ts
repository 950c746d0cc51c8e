import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalPostgres } from './local-services.ts';
import { guard } from './reaper.ts';

/**
 * A script for reaper.test.ts: starts what a benchmark starts (a PostgreSQL by pg_ctl, a child in its own process
 * group, a temporary folder), guards them, prints what it started as one JSON line and then, as its argument says,
 * waits to be killed (`wait`) or releases the child and the folder and exits on its own (`release`).
 */
const mode = process.argv[2];
const postgres = mode === 'wait' ? await startLocalPostgres() : undefined;
const sleeper = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
sleeper.unref();
if (sleeper.pid === undefined) throw new Error('could not start sleep');
const releaseSleeper = guard({ kind: 'process', pid: sleeper.pid, name: 'sleeper' });
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-reaper-test-'));
const releaseFolder = guard({ kind: 'folder', path: folder });
const postmasterPid = postgres ? Number(fs.readFileSync(path.join(postgres.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) : null;
process.stdout.write(`${JSON.stringify({ sleeperPid: sleeper.pid, folder, postgresDir: postgres?.dir ?? null, postmasterPid })}\n`);
if (mode === 'release') {
  releaseSleeper();
  releaseFolder();
} else {
  setInterval(() => undefined, 60_000);
}
