import { TokenBucket } from '../realtime/token-bucket.ts';

/**
 * Per-client-address limit on the endpoints anyone may call without credentials (login, token refresh, consumer
 * sessions, the widget's public config), so nobody can guess passwords or mint sessions at will. In memory, per node:
 * behind a load balancer each node counts its own share. Returns 0 when allowed, else milliseconds to wait.
 */
export function createPublicRateLimiter(perMinute: number, maxClients = 100_000): (clientAddress: string) => number {
  if (perMinute <= 0) return () => 0;
  const buckets = new Map<string, TokenBucket>();
  return (clientAddress) => {
    let bucket = buckets.get(clientAddress);
    if (!bucket) {
      // A flood of distinct addresses must not grow memory without bound; forgetting all is the safe side.
      if (buckets.size >= maxClients) buckets.clear();
      bucket = new TokenBucket(perMinute / 60, perMinute);
      buckets.set(clientAddress, bucket);
    }
    return bucket.take();
  };
}
