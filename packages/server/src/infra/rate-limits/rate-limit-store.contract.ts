import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimitStore } from './rate-limit-store.ts';

/** What every rate-limit store must do: one suite, run by each adapter's test (in memory, Redis). */
export function describeRateLimitStore(name: string, create: () => Promise<RateLimitStore>): void {
  describe(`${name}: the rate-limit store contract`, () => {
    const stores: RateLimitStore[] = [];
    const store = async () => {
      const s = await create();
      stores.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });
    const key = () => `key-${randomUUID()}`;

    it('allows a burst of the per-minute size, counting down what remains, then asks to wait about one refill', async () => {
      const s = await store();
      const k = key();
      expect([await s.take(k, 3), await s.take(k, 3), await s.take(k, 3)]).toEqual([
        { waitMs: 0, limit: 3, remaining: 2 },
        { waitMs: 0, limit: 3, remaining: 1 },
        { waitMs: 0, limit: 3, remaining: 0 },
      ]);
      const refused = await s.take(k, 3);
      // Three a minute: one token every 20 s, a little of which has refilled by now.
      expect(refused?.waitMs).toBeGreaterThan(19_000);
      expect(refused?.waitMs).toBeLessThanOrEqual(20_000);
      expect(refused?.remaining).toBe(0);
    });

    it('counts each key alone', async () => {
      const s = await store();
      const [a, b] = [key(), key()];
      await s.take(a, 1);
      expect((await s.take(a, 1))?.waitMs).toBeGreaterThan(0);
      expect(await s.take(b, 1)).toEqual({ waitMs: 0, limit: 1, remaining: 0 });
    });

    it('refills with time: a token per 60,000 / limit ms', async () => {
      const s = await store();
      const k = key();
      // 600 a minute: 10 a second, a token every 100 ms. The burst runs out after about 600 (a few more refill meanwhile).
      let refused: number | undefined;
      for (let i = 0; i < 700 && !refused; i++) refused = (await s.take(k, 600))?.waitMs;
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThanOrEqual(100);
      await new Promise((r) => setTimeout(r, 250));
      expect((await s.take(k, 600))?.waitMs).toBe(0);
    });

    it('starts a fresh bucket when the limit of a key changes, and does not limit at 0', async () => {
      const s = await store();
      const k = key();
      await s.take(k, 1);
      expect((await s.take(k, 1))?.waitMs).toBeGreaterThan(0);
      expect(await s.take(k, 5)).toEqual({ waitMs: 0, limit: 5, remaining: 4 });
      expect(await s.take(k, 0)).toBeUndefined();
      expect(await s.take(k, -1)).toBeUndefined();
    });
  });
}
