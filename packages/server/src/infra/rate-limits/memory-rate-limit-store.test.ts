import { describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from './memory-rate-limit-store.ts';
import { describeRateLimitStore } from './rate-limit-store.contract.ts';

describeRateLimitStore('in memory', async () => createMemoryRateLimitStore());

describe('the in-memory rate-limit store', () => {
  it('forgets every key rather than grow past its bound', async () => {
    const store = createMemoryRateLimitStore(2);
    await store.take('a', 1);
    await store.take('b', 1);
    await store.take('c', 1); // clears a and b
    expect((await store.take('a', 1))?.waitMs).toBe(0);
  });
});
