import { createRateLimiter } from './rate-limit.ts';

/**
 * Per-client-address limit on the endpoints anyone may call without credentials (login, token refresh, consumer
 * sessions, the widget's public config, the OAuth token endpoint), so nobody can guess passwords or mint sessions at
 * will. In memory, per node (see `createRateLimiter`). Returns 0 when allowed, else milliseconds to wait.
 */
export function createPublicRateLimiter(perMinute: number, maxClients = 100_000): (clientAddress: string) => number {
  if (perMinute <= 0) return () => 0;
  const limit = createRateLimiter(maxClients);
  return (clientAddress) => limit(clientAddress, perMinute)?.waitMs ?? 0;
}
