import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithAdmin } from '../accounts/index.ts';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';

const ISSUER = 'https://brand.example';

/** A brand-signed consumer JWT; `exp` defaults to ten minutes from now. */
function brandToken(key: CryptoKey, options: { sub?: string; iss?: string; exp?: number | string; alg?: string; kid?: string; aud?: string } = {}): Promise<string> {
  const jwt = new SignJWT({ name: 'Ada' }).setProtectedHeader({ alg: options.alg ?? 'ES256', ...(options.kid ? { kid: options.kid } : {}) }).setIssuedAt();
  if (options.sub !== '') jwt.setSubject(options.sub ?? 'customer-42');
  if (options.iss !== '') jwt.setIssuer(options.iss ?? ISSUER);
  if (options.aud) jwt.setAudience(options.aud);
  if (options.exp !== 0) jwt.setExpirationTime(options.exp ?? '10m');
  return jwt.sign(key);
}

describe(`consumer identities (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  let brandKeys: { publicKey: CryptoKey; privateKey: CryptoKey };
  let strangerKeys: { publicKey: CryptoKey; privateKey: CryptoKey };
  let jwksServer: http.Server;
  let jwksUrl: string;
  let jwks: { keys: JWK[] } = { keys: [] };
  let jwksRequests = 0;

  const session = (body: Record<string, unknown>) => call(t.server.app, 'consumerSession', { body });
  const consumerCount = async () => Number((await sql<{ n: number }>`select count(*)::int as n from consumers`.execute(t.server.database.db)).rows[0]?.n);

  /** A second account with its own admin and widget key. */
  async function otherAccount(name: string): Promise<{ widgetKey: string; accountId: string; adminToken: string }> {
    const adminEmail = `${name.toLowerCase().replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const created = await createAccountWithAdmin(t.server.services, { accountName: name, adminEmail, adminPassword: 'other-admin-password' });
    const login = await call(t.server.app, 'login', { body: { email: adminEmail, password: 'other-admin-password' } });
    expect(login.status).toBe(200);
    return { widgetKey: created.widgetKey, accountId: created.accountId, adminToken: login.body.accessToken };
  }

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
    brandKeys = await generateKeyPair('ES256');
    strangerKeys = await generateKeyPair('ES256');
    jwksServer = http.createServer((request, response) => {
      jwksRequests++;
      if (request.url !== '/.well-known/jwks.json') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
    await t.close();
  });

  describe('unauthenticated (device) consumers', () => {
    it('gives the same consumer back for the device token it issued', async () => {
      const first = await session({ widgetKey: t.widgetKey });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ accountId: t.accountId, authenticated: false, deviceToken: expect.stringMatching(/^pdt_/) });
      const deviceToken = first.body.deviceToken ?? '';
      const again = await session({ widgetKey: t.widgetKey, deviceToken });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ consumerId: first.body.consumerId, authenticated: false, deviceToken });
      expect(again.body.accessToken).not.toBe('');
      const me = await call(t.server.app, 'me', { token: again.body.accessToken });
      expect(me.body).toEqual({ kind: 'consumer', consumerId: first.body.consumerId, accountId: t.accountId });
    });

    it('gives a fresh identity and a new device token for a device token it does not know', async () => {
      const known = await session({ widgetKey: t.widgetKey });
      const before = await consumerCount();
      const unknownToken = 'pdt_never-issued-by-this-server-0000';
      const r = await session({ widgetKey: t.widgetKey, deviceToken: unknownToken });
      expect(r.status).toBe(200);
      expect(r.body.consumerId).not.toBe(known.body.consumerId);
      expect(r.body.deviceToken).toMatch(/^pdt_/);
      expect(r.body.deviceToken).not.toBe(unknownToken);
      expect(await consumerCount()).toBe(before + 1);
    });

    it('does not let a device token of one account open a consumer of another', async () => {
      const other = await otherAccount('Device Brand');
      const mine = await session({ widgetKey: t.widgetKey });
      const elsewhere = await session({ widgetKey: other.widgetKey, deviceToken: mine.body.deviceToken });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.accountId).toBe(other.accountId);
      expect(elsewhere.body.consumerId).not.toBe(mine.body.consumerId);
    });

    it('refuses an unknown widget key with INVALID_WIDGET_KEY and creates nobody', async () => {
      const before = await consumerCount();
      const r = await session({ widgetKey: 'pwk_not-a-real-widget-key' });
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('INVALID_WIDGET_KEY');
      const withBrandToken = await session({ widgetKey: 'pwk_not-a-real-widget-key', brandToken: await brandToken(brandKeys.privateKey) });
      expect(withBrandToken.body.error?.code).toBe('INVALID_WIDGET_KEY');
      expect(await consumerCount()).toBe(before);
    });
  });

  describe('authenticated consumers with a registered public key', () => {
    beforeAll(async () => {
      const publicKeyPem = await exportSPKI(brandKeys.publicKey);
      const r = await call(t.server.app, 'updateAccount', { token: admin, body: { consumerAuth: { issuer: ISSUER, publicKeyPem } } });
      expect(r.status).toBe(200);
      expect(r.body.consumerAuth).toEqual({ issuer: ISSUER, audience: null, jwksUrl: null, hasPublicKey: true });
      expect(JSON.stringify(r.body)).not.toContain('BEGIN PUBLIC KEY');
    });

    it('only lets an admin register the key', async () => {
      const manager = await a.createUser(admin, 'manager');
      const r = await call(t.server.app, 'updateAccount', { token: manager.token, body: { consumerAuth: { issuer: 'https://evil.example', publicKeyPem: await exportSPKI(strangerKeys.publicKey) } } });
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('FORBIDDEN');
      const account = await call(t.server.app, 'getAccount', { token: admin });
      expect(account.body.consumerAuth?.issuer).toBe(ISSUER);
    });

    it('refuses a configuration with both or neither of jwksUrl and publicKeyPem', async () => {
      const both = await call(t.server.app, 'updateAccount', { token: admin, body: { consumerAuth: { issuer: ISSUER, jwksUrl, publicKeyPem: await exportSPKI(brandKeys.publicKey) } } });
      expect(both.status).toBe(400);
      expect(both.body.error?.code).toBe('VALIDATION_FAILED');
      const neither = await call(t.server.app, 'updateAccount', { token: admin, body: { consumerAuth: { issuer: ISSUER } } });
      expect(neither.body.error?.code).toBe('VALIDATION_FAILED');
      const account = await call(t.server.app, 'getAccount', { token: admin });
      expect(account.body.consumerAuth).toEqual({ issuer: ISSUER, audience: null, jwksUrl: null, hasPublicKey: true });
    });

    it('makes two devices of one brand user the same consumer, sharing the conversation and its history', async () => {
      const sub = `customer-${crypto.randomUUID()}`;
      const phone = await session({ widgetKey: t.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub }) });
      expect(phone.status).toBe(200);
      expect(phone.body).toMatchObject({ accountId: t.accountId, authenticated: true, deviceToken: null });
      const laptop = await session({ widgetKey: t.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub }) });
      expect(laptop.body.consumerId).toBe(phone.body.consumerId);

      const started = await call(t.server.app, 'startConversation', { token: phone.body.accessToken, body: {} });
      expect(started.body.created).toBe(true);
      const conversationId = started.body.conversation.id;
      const fromPhone = await call(t.server.app, 'sendEvent', { token: phone.body.accessToken, params: { conversationId }, body: text('sent from my phone') });
      expect(fromPhone.status).toBe(201);

      const continued = await call(t.server.app, 'startConversation', { token: laptop.body.accessToken, body: {} });
      expect(continued.body).toMatchObject({ created: false, conversation: { id: conversationId, consumerId: phone.body.consumerId } });
      const fromLaptop = await call(t.server.app, 'sendEvent', { token: laptop.body.accessToken, params: { conversationId }, body: text('and this from my laptop') });
      expect(fromLaptop.status).toBe(201);

      for (const device of [phone, laptop]) {
        const history = await call(t.server.app, 'listEvents', { token: device.body.accessToken, params: { conversationId }, query: { fromSeq: 0 } });
        const messages = history.body.items.flatMap((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? [e.content.message] : []));
        expect(messages).toEqual(['sent from my phone', 'and this from my laptop']);
        const list = await call(t.server.app, 'listConversations', { token: device.body.accessToken });
        expect(list.body.items.map((c) => c.id)).toEqual([conversationId]);
      }
      const stored = await t.server.database.db.selectFrom('consumers').select(['external_issuer', 'external_subject']).where('id', '=', phone.body.consumerId).executeTakeFirstOrThrow();
      expect(stored).toEqual({ external_issuer: ISSUER, external_subject: sub });
    });

    it('keeps two brand users apart', async () => {
      const ada = await session({ widgetKey: t.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub: 'ada' }) });
      const bob = await session({ widgetKey: t.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub: 'bob' }) });
      expect(ada.status).toBe(200);
      expect(bob.status).toBe(200);
      expect(ada.body.consumerId).not.toBe(bob.body.consumerId);
      const adaConversation = await a.conversation(ada.body.accessToken);
      const peek = await call(t.server.app, 'getConversation', { token: bob.body.accessToken, params: { conversationId: adaConversation } });
      expect(peek.status).toBe(404);
    });

    it('refuses a wrong issuer, an expired token, another key, a missing claim or an unsigned token with INVALID_CONSUMER_TOKEN, creating nobody', async () => {
      const before = await consumerCount();
      const hmacKey = new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256');
      const hs256 = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('customer-42').setIssuer(ISSUER).setExpirationTime('10m').sign(hmacKey);
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: 'customer-42', iss: ISSUER, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
      const unsigned = `${header}.${payload}.`;
      // Each case must fail for its own reason, not for a reason shared by all of them.
      const cases: Array<[name: string, token: string, reason: RegExp]> = [
        ['wrong issuer', await brandToken(brandKeys.privateKey, { iss: 'https://someone-else.example' }), /"iss"/],
        ['expired', await brandToken(brandKeys.privateKey, { exp: Math.floor(Date.now() / 1000) - 120 }), /"exp"/],
        ['signed by another key', await brandToken(strangerKeys.privateKey), /signature/],
        ['no subject', await brandToken(brandKeys.privateKey, { sub: '' }), /"sub"/],
        ['no expiry', await brandToken(brandKeys.privateKey, { exp: 0 }), /"exp"/],
        ['HS256 with a guessed secret', hs256, /HS256 is not accepted/],
        ['alg none', unsigned, /none is not accepted/],
        ['not a JWT at all', 'this-is-not-a-jwt-at-all', /rejected/],
      ];
      for (const [name, token, reason] of cases) {
        const r = await session({ widgetKey: t.widgetKey, brandToken: token });
        expect({ name, status: r.status, code: r.body.error?.code }).toEqual({ name, status: 401, code: 'INVALID_CONSUMER_TOKEN' });
        expect(r.body.error?.message, name).toMatch(reason);
      }
      expect(await consumerCount()).toBe(before);
    });

    it('checks the audience when the account registers one', async () => {
      const other = await otherAccount('Audience Brand');
      const configured = await call(t.server.app, 'updateAccount', {
        token: other.adminToken,
        body: { consumerAuth: { issuer: ISSUER, audience: 'parley-widget', publicKeyPem: await exportSPKI(brandKeys.publicKey) } },
      });
      expect(configured.body.consumerAuth).toMatchObject({ audience: 'parley-widget' });
      const right = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { aud: 'parley-widget' }) });
      expect(right.status).toBe(200);
      const wrong = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { aud: 'another-app' }) });
      expect(wrong.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
      const none = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey) });
      expect(none.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
    });

    it('makes the same brand user a different consumer in another account', async () => {
      const other = await otherAccount('Sister Brand');
      await call(t.server.app, 'updateAccount', { token: other.adminToken, body: { consumerAuth: { issuer: ISSUER, publicKeyPem: await exportSPKI(brandKeys.publicKey) } } });
      const here = await session({ widgetKey: t.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub: 'shared-sub' }) });
      const there = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub: 'shared-sub' }) });
      expect(there.status).toBe(200);
      expect(there.body.accountId).toBe(other.accountId);
      expect(there.body.consumerId).not.toBe(here.body.consumerId);
    });
  });

  it('refuses a brand token with CONSUMER_AUTH_NOT_CONFIGURED when the account registered no key', async () => {
    const other = await otherAccount('Unconfigured Brand');
    const before = await consumerCount();
    const r = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey) });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('CONSUMER_AUTH_NOT_CONFIGURED');
    expect(await consumerCount()).toBe(before);
    // Device sessions still work there.
    expect((await session({ widgetKey: other.widgetKey })).status).toBe(200);
  });

  it('stops accepting brand tokens once the configuration is removed', async () => {
    const other = await otherAccount('Removing Brand');
    await call(t.server.app, 'updateAccount', { token: other.adminToken, body: { consumerAuth: { issuer: ISSUER, publicKeyPem: await exportSPKI(brandKeys.publicKey) } } });
    expect((await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey) })).status).toBe(200);
    const removed = await call(t.server.app, 'updateAccount', { token: other.adminToken, body: { consumerAuth: null } });
    expect(removed.body.consumerAuth).toBeNull();
    const r = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey) });
    expect(r.body.error?.code).toBe('CONSUMER_AUTH_NOT_CONFIGURED');
  });

  describe('authenticated consumers with a registered JWKS URL', () => {
    let jwksAccount: { widgetKey: string; accountId: string; adminToken: string };

    beforeAll(async () => {
      const jwk = await exportJWK(brandKeys.publicKey);
      jwks = { keys: [{ ...jwk, kid: 'brand-key-1', alg: 'ES256', use: 'sig' }] };
      jwksAccount = await otherAccount('JWKS Brand');
      const r = await call(t.server.app, 'updateAccount', { token: jwksAccount.adminToken, body: { consumerAuth: { issuer: ISSUER, jwksUrl } } });
      expect(r.status).toBe(200);
      expect(r.body.consumerAuth).toEqual({ issuer: ISSUER, audience: null, jwksUrl, hasPublicKey: false });
    });

    it('verifies brand tokens against the fetched key set: two devices, one consumer, one conversation', async () => {
      const requestsBefore = jwksRequests;
      const sub = `jwks-customer-${crypto.randomUUID()}`;
      const first = await session({ widgetKey: jwksAccount.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub, kid: 'brand-key-1' }) });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ accountId: jwksAccount.accountId, authenticated: true });
      const second = await session({ widgetKey: jwksAccount.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { sub, kid: 'brand-key-1' }) });
      expect(second.body.consumerId).toBe(first.body.consumerId);
      expect(jwksRequests).toBeGreaterThan(requestsBefore);

      const conversationId = await a.conversation(first.body.accessToken);
      await call(t.server.app, 'sendEvent', { token: first.body.accessToken, params: { conversationId }, body: text('hello via JWKS') });
      const seen = await call(t.server.app, 'listEvents', { token: second.body.accessToken, params: { conversationId }, query: { fromSeq: 0 } });
      expect(seen.body.items.some((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message === 'hello via JWKS')).toBe(true);
    });

    it('refuses a token signed by a key that is not in the set, or with a wrong issuer', async () => {
      const before = await consumerCount();
      const stranger = await session({ widgetKey: jwksAccount.widgetKey, brandToken: await brandToken(strangerKeys.privateKey, { kid: 'brand-key-1' }) });
      expect(stranger.status).toBe(401);
      expect(stranger.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
      const unknownKid = await session({ widgetKey: jwksAccount.widgetKey, brandToken: await brandToken(strangerKeys.privateKey, { kid: 'not-in-the-set' }) });
      expect(unknownKid.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
      const wrongIssuer = await session({ widgetKey: jwksAccount.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { kid: 'brand-key-1', iss: 'https://someone-else.example' }) });
      expect(wrongIssuer.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
      expect(await consumerCount()).toBe(before);
    });

    it('refuses brand tokens with INVALID_CONSUMER_TOKEN when the JWKS URL does not answer with a key set', async () => {
      const other = await otherAccount('Broken JWKS Brand');
      const brokenUrl = jwksUrl.replace('/.well-known/jwks.json', '/missing.json');
      await call(t.server.app, 'updateAccount', { token: other.adminToken, body: { consumerAuth: { issuer: ISSUER, jwksUrl: brokenUrl } } });
      const r = await session({ widgetKey: other.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { kid: 'brand-key-1' }) });
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
    });

    it('never fetches a JWKS URL at an address Parley may not call (loopback, by default), and refuses the tokens', async () => {
      const strict = await startTestServer({ env: { OUTBOUND_ALLOWED_NETWORKS: '' } });
      try {
        const adminEmail = `jwks-${crypto.randomUUID().slice(0, 8)}@brand.test`;
        const created = await createAccountWithAdmin(strict.server.services, { accountName: 'Private JWKS Brand', adminEmail, adminPassword: 'other-admin-password' });
        const login = await call(strict.server.app, 'login', { body: { email: adminEmail, password: 'other-admin-password' } });
        await call(strict.server.app, 'updateAccount', { token: login.body.accessToken, body: { consumerAuth: { issuer: ISSUER, jwksUrl } } });
        const requestsBefore = jwksRequests;
        const r = await call(strict.server.app, 'consumerSession', { body: { widgetKey: created.widgetKey, brandToken: await brandToken(brandKeys.privateKey, { kid: 'brand-key-1' }) } });
        expect(r.status).toBe(401);
        expect(r.body.error?.code).toBe('INVALID_CONSUMER_TOKEN');
        expect(r.body.error?.message).toMatch(/Not allowed to call 127\.0\.0\.1: .*\(loopback\)/);
        expect(jwksRequests).toBe(requestsBefore);
      } finally {
        await strict.close();
      }
    });
  });
});
