import { ErrorBodySchema, MAX_TEXT_LENGTH } from '@parley/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithAdmin } from '../../modules/accounts/index.ts';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';

const TABLES = ['accounts', 'users', 'refresh_tokens', 'api_keys', 'consumers', 'consumer_devices', 'conversations', 'conversation_participants', 'conversation_events', 'files'] as const;
type RowCounts = Record<(typeof TABLES)[number], number>;

const MAX_BODY_BYTES = 64 * 1024;

describe(`bad input over REST is refused with a clear error and writes nothing (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  const clock = new ManualClock();

  /** How many rows every table holds: compared before and after a refused request. */
  async function rowCounts(): Promise<RowCounts> {
    const counts = {} as RowCounts;
    for (const table of TABLES) {
      const result = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.server.database.db);
      counts[table] = Number(result.rows[0]?.n);
    }
    return counts;
  }

  /** Runs `request`, then checks that no table gained or lost a row. */
  async function expectNothingWritten<T>(request: () => Promise<T>): Promise<T> {
    const before = await rowCounts();
    const result = await request();
    expect(await rowCounts()).toEqual(before);
    return result;
  }

  /** A consumer with an open conversation taken by an agent, the admin's token, and the conversation's id. */
  async function scene() {
    const admin = await a.adminToken();
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    const taken = await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    expect(taken.status).toBe(200);
    return { admin, consumer, agent, conversationId };
  }

  beforeAll(async () => {
    t = await startTestServer({ clock, env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
    a = actors(t);
  });
  afterAll(() => t.close());

  it('answers every error with {code, message, retryable, requestId}, echoing the caller’s x-request-id', async () => {
    const r = await call(t.server.app, 'listConversations', { headers: { 'x-request-id': 'req-bad-input-1' } });
    expect(r.status).toBe(401);
    const parsed = ErrorBodySchema.safeParse(r.body);
    expect(parsed.success).toBe(true);
    expect(r.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/\S/), retryable: false, requestId: 'req-bad-input-1' });

    const generated = await call(t.server.app, 'listConversations', {});
    expect(generated.body.error?.code).toBe('UNAUTHENTICATED');
    expect(ErrorBodySchema.parse(generated.body).error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a body that is not valid JSON with MALFORMED_JSON', async () => {
    const { consumer, conversationId } = await scene();
    const r = await expectNothingWritten(() =>
      call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, rawBody: '{"clientMessageId": "m-1", "event": {"type": "content", ' }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'MALFORMED_JSON', retryable: false });
    expect(ErrorBodySchema.safeParse(r.body).success).toBe(true);

    const empty = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, rawBody: '' }));
    expect(empty.status).toBe(400);
    expect(empty.body.error?.code).toBe('MALFORMED_JSON');
  });

  it('refuses JSON that tries to set __proto__', async () => {
    const { consumer, conversationId } = await scene();
    const r = await expectNothingWritten(() =>
      call(t.server.app, 'sendEvent', {
        token: consumer.token,
        params: { conversationId },
        rawBody: '{"clientMessageId":"p-1","__proto__":{"admin":true},"event":{"type":"content","content":{"contentType":"text/plain","message":"hi"}}}',
      }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('MALFORMED_JSON');
  });

  it('refuses a Content-Type the endpoint does not accept with UNSUPPORTED_MEDIA_TYPE', async () => {
    const { consumer, conversationId } = await scene();
    const r = await expectNothingWritten(() =>
      call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, rawBody: '<message>hi</message>', headers: { 'content-type': 'application/xml' } }),
    );
    expect(r.status).toBe(415);
    expect(r.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body that is JSON but not an object with VALIDATION_FAILED on `body`', async () => {
    const { consumer, conversationId } = await scene();
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, rawBody: '["hello"]' }));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    expect(r.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'body' })]);
  });

  it('names an unknown top-level field as body.<field>', async () => {
    const { consumer, conversationId } = await scene();
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: { ...text('hello'), extra: true } }));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    expect(r.body.error?.details?.issues).toEqual([{ path: 'body.extra', message: 'Unknown field "extra"', code: 'unrecognized_keys' }]);
    expect(r.body.error?.message).toContain('body.extra');
  });

  it('names an unknown nested field by its full dotted path', async () => {
    const { consumer, conversationId } = await scene();
    const body = { clientMessageId: 'nested-1', event: { type: 'content', content: { contentType: 'text/plain', message: 'hi', colour: 'red' } } };
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body }));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    expect(r.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'body.event.content.colour', code: 'unrecognized_keys' })]);
  });

  it('refuses unknown query fields and malformed path parameters, naming them', async () => {
    const { consumer, conversationId } = await scene();
    const query = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { limit: 5, sort: 'asc' } });
    expect(query.status).toBe(400);
    expect(query.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'query.sort' })]);

    const params = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId: 'not-a-uuid' }, body: text('hello') }));
    expect(params.status).toBe(400);
    expect(params.body.error?.code).toBe('VALIDATION_FAILED');
    expect(params.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'params.conversationId' })]);
  });

  it(`refuses a message longer than ${MAX_TEXT_LENGTH} characters with VALIDATION_FAILED on body.event.content.message`, async () => {
    const { consumer, conversationId } = await scene();
    const tooLong = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('x'.repeat(MAX_TEXT_LENGTH + 1)) }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error?.code).toBe('VALIDATION_FAILED');
    expect(tooLong.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'body.event.content.message', code: 'too_big' })]);

    const blank = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('   ') }));
    expect(blank.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'body.event.content.message', code: 'too_small' })]);

    // The limit itself is accepted: the boundary is where the contract says.
    const atLimit = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('y'.repeat(MAX_TEXT_LENGTH)) });
    expect(atLimit.status).toBe(201);
  });

  it('refuses a body over MAX_BODY_BYTES with PAYLOAD_TOO_LARGE', async () => {
    const { consumer, conversationId } = await scene();
    const body = { ...text('hello'), event: { type: 'rich_content', content: { type: 'vertical', elements: [] }, fallbackText: 'z'.repeat(MAX_BODY_BYTES) } };
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body }));
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', retryable: false });
  });

  it('refuses a missing, malformed or forged credential with UNAUTHENTICATED', async () => {
    const { conversationId } = await scene();
    const missing = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { params: { conversationId }, body: text('hello') }));
    expect(missing.status).toBe(401);
    expect(missing.body.error?.code).toBe('UNAUTHENTICATED');

    const garbage = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: 'not.a.jwt', params: { conversationId }, body: text('hello') }));
    expect(garbage.status).toBe(401);
    expect(garbage.body.error?.code).toBe('UNAUTHENTICATED');

    const basic = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, params: { conversationId }, body: text('hello') }));
    expect(basic.status).toBe(401);
    expect(basic.body.error?.code).toBe('UNAUTHENTICATED');

    const unknownKey = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: 'pak_this-key-was-never-issued', params: { conversationId }, body: text('hello') }));
    expect(unknownKey.status).toBe(401);
    expect(unknownKey.body.error?.code).toBe('UNAUTHENTICATED');

    // A token signed with another server's secret.
    const forged =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJ1c2VyIiwicm9sZSI6ImFkbWluIiwiYWNjIjoiMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAwIiwic3ViIjoiMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAwIiwiaXNzIjoicGFybGV5IiwiYXVkIjoicGFybGV5LWFwaSIsImV4cCI6NDEwMjQ0NDgwMH0.c2lnbmF0dXJlLW9mLWFub3RoZXItc2VydmVyLXh4eHh4eHh4eHg';
    const wrongSecret = await expectNothingWritten(() =>
      call(t.server.app, 'createUser', { token: forged, body: { email: 'forged@parley.test', name: 'Forged', role: 'admin', password: 'a-long-password' } }),
    );
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an agent access token older than ACCESS_TOKEN_TTL with TOKEN_EXPIRED', async () => {
    const { agent, conversationId } = await scene();
    const fresh = await call(t.server.app, 'getConversation', { token: agent.token, params: { conversationId } });
    expect(fresh.status).toBe(200);
    clock.advance((t.config.auth.accessTokenTtlSeconds + 1) * 1000);
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('still there?') }));
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'TOKEN_EXPIRED', retryable: false });
  });

  it('refuses a consumer access token older than CONSUMER_TOKEN_TTL with TOKEN_EXPIRED, and a new session works', async () => {
    const { consumer, conversationId } = await scene();
    clock.advance((t.config.auth.accessTokenTtlSeconds + 1) * 1000);
    // Still within the (longer) consumer lifetime.
    const within = await call(t.server.app, 'getConversation', { token: consumer.token, params: { conversationId } });
    expect(within.status).toBe(200);
    clock.advance(t.config.auth.consumerTokenTtlSeconds * 1000);
    const r = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('hello?') }));
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('TOKEN_EXPIRED');

    const again = await a.consumer(consumer.deviceToken ?? undefined);
    expect(again.consumerId).toBe(consumer.consumerId);
    const sent = await call(t.server.app, 'sendEvent', { token: again.token, params: { conversationId }, body: text('hello?') });
    expect(sent.status).toBe(201);
  });

  it('answers NOT_FOUND, never FORBIDDEN, to a token of another account, and writes nothing there', async () => {
    const { conversationId, agent } = await scene();
    const otherEmail = `other-admin-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const other = await createAccountWithAdmin(t.server.services, { accountName: 'Other brand', adminEmail: otherEmail, adminPassword: 'other-admin-password' });
    const login = await call(t.server.app, 'login', { body: { email: otherEmail, password: 'other-admin-password' } });
    expect(login.status).toBe(200);
    const otherAdmin = login.body.accessToken;
    const otherConsumer = await call(t.server.app, 'consumerSession', { body: { widgetKey: other.widgetKey } });
    expect(otherConsumer.body.accountId).toBe(other.accountId);

    for (const token of [otherAdmin, otherConsumer.body.accessToken]) {
      const read = await call(t.server.app, 'getConversation', { token, params: { conversationId } });
      expect(read.status).toBe(404);
      expect(read.body.error?.code).toBe('NOT_FOUND');
      const events = await call(t.server.app, 'listEvents', { token, params: { conversationId } });
      expect(events.body.error?.code).toBe('NOT_FOUND');
      const write = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token, params: { conversationId }, body: text('from another account') }));
      expect(write.status).toBe(404);
      expect(write.body.error?.code).toBe('NOT_FOUND');
      const receipt = await expectNothingWritten(() => call(t.server.app, 'sendReceipt', { token, params: { conversationId }, body: { status: 'read', sequences: [1] } }));
      expect(receipt.body.error?.code).toBe('NOT_FOUND');
      const close = await expectNothingWritten(() => call(t.server.app, 'closeConversation', { token, params: { conversationId } }));
      expect(close.body.error?.code).toBe('NOT_FOUND');
    }
    const take = await expectNothingWritten(() => call(t.server.app, 'takeConversation', { token: otherAdmin, params: { conversationId } }));
    expect(take.body.error?.code).toBe('NOT_FOUND');
    const all = await call(t.server.app, 'listConversations', { token: otherAdmin, query: { scope: 'all' } });
    expect(all.status).toBe(200);
    expect(all.body.items).toEqual([]);

    // Nor can the other admin touch this account's users.
    const disable = await expectNothingWritten(() => call(t.server.app, 'updateUser', { token: otherAdmin, params: { id: agent.id }, body: { disabled: true } }));
    expect(disable.status).toBe(404);
    const stillEnabled = await t.server.database.db.selectFrom('users').select('disabled').where('id', '=', agent.id).executeTakeFirstOrThrow();
    expect(stillEnabled.disabled).toBe(false);
  });

  it('refuses a role that may not call the endpoint with FORBIDDEN, and creates nothing', async () => {
    const { agent, consumer, admin } = await scene();
    const byAgent = await expectNothingWritten(() =>
      call(t.server.app, 'createUser', { token: agent.token, body: { email: 'sneaky@parley.test', name: 'Sneaky', role: 'admin', password: 'a-long-password' } }),
    );
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error?.code).toBe('FORBIDDEN');

    const byConsumer = await expectNothingWritten(() => call(t.server.app, 'createApiKey', { token: consumer.token, body: { name: 'mine', scopes: ['users:write'] } }));
    expect(byConsumer.status).toBe(403);
    expect(byConsumer.body.error?.code).toBe('FORBIDDEN');

    const agentsList = await call(t.server.app, 'listConversations', { token: agent.token, query: { scope: 'all' } });
    expect(agentsList.status).toBe(403);
    expect(agentsList.body.error?.code).toBe('FORBIDDEN');

    const adminStarts = await expectNothingWritten(() => call(t.server.app, 'startConversation', { token: admin, body: {} }));
    expect(adminStarts.status).toBe(403);
    expect(adminStarts.body.error?.code).toBe('FORBIDDEN');
  });

  it('answers an unknown route with ROUTE_NOT_FOUND', async () => {
    const admin = await a.adminToken();
    const r = await t.server.app.inject({ method: 'GET', url: '/v1/no-such-thing?x=1', headers: { authorization: `Bearer ${admin}` } });
    expect(r.statusCode).toBe(404);
    const body = ErrorBodySchema.parse(r.json());
    expect(body.error.code).toBe('ROUTE_NOT_FOUND');
    expect(body.error.message).toBe('No endpoint GET /v1/no-such-thing');

    const wrongMethod = await t.server.app.inject({ method: 'DELETE', url: '/v1/conversations', headers: { authorization: `Bearer ${admin}` } });
    expect(wrongMethod.statusCode).toBe(404);
    expect(ErrorBodySchema.parse(wrongMethod.json()).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('stores a resent message once and answers duplicate:true with the first acknowledgement', async () => {
    const { consumer, conversationId } = await scene();
    const first = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('where is my parcel?', 'dup-1') });
    expect(first.status).toBe(201);
    expect(first.body.duplicate).toBe(false);
    const again = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('where is my parcel?', 'dup-1') }));
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ ...first.body, duplicate: true });

    const copies = await t.server.database.db
      .selectFrom('conversation_events')
      .select(['seq', 'payload'])
      .where('conversation_id', '=', conversationId)
      .where('client_message_id', '=', 'dup-1')
      .execute();
    expect(copies).toEqual([{ seq: first.body.sequence, payload: { content: { contentType: 'text/plain', message: 'where is my parcel?' } } }]);
    const conversation = await call(t.server.app, 'getConversation', { token: consumer.token, params: { conversationId } });
    expect(conversation.body.lastSequence).toBe(first.body.sequence);
  });

  it('refuses the same clientMessageId with different content with IDEMPOTENCY_KEY_REUSED, keeping the first message', async () => {
    const { consumer, agent, conversationId } = await scene();
    const first = await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('cancel my order', 'reuse-1') });
    expect(first.status).toBe(201);
    const changed = await expectNothingWritten(() => call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('do NOT cancel my order', 'reuse-1') }));
    expect(changed.status).toBe(422);
    expect(changed.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', retryable: false, details: { sequence: first.body.sequence } });

    const events = await call(t.server.app, 'listEvents', { token: agent.token, params: { conversationId }, query: { fromSeq: first.body.sequence } });
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({ clientMessageId: 'reuse-1', content: { contentType: 'text/plain', message: 'cancel my order' } });

    // The id belongs to its sender: the agent may use the same clientMessageId for its own message.
    const agentsOwn = await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Cancelled.', 'reuse-1') });
    expect(agentsOwn.status).toBe(201);
    expect(agentsOwn.body.duplicate).toBe(false);
  });
});
