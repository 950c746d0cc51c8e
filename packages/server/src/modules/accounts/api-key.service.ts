import type { z } from 'zod';
import type { ApiKeySchema, CreateApiKeyRequestSchema, CreatedApiKeySchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { toApiKey } from './dto.ts';
import { randomToken, sha256 } from './secrets.ts';

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
      .values({ account_id: accountId, name: input.name, prefix: secret.slice(0, 12), secret_hash: sha256(secret), scopes: JSON.stringify([...new Set(input.scopes)]) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { apiKey: toApiKey(row), secret };
  }

  async list(accountId: string): Promise<z.infer<typeof ApiKeySchema>[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
    return rows.map(toApiKey);
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
    const row = await this.db.selectFrom('api_keys').select(['id', 'account_id', 'scopes', 'revoked_at', 'last_used_at']).where('secret_hash', '=', sha256(secret)).executeTakeFirst();
    if (!row || row.revoked_at) throw new AppError('UNAUTHENTICATED', 'The API key is not valid');
    const now = this.clock.now();
    // Record use at most once a minute, so a busy integration does not write on every request.
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
      await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return { kind: 'api_key', apiKeyId: row.id, accountId: row.account_id, scopes: row.scopes };
  }
}
