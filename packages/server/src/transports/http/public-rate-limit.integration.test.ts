import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { createMemoryRateLimitStore } from '../../infra/rate-limits/memory-rate-limit-store.ts';
import { createPublicRateLimiter } from './public-rate-limit.ts';

describe('the per-address limit of public endpoints', () => {
  it('allows a burst of the per-minute size, then asks to wait; each address counts alone; 0 turns it off', async () => {
    const limit = createPublicRateLimiter(createMemoryRateLimitStore(), 3);
    expect([await limit('a'), await limit('a'), await limit('a')]).toEqual([0, 0, 0]);
    expect(await limit('a')).toBeGreaterThan(0);
    expect(await limit('b')).toBe(0);
    const off = createPublicRateLimiter(createMemoryRateLimitStore(), 0);
    const waits = await Promise.all(Array.from({ length: 1000 }, () => off('a')));
    expect(waits.every((w) => w === 0)).toBe(true);
  });
});

describe(`public endpoints under the limit (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '5' } });
    admin = await actors(t).adminToken(); // one of the five
  });
  afterAll(() => t.close());

  it('refuses the sixth unauthenticated request of the minute with RATE_LIMITED and Retry-After, and nothing else', async () => {
    for (let i = 0; i < 4; i++) expect((await call(t.server.app, 'consumerSession', { body: { widgetKey: t.widgetKey } })).status).toBe(200);
    const refused = await call(t.server.app, 'consumerSession', { body: { widgetKey: t.widgetKey } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const login = await call(t.server.app, 'login', { body: { email: t.adminEmail, password: 'whatever-password' } });
    expect(login.body.error?.code).toBe('RATE_LIMITED'); // password guessing is limited too
    // Authenticated calls are not public: they are not counted.
    expect((await call(t.server.app, 'me', { token: admin })).status).toBe(200);
  });
});
