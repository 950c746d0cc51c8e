import { OAUTH_TOKEN_PATH } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { createAccountWithAdmin } from './bootstrap.ts';

/** What partners do with API keys: scopes, per-key rate limits and OAuth 2.0 client credentials. */

type Scope = 'conversations:read' | 'conversations:write' | 'users:read' | 'users:write' | 'account:read' | 'account:write';

async function createKey(t: TestServer, admin: string, scopes: Scope[], rateLimitPerMinute?: number | null) {
  const created = await call(t.server.app, 'createApiKey', {
    token: admin,
    body: { name: `key ${Math.random().toString(36).slice(2, 8)}`, scopes, ...(rateLimitPerMinute !== undefined ? { rateLimitPerMinute } : {}) },
  });
  if (created.status !== 201) throw new Error(`create key failed: ${JSON.stringify(created.body)}`);
  return { id: created.body.apiKey.id, secret: created.body.secret, apiKey: created.body.apiKey };
}

/** POST /oauth/token as a form, the way OAuth client libraries send it. */
async function tokenRequest(t: TestServer, form: Record<string, string>, options: { basic?: [string, string]; contentType?: string; rawBody?: string } = {}) {
  const contentType = options.contentType ?? 'application/x-www-form-urlencoded';
  const headers: Record<string, string> = { 'content-type': contentType };
  if (options.basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.basic[0])}:${encodeURIComponent(options.basic[1])}`).toString('base64')}`;
  const payload = options.rawBody ?? (contentType.startsWith('application/json') ? JSON.stringify(form) : new URLSearchParams(form).toString());
  const response = await t.server.app.inject({ method: 'POST', url: OAUTH_TOKEN_PATH, headers, payload });
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as Record<string, unknown> };
}

describe(`API key scopes (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  let conversationId: string;
  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
    conversationId = await a.conversation((await a.consumer()).token);
  });
  afterAll(() => t.close());

  it('refuses a read endpoint to a key without the read scope with 403 FORBIDDEN naming the scope', async () => {
    const key = await createKey(t, admin, ['conversations:write']);
    const r = await call(t.server.app, 'listEvents', { token: key.secret, params: { conversationId } });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', details: { requiredScopes: ['conversations:read'] } });
    expect(r.body.error?.message).toContain('conversations:read');
  });

  it('refuses a write endpoint to a key without the write scope, and writes nothing', async () => {
    const key = await createKey(t, admin, ['conversations:read', 'users:read']);
    const r = await call(t.server.app, 'sendEvent', { token: key.secret, params: { conversationId }, body: text('from a reader') });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', details: { requiredScopes: ['conversations:write'] } });
    expect(r.body.error?.message).toContain('conversations:write');
    const users = await call(t.server.app, 'createUser', { token: key.secret, body: { email: 'by-key@parley.test', name: 'By key', role: 'agent', password: 'a-long-password' } });
    expect(users.status).toBe(403);
    expect(users.body.error?.message).toContain('users:write');
    const events = await call(t.server.app, 'listEvents', { token: admin, params: { conversationId } });
    expect(JSON.stringify(events.body)).not.toContain('from a reader');
  });

  it('lets the same write through once the key has the scope', async () => {
    const key = await createKey(t, admin, ['conversations:write']);
    const r = await call(t.server.app, 'sendEvent', { token: key.secret, params: { conversationId }, body: text('from a writer') });
    expect(r.status).toBe(201);
  });

  it('says an endpoint no key may call is closed to API keys', async () => {
    const key = await createKey(t, admin, ['account:write', 'users:write']);
    const r = await call(t.server.app, 'createApiKey', { token: key.secret, body: { name: 'child', scopes: ['account:read'] } });
    expect(r.status).toBe(403);
    expect(r.body.error?.message).toBe('API keys may not call this endpoint');
  });

  it('refuses a revoked key with 401, on reads and writes alike', async () => {
    const key = await createKey(t, admin, ['conversations:read', 'conversations:write']);
    expect((await call(t.server.app, 'listConversations', { token: key.secret })).status).toBe(200);
    expect((await call(t.server.app, 'revokeApiKey', { token: admin, params: { id: key.id } })).status).toBe(204);
    const read = await call(t.server.app, 'listConversations', { token: key.secret });
    const write = await call(t.server.app, 'sendEvent', { token: key.secret, params: { conversationId }, body: text('after revocation') });
    for (const r of [read, write]) {
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('UNAUTHENTICATED');
    }
  });

  it("keeps a key out of another account's data, whatever its scopes", async () => {
    const email = `other-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const other = await createAccountWithAdmin(t.server.services, { accountName: 'Other brand', adminEmail: email, adminPassword: 'other-admin-password' });
    const otherAdmin = (await call(t.server.app, 'login', { body: { email, password: 'other-admin-password' } })).body.accessToken;
    const key = await createKey(t, otherAdmin, ['conversations:read', 'conversations:write', 'users:read', 'account:read']);
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).body.id).toBe(other.accountId);
    expect((await call(t.server.app, 'listConversations', { token: key.secret, query: { scope: 'all', state: 'all' } })).body.items).toEqual([]);
    expect((await call(t.server.app, 'listUsers', { token: key.secret })).body.items.map((u) => u.email)).toEqual([email]);
    for (const r of [
      await call(t.server.app, 'getConversation', { token: key.secret, params: { conversationId } }),
      await call(t.server.app, 'sendEvent', { token: key.secret, params: { conversationId }, body: text('cross-account') }),
    ]) {
      expect(r.status).toBe(404);
    }
  });
});

describe(`API key rate limits (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer({ env: { API_KEY_RATE_LIMIT_PER_MINUTE: '4' } });
    admin = await actors(t).adminToken();
  });
  afterAll(() => t.close());

  it('allows the default number of requests a minute per key, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const key = await createKey(t, admin, ['account:read']);
    expect(key.apiKey.rateLimitPerMinute).toBeNull();
    const remaining: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(t.server.app, 'getAccount', { token: key.secret });
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit-limit']).toBe('4');
      remaining.push(r.headers['ratelimit-remaining']);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    const refused = await call(t.server.app, 'getAccount', { token: key.secret });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, details: { retryAfterMs: expect.any(Number) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    // Forbidden calls count too, and other keys and users are not affected.
    expect((await call(t.server.app, 'listUsers', { token: key.secret })).status).toBe(429);
    const other = await createKey(t, admin, ['account:read']);
    expect((await call(t.server.app, 'getAccount', { token: other.secret })).status).toBe(200);
    expect((await call(t.server.app, 'getAccount', { token: admin })).headers['ratelimit-limit']).toBeUndefined();
  });

  it("uses the key's own limit when it has one, and a changed limit at once", async () => {
    const key = await createKey(t, admin, ['account:read'], 2);
    expect(key.apiKey.rateLimitPerMinute).toBe(2);
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).headers['ratelimit-limit']).toBe('2');
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).status).toBe(200);
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).status).toBe(429);

    const raised = await call(t.server.app, 'updateApiKey', { token: admin, params: { id: key.id }, body: { rateLimitPerMinute: 10, name: 'raised' } });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ id: key.id, name: 'raised', rateLimitPerMinute: 10 });
    const after = await call(t.server.app, 'getAccount', { token: key.secret });
    expect(after.status).toBe(200);
    expect(after.headers['ratelimit-limit']).toBe('10');

    const reset = await call(t.server.app, 'updateApiKey', { token: admin, params: { id: key.id }, body: { rateLimitPerMinute: null } });
    expect(reset.body.rateLimitPerMinute).toBeNull();
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).headers['ratelimit-limit']).toBe('4');
    const listed = await call(t.server.app, 'listApiKeys', { token: admin });
    expect(listed.body.items.find((k) => k.id === key.id)?.rateLimitPerMinute).toBeNull();
  });

  it('validates limits and lets only admins of the account change a key', async () => {
    const key = await createKey(t, admin, ['account:read']);
    for (const rateLimitPerMinute of [0, -1, 1.5]) {
      const r = await call(t.server.app, 'updateApiKey', { token: admin, params: { id: key.id }, body: { rateLimitPerMinute } });
      expect(r.status, String(rateLimitPerMinute)).toBe(400);
    }
    expect((await call(t.server.app, 'updateApiKey', { token: key.secret, params: { id: key.id }, body: { rateLimitPerMinute: 1000 } })).status).toBe(403);
    const email = `limits-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    await createAccountWithAdmin(t.server.services, { accountName: 'Limits', adminEmail: email, adminPassword: 'limits-admin-password' });
    const otherAdmin = (await call(t.server.app, 'login', { body: { email, password: 'limits-admin-password' } })).body.accessToken;
    expect((await call(t.server.app, 'updateApiKey', { token: otherAdmin, params: { id: key.id }, body: { rateLimitPerMinute: 1000 } })).status).toBe(404);
  });
});

describe(`OAuth 2.0 client credentials (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  let conversationId: string;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestServer({ clock, env: { API_KEY_RATE_LIMIT_PER_MINUTE: '50', ACCESS_TOKEN_TTL_SECONDS: '300' } });
    const a = actors(t);
    admin = await a.adminToken();
    conversationId = await a.conversation((await a.consumer()).token);
  });
  afterAll(() => t.close());

  it('issues a Bearer token for the key id and secret by HTTP Basic, uncached, with every scope of the key', async () => {
    const key = await createKey(t, admin, ['conversations:read', 'conversations:write']);
    const r = await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'conversations:read conversations:write' });
    const token = String(r.body.access_token);
    expect(token).not.toContain(key.secret);
    const me = await call(t.server.app, 'me', { token });
    expect(me.body).toEqual({ kind: 'api_key', apiKeyId: key.id, accountId: t.accountId, scopes: ['conversations:read', 'conversations:write'] });
    expect((await call(t.server.app, 'sendEvent', { token, params: { conversationId }, body: text('via OAuth') })).status).toBe(201);
  });

  it('accepts the credentials in a form body or JSON, and narrows the token to the scopes asked for', async () => {
    const key = await createKey(t, admin, ['conversations:read', 'conversations:write', 'account:read']);
    const form = await tokenRequest(t, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope: 'conversations:read' });
    expect(form.status).toBe(200);
    expect(form.body.scope).toBe('conversations:read');
    const token = String(form.body.access_token);
    expect((await call(t.server.app, 'listEvents', { token, params: { conversationId } })).status).toBe(200);
    const write = await call(t.server.app, 'sendEvent', { token, params: { conversationId }, body: text('narrowed') });
    expect(write.status).toBe(403);
    expect(write.body.error?.message).toContain('conversations:write');
    expect((await call(t.server.app, 'getAccount', { token })).status).toBe(403);

    const json = await tokenRequest(
      t,
      { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret, scope: 'account:read conversations:read' },
      { contentType: 'application/json' },
    );
    expect(json.status).toBe(200);
    expect(json.body.scope).toBe('account:read conversations:read');
  });

  it('answers errors in the RFC 6749 §5.2 shape', async () => {
    const key = await createKey(t, admin, ['conversations:read']);
    const cases: Array<[string, Awaited<ReturnType<typeof tokenRequest>>, number, string]> = [
      ['wrong secret', await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, `${key.secret}x`] }), 401, 'invalid_client'],
      ['unknown id', await tokenRequest(t, { grant_type: 'client_credentials', client_id: crypto.randomUUID(), client_secret: key.secret }), 401, 'invalid_client'],
      ['id not a uuid', await tokenRequest(t, { grant_type: 'client_credentials', client_id: 'nope', client_secret: key.secret }), 401, 'invalid_client'],
      ['no credentials', await tokenRequest(t, { grant_type: 'client_credentials' }), 401, 'invalid_client'],
      ['password grant', await tokenRequest(t, { grant_type: 'password' }, { basic: [key.id, key.secret] }), 400, 'unsupported_grant_type'],
      ['a scope the key lacks', await tokenRequest(t, { grant_type: 'client_credentials', scope: 'conversations:write' }, { basic: [key.id, key.secret] }), 400, 'invalid_scope'],
      ['an unknown scope', await tokenRequest(t, { grant_type: 'client_credentials', scope: 'everything' }, { basic: [key.id, key.secret] }), 400, 'invalid_scope'],
      ['no grant_type', await tokenRequest(t, {}, { basic: [key.id, key.secret] }), 400, 'invalid_request'],
      [
        'two ways of authenticating',
        await tokenRequest(t, { grant_type: 'client_credentials', client_id: key.id, client_secret: key.secret }, { basic: [key.id, key.secret] }),
        400,
        'invalid_request',
      ],
      ['a repeated parameter', await tokenRequest(t, {}, { basic: [key.id, key.secret], rawBody: 'grant_type=client_credentials&grant_type=client_credentials' }), 400, 'invalid_request'],
      ['malformed JSON', await tokenRequest(t, {}, { basic: [key.id, key.secret], contentType: 'application/json', rawBody: '{"grant_type":' }), 400, 'invalid_request'],
      ['a text body', await tokenRequest(t, {}, { basic: [key.id, key.secret], contentType: 'text/plain', rawBody: 'grant_type=client_credentials' }), 400, 'invalid_request'],
    ];
    for (const [what, r, status, error] of cases) {
      expect({ what, status: r.status, error: r.body.error }).toEqual({ what, status, error });
      expect(r.body.error_description, what).toEqual(expect.any(String));
      expect(r.headers['cache-control'], what).toBe('no-store');
      if (error === 'invalid_client') expect(r.headers['www-authenticate'], what).toMatch(/^Basic realm="parley"/);
    }
  });

  it('stops a token at once when its key is revoked, and lets it expire', async () => {
    const key = await createKey(t, admin, ['conversations:read']);
    const token = String((await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] })).body.access_token);
    expect((await call(t.server.app, 'listConversations', { token })).status).toBe(200);
    clock.advance(301_000);
    const expired = await call(t.server.app, 'listConversations', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('TOKEN_EXPIRED');
    admin = await actors(t).adminToken(); // the admin's token expired too

    const fresh = String((await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] })).body.access_token);
    expect((await call(t.server.app, 'listConversations', { token: fresh })).status).toBe(200);
    await call(t.server.app, 'revokeApiKey', { token: admin, params: { id: key.id } });
    const revoked = await call(t.server.app, 'listConversations', { token: fresh });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error?.code).toBe('UNAUTHENTICATED');
    const again = await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] });
    expect(again.body.error).toBe('invalid_client');
  });

  it("counts a token's requests against its key's rate limit, together with the key's own", async () => {
    const key = await createKey(t, admin, ['account:read'], 3);
    const token = String((await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] })).body.access_token);
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).status).toBe(200);
    expect((await call(t.server.app, 'getAccount', { token })).status).toBe(200);
    const last = await call(t.server.app, 'getAccount', { token });
    expect(last.status).toBe(200);
    expect(last.headers['ratelimit-remaining']).toBe('0');
    expect((await call(t.server.app, 'getAccount', { token })).status).toBe(429);
    expect((await call(t.server.app, 'getAccount', { token: key.secret })).status).toBe(429);
  });

  it("never reaches another account's data with a token", async () => {
    const email = `oauth-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    await createAccountWithAdmin(t.server.services, { accountName: 'OAuth brand', adminEmail: email, adminPassword: 'oauth-admin-password' });
    const otherAdmin = (await call(t.server.app, 'login', { body: { email, password: 'oauth-admin-password' } })).body.accessToken;
    const key = await createKey(t, otherAdmin, ['conversations:read']);
    const token = String((await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] })).body.access_token);
    expect((await call(t.server.app, 'getConversation', { token, params: { conversationId } })).status).toBe(404);
  });
});

describe(`OAuth token endpoint under the public limit (${storageMode})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t.close());

  it('counts token requests per address, answering 429 rate_limited with Retry-After beyond the limit', async () => {
    const admin = await actors(t).adminToken(); // one of the three
    const key = await createKey(t, admin, ['account:read']);
    for (let i = 0; i < 2; i++) expect((await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] })).status).toBe(200);
    const refused = await tokenRequest(t, { grant_type: 'client_credentials' }, { basic: [key.id, key.secret] });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
