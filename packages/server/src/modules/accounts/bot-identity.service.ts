import type { Transaction } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';
import { randomToken, sha256 } from './secrets.ts';

export const BOT_SECRET_PREFIX = 'pbt';

type Trx = Transaction<Database>;

/**
 * The identity of bots: a user row with role `bot` (so routing, participants and access treat a bot as they treat an
 * agent) and a secret it presents instead of a password. What a bot does is the bots module's business.
 */
export class BotIdentityService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Creates the bot's user and its secret, in the caller's transaction; the secret is returned once. */
  async create(trx: Trx, accountId: string, name: string): Promise<{ userId: string; secret: string; prefix: string }> {
    const user = await trx
      .insertInto('users')
      .values({
        account_id: accountId,
        // Never used to log in (bots are refused at login); unique because every email is.
        email: `bot+${crypto.randomUUID()}@bots.parley.invalid`,
        name,
        role: 'bot',
        password_hash: '!',
        updated_at: this.clock.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const secret = randomToken(BOT_SECRET_PREFIX);
    const prefix = secret.slice(0, 12);
    await trx
      .insertInto('bot_credentials')
      .values({ user_id: user.id, account_id: accountId, prefix, secret_hash: sha256(secret) })
      .execute();
    return { userId: user.id, secret, prefix };
  }

  /** Replaces the secret: the old one stops working at once. */
  async rotate(trx: Trx, accountId: string, userId: string): Promise<{ secret: string; prefix: string }> {
    const secret = randomToken(BOT_SECRET_PREFIX);
    const prefix = secret.slice(0, 12);
    const updated = await trx
      .updateTable('bot_credentials')
      .set({ prefix, secret_hash: sha256(secret) })
      .where('user_id', '=', userId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', 'Bot not found');
    return { secret, prefix };
  }

  async update(trx: Trx, accountId: string, userId: string, change: { name?: string; disabled?: boolean }): Promise<void> {
    if (change.name === undefined && change.disabled === undefined) return;
    await trx
      .updateTable('users')
      .set({ ...change, updated_at: this.clock.now() })
      .where('id', '=', userId)
      .where('account_id', '=', accountId)
      .where('role', '=', 'bot')
      .execute();
  }

  /** Resolves a bot secret to the bot's principal (a user with role `bot`). */
  async authenticate(secret: string): Promise<Principal> {
    const row = await this.db
      .selectFrom('bot_credentials')
      .innerJoin('users', 'users.id', 'bot_credentials.user_id')
      .select(['users.id', 'users.account_id', 'users.name', 'users.disabled'])
      .where('bot_credentials.secret_hash', '=', sha256(secret))
      .executeTakeFirst();
    if (!row || row.disabled) throw new AppError('UNAUTHENTICATED', 'The bot secret is not valid, or the bot is disabled');
    return { kind: 'user', userId: row.id, accountId: row.account_id, role: 'bot', name: row.name };
  }
}
