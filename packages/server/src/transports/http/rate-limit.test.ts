import { describe, expect, it } from 'vitest';
import { createApiKeyRateLimiter, createRateLimiter } from './rate-limit.ts';

describe('the keyed rate limiter', () => {
  it('allows a burst of the per-minute size per key, counting down what remains, then asks to wait', () => {
    const limit = createRateLimiter();
    expect([limit('a', 3), limit('a', 3), limit('a', 3)]).toEqual([
      { waitMs: 0, limit: 3, remaining: 2 },
      { waitMs: 0, limit: 3, remaining: 1 },
      { waitMs: 0, limit: 3, remaining: 0 },
    ]);
    const refused = limit('a', 3);
    expect(refused?.waitMs).toBeGreaterThan(0);
    expect(refused?.waitMs).toBeLessThanOrEqual(20_000);
    expect(limit('b', 3)?.waitMs).toBe(0);
  });

  it('starts a fresh bucket when the limit of a key changes, and does not limit at 0', () => {
    const limit = createRateLimiter();
    limit('a', 1);
    expect(limit('a', 1)?.waitMs).toBeGreaterThan(0);
    expect(limit('a', 5)).toEqual({ waitMs: 0, limit: 5, remaining: 4 });
    expect(limit('a', 0)).toBeUndefined();
  });

  it('forgets every key rather than grow past its bound', () => {
    const limit = createRateLimiter(2);
    limit('a', 1);
    limit('b', 1);
    limit('c', 1); // clears a and b
    expect(limit('a', 1)?.waitMs).toBe(0);
  });
});

describe('the API key limiter', () => {
  const key = (apiKeyId: string, rateLimitPerMinute: number | null) => ({ kind: 'api_key' as const, apiKeyId, accountId: 'acc', scopes: [], rateLimitPerMinute });

  it("uses the key's own limit, else the default, and leaves users and consumers alone", () => {
    const limit = createApiKeyRateLimiter(10);
    expect(limit(key('k1', null))?.limit).toBe(10);
    expect(limit(key('k2', 2))?.limit).toBe(2);
    expect(limit({ kind: 'user', userId: 'u', accountId: 'acc', role: 'admin', name: 'A' })).toBeUndefined();
    expect(limit(undefined)).toBeUndefined();
  });

  it('has no default limit at 0, but still applies a limit a key has of its own', () => {
    const limit = createApiKeyRateLimiter(0);
    expect(limit(key('k1', null))).toBeUndefined();
    expect(limit(key('k2', 1))?.limit).toBe(1);
  });
});
