import { CannedResponseSchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';

const quickReplies = {
  type: 'quickReplies' as const,
  itemsPerRow: 2,
  replies: [
    { type: 'button' as const, title: 'Yes', click: { actions: [{ type: 'publishText' as const, text: 'Yes' }] } },
    { type: 'button' as const, title: 'No', click: { actions: [{ type: 'publishText' as const, text: 'No' }] } },
  ],
};

describe(`canned responses (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  let agent: { id: string; token: string };
  let otherAgent: { id: string; token: string };
  let manager: { id: string; token: string };

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
    agent = await a.createUser(admin, 'agent', 'Ada');
    otherAgent = await a.createUser(admin, 'agent', 'Bo');
    manager = await a.createUser(admin, 'manager', 'Mia');
  });
  afterAll(() => t.close());

  const list = async (token: string) => {
    const r = await call(t.server.app, 'listCannedResponses', { token });
    expect(r.status).toBe(200);
    return r.body.items;
  };

  it('lets admins create account-wide responses that every user reads, with quick replies', async () => {
    const created = await call(t.server.app, 'createCannedResponse', {
      token: admin,
      body: { scope: 'account', shortcut: 'greet', title: 'Greeting', text: 'Hello! How can I help?', quickReplies },
    });
    expect(created.status).toBe(201);
    expect(CannedResponseSchema.parse(created.body)).toMatchObject({ scope: 'account', ownerId: null, shortcut: 'greet', quickReplies: { replies: [{ title: 'Yes' }, { title: 'No' }] } });
    for (const token of [agent.token, manager.token, admin]) {
      expect((await list(token)).map((c) => c.shortcut)).toContain('greet');
    }
  });

  it('lets every user keep personal responses that only they see, and refuses account-wide ones to non-admins', async () => {
    const mine = await call(t.server.app, 'createCannedResponse', { token: agent.token, body: { shortcut: 'bye', title: 'Goodbye', text: 'Have a nice day!' } });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ scope: 'personal', ownerId: agent.id, quickReplies: null });
    expect((await list(agent.token)).map((c) => c.shortcut)).toContain('bye');
    expect((await list(otherAgent.token)).map((c) => c.shortcut)).not.toContain('bye');
    expect((await list(admin)).map((c) => c.shortcut)).not.toContain('bye');

    for (const token of [agent.token, manager.token]) {
      const refused = await call(t.server.app, 'createCannedResponse', { token, body: { scope: 'account', shortcut: 'nope', title: 'No', text: 'No' } });
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('FORBIDDEN');
    }
    expect((await list(admin)).map((c) => c.shortcut)).not.toContain('nope');
  });

  it('keeps shortcuts unique per scope: the same user twice conflicts, another user or the account scope does not', async () => {
    const first = await call(t.server.app, 'createCannedResponse', { token: agent.token, body: { shortcut: 'refund', title: 'Refund', text: 'Refunds take 5 days.' } });
    expect(first.status).toBe(201);
    const again = await call(t.server.app, 'createCannedResponse', { token: agent.token, body: { shortcut: 'refund', title: 'Other', text: 'Other text' } });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('CONFLICT');
    const other = await call(t.server.app, 'createCannedResponse', { token: otherAgent.token, body: { shortcut: 'refund', title: 'Refund', text: 'Mine too' } });
    expect(other.status).toBe(201);
    const account = await call(t.server.app, 'createCannedResponse', { token: admin, body: { scope: 'account', shortcut: 'refund', title: 'Refund', text: 'Account-wide' } });
    expect(account.status).toBe(201);
    expect((await list(agent.token)).filter((c) => c.shortcut === 'refund').map((c) => c.scope)).toEqual(expect.arrayContaining(['account', 'personal']));
  });

  it('rejects bad input with field issues and stores nothing', async () => {
    const before = await list(agent.token);
    const bad = [
      { shortcut: 'Has Spaces', title: 'T', text: 'x' },
      { shortcut: 'ok-one', title: '', text: 'x' },
      { shortcut: 'ok-two', title: 'T', text: '   ' },
      { shortcut: 'ok-three', title: 'T', text: 'x', extra: true },
      { shortcut: 'ok-four', title: 'T', text: 'x', quickReplies: { type: 'quickReplies', replies: [] } },
    ];
    for (const body of bad) {
      const r = await call(t.server.app, 'createCannedResponse', { token: agent.token, body });
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe('VALIDATION_FAILED');
      expect(Array.isArray(r.body.error?.details?.issues)).toBe(true);
    }
    const created = await call(t.server.app, 'createCannedResponse', { token: agent.token, body: { shortcut: 'edit-me', title: 'Edit me', text: 'Original' } });
    const badPatch = await call(t.server.app, 'updateCannedResponse', { token: agent.token, params: { id: created.body.id }, body: { text: 'Changed', shortcut: 'NOT OK' } });
    expect(badPatch.status).toBe(400);
    const after = await list(agent.token);
    expect(after.length).toBe(before.length + 1);
    expect(after.find((c) => c.id === created.body.id)?.text).toBe('Original');
  });

  it('lets owners edit and delete personal responses, admins account-wide ones, and nobody else', async () => {
    const personal = await call(t.server.app, 'createCannedResponse', { token: agent.token, body: { shortcut: 'mine', title: 'Mine', text: 'Mine' } });
    const shared = await call(t.server.app, 'createCannedResponse', { token: admin, body: { scope: 'account', shortcut: 'shared', title: 'Shared', text: 'Shared' } });

    const edited = await call(t.server.app, 'updateCannedResponse', { token: agent.token, params: { id: personal.body.id }, body: { text: 'Mine, edited', quickReplies } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ text: 'Mine, edited', shortcut: 'mine', quickReplies: { itemsPerRow: 2 } });
    const cleared = await call(t.server.app, 'updateCannedResponse', { token: agent.token, params: { id: personal.body.id }, body: { quickReplies: null } });
    expect(cleared.body.quickReplies).toBeNull();

    // Another user's personal response does not exist for them, even for an admin.
    for (const token of [otherAgent.token, admin]) {
      const r = await call(t.server.app, 'updateCannedResponse', { token, params: { id: personal.body.id }, body: { text: 'hijack' } });
      expect(r.status).toBe(404);
      expect(r.body.error?.code).toBe('NOT_FOUND');
      const d = await call(t.server.app, 'deleteCannedResponse', { token, params: { id: personal.body.id } });
      expect(d.status).toBe(404);
    }
    // Agents and managers read account-wide responses but do not change them.
    for (const token of [agent.token, manager.token]) {
      const r = await call(t.server.app, 'updateCannedResponse', { token, params: { id: shared.body.id }, body: { text: 'changed' } });
      expect(r.status).toBe(403);
      const d = await call(t.server.app, 'deleteCannedResponse', { token, params: { id: shared.body.id } });
      expect(d.status).toBe(403);
    }
    expect((await list(agent.token)).find((c) => c.id === shared.body.id)?.text).toBe('Shared');

    const renamed = await call(t.server.app, 'updateCannedResponse', { token: admin, params: { id: shared.body.id }, body: { shortcut: 'greet' } });
    expect(renamed.status).toBe(409);
    expect(renamed.body.error?.code).toBe('CONFLICT');

    expect((await call(t.server.app, 'deleteCannedResponse', { token: admin, params: { id: shared.body.id } })).status).toBe(204);
    expect((await call(t.server.app, 'deleteCannedResponse', { token: agent.token, params: { id: personal.body.id } })).status).toBe(204);
    const ids = (await list(agent.token)).map((c) => c.id);
    expect(ids).not.toContain(shared.body.id);
    expect(ids).not.toContain(personal.body.id);
  });

  it("keeps accounts apart: another account's responses are NOT_FOUND and never listed", async () => {
    const adminEmail = `b-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    await createAccountWithAdmin(t.server.services, { accountName: 'Brand B', adminEmail, adminPassword: 'brand-b-admin-password' });
    const adminB = (await call(t.server.app, 'login', { body: { email: adminEmail, password: 'brand-b-admin-password' } })).body.accessToken;
    const theirs = await call(t.server.app, 'createCannedResponse', { token: adminB, body: { scope: 'account', shortcut: 'greet', title: 'B greeting', text: 'Hello from B' } });
    expect(theirs.status).toBe(201);

    expect((await list(admin)).map((c) => c.id)).not.toContain(theirs.body.id);
    expect((await list(adminB)).map((c) => c.shortcut)).toEqual(['greet']);
    const patch = await call(t.server.app, 'updateCannedResponse', { token: admin, params: { id: theirs.body.id }, body: { text: 'hijack' } });
    expect(patch.status).toBe(404);
    expect(patch.body.error?.code).toBe('NOT_FOUND');
    const del = await call(t.server.app, 'deleteCannedResponse', { token: admin, params: { id: theirs.body.id } });
    expect(del.status).toBe(404);
    expect((await list(adminB))[0]?.text).toBe('Hello from B');
  });

  it('is for users only: consumers and unauthenticated callers are refused', async () => {
    const consumer = await a.consumer();
    expect((await call(t.server.app, 'listCannedResponses', { token: consumer.token })).status).toBe(403);
    expect((await call(t.server.app, 'listCannedResponses', {})).status).toBe(401);
  });
});
