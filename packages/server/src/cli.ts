import { parseArgs } from 'node:util';
import { CreateUserRequestSchema } from '@parley/protocol';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config/config.ts';
import { openDatabase } from './infra/db/database.ts';
import { DataDirLockedError } from './infra/db/data-dir-lock.ts';
import { createLogger } from './infra/telemetry/logger.ts';
import { createAccountWithAdminAtomically } from './modules/accounts/index.ts';

const USAGE = `Usage: npm run parley -- <command> [options]

Commands:
  create-account --name <brand> --email <admin email> [--password <pw>]   Create an account with its first admin
  migrate                                                                 Apply database migrations and exit

Storage follows the same environment as the server (DATA_DIR, or DATABASE_URL). In embedded mode the server must be
stopped first: the data folder is locked while it runs.`;

const CreateAccountArgs = z.object({
  name: z.string({ error: '--name is required' }).trim().min(1, '--name is required').max(200),
  email: z.string({ error: '--email is required' }).pipe(CreateUserRequestSchema.shape.email),
  password: CreateUserRequestSchema.shape.password.optional(),
});

/** A command line we cannot run: say why, show the usage, exit 2. Checked before any storage is opened. */
function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  return 2;
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!command) return usageError('No command given.');
  if (command !== 'migrate' && command !== 'create-account') return usageError(`Unknown command "${command}"`);
  const args = command === 'create-account' ? CreateAccountArgs.safeParse(values) : undefined;
  if (args && !args.success) return usageError(`create-account: ${args.error.issues.map((i) => `${i.path.length > 0 ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`);

  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const database = await openDatabase(
    config.storage.mode === 'postgres' ? { mode: 'postgres', databaseUrl: config.storage.databaseUrl, poolSize: 2 } : { mode: 'embedded', dataDir: config.storage.dataDir },
    logger,
  );
  try {
    if (!args) {
      process.stdout.write('Migrations applied.\n');
      return 0;
    }
    const { name, email, password } = args.data;
    const result = await createAccountWithAdminAtomically(database.db, { accountName: name, adminEmail: email, adminPassword: password });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

function parseCommandLine() {
  return parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean' } } });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    // Like the server: a configuration the operator must change (or a data folder in use) is exit code 2.
    process.exit(error instanceof ConfigError || error instanceof DataDirLockedError ? 2 : 1);
  },
);
