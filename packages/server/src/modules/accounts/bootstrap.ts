import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../infra/db/database.ts';
import { AccountService } from './account.service.ts';
import { UserService } from './user.service.ts';

export interface BootstrapResult {
  accountId: string;
  accountName: string;
  widgetKey: string;
  adminEmail: string;
  /** Only set when the password was generated: it is shown once and never stored in clear. */
  generatedPassword: string | undefined;
}

/** Creates an account and its first admin. Used on the first start (when there is no account) and by the CLI. */
export async function createAccountWithAdmin(
  services: { accounts: AccountService; users: UserService },
  input: { accountName: string; adminEmail: string; adminName?: string; adminPassword: string | undefined },
): Promise<BootstrapResult> {
  const generatedPassword = input.adminPassword ? undefined : randomBytes(12).toString('base64url');
  const password = input.adminPassword ?? generatedPassword ?? '';
  const account = await services.accounts.create(input.accountName);
  await services.users.create(account.id, { email: input.adminEmail, name: input.adminName ?? 'Administrator', role: 'admin', password });
  return { accountId: account.id, accountName: account.name, widgetKey: account.widgetKey, adminEmail: input.adminEmail, generatedPassword };
}

type BootstrapInput = Parameters<typeof createAccountWithAdmin>[1];

/** Creates the account and its admin in one transaction: a taken email leaves no account without an admin behind. */
export function createAccountWithAdminAtomically(db: Db, input: BootstrapInput): Promise<BootstrapResult> {
  return db.transaction().execute((trx) => createAccountWithAdmin({ accounts: new AccountService(trx), users: new UserService(trx) }, input));
}

/**
 * On the first start only: creates the first account and admin when there is no account. Several nodes starting
 * together on an empty PostgreSQL create exactly one (an advisory lock serialises the check and the creation).
 */
export function bootstrapFirstAccount(db: Db, input: BootstrapInput): Promise<BootstrapResult | undefined> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('parley:bootstrap'))`.execute(trx);
    const accounts = new AccountService(trx);
    if ((await accounts.count()) > 0) return undefined;
    return createAccountWithAdmin({ accounts, users: new UserService(trx) }, input);
  });
}
