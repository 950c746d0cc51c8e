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
 * Two adapters, chosen with the bus: in memory for one node (embedded mode), in Redis when nodes share one
 * (`REDIS_URL`), so a cluster of N nodes lets through the limit, not N times it.
 */
export interface RateLimitStore {
  take(key: string, perMinute: number): Promise<RateDecision | undefined>;
  close(): Promise<void>;
}
