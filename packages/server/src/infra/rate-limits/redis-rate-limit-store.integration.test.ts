import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startLocalRedis } from '../../../../../scripts/cluster/local-services.ts';
import { createLogger } from '../telemetry/logger.ts';
import { describeRateLimitStore } from './rate-limit-store.contract.ts';
import { createRedisRateLimitStore } from './redis-rate-limit-store.ts';

/** The machine's Redis (CI runs one), unless PARLEY_TEST_REDIS_URL names another. */
const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });

describeRateLimitStore('in Redis', () => createRedisRateLimitStore({ url: REDIS_URL, prefix: `parley-test-${randomUUID().slice(0, 8)}:`, logger }));

describe('rate limits in Redis', () => {
  it('are one limit for every node of an installation, and apart from another installation’s', async () => {
    const prefix = `parley-test-${randomUUID().slice(0, 8)}:`;
    const [a, b, otherInstallation] = await Promise.all([
      createRedisRateLimitStore({ url: REDIS_URL, prefix, logger }),
      createRedisRateLimitStore({ url: REDIS_URL, prefix, logger }),
      createRedisRateLimitStore({ url: REDIS_URL, prefix: `parley-test-${randomUUID().slice(0, 8)}:`, logger }),
    ]);
    try {
      const decisions = [await a.take('api-key-1', 4), await b.take('api-key-1', 4), await a.take('api-key-1', 4), await b.take('api-key-1', 4)];
      expect(decisions.map((d) => d?.remaining)).toEqual([3, 2, 1, 0]);
      expect((await a.take('api-key-1', 4))?.waitMs).toBeGreaterThan(0);
      expect((await b.take('api-key-1', 4))?.waitMs).toBeGreaterThan(0);
      expect(await otherInstallation.take('api-key-1', 4)).toEqual({ waitMs: 0, limit: 4, remaining: 3 });
    } finally {
      await Promise.all([a.close(), b.close(), otherInstallation.close()]);
    }
  });

  it('let requests through while Redis is away, counting each, and limit again once it is back', async () => {
    const redis = await startLocalRedis();
    const errors: unknown[] = [];
    const store = await createRedisRateLimitStore({ url: redis.url, logger, onStoreError: (error) => errors.push(error) });
    try {
      expect(await store.take('k', 1)).toEqual({ waitMs: 0, limit: 1, remaining: 0 });
      await redis.stop();
      expect(await store.take('k', 1)).toBeUndefined();
      expect(errors).toHaveLength(1);
      await redis.start();
      // A fresh Redis has no bucket: the first take after the reconnect is allowed, the next refused.
      await expect.poll(async () => (await store.take('k', 1))?.waitMs, { timeout: 10_000 }).toBeGreaterThan(0);
    } finally {
      await store.close();
      await redis.destroy();
    }
  });
});
