import type { Principal } from '../../core/principal.ts';
import { TokenBucket } from '../realtime/token-bucket.ts';

/** The outcome of one request against a limit: `waitMs` 0 when allowed, else how long to wait. */
export interface RateDecision {
  waitMs: number;
  /** Requests per minute allowed. */
  limit: number;
  /** Requests left in the current burst. */
  remaining: number;
}

/**
 * Per-key request limits (a client address, an API key): a token bucket per key that refills `perMinute / 60` a
 * second up to a burst of `perMinute`. Each call names the key's limit, so a key whose limit changes gets a fresh
 * bucket at the new size. A limit of 0 or less is no limit (undefined).
 *
 * In memory and per node: behind a load balancer each node counts its own share, so a cluster of N nodes lets through
 * up to N times the limit. A Redis-backed store would share the count between nodes; Parley does not need one yet.
 */
export function createRateLimiter(maxKeys = 100_000): (key: string, perMinute: number) => RateDecision | undefined {
  const buckets = new Map<string, { perMinute: number; bucket: TokenBucket }>();
  return (key, perMinute) => {
    if (perMinute <= 0) return undefined;
    let entry = buckets.get(key);
    if (!entry || entry.perMinute !== perMinute) {
      // A flood of distinct keys must not grow memory without bound; forgetting all is the safe side.
      if (!entry && buckets.size >= maxKeys) buckets.clear();
      entry = { perMinute, bucket: new TokenBucket(perMinute / 60, perMinute) };
      buckets.set(key, entry);
    }
    const waitMs = entry.bucket.take();
    return { waitMs, limit: perMinute, remaining: entry.bucket.remaining };
  };
}

/**
 * The limit of API keys: each key (and every OAuth access token issued to it) has its own bucket, of the key's
 * `rateLimitPerMinute` or else `defaultPerMinute` (API_KEY_RATE_LIMIT_PER_MINUTE; 0: no default limit). Other callers
 * are not limited here.
 */
export function createApiKeyRateLimiter(defaultPerMinute: number): (principal: Principal | undefined) => RateDecision | undefined {
  const limit = createRateLimiter();
  return (principal) => (principal?.kind === 'api_key' ? limit(principal.apiKeyId, principal.rateLimitPerMinute ?? defaultPerMinute) : undefined);
}
