import { describe, expect, it } from 'vitest';
import type { Principal } from '../../core/principal.ts';
import { createMemoryRateLimitStore } from '../../infra/rate-limits/memory-rate-limit-store.ts';
import { createApiKeyRateLimiter } from './rate-limit.ts';

describe('the API key limiter', () => {
  const key = (apiKeyId: string, rateLimitPerMinute: number | null): Principal => ({ kind: 'api_key', apiKeyId, accountId: 'acc', scopes: [], rateLimitPerMinute });

  it("uses the key's own limit, else the default, and leaves users and consumers alone", async () => {
    const limit = createApiKeyRateLimiter(createMemoryRateLimitStore(), 10);
    expect((await limit(key('k1', null)))?.limit).toBe(10);
    expect((await limit(key('k2', 2)))?.limit).toBe(2);
    expect(await limit({ kind: 'user', userId: 'u', accountId: 'acc', role: 'admin', name: 'A' })).toBeUndefined();
    expect(await limit(undefined)).toBeUndefined();
  });

  it('has no default limit at 0, but still applies a limit a key has of its own', async () => {
    const limit = createApiKeyRateLimiter(createMemoryRateLimitStore(), 0);
    expect(await limit(key('k1', null))).toBeUndefined();
    expect((await limit(key('k2', 1)))?.limit).toBe(1);
  });

  it('keeps API keys apart from client addresses in a store both use', async () => {
    const store = createMemoryRateLimitStore();
    const limit = createApiKeyRateLimiter(store, 1);
    await store.take('address:k1', 1);
    expect((await limit(key('k1', null)))?.waitMs).toBe(0);
  });
});
