import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay and is capped', () => {
    const options = { initialDelayMs: 100, factor: 2, maxDelayMs: 1_000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 20].map((attempt) => backoffDelay(attempt, options))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('randomises up to the jitter fraction of each delay', () => {
    const options = { initialDelayMs: 1_000, jitter: 0.5 };
    expect(backoffDelay(0, options, () => 0)).toBe(1_000);
    expect(backoffDelay(0, options, () => 0.999_999)).toBe(500);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(2, options);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it('defaults to 500 ms doubling up to 30 s', () => {
    expect(backoffDelay(0, { jitter: 0 })).toBe(500);
    expect(backoffDelay(10, { jitter: 0 })).toBe(30_000);
  });
});
