import { randomBytes } from 'node:crypto';
import { type ApiKeyScope, ApiKeyScopeSchema, type Role } from '@parley/protocol';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';

const ISSUER = 'parley';
const AUDIENCE = 'parley-api';

/** `api_key`: issued to an API key by OAuth client credentials; `scope` is the granted scopes, space-separated. */
type AccessClaims = { typ: 'user'; sub: string; acc: string; role: Role; name: string } | { typ: 'consumer'; sub: string; acc: string } | { typ: 'api_key'; sub: string; acc: string; scope: string };

/**
 * Signs and verifies Parley's own short-lived access tokens (HS256 JWTs). The key comes from JWT_SECRET, or is
 * generated once and kept in the database so that restarts and every node of a cluster share it.
 */
export class TokenSigner {
  private constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock,
  ) {}

  static async create(db: Db, configured: string | undefined, clock: Clock): Promise<TokenSigner> {
    if (configured) return new TokenSigner(new TextEncoder().encode(configured), clock);
    await db
      .insertInto('server_secrets')
      .values({ name: 'access-token-hmac', value: randomBytes(48).toString('base64url') })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db.selectFrom('server_secrets').select('value').where('name', '=', 'access-token-hmac').executeTakeFirstOrThrow();
    return new TokenSigner(new TextEncoder().encode(row.value), clock);
  }

  async sign(claims: AccessClaims, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const expiresAt = new Date((nowSeconds + ttlSeconds) * 1000);
    const { sub, ...rest } = claims;
    const token = await new SignJWT(rest)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + ttlSeconds)
      .sign(this.key);
    return { token, expiresAt };
  }

  /** Verifies a token and returns the principal it names; does not consult the database. */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: this.clock.now(),
      });
      const sub = payload.sub;
      const acc = payload.acc;
      if (typeof sub !== 'string' || typeof acc !== 'string') throw new AppError('UNAUTHENTICATED', 'Malformed access token');
      if (payload.typ === 'user' && typeof payload.role === 'string') {
        return { kind: 'user', userId: sub, accountId: acc, role: payload.role as Role, name: typeof payload.name === 'string' ? payload.name : '' };
      }
      if (payload.typ === 'consumer') return { kind: 'consumer', consumerId: sub, accountId: acc };
      if (payload.typ === 'api_key' && typeof payload.scope === 'string') {
        // Scopes this server no longer knows are dropped; the key's current scopes are applied by ApiKeyService.
        const scopes = payload.scope.split(' ').filter((s): s is ApiKeyScope => ApiKeyScopeSchema.safeParse(s).success);
        return { kind: 'api_key', apiKeyId: sub, accountId: acc, scopes };
      }
      throw new AppError('UNAUTHENTICATED', 'Unknown access token type');
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('TOKEN_EXPIRED', 'The access token has expired');
      throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
    }
  }
}
