import type { z } from 'zod';
import type { CreateUserRequestSchema, Role, UpdateUserRequestSchema, UserSchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Db } from '../../infra/db/database.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import { toUser } from './dto.ts';
import { hashPassword } from './passwords.ts';

type User = z.infer<typeof UserSchema>;

/** People who work in an account: admins, managers and agents. Emails are unique across Parley and stored lower-case. */
export class UserService {
  constructor(private readonly db: Db) {}

  async create(accountId: string, input: z.infer<typeof CreateUserRequestSchema>): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    try {
      const row = await this.db
        .insertInto('users')
        .values({ account_id: accountId, email: input.email.toLowerCase(), name: input.name, role: input.role, password_hash: passwordHash, updated_at: new Date() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN', `A user with email ${input.email} already exists`, { field: 'email' });
      throw error;
    }
  }

  async list(accountId: string): Promise<User[]> {
    // Bots are users too (routing gives them conversations), but they are managed as bots, not listed here.
    const rows = await this.db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('role', '!=', 'bot').orderBy('name').execute();
    return rows.map(toUser);
  }

  async get(accountId: string, userId: string): Promise<User> {
    const row = await this.db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', userId).where('role', '!=', 'bot').executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'User not found');
    return toUser(row);
  }

  /** The caller's own user, bots included (`GET /me`). */
  async self(accountId: string, userId: string): Promise<User> {
    const row = await this.db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'User not found');
    return toUser(row);
  }

  async update(accountId: string, userId: string, change: z.infer<typeof UpdateUserRequestSchema>): Promise<User> {
    const values: { name?: string; role?: Role; disabled?: boolean; password_hash?: string; updated_at: Date } = { updated_at: new Date() };
    if (change.name !== undefined) values.name = change.name;
    if (change.role !== undefined) values.role = change.role;
    if (change.disabled !== undefined) values.disabled = change.disabled;
    if (change.password !== undefined) values.password_hash = await hashPassword(change.password);
    const row = await this.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('users').set(values).where('account_id', '=', accountId).where('id', '=', userId).where('role', '!=', 'bot').returningAll().executeTakeFirst();
      if (!updated) throw new AppError('NOT_FOUND', 'User not found');
      // A password change or disabling ends every session of that user.
      if (change.password !== undefined || change.disabled === true) {
        await trx.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
      }
      return updated;
    });
    return toUser(row);
  }
}
