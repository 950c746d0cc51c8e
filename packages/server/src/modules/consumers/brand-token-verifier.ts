import { createRemoteJWKSet, customFetch, decodeProtectedHeader, importSPKI, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { OutboundFetch } from '../../infra/outbound/outbound-http.ts';
import type { StoredConsumerAuth } from '../accounts/index.ts';

const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/**
 * Verifies a consumer JWT signed by the brand, against the public key or JWKS the account registered. JWKS sets are
 * cached per URL (jose refreshes them on unknown key ids, with a cool-down).
 */
export class BrandTokenVerifier {
  private readonly jwksByUrl = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly clock: Clock,
    /** Parley's outbound HTTP client (infra/outbound): the JWKS URL is the account's to set, so it may not be private. */
    private readonly fetch: OutboundFetch,
  ) {}

  async verify(token: string, config: StoredConsumerAuth): Promise<{ issuer: string; subject: string; claims: JWTPayload }> {
    try {
      const options = {
        issuer: config.issuer,
        algorithms: ALLOWED_ALGORITHMS,
        currentDate: this.clock.now(),
        requiredClaims: ['sub', 'exp'],
        ...(config.audience ? { audience: config.audience } : {}),
      };
      let payload: JWTPayload;
      if (config.jwksUrl) {
        let jwks = this.jwksByUrl.get(config.jwksUrl);
        if (!jwks) {
          jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, [customFetch]: (url, init) => this.fetch(url, init) });
          this.jwksByUrl.set(config.jwksUrl, jwks);
        }
        ({ payload } = await jwtVerify(token, jwks, options));
      } else if (config.publicKeyPem) {
        const { alg } = decodeProtectedHeader(token);
        if (!alg || !ALLOWED_ALGORITHMS.includes(alg)) throw new AppError('INVALID_CONSUMER_TOKEN', `Algorithm ${alg ?? 'none'} is not accepted`);
        const key = await importSPKI(config.publicKeyPem, alg);
        ({ payload } = await jwtVerify(token, key, options));
      } else {
        throw new AppError('CONSUMER_AUTH_NOT_CONFIGURED');
      }
      if (!payload.sub || !payload.iss) throw new AppError('INVALID_CONSUMER_TOKEN', 'The token has no subject or issuer');
      return { issuer: payload.iss, subject: payload.sub, claims: payload };
    } catch (error) {
      if (error instanceof AppError) throw error;
      const reason = error instanceof Error ? error.message : 'verification failed';
      throw new AppError('INVALID_CONSUMER_TOKEN', `The consumer token was rejected: ${reason}`);
    }
  }
}
