import type { z } from 'zod';
import type { AccountSchema, ApiKeySchema, LineOfBusinessSchema, UserSchema } from '@parley/protocol';
import type { Selectable } from 'kysely';
import type { AccountsTable, ApiKeysTable, LinesOfBusinessTable, UsersTable } from './tables.ts';

/** Row to wire shape: the only place column names meet field names. */
export function toAccount(row: Selectable<AccountsTable>): z.infer<typeof AccountSchema> {
  const auth = row.consumer_auth;
  return {
    id: row.id,
    name: row.name,
    widgetKey: row.widget_key,
    consumerAuth: auth ? { issuer: auth.issuer, audience: auth.audience ?? null, jwksUrl: auth.jwksUrl ?? null, hasPublicKey: Boolean(auth.publicKeyPem) } : null,
    createdAt: row.created_at.toISOString(),
  };
}

export function toUser(row: Selectable<UsersTable>): z.infer<typeof UserSchema> {
  return { id: row.id, accountId: row.account_id, email: row.email, name: row.name, role: row.role, disabled: row.disabled, createdAt: row.created_at.toISOString() };
}

export function toLineOfBusiness(row: Selectable<LinesOfBusinessTable>): z.infer<typeof LineOfBusinessSchema> {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}

export function toApiKey(row: Selectable<ApiKeysTable>): z.infer<typeof ApiKeySchema> {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    rateLimitPerMinute: row.rate_limit_per_minute,
  };
}
