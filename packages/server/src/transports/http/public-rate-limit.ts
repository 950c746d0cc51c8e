import type { RateLimitStore } from '../../infra/rate-limits/rate-limit-store.ts';

/**
 * Per-client-address limit on the endpoints anyone may call without credentials (login, token refresh, consumer
 * sessions, the widget's public config, the OAuth token endpoint), so nobody can guess passwords or mint sessions at
 * will. The buckets are the store's: shared by every node in cluster mode. Resolves 0 when allowed, else milliseconds
 * to wait.
 */
export function createPublicRateLimiter(store: RateLimitStore, perMinute: number): (clientAddress: string) => Promise<number> {
  if (perMinute <= 0) return async () => 0;
  return async (clientAddress) => (await store.take(`address:${clientAddress}`, perMinute))?.waitMs ?? 0;
}
