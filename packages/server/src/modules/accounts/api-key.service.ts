import type { z } from 'zod';
import type { ApiKeySchema, ApiKeyScope, CreateApiKeyRequestSchema, CreatedApiKeySchema, UpdateApiKeyRequestSchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { toApiKey } from './dto.ts';
import { randomToken, sha256 } from './secrets.ts';
import { timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An API key that authenticated as an OAuth client (client credentials). */
export interface ApiKeyClient {
  id: string;
  accountId: string;
  scopes: ApiKeyScope[];
}

export const API_KEY_PREFIX = 'pak';

/** Server-to-server credentials of an account, with scopes. Only a SHA-256 digest of the secret is stored. */
export class ApiKeyService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async create(accountId: string, input: z.infer<typeof CreateApiKeyRequestSchema>): Promise<z.infer<typeof CreatedApiKeySchema>> {
    const secret = randomToken(API_KEY_PREFIX);
    const row = await this.db
      .insertInto('api_keys')
      .values({
        account_id: accountId,
        name: input.name,
        prefix: secret.slice(0, 12),
        secret_hash: sha256(secret),
        scopes: JSON.stringify([...new Set(input.scopes)]),
        rate_limit_per_minute: input.rateLimitPerMinute ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { apiKey: toApiKey(row), secret };
  }

  async list(accountId: string): Promise<z.infer<typeof ApiKeySchema>[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
    return rows.map(toApiKey);
  }

  async update(accountId: string, id: string, input: z.infer<typeof UpdateApiKeyRequestSchema>): Promise<z.infer<typeof ApiKeySchema>> {
    const row = await this.db
      .updateTable('api_keys')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.rateLimitPerMinute !== undefined ? { rate_limit_per_minute: input.rateLimitPerMinute } : {}),
      })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'API key not found');
    return toApiKey(row);
  }

  async revoke(accountId: string, id: string): Promise<void> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: this.clock.now() })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AppError('NOT_FOUND', 'API key not found or already revoked');
  }

  async authenticate(secret: string): Promise<Principal> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'account_id', 'scopes', 'revoked_at', 'last_used_at', 'rate_limit_per_minute'])
      .where('secret_hash', '=', sha256(secret))
      .executeTakeFirst();
    if (!row || row.revoked_at) throw new AppError('UNAUTHENTICATED', 'The API key is not valid');
    await this.recordUse(row);
    return { kind: 'api_key', apiKeyId: row.id, accountId: row.account_id, scopes: row.scopes, rateLimitPerMinute: row.rate_limit_per_minute };
  }

  /**
   * OAuth client authentication: the key's id and secret. Undefined when the id is unknown, the secret wrong or the
   * key revoked (the caller cannot tell which). The comparison of digests takes constant time.
   */
  async authenticateClient(clientId: string, clientSecret: string): Promise<ApiKeyClient | undefined> {
    if (!UUID.test(clientId)) return undefined;
    const row = await this.db.selectFrom('api_keys').select(['id', 'account_id', 'scopes', 'secret_hash', 'revoked_at']).where('id', '=', clientId).executeTakeFirst();
    const presented = Buffer.from(sha256(clientSecret));
    const stored = Buffer.from(row?.secret_hash ?? sha256(''));
    const same = presented.length === stored.length && timingSafeEqual(presented, stored);
    if (!row || !same || row.revoked_at) return undefined;
    return { id: row.id, accountId: row.account_id, scopes: row.scopes };
  }

  /**
   * Completes the principal of an access token issued to a key by client credentials: the key must still exist and not
   * be revoked, and the token's scopes are cut down to the key's. Consulted on every request, so revoking a key stops
   * its tokens at once.
   */
  async confirmIssuedToken(principal: Extract<Principal, { kind: 'api_key' }>): Promise<Principal> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'account_id', 'scopes', 'revoked_at', 'last_used_at', 'rate_limit_per_minute'])
      .where('id', '=', principal.apiKeyId)
      .where('account_id', '=', principal.accountId)
      .executeTakeFirst();
    if (!row || row.revoked_at) throw new AppError('UNAUTHENTICATED', 'The API key of this access token was revoked');
    await this.recordUse(row);
    const scopes = principal.scopes.filter((s) => row.scopes.includes(s));
    return { kind: 'api_key', apiKeyId: row.id, accountId: row.account_id, scopes, rateLimitPerMinute: row.rate_limit_per_minute };
  }

  /** Records use at most once a minute, so a busy integration does not write on every request. */
  private async recordUse(row: { id: string; last_used_at: Date | null }): Promise<void> {
    const now = this.clock.now();
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
      await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
  }
}
