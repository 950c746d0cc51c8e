import { randomUUID } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { ManualClock, startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';
import { until } from '../../test/until.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe(`CSAT and conversions (${storageMode})`, () => {
  let t: TestServer;
  const clock = new ManualClock(new Date());
  const sockets: WsTestClient[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true, clock });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await t.close();
  });

  const app = () => t.server.app;

  /** A fresh account: its admin, a skill, Ann (agent, online on it), and consumers of its widget. */
  async function scene() {
    const email = `boss-${randomUUID().slice(0, 8)}@acme.test`;
    const account = await createAccountWithAdmin(t.server.services, { accountName: `Acme ${randomUUID().slice(0, 6)}`, adminEmail: email, adminPassword: 'a-long-password' });
    const login = async (address: string) => (await call(app(), 'login', { body: { email: address, password: 'a-long-password' } })).body.accessToken;
    let admin = await login(email);
    const skill = (await call(app(), 'createSkill', { token: admin, body: { name: 'Sales' } })).body.id;
    const agentEmail = `ann-${randomUUID().slice(0, 8)}@acme.test`;
    const user = await call(app(), 'createUser', { token: admin, body: { email: agentEmail, name: 'Ann', role: 'agent', password: 'a-long-password' } });
    await call(app(), 'updateAgentRouting', { token: admin, params: { userId: user.body.id }, body: { skillIds: [skill], maxConversations: 10 } });
    const agent = { id: user.body.id as string, token: await login(agentEmail) };
    const ws = await WsTestClient.connect(t.baseUrl);
    sockets.push(ws);
    expect((await ws.request({ type: 'auth', token: agent.token })).ok).toBe(true);
    await call(app(), 'setMyState', { token: agent.token, body: { state: 'online' } });

    const consumer = async (deviceToken?: string) => {
      const r = await call(app(), 'consumerSession', { body: { widgetKey: account.widgetKey, ...(deviceToken ? { deviceToken } : {}) } });
      expect(r.status).toBe(200);
      return { id: r.body.consumerId as string, token: r.body.accessToken as string, deviceToken: r.body.deviceToken as string };
    };
    /** A conversation of the consumer that routing gave to Ann and that she answered. */
    const answeredConversation = async (consumerToken: string) => {
      const started = await call(app(), 'startConversation', { token: consumerToken, body: { skillId: skill } });
      const conversationId = started.body.conversation.id as string;
      await call(app(), 'sendEvent', { token: consumerToken, params: { conversationId }, body: text('Do you have it in blue?') });
      await until(
        async () => (await call(app(), 'getConversation', { token: admin, params: { conversationId } })).body.assignedAgentId,
        (id) => id === agent.id,
        'routing to Ann',
      );
      expect((await call(app(), 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Yes, in every size.') })).status).toBe(201);
      return conversationId;
    };
    const close = async (conversationId: string) => expect((await call(app(), 'closeConversation', { token: agent.token, params: { conversationId } })).status).toBe(200);
    const apiKey = async (scopes: string[]) => (await call(app(), 'createApiKey', { token: admin, body: { name: `key ${randomUUID().slice(0, 4)}`, scopes } })).body.secret as string;
    return {
      account,
      get admin() {
        return admin;
      },
      skill,
      agent,
      consumer,
      answeredConversation,
      close,
      apiKey,
      /** New tokens for the admin and Ann once a test moved the clock past their lifetime. */
      async signInAgain() {
        admin = await login(email);
        agent.token = await login(agentEmail);
      },
    };
  }

  describe('the CSAT survey', () => {
    it("is asked when a conversation Ann held closes, and stores the consumer's 4 and comment with agent, skill and channel", async () => {
      const s = await scene();
      const ada = await s.consumer();
      const conversationId = await s.answeredConversation(ada.token);
      expect((await call(app(), 'getCsat', { token: ada.token, params: { conversationId } })).body.status).toBe('none');
      await s.close(conversationId);

      const pending = await call(app(), 'getCsat', { token: ada.token, params: { conversationId } });
      expect(pending.status).toBe(200);
      expect(pending.body).toMatchObject({ conversationId, status: 'pending', response: null });
      expect(new Date(pending.body.expiresAt ?? '').getTime() - new Date(pending.body.askedAt ?? '').getTime()).toBe(24 * HOUR);

      const answered = await call(app(), 'submitCsat', { token: ada.token, params: { conversationId }, body: { score: 4, comment: '  Quick and friendly  ' } });
      expect(answered.status).toBe(201);
      expect(answered.body).toMatchObject({
        status: 'answered',
        response: { conversationId, consumerId: ada.id, score: 4, comment: 'Quick and friendly', agentId: s.agent.id, skillId: s.skill, channel: 'web' },
      });

      const list = await call(app(), 'listCsat', { token: s.admin, query: {} });
      expect(list.status).toBe(200);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toMatchObject({ conversationId, score: 4, agentId: s.agent.id, skillId: s.skill });
      expect(list.body.summary).toEqual({ surveys: 1, responses: 1, responseRate: 1, averageScore: 4, csatScore: 1 });
      // Agents do not read the account's responses.
      expect((await call(app(), 'listCsat', { token: s.agent.token, query: {} })).status).toBe(403);
    });

    it('is answered once, by its consumer only, with a score from 1 to 5', async () => {
      const s = await scene();
      const ada = await s.consumer();
      const bob = await s.consumer();
      const conversationId = await s.answeredConversation(ada.token);
      await s.close(conversationId);

      const byBob = await call(app(), 'submitCsat', { token: bob.token, params: { conversationId }, body: { score: 5 } });
      expect(byBob.status).toBe(404);
      expect(byBob.body.error?.code).toBe('NOT_FOUND');
      expect((await call(app(), 'submitCsat', { token: s.agent.token, params: { conversationId }, body: { score: 5 } })).status).toBe(403);
      for (const body of [{ score: 0 }, { score: 6 }, { score: 4.5 }, { score: '5' }, {}, { score: 3, comment: 'x'.repeat(1001) }]) {
        const r = await call(app(), 'submitCsat', { token: ada.token, params: { conversationId }, body });
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error?.code).toBe('VALIDATION_FAILED');
      }
      expect((await call(app(), 'submitCsat', { token: ada.token, params: { conversationId }, body: { score: 2 } })).status).toBe(201);
      const again = await call(app(), 'submitCsat', { token: ada.token, params: { conversationId }, body: { score: 5 } });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'already_answered' } });
      expect((await call(app(), 'getCsat', { token: ada.token, params: { conversationId } })).body.response?.score).toBe(2);
    });

    it('is refused while the conversation is open, and once its window has passed', async () => {
      const s = await scene();
      expect((await call(app(), 'updateEngagementSettings', { token: s.admin, body: { csatWindowHours: 1 } })).body).toMatchObject({ csatEnabled: true, csatWindowHours: 1 });
      const ada = await s.consumer();
      const conversationId = await s.answeredConversation(ada.token);
      const early = await call(app(), 'submitCsat', { token: ada.token, params: { conversationId }, body: { score: 5 } });
      expect(early.status).toBe(409);
      expect(early.body.error?.details?.reason).toBe('not_asked');
      await s.close(conversationId);

      clock.advance(HOUR + 1000);
      await s.signInAgain();
      const later = await s.consumer(ada.deviceToken);
      expect(later.id).toBe(ada.id);
      const late = await call(app(), 'submitCsat', { token: later.token, params: { conversationId }, body: { score: 5 } });
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'expired' } });
      expect((await call(app(), 'getCsat', { token: later.token, params: { conversationId } })).body.status).toBe('expired');
      // Asked and not answered: the response rate counts it.
      const admin = (await call(app(), 'listCsat', { token: s.admin, query: { from: new Date(clock.now().getTime() - DAY).toISOString(), to: clock.now().toISOString() } })).body;
      expect(admin.summary).toMatchObject({ surveys: 1, responses: 0, responseRate: 0 });
    });

    it('is not asked when the account turned it off, nor for a conversation nobody held', async () => {
      const s = await scene();
      const ada = await s.consumer();
      const unanswered = (await call(app(), 'startConversation', { token: ada.token, body: {} })).body.conversation.id as string;
      await call(app(), 'closeConversation', { token: ada.token, params: { conversationId: unanswered } });
      expect((await call(app(), 'getCsat', { token: ada.token, params: { conversationId: unanswered } })).body.status).toBe('none');

      expect((await call(app(), 'updateEngagementSettings', { token: s.agent.token, body: { csatEnabled: false } })).status).toBe(403);
      expect((await call(app(), 'updateEngagementSettings', { token: s.admin, body: { csatEnabled: false } })).body.csatEnabled).toBe(false);
      const bob = await s.consumer();
      const conversationId = await s.answeredConversation(bob.token);
      await s.close(conversationId);
      expect((await call(app(), 'getCsat', { token: bob.token, params: { conversationId } })).body.status).toBe('none');
      expect((await call(app(), 'submitCsat', { token: bob.token, params: { conversationId }, body: { score: 5 } })).body.error?.details?.reason).toBe('not_asked');
    });
  });

  describe('conversions', () => {
    it("are attributed to the consumer's recent answered conversation, with its agent and skill", async () => {
      const s = await scene();
      const ada = await s.consumer();
      const conversationId = await s.answeredConversation(ada.token);
      const bought = await call(app(), 'reportConversion', { token: ada.token, body: { type: 'purchase', value: 129.9, currency: 'EUR', externalId: 'order-1001' } });
      expect(bought.status).toBe(201);
      expect(bought.body).toMatchObject({
        consumerId: ada.id,
        type: 'purchase',
        value: 129.9,
        currency: 'EUR',
        externalId: 'order-1001',
        attribution: { conversationId, agentId: s.agent.id, skillId: s.skill },
      });
      // After the close too, within the window (7 days by default).
      const key = await s.apiKey(['conversions:write']);
      await s.close(conversationId);
      clock.advance(6 * DAY);
      const lead = await call(app(), 'reportConversion', { token: key, body: { type: 'lead', consumerId: ada.id } });
      expect(lead.status).toBe(201);
      expect(lead.body).toMatchObject({ value: 0, currency: null, attribution: { conversationId } });
    });

    it('give the report its conversion rate and the average order value with and without a conversation', async () => {
      const s = await scene();
      const key = await s.apiKey(['conversions:write']);
      const from = new Date(clock.now().getTime() - 60_000).toISOString();
      const ada = await s.consumer();
      const bob = await s.consumer();
      await s.answeredConversation(ada.token);
      await call(app(), 'startConversation', { token: bob.token, body: {} });
      clock.advance(1_000);
      // Ada buys twice after talking to Ann (100 + 50); Carl, who never wrote, buys once (30).
      for (const [value, id] of [
        [100, 'o-1'],
        [50, 'o-2'],
      ] as const)
        expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value, currency: 'EUR', externalId: id, consumerId: ada.id } })).status).toBe(201);
      const carl = await s.consumer();
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: 30, currency: 'EUR', externalId: 'o-3', consumerId: carl.id } })).status).toBe(201);
      await s.signInAgain();
      const to = new Date(clock.now().getTime() + 60_000).toISOString();
      const report = await call(app(), 'getAnalyticsReport', { token: s.admin, query: { from, to, timeZone: 'UTC', interval: 'day' } });
      expect(report.status, JSON.stringify(report.body)).toBe(200);
      const conversions = report.body.conversions;
      expect(conversions).toMatchObject({ count: 3, convertedConversations: 1 });
      expect(conversions.revenue).toHaveLength(1);
      const eur = conversions.revenue[0];
      expect(eur).toMatchObject({ currency: 'EUR', count: 3, influencedCount: 2 });
      expect([eur?.value, eur?.influencedValue, eur?.averageOrderValueWithConversation, eur?.averageOrderValueWithoutConversation].map(Number)).toEqual([180, 150, 75, 30]);
      // Two conversations started (Ada's and Bob's); one led to a purchase.
      expect(report.body.conversions.conversionRate).toBe(0.5);
    });

    it('are not attributed to a conversation closed before the window, nor to one nobody answered', async () => {
      const s = await scene();
      const key = await s.apiKey(['conversions:write']);
      const ada = await s.consumer();
      const conversationId = await s.answeredConversation(ada.token);
      await s.close(conversationId);
      clock.advance(8 * DAY);
      const late = await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: 20, currency: 'USD', consumerId: ada.id } });
      expect(late.status).toBe(201);
      expect(late.body.attribution).toBeNull();
      // Dated back by the brand's server to when the conversation was recent: attributed.
      const dated = await call(app(), 'reportConversion', {
        token: key,
        body: { type: 'purchase', value: 20, currency: 'USD', consumerId: ada.id, occurredAt: new Date(clock.now().getTime() - 7 * DAY).toISOString() },
      });
      expect(dated.status, JSON.stringify(dated.body)).toBe(201);
      expect(dated.body.attribution?.conversationId).toBe(conversationId);
      // A wider window (30 days) reaches it too.
      await s.signInAgain();
      await call(app(), 'updateEngagementSettings', { token: s.admin, body: { attributionWindowDays: 30 } });
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'signup', consumerId: ada.id } })).body.attribution?.conversationId).toBe(conversationId);

      const fresh = await s.consumer(ada.deviceToken);
      const bob = await s.consumer();
      await call(app(), 'startConversation', { token: bob.token, body: {} });
      expect((await call(app(), 'reportConversion', { token: bob.token, body: { type: 'signup' } })).body.attribution).toBeNull();
      expect(fresh.id).toBe(ada.id);
    });

    it('are idempotent on externalId: the same report gives the same conversion, another one is refused', async () => {
      const s = await scene();
      const key = await s.apiKey(['conversions:write']);
      const ada = await s.consumer();
      const body = { type: 'purchase', value: 59, currency: 'EUR', externalId: 'order-77', consumerId: ada.id };
      const first = await call(app(), 'reportConversion', { token: key, body });
      expect(first.status).toBe(201);
      const again = await call(app(), 'reportConversion', { token: key, body });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      // The widget reporting the same order (same values) gets it too.
      expect((await call(app(), 'reportConversion', { token: ada.token, body: { type: 'purchase', value: 59, currency: 'EUR', externalId: 'order-77' } })).body.id).toBe(first.body.id);
      const changed = await call(app(), 'reportConversion', { token: key, body: { ...body, value: 60 } });
      expect(changed.status).toBe(422);
      expect(changed.body.error?.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const list = await call(app(), 'listConversions', { token: s.admin, query: {} });
      expect(list.body.items.map((c) => c.externalId)).toEqual(['order-77']);
    });

    it('need the conversions:write scope, and name a consumer of the account', async () => {
      const s = await scene();
      const ada = await s.consumer();
      const reader = await s.apiKey(['conversations:read']);
      const denied = await call(app(), 'reportConversion', { token: reader, body: { type: 'purchase', consumerId: ada.id } });
      expect(denied.status).toBe(403);
      expect(denied.body.error?.details?.requiredScopes).toEqual(['conversions:write']);
      const key = await s.apiKey(['conversions:write']);
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase' } })).status).toBe(400);
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', consumerId: randomUUID() } })).status).toBe(404);
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: 10, consumerId: ada.id } })).status).toBe(400); // no currency
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: -1, currency: 'EUR', consumerId: ada.id } })).status).toBe(400);
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: 1, currency: 'euro', consumerId: ada.id } })).status).toBe(400);
      // Another account's consumer is unknown here.
      const other = await scene();
      const stranger = await other.consumer();
      expect((await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', consumerId: stranger.id } })).status).toBe(404);
      // Reading needs conversions:read.
      expect((await call(app(), 'listConversions', { token: key, query: {} })).status).toBe(403);
      expect((await call(app(), 'listConversions', { token: await s.apiKey(['conversions:read']), query: {} })).status).toBe(200);
    });

    it("name an authenticated consumer by the brand's id", async () => {
      const s = await scene();
      const keys = await generateKeyPair('ES256');
      const issuer = 'https://brand.example';
      expect((await call(app(), 'updateAccount', { token: s.admin, body: { consumerAuth: { issuer, publicKeyPem: await exportSPKI(keys.publicKey) } } })).status).toBe(200);
      const now = Math.floor(clock.now().getTime() / 1000);
      const brandToken = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('customer-42')
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(keys.privateKey);
      const session = await call(app(), 'consumerSession', { body: { widgetKey: s.account.widgetKey, brandToken } });
      expect(session.status).toBe(200);
      const conversationId = await s.answeredConversation(session.body.accessToken);
      const key = await s.apiKey(['conversions:write']);
      const r = await call(app(), 'reportConversion', { token: key, body: { type: 'purchase', value: 42, currency: 'GBP', consumerExternalId: 'customer-42' } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ consumerId: session.body.consumerId, attribution: { conversationId } });
    });

    it('are reported by a consumer only for themselves', async () => {
      const s = await scene();
      const ada = await s.consumer();
      const bob = await s.consumer();
      const forBob = await call(app(), 'reportConversion', { token: ada.token, body: { type: 'purchase', consumerId: bob.id } });
      expect(forBob.status).toBe(403);
      expect((await call(app(), 'reportConversion', { token: ada.token, body: { type: 'purchase', consumerExternalId: 'someone' } })).status).toBe(403);
      const own = await call(app(), 'reportConversion', { token: ada.token, body: { type: 'purchase', consumerId: ada.id, occurredAt: '2020-01-01T00:00:00Z' } });
      expect(own.status).toBe(201);
      // The widget's conversions happen now, whatever the page says.
      expect(Math.abs(new Date(own.body.occurredAt).getTime() - clock.now().getTime())).toBeLessThan(1000);
      expect((await call(app(), 'listConversions', { token: ada.token, query: {} })).status).toBe(403);
    });
  });
});
