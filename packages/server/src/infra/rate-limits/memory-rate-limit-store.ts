import { TokenBucket } from '../../core/token-bucket.ts';
import type { RateLimitStore } from './rate-limit-store.ts';

/**
 * The buckets of one node, in memory: right for a single node (embedded mode). At most `maxKeys` keys: a flood of
 * distinct keys (addresses) forgets them all rather than grow memory without bound, which errs on the side of allowing.
 */
export function createMemoryRateLimitStore(maxKeys = 100_000, now?: () => number): RateLimitStore {
  const buckets = new Map<string, { perMinute: number; bucket: TokenBucket }>();
  return {
    async take(key, perMinute) {
      if (perMinute <= 0) return undefined;
      let entry = buckets.get(key);
      if (!entry || entry.perMinute !== perMinute) {
        if (!entry && buckets.size >= maxKeys) buckets.clear();
        entry = { perMinute, bucket: new TokenBucket(perMinute / 60, perMinute, now) };
        buckets.set(key, entry);
      }
      const waitMs = entry.bucket.take();
      return { waitMs, limit: perMinute, remaining: entry.bucket.remaining };
    },
    async close() {
      buckets.clear();
    },
  };
}
