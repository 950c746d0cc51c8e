import { MessageSearchResultSchema } from '@parley/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import type { Principal } from '../../core/principal.ts';
import { createAccountWithAdmin } from '../accounts/index.ts';
import { MessageSearchService } from './message-search.service.ts';
import { messageVectorSql } from './message-text.ts';

describe(`transcript search (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  let manager: { id: string; token: string };
  let ada: { id: string; token: string };
  let bo: { id: string; token: string };
  let billing: string;
  let support: string;
  /** Conversation ids by name. */
  const c: Record<string, string> = {};

  const app = () => t.server.app;
  const send = async (token: string, conversationId: string, message: string, audience: 'all' | 'agents_and_managers' = 'all') => {
    const r = await call(app(), 'sendEvent', { token, params: { conversationId }, body: { ...text(message), audience } });
    expect(r.status).toBe(201);
  };
  const search = async (token: string, query: Record<string, string | number>) => {
    const r = await call(app(), 'searchMessages', { token, query: query as never });
    return r;
  };
  const found = async (token: string, query: Record<string, string | number>) => {
    const r = await search(token, query);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return MessageSearchResultSchema.parse(r.body).items;
  };

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
    admin = await a.adminToken();
    manager = await a.createUser(admin, 'manager', 'Mia');
    ada = await a.createUser(admin, 'agent', 'Ada');
    bo = await a.createUser(admin, 'agent', 'Bo');
    billing = (await call(app(), 'createSkill', { token: admin, body: { name: 'Billing' } })).body.id;
    support = (await call(app(), 'createSkill', { token: admin, body: { name: 'Support' } })).body.id;

    const start = async (name: string, body: Record<string, unknown>, firstMessage: string) => {
      const consumer = await a.consumer();
      const r = await call(app(), 'startConversation', { token: consumer.token, body });
      expect(r.status).toBe(200);
      c[name] = r.body.conversation.id;
      await send(consumer.token, r.body.conversation.id, firstMessage);
      return consumer.token;
    };
    // Ada holds the parcel conversation (web, desktop, billing) and writes an internal note in it.
    await start('parcel', { skillId: billing, device: 'desktop_web' }, 'Where is my parcel? The tracking says delivered.');
    expect((await call(app(), 'takeConversation', { token: ada.token, params: { conversationId: c.parcel as string } })).status).toBe(200);
    await send(ada.token, c.parcel as string, 'Sorry about the parcel, I am checking with the courier.');
    await send(ada.token, c.parcel as string, 'Courier confirms a lost parcel; refund approved.', 'agents_and_managers');
    // Bo holds the invoice conversation (in-app, support) and closes it.
    const invoiceConsumer = await start('invoice', { channel: 'in_app', skillId: support }, 'My invoice shows the wrong parcels count.');
    expect((await call(app(), 'takeConversation', { token: bo.token, params: { conversationId: c.invoice as string } })).status).toBe(200);
    await send(bo.token, c.invoice as string, 'Invoices are regenerated overnight.');
    expect((await call(app(), 'closeConversation', { token: invoiceConsumer, params: { conversationId: c.invoice as string } })).status).toBe(200);
    // Nobody holds the waiting one yet.
    await start('waiting', { skillId: support, device: 'mobile_web' }, 'Hello, a question about my parcel and my invoice.');
  });
  afterAll(() => t.close());

  it('finds a word across conversations, newest first, with the match marked in the snippet', async () => {
    const items = await found(manager.token, { q: 'parcel' });
    expect(items.map((i) => i.conversationId)).toEqual([c.waiting, c.parcel, c.parcel, c.parcel]);
    const times = items.map((i) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const first = items.at(-1);
    expect(first).toMatchObject({ sequence: expect.any(Number), originator: { role: 'consumer' }, internal: false, conversation: { channel: 'web', device: 'desktop_web', state: 'open' } });
    expect(first?.snippet).toContain('<mark>parcel</mark>');
    const reply = items.find((i) => i.originator.role === 'assigned_agent' && !i.internal);
    expect(reply?.originator.name).toBe('Ada');
  });

  it('matches exact words only: no stemming, any case, phrases and exclusions', async () => {
    // "parcels" (in the invoice conversation) is another word than "parcel".
    expect((await found(manager.token, { q: 'parcels' })).map((i) => i.conversationId)).toEqual([c.invoice]);
    expect((await found(manager.token, { q: 'PARCEL' })).length).toBe(4);
    expect((await found(manager.token, { q: 'invoices' })).map((i) => i.conversationId)).toEqual([c.invoice]);
    expect((await found(manager.token, { q: 'parcel invoice' })).map((i) => i.conversationId)).toEqual([c.waiting]);
    expect((await found(manager.token, { q: '"lost parcel"' })).map((i) => i.internal)).toEqual([true]);
    expect((await found(manager.token, { q: 'parcel -courier' })).map((i) => i.conversationId)).toEqual([c.waiting, c.parcel]);
    expect(await found(manager.token, { q: 'nowhere' })).toEqual([]);
  });

  it('shows internal notes to supervisors, flagged', async () => {
    const [note] = await found(admin, { q: 'refund' });
    expect(note).toMatchObject({ conversationId: c.parcel, internal: true, originator: { name: 'Ada' } });
  });

  it('filters by skill, agent, channel, device and period', async () => {
    const ids = async (query: Record<string, string>) => [...new Set((await found(manager.token, { q: 'parcel or invoice or invoices', ...query })).map((i) => i.conversationId))];
    expect(await ids({ skillId: billing })).toEqual([c.parcel]);
    expect(await ids({ skillId: support })).toEqual([c.waiting, c.invoice]);
    expect(await ids({ agentId: bo.id })).toEqual([c.invoice]);
    expect(await ids({ channel: 'in_app' })).toEqual([c.invoice]);
    expect(await ids({ device: 'mobile_web' })).toEqual([c.waiting]);
    expect(await ids({ from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await ids({ to: new Date(Date.now() - 3_600_000).toISOString() })).toEqual([]);
    expect((await ids({ from: new Date(Date.now() - 3_600_000).toISOString() })).length).toBe(3);
  });

  it('pages newest first with a cursor, nothing skipped or repeated', async () => {
    const all = await found(manager.token, { q: 'parcel' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await search(manager.token, { q: 'parcel', limit: 1, ...(cursor ? { cursor } : {}) });
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((i) => i.eventId));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((i) => i.eventId));
  });

  it('gives the same pages whichever way it finds them: among the newest events, from the index matches, or newest first', async () => {
    // The newest `recentEvents` events answer when they fill the page; otherwise a term with at most `rareMatches`
    // matching events is paged from the index's matches, and a commoner one newest first over the account. Each service
    // here is held to one way, or (`switching`) changes way as the cursor moves past the matches.
    const db = t.server.database.db;
    const paths = {
      recent: new MessageSearchService(db, { recentEvents: 1_000, rareMatches: 0 }),
      index: new MessageSearchService(db, { recentEvents: 0, rareMatches: 1_000 }),
      walk: new MessageSearchService(db, { recentEvents: 0, rareMatches: 0 }),
      switching: new MessageSearchService(db, { recentEvents: 3, rareMatches: 2 }),
    };
    const accountId = t.accountId;
    const asManager: Principal = { kind: 'user', userId: manager.id, accountId, role: 'manager', name: 'Mia' };
    const asBo: Principal = { kind: 'user', userId: bo.id, accountId, role: 'agent', name: 'Bo' };
    const pages = async (service: MessageSearchService, principal: Principal, query: { q: string; skillId?: string; device?: 'mobile_web' }) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const r = await service.search(principal, { ...query, limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...r.items.map((i) => i.eventId));
        cursor = r.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    };
    const cases: [Principal, { q: string; skillId?: string; device?: 'mobile_web' }][] = [
      [asManager, { q: 'parcel' }],
      [asManager, { q: 'parcel or invoice or invoices', skillId: support }],
      [asManager, { q: 'invoice', device: 'mobile_web' }],
      [asManager, { q: 'nowhere' }],
      [asBo, { q: 'parcel' }],
      [asBo, { q: 'refund' }],
    ];
    for (const [principal, query] of cases) {
      const expected = (await found(principal === asBo ? bo.token : manager.token, query)).map((i) => i.eventId);
      for (const [name, service] of Object.entries(paths)) expect(await pages(service, principal, query), `${name} ${JSON.stringify(query)}`).toEqual(expected);
    }
    expect((await found(manager.token, { q: 'parcel' })).length).toBe(4);
  });

  it('lets agents find only the conversations they may open: theirs and the unassigned queue', async () => {
    expect((await found(ada.token, { q: 'parcel' })).map((i) => i.conversationId)).toEqual([c.waiting, c.parcel, c.parcel, c.parcel]);
    // Bo does not hold the parcel conversation, so neither its messages nor its note.
    expect((await found(bo.token, { q: 'parcel' })).map((i) => i.conversationId)).toEqual([c.waiting]);
    expect(await found(bo.token, { q: 'refund' })).toEqual([]);
    // Bo held the invoice conversation when it was closed: still his.
    expect((await found(bo.token, { q: 'parcels' })).map((i) => i.conversationId)).toEqual([c.invoice]);
    expect(await found(ada.token, { q: 'parcels' })).toEqual([]);
  });

  it('lets API keys with conversations:read search, and refuses other keys', async () => {
    const reader = await call(app(), 'createApiKey', { token: admin, body: { name: 'reader', scopes: ['conversations:read'] } });
    const other = await call(app(), 'createApiKey', { token: admin, body: { name: 'other', scopes: ['users:read'] } });
    expect((await found(reader.body.secret, { q: 'refund' })).length).toBe(1);
    const refused = await search(other.body.secret, { q: 'refund' });
    expect(refused.status).toBe(403);
  });

  it("never returns another account's messages", async () => {
    const adminEmail = `b-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const b = await createAccountWithAdmin(t.server.services, { accountName: 'Brand B', adminEmail, adminPassword: 'brand-b-admin-password' });
    const adminB = (await call(app(), 'login', { body: { email: adminEmail, password: 'brand-b-admin-password' } })).body.accessToken;
    const consumerB = (await call(app(), 'consumerSession', { body: { widgetKey: b.widgetKey } })).body.accessToken;
    const conversationB = (await call(app(), 'startConversation', { token: consumerB, body: {} })).body.conversation.id;
    await send(consumerB, conversationB, 'My parcel from brand B never came, refund please.');

    expect((await found(adminB, { q: 'parcel' })).map((i) => i.conversationId)).toEqual([conversationB]);
    expect((await found(admin, { q: 'parcel' })).map((i) => i.conversationId)).not.toContain(conversationB);
    expect((await found(admin, { q: 'refund' })).map((i) => i.conversationId)).toEqual([c.parcel]);
  });

  it('answers 400 for a bad query or cursor', async () => {
    const bad: Record<string, string>[] = [
      { q: '' },
      { q: '   ' },
      { q: '- ! :' },
      { q: 'x'.repeat(201) },
      { q: 'parcel', cursor: 'nonsense' },
      { q: 'parcel', channel: 'fax' },
      { q: 'parcel', from: 'yesterday' },
    ];
    for (const query of bad) {
      const r = await search(manager.token, query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses consumers', async () => {
    const consumer = await a.consumer();
    expect((await search(consumer.token, { q: 'parcel' })).status).toBe(403);
  });

  it('uses the expression index (the query repeats its expression exactly)', async () => {
    const vector = sql.raw(messageVectorSql('e.payload'));
    const plan = await t.server.database.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<
        Record<string, string>
      >`explain select e.id from conversation_events e where e.type in ('content', 'rich_content') and ${vector} @@ websearch_to_tsquery('simple'::regconfig, 'parcel')`.execute(trx);
    });
    expect(plan.rows.map((r) => Object.values(r).join(' ')).join('\n')).toContain('conversation_events_message_search');
  });
});
