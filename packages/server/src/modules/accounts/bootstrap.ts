import { randomBytes } from 'node:crypto';
import type { AccountService } from './account.service.ts';
import type { UserService } from './user.service.ts';

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
