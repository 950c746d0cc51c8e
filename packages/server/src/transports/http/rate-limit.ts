import type { Principal } from '../../core/principal.ts';
import type { RateDecision, RateLimitStore } from '../../infra/rate-limits/rate-limit-store.ts';

export type { RateDecision } from '../../infra/rate-limits/rate-limit-store.ts';

/**
 * The limit of API keys: each key (and every OAuth access token issued to it) has its own bucket, of the key's
 * `rateLimitPerMinute` or else `defaultPerMinute` (API_KEY_RATE_LIMIT_PER_MINUTE; 0: no default limit). Other callers
 * are not limited here. The buckets are the store's: shared by every node in cluster mode.
 */
export function createApiKeyRateLimiter(store: RateLimitStore, defaultPerMinute: number): (principal: Principal | undefined) => Promise<RateDecision | undefined> {
  return async (principal) => (principal?.kind === 'api_key' ? store.take(`api-key:${principal.apiKeyId}`, principal.rateLimitPerMinute ?? defaultPerMinute) : undefined);
}
