import { describe, expect, it, vi } from 'vitest';
import { createTokenSource } from './token-source.ts';

describe('createTokenSource', () => {
  const clock = (start: number) => {
    let now = start;
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };

  it('returns the cached token while it is fresh, and renews it shortly before it expires', async () => {
    const time = clock(0);
    const renew = vi.fn(async () => ({ token: 'second', expiresAt: time.now() + 600_000 }));
    const source = createTokenSource({ initial: { token: 'first', expiresAt: 600_000 }, renew, now: time.now });
    expect(await source.getAccessToken({ expired: false })).toBe('first');
    time.advance(539_000); // 61 s left: still fresh with the 60 s default skew
    expect(await source.getAccessToken({ expired: false })).toBe('first');
    time.advance(2_000);
    expect(await source.getAccessToken({ expired: false })).toBe('second');
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it('renews when told the token expired', async () => {
    const renew = vi.fn(async () => ({ token: 'fresh', expiresAt: Date.now() + 3_600_000 }));
    const source = createTokenSource({ initial: { token: 'cached', expiresAt: Date.now() + 3_600_000 }, renew });
    expect(await source.getAccessToken({ expired: true })).toBe('fresh');
  });

  it('shares one renewal between concurrent callers', async () => {
    let release: () => void = () => {};
    const renew = vi.fn(
      () =>
        new Promise<{ token: string; expiresAt: number }>((resolve) => {
          release = () => resolve({ token: 'fresh', expiresAt: Date.now() + 3_600_000 });
        }),
    );
    const source = createTokenSource({ renew });
    const all = Promise.all([source.getAccessToken({ expired: false }), source.getAccessToken({ expired: true }), source.getAccessToken({ expired: false })]);
    release();
    expect(await all).toEqual(['fresh', 'fresh', 'fresh']);
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it('tries again on the next call after a failed renewal', async () => {
    const renew = vi
      .fn()
      .mockRejectedValueOnce(new Error('offline'))
      .mockResolvedValueOnce({ token: 'fresh', expiresAt: Date.now() + 3_600_000 });
    const source = createTokenSource({ renew });
    await expect(source.getAccessToken({ expired: false })).rejects.toThrow('offline');
    expect(await source.getAccessToken({ expired: false })).toBe('fresh');
  });
});
