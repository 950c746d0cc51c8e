import { ApiKeySchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ADMIN_PASSWORD, ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { createAccountWithAdmin } from './bootstrap.ts';

const PASSWORD = 'a-long-password';

describe(`authentication, roles and API keys (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestServer({ clock });
    a = actors(t);
  });
  afterAll(() => t.close());

  const login = (email: string, password: string) => call(t.server.app, 'login', { body: { email, password } });
  const refresh = (refreshToken: string) => call(t.server.app, 'refresh', { body: { refreshToken } });

  async function refreshTokenRows(userId: string) {
    return t.server.database.db.selectFrom('refresh_tokens').select(['revoked_at']).where('user_id', '=', userId).execute();
  }

  it('logs a user in with the right password and returns a Bearer pair that works', async () => {
    const r = await login(t.adminEmail, ADMIN_PASSWORD);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.stringMatching(/^ey/), refreshToken: expect.stringMatching(/^prt_/) });
    const expiresIn = Date.parse(r.body.accessTokenExpiresAt) - clock.now().getTime();
    expect(Math.abs(expiresIn - t.config.auth.accessTokenTtlSeconds * 1000)).toBeLessThan(2_000);
    const me = await call(t.server.app, 'me', { token: r.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', user: { email: t.adminEmail, role: 'admin', accountId: t.accountId } });
  });

  it('accepts the email in any case', async () => {
    const r = await login(t.adminEmail.toUpperCase(), ADMIN_PASSWORD);
    expect(r.status).toBe(200);
  });

  it('answers a wrong password and an unknown email with the same INVALID_CREDENTIALS', async () => {
    const wrong = await login(t.adminEmail, 'not-the-password');
    const unknown = await login('nobody-here@parley.test', ADMIN_PASSWORD);
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('INVALID_CREDENTIALS');
    }
    expect(wrong.body.error?.message).toBe(unknown.body.error?.message);
  });

  it('stores passwords only as argon2id hashes', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'hashed');
    const row = await t.server.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    const bootstrapRow = await t.server.database.db.selectFrom('users').select('password_hash').where('email', '=', t.adminEmail).executeTakeFirstOrThrow();
    expect(bootstrapRow.password_hash.startsWith('$argon2id$')).toBe(true);
  });

  it('exchanges a refresh token once for a new pair; the old one then fails with INVALID_REFRESH_TOKEN', async () => {
    const first = await login(t.adminEmail, ADMIN_PASSWORD);
    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(second.body.accessToken).toMatch(/^ey/);
    expect((await call(t.server.app, 'me', { token: second.body.accessToken })).status).toBe(200);

    const reused = await refresh(first.body.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('treats a reused refresh token as theft and revokes the pair issued in its place', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'victim');
    const first = await login(user.email, PASSWORD);
    const rotated = await refresh(first.body.refreshToken);
    expect(rotated.status).toBe(200);

    const stolen = await refresh(first.body.refreshToken);
    expect(stolen.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
    // The legitimate holder's new refresh token is revoked too, so whoever holds it must log in again.
    const afterTheft = await refresh(rotated.body.refreshToken);
    expect(afterTheft.status).toBe(401);
    expect(afterTheft.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
    const rows = await refreshTokenRows(user.id);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => r.revoked_at !== null)).toBe(true);
  });

  it('lets exactly one of two simultaneous refreshes with the same token succeed', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'racer');
    const pair = await login(user.email, PASSWORD);
    const results = await Promise.all([refresh(pair.body.refreshToken), refresh(pair.body.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.find((r) => r.status === 401)?.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('refuses an unknown refresh token and one past REFRESH_TOKEN_TTL', async () => {
    const unknown = await refresh('prt_this-token-was-never-issued-by-parley');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error?.code).toBe('INVALID_REFRESH_TOKEN');

    const pair = await login(t.adminEmail, ADMIN_PASSWORD);
    clock.advance((t.config.auth.refreshTokenTtlSeconds + 1) * 1000);
    const expired = await refresh(pair.body.refreshToken);
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
    expect(expired.body.error?.message).toMatch(/expired/);
  });

  it('revokes the refresh token on logout', async () => {
    const pair = await login(t.adminEmail, ADMIN_PASSWORD);
    const out = await call(t.server.app, 'logout', { body: { refreshToken: pair.body.refreshToken } });
    expect(out.status).toBe(204);
    const after = await refresh(pair.body.refreshToken);
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('INVALID_REFRESH_TOKEN');
    // Logging out twice is harmless.
    expect((await call(t.server.app, 'logout', { body: { refreshToken: pair.body.refreshToken } })).status).toBe(204);
  });

  it('blocks login and refresh of a disabled user, and lets them back in once enabled', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'leaver');
    const pair = await login(user.email, PASSWORD);
    const disabled = await call(t.server.app, 'updateUser', { token: admin, params: { id: user.id }, body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled).toBe(true);

    const blockedLogin = await login(user.email, PASSWORD);
    expect(blockedLogin.status).toBe(401);
    expect(blockedLogin.body.error?.code).toBe('INVALID_CREDENTIALS');
    const blockedRefresh = await refresh(pair.body.refreshToken);
    expect(blockedRefresh.status).toBe(401);
    expect(blockedRefresh.body.error?.code).toBe('INVALID_REFRESH_TOKEN');

    await call(t.server.app, 'updateUser', { token: admin, params: { id: user.id }, body: { disabled: false } });
    expect((await login(user.email, PASSWORD)).status).toBe(200);
  });

  it('ends every session when the password changes, and only the new password logs in', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'rotator');
    const pair = await login(user.email, PASSWORD);
    const changed = await call(t.server.app, 'updateUser', { token: admin, params: { id: user.id }, body: { password: 'a-brand-new-password' } });
    expect(changed.status).toBe(200);
    expect((await refresh(pair.body.refreshToken)).body.error?.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await login(user.email, PASSWORD)).body.error?.code).toBe('INVALID_CREDENTIALS');
    expect((await login(user.email, 'a-brand-new-password')).status).toBe(200);
  });

  it('keeps user and key management to the roles allowed: agents neither create users nor list API keys', async () => {
    const admin = await a.adminToken();
    const agent = await a.createUser(admin, 'agent');
    const create = await call(t.server.app, 'createUser', { token: agent.token, body: { email: 'by-agent@parley.test', name: 'By agent', role: 'agent', password: PASSWORD } });
    expect(create.status).toBe(403);
    expect(create.body.error?.code).toBe('FORBIDDEN');
    const keys = await call(t.server.app, 'listApiKeys', { token: agent.token });
    expect(keys.status).toBe(403);
    expect(keys.body.error?.code).toBe('FORBIDDEN');
    const users = await call(t.server.app, 'listUsers', { token: agent.token });
    expect(users.body.error?.code).toBe('FORBIDDEN');
    const promote = await call(t.server.app, 'updateUser', { token: agent.token, params: { id: agent.id }, body: { role: 'admin' } });
    expect(promote.body.error?.code).toBe('FORBIDDEN');
    const row = await t.server.database.db.selectFrom('users').select('role').where('id', '=', agent.id).executeTakeFirstOrThrow();
    expect(row.role).toBe('agent');
    const none = await t.server.database.db.selectFrom('users').select('id').where('email', '=', 'by-agent@parley.test').execute();
    expect(none).toEqual([]);
  });

  it('lets a manager list users but not create them or manage API keys', async () => {
    const admin = await a.adminToken();
    const manager = await a.createUser(admin, 'manager');
    const list = await call(t.server.app, 'listUsers', { token: manager.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((u) => u.email)).toEqual(expect.arrayContaining([manager.email, t.adminEmail]));
    expect(JSON.stringify(list.body)).not.toContain('argon2');
    const create = await call(t.server.app, 'createUser', { token: manager.token, body: { email: 'by-manager@parley.test', name: 'By manager', role: 'agent', password: PASSWORD } });
    expect(create.status).toBe(403);
    expect(create.body.error?.code).toBe('FORBIDDEN');
    const key = await call(t.server.app, 'createApiKey', { token: manager.token, body: { name: 'mine', scopes: ['users:write'] } });
    expect(key.body.error?.code).toBe('FORBIDDEN');
  });

  it('refuses a second user with the same email, whatever its case, with EMAIL_TAKEN', async () => {
    const admin = await a.adminToken();
    const user = await a.createUser(admin, 'agent', 'twin');
    const again = await call(t.server.app, 'createUser', { token: admin, body: { email: user.email.toUpperCase(), name: 'Twin', role: 'agent', password: PASSWORD } });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('EMAIL_TAKEN');
  });

  it('shows an API key secret once: the list shows its prefix, never the secret', async () => {
    const admin = await a.adminToken();
    const created = await call(t.server.app, 'createApiKey', { token: admin, body: { name: 'CRM sync', scopes: ['conversations:read', 'account:read'] } });
    expect(created.status).toBe(201);
    const secret = created.body.secret;
    expect(secret).toMatch(/^pak_[A-Za-z0-9_-]{40,}$/);
    expect(created.body.apiKey).toMatchObject({ name: 'CRM sync', scopes: ['conversations:read', 'account:read'], prefix: secret.slice(0, 12), revokedAt: null });

    const list = await call(t.server.app, 'listApiKeys', { token: admin });
    expect(list.status).toBe(200);
    const listed = list.body.items.find((k) => k.id === created.body.apiKey.id);
    expect(listed).toBeDefined();
    expect(Object.keys(listed ?? {}).sort()).toEqual(Object.keys(ApiKeySchema.shape).sort());
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(12));
    const stored = await t.server.database.db.selectFrom('api_keys').select('secret_hash').where('id', '=', created.body.apiKey.id).executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(secret.slice(4));
  });

  it('accepts an API key as a Bearer credential with exactly its scopes', async () => {
    const admin = await a.adminToken();
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const reader = await call(t.server.app, 'createApiKey', { token: admin, body: { name: 'reader', scopes: ['conversations:read'] } });
    const key = reader.body.secret;

    const me = await call(t.server.app, 'me', { token: key });
    expect(me.body).toEqual({ kind: 'api_key', apiKeyId: reader.body.apiKey.id, accountId: t.accountId, scopes: ['conversations:read'] });
    const list = await call(t.server.app, 'listConversations', { token: key });
    expect(list.status).toBe(200);
    expect(list.body.items.map((c) => c.id)).toContain(conversationId);
    const events = await call(t.server.app, 'listEvents', { token: key, params: { conversationId } });
    expect(events.status).toBe(200);

    // Reading is not writing, and keys never manage users or keys.
    const write = await call(t.server.app, 'sendEvent', {
      token: key,
      params: { conversationId },
      body: { clientMessageId: 'k-1', event: { type: 'content', content: { contentType: 'text/plain', message: 'from a key' } } },
    });
    expect(write.status).toBe(403);
    expect(write.body.error?.code).toBe('FORBIDDEN');
    expect((await call(t.server.app, 'listUsers', { token: key })).body.error?.code).toBe('FORBIDDEN');
    expect((await call(t.server.app, 'listApiKeys', { token: key })).body.error?.code).toBe('FORBIDDEN');
    expect((await call(t.server.app, 'getAccount', { token: key })).body.error?.code).toBe('FORBIDDEN');

    const used = await call(t.server.app, 'listApiKeys', { token: admin });
    expect(used.body.items.find((k) => k.id === reader.body.apiKey.id)?.lastUsedAt).not.toBeNull();
  });

  it('refuses listConversations to a key without conversations:read with FORBIDDEN', async () => {
    const admin = await a.adminToken();
    const created = await call(t.server.app, 'createApiKey', { token: admin, body: { name: 'account only', scopes: ['account:read', 'users:read'] } });
    const key = created.body.secret;
    const list = await call(t.server.app, 'listConversations', { token: key });
    expect(list.status).toBe(403);
    expect(list.body.error?.code).toBe('FORBIDDEN');
    const account = await call(t.server.app, 'getAccount', { token: key });
    expect(account.status).toBe(200);
    expect(account.body.id).toBe(t.accountId);
  });

  it('refuses a revoked key with UNAUTHENTICATED', async () => {
    const admin = await a.adminToken();
    const created = await call(t.server.app, 'createApiKey', { token: admin, body: { name: 'short-lived', scopes: ['conversations:read'] } });
    const key = created.body.secret;
    expect((await call(t.server.app, 'listConversations', { token: key })).status).toBe(200);

    const revoked = await call(t.server.app, 'revokeApiKey', { token: admin, params: { id: created.body.apiKey.id } });
    expect(revoked.status).toBe(204);
    const after = await call(t.server.app, 'listConversations', { token: key });
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('UNAUTHENTICATED');
    const listed = await call(t.server.app, 'listApiKeys', { token: admin });
    expect(listed.body.items.find((k) => k.id === created.body.apiKey.id)?.revokedAt).not.toBeNull();
    const twice = await call(t.server.app, 'revokeApiKey', { token: admin, params: { id: created.body.apiKey.id } });
    expect(twice.status).toBe(404);
  });

  it("never shows account A's conversations to a key of account B", async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const adminEmail = `b-admin-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    await createAccountWithAdmin(t.server.services, { accountName: 'Brand B', adminEmail, adminPassword: 'brand-b-admin-password' });
    const adminB = await login(adminEmail, 'brand-b-admin-password');
    const keyB = await call(t.server.app, 'createApiKey', { token: adminB.body.accessToken, body: { name: 'B reader', scopes: ['conversations:read', 'conversations:write'] } });
    expect(keyB.status).toBe(201);

    const list = await call(t.server.app, 'listConversations', { token: keyB.body.secret, query: { scope: 'all', state: 'all' } });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    for (const r of [
      await call(t.server.app, 'getConversation', { token: keyB.body.secret, params: { conversationId } }),
      await call(t.server.app, 'listEvents', { token: keyB.body.secret, params: { conversationId } }),
      await call(t.server.app, 'sendEvent', {
        token: keyB.body.secret,
        params: { conversationId },
        body: { clientMessageId: 'b-1', event: { type: 'content', content: { contentType: 'text/plain', message: 'hi from B' } } },
      }),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error?.code).toBe('NOT_FOUND');
    }
    // Nor can B's admin revoke A's keys.
    const adminA = await a.adminToken();
    const keyA = await call(t.server.app, 'createApiKey', { token: adminA, body: { name: 'A reader', scopes: ['conversations:read'] } });
    const crossRevoke = await call(t.server.app, 'revokeApiKey', { token: adminB.body.accessToken, params: { id: keyA.body.apiKey.id } });
    expect(crossRevoke.status).toBe(404);
    expect((await call(t.server.app, 'listConversations', { token: keyA.body.secret })).status).toBe(200);
  });
});
