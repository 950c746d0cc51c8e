import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './infra/db/database.ts';
import { createLogger } from './infra/telemetry/logger.ts';
import { storageMode } from './test/test-database.ts';
import { CLI_ENTRY, createScratchDatabase, http, killAllChildren, type ServerProcess, spawnTs, startServerProcess, type TsProcess } from './test/server-process.ts';

/** The operator CLI (`npm run parley -- ...`), as a real process on real storage (the suite's storage mode). */

interface CreatedAccount {
  accountId: string;
  accountName: string;
  widgetKey: string;
  adminEmail: string;
  generatedPassword?: string;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cli-'));
  dirs.push(dir);
  return dir;
}

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; proc: TsProcess }> {
  const proc = spawnTs(CLI_ENTRY, args, env);
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.stdout(), stderr: proc.stderr(), proc };
}

function parseCreated(stdout: string): CreatedAccount {
  return JSON.parse(stdout) as CreatedAccount;
}

afterAll(async () => {
  killAllChildren();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe(`parley CLI: create-account (${storageMode})`, () => {
  const adminUrl = process.env.PARLEY_TEST_DATABASE_URL;
  const dataDir = tempDir();
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: ServerProcess | undefined;
  let acme: CreatedAccount;
  let generated: CreatedAccount;

  beforeAll(async () => {
    env = { DATA_DIR: dataDir };
    if (adminUrl) {
      const database = await createScratchDatabase(adminUrl);
      dropDatabase = database.drop;
      env.DATABASE_URL = database.url;
    }
  });
  afterAll(async () => {
    if (server && !server.exit()) await server.kill();
    await dropDatabase?.();
  });

  async function countAccounts(): Promise<number> {
    const database = await openDatabase(
      adminUrl && env.DATABASE_URL ? { mode: 'postgres', databaseUrl: env.DATABASE_URL, poolSize: 1 } : { mode: 'embedded', dataDir },
      createLogger({ level: 'silent' }),
    );
    try {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from accounts`.execute(database.db);
      return rows[0]?.n ?? -1;
    } finally {
      await database.close();
    }
  }

  it('creates an account with its admin on empty storage and prints it as JSON', async () => {
    const r = await cli(['create-account', '--name', 'Acme', '--email', 'boss@acme.test', '--password', 'long-enough-pw'], env);
    expect(r.code, r.stderr).toBe(0);
    acme = parseCreated(r.stdout);
    expect(acme).toMatchObject({ accountName: 'Acme', adminEmail: 'boss@acme.test' });
    expect(acme.accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(acme.widgetKey).toMatch(/^pwk_[\w-]+$/);
    expect(acme.generatedPassword).toBeUndefined();
  }, 60_000);

  it('generates (and prints once) a password when none is given', async () => {
    const r = await cli(['create-account', '--name', 'Second brand', '--email', 'owner@second.test'], env);
    expect(r.code, r.stderr).toBe(0);
    generated = parseCreated(r.stdout);
    expect(generated.accountId).not.toBe(acme.accountId);
    expect(generated.generatedPassword).toMatch(/^\S{12,}$/);
  }, 60_000);

  it('refuses an admin email that is already taken, without leaving an account behind', async () => {
    expect(await countAccounts()).toBe(2);
    const r = await cli(['create-account', '--name', 'Copycat', '--email', 'boss@acme.test', '--password', 'long-enough-pw'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boss@acme.test');
    expect(r.stdout).toBe('');
    expect(await countAccounts()).toBe(2);
  }, 60_000);

  it('refuses a password shorter than the server accepts, before touching storage', async () => {
    const r = await cli(['create-account', '--name', 'Weak', '--email', 'weak@weak.test', '--password', 'short'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('10 characters');
    expect(await countAccounts()).toBe(2);
  }, 60_000);

  it('lets the server started on that storage log the new admins in, and serves the new widget key', async () => {
    server = await startServerProcess(env);
    // The storage had an account: the server must not create another one of its own.
    expect(server.widgetKey).toBeUndefined();
    expect(server.stdout()).not.toContain('first start');

    const boss = await http(server.baseUrl, 'login', { body: { email: 'boss@acme.test', password: 'long-enough-pw' } });
    expect(boss.status, JSON.stringify(boss.body)).toBe(200);
    expect(boss.body.accessToken).toEqual(expect.any(String));
    const wrong = await http(server.baseUrl, 'login', { body: { email: 'boss@acme.test', password: 'not-the-password' } });
    expect(wrong.status).toBe(401);
    const owner = await http(server.baseUrl, 'login', { body: { email: 'owner@second.test', password: generated.generatedPassword ?? '' } });
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);

    const session = await http(server.baseUrl, 'consumerSession', { body: { widgetKey: acme.widgetKey } });
    expect(session.status).toBe(200);
    expect(session.body.accountId).toBe(acme.accountId);
  }, 60_000);

  it.skipIf(storageMode !== 'embedded')(
    'refuses to open the data folder while the server runs on it',
    async () => {
      if (!server) throw new Error('no server');
      const r = await cli(['create-account', '--name', 'Sneaky', '--email', 'sneaky@acme.test', '--password', 'long-enough-pw'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('in use by another Parley process');
      const health = await fetch(`${server.baseUrl}/health`);
      expect(health.status).toBe(200);
    },
    30_000,
  );
});

describe('parley CLI: usage errors', () => {
  // No storage is needed to reject a command line, and none may be created for one.
  const dataDir = path.join(tempDir(), 'data');
  const env = { DATA_DIR: dataDir };

  it.each([
    ['no command', []],
    ['create-account without --email', ['create-account', '--name', 'Acme']],
    ['create-account without --name', ['create-account', '--email', 'boss@acme.test', '--password', 'long-enough-pw']],
    ['create-account with an invalid email', ['create-account', '--name', 'Acme', '--email', 'not-an-email']],
    ['an unknown option', ['create-account', '--name', 'Acme', '--email', 'boss@acme.test', '--colour', 'red']],
    ['an unknown command', ['frobnicate']],
  ])('%s: exits 2 with the usage, without creating storage', async (_label, args) => {
    const r = await cli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: npm run parley -- <command> [options]');
    expect(r.stdout).toBe('');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('prints the usage on --help and exits 0', async () => {
    const r = await cli(['--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create-account --name <brand> --email <admin email>');
  });
});
