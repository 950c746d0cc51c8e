import type { z } from 'zod';
import type { LoginRequestSchema, Role, TokenPairSchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import { API_KEY_PREFIX, type ApiKeyService } from './api-key.service.ts';
import { BOT_SECRET_PREFIX, type BotIdentityService } from './bot-identity.service.ts';
import { dummyPasswordHash, verifyPassword } from './passwords.ts';
import { randomToken, sha256 } from './secrets.ts';
import type { TokenSigner } from './token-signer.ts';

type TokenPair = z.infer<typeof TokenPairSchema>;

export interface AuthSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/**
 * Password login with short-lived access tokens and rotating refresh tokens. A refresh token works once; presenting
 * an already-rotated one is treated as theft and revokes every session of the user.
 */
export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly signer: TokenSigner,
    private readonly apiKeys: ApiKeyService,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly bots?: BotIdentityService,
  ) {}

  async login(input: z.infer<typeof LoginRequestSchema>): Promise<TokenPair> {
    const user = await this.db.selectFrom('users').selectAll().where('email', '=', input.email.toLowerCase()).executeTakeFirst();
    const ok = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), input.password);
    if (!user || !ok || user.disabled || user.role === 'bot') {
      this.logger.info({ email: input.email, reason: !user ? 'unknown_email' : user.disabled ? 'disabled' : user.role === 'bot' ? 'bot' : 'bad_password' }, 'login refused');
      throw new AppError('INVALID_CREDENTIALS', 'Email or password is wrong');
    }
    return this.issuePair(user);
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', sha256(refreshToken)).forUpdate().executeTakeFirst();
      if (!row) throw new AppError('INVALID_REFRESH_TOKEN');
      const now = this.clock.now();
      if (row.revoked_at) {
        // Returned rather than thrown: throwing here would roll the revocation back.
        await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('user_id', '=', row.user_id).where('revoked_at', 'is', null).execute();
        return { reusedBy: row.user_id };
      }
      if (row.expires_at.getTime() <= now.getTime()) throw new AppError('INVALID_REFRESH_TOKEN', 'The refresh token has expired');
      const user = await trx.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirstOrThrow();
      if (user.disabled) throw new AppError('INVALID_REFRESH_TOKEN', 'The user is disabled');
      await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('id', '=', row.id).execute();
      return { pair: await this.issuePair(user, trx) };
    });
    if ('reusedBy' in outcome) {
      this.logger.warn({ userId: outcome.reusedBy }, 'a rotated refresh token was reused: all sessions of the user revoked');
      throw new AppError('INVALID_REFRESH_TOKEN', 'The refresh token was already used');
    }
    return outcome.pair;
  }

  async logout(refreshToken: string): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: this.clock.now() }).where('token_hash', '=', sha256(refreshToken)).where('revoked_at', 'is', null).execute();
  }

  /** Resolves a bearer credential: a Parley access token (user, consumer or API key) or an API key. */
  async authenticate(credential: string): Promise<Principal> {
    if (credential.startsWith(`${API_KEY_PREFIX}_`)) return this.apiKeys.authenticate(credential);
    if (this.bots && credential.startsWith(`${BOT_SECRET_PREFIX}_`)) return this.bots.authenticate(credential);
    const principal = await this.signer.verify(credential);
    // A token issued to an API key (OAuth client credentials) dies with the key.
    if (principal.kind === 'api_key') return this.apiKeys.confirmIssuedToken(principal);
    return principal;
  }

  private async issuePair(user: { id: string; account_id: string; role: Role; name: string }, db: Db = this.db): Promise<TokenPair> {
    const access = await this.signer.sign({ typ: 'user', sub: user.id, acc: user.account_id, role: user.role, name: user.name }, this.settings.accessTokenTtlSeconds);
    const refreshToken = randomToken('prt');
    const refreshExpiresAt = new Date(this.clock.now().getTime() + this.settings.refreshTokenTtlSeconds * 1000);
    await db
      .insertInto('refresh_tokens')
      .values({ user_id: user.id, token_hash: sha256(refreshToken), expires_at: refreshExpiresAt })
      .execute();
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken,
      refreshTokenExpiresAt: refreshExpiresAt.toISOString(),
      tokenType: 'Bearer',
    };
  }
}
