import { MessageSearchResultSchema } from '@parley/protocol';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { MESSAGE_SEARCH_INDEX } from './message-text.ts';

describe(`search index upkeep (${storageMode})`, () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** A consumer's conversation with `count` messages about parcels; returns an admin's token. */
  async function converse(server: TestServer, count: number): Promise<string> {
    const a = actors(server);
    const admin = await a.adminToken();
    const consumer = await a.consumer();
    const started = await call(server.server.app, 'startConversation', { token: consumer.token, body: {} });
    expect(started.status).toBe(200);
    for (let i = 0; i < count; i++) {
      const sent = await call(server.server.app, 'sendEvent', {
        token: consumer.token,
        params: { conversationId: started.body.conversation.id },
        body: text(`Message ${i} about parcel number ${1000 + i}, still not delivered`),
      });
      expect(sent.status).toBe(201);
    }
    return admin;
  }

  async function searchCount(server: TestServer, token: string, q: string): Promise<number> {
    const r = await call(server.server.app, 'searchMessages', { token, query: { q, limit: 100 } as never });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return MessageSearchResultSchema.parse(r.body).items.length;
  }

  it("moves new messages' words from the pending list into the index, and search finds them before and after", async () => {
    t = await startTestServer();
    const admin = await converse(t, 30);
    expect(await searchCount(t, admin, 'parcel')).toBe(30); // read from the pending list
    const upkeep = t.server.services.searchIndexUpkeep;
    expect(await upkeep.movePending()).toBeGreaterThan(0);
    expect(await upkeep.movePending()).toBe(0); // nothing left pending
    expect(await searchCount(t, admin, 'parcel')).toBe(30); // read from the index proper
    expect(await searchCount(t, admin, '1017')).toBe(1);
    const moved = await t.server.metrics.searchIndexPendingPages.get();
    expect(moved.values[0]?.value).toBeGreaterThan(0);
  });

  it('runs by itself on every node at the configured interval', async () => {
    t = await startTestServer({ env: { SEARCH_INDEX_UPKEEP_INTERVAL_MS: '50' } });
    await converse(t, 10);
    const metric = t.server.metrics.searchIndexPendingPages;
    const deadline = Date.now() + 10_000;
    while (((await metric.get()).values[0]?.value ?? 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect((await metric.get()).values[0]?.value).toBeGreaterThan(0);
  });

  it('lets the pending list grow to 16 MB, so that inserts leave the move to the upkeep', async () => {
    t = await startTestServer();
    const result = await sql<{ reloptions: string[] | null }>`select reloptions from pg_class where relname = ${MESSAGE_SEARCH_INDEX}`.execute(t.server.database.db);
    expect(result.rows[0]?.reloptions).toContain('gin_pending_list_limit=16384');
  });

  it("leaves the index's words out of the events' statistics, the costly part of analysing them", async () => {
    t = await startTestServer();
    await converse(t, 30);
    const { db } = t.server.database;
    await sql`analyze conversation_events`.execute(db);
    const statistics = async (of: string) => Number((await sql<{ n: string | number }>`select count(*) as n from pg_stats where tablename = ${of}`.execute(db)).rows[0]?.n);
    expect(await statistics('conversation_events')).toBeGreaterThan(0);
    expect(await statistics(MESSAGE_SEARCH_INDEX)).toBe(0);
  });

  // Embedded storage has one connection: there is no other node to meet.
  it.skipIf(storageMode === 'embedded')('skips its turn while another node is moving the list, rather than waiting for it', async () => {
    t = await startTestServer();
    await converse(t, 3);
    const { db } = t.server.database;
    const upkeep = t.server.services.searchIndexUpkeep;
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('parley:search:index-upkeep'))`.execute(trx);
      expect(await upkeep.movePending()).toBeNull();
    });
    expect(await upkeep.movePending()).toBeGreaterThan(0);
  });
});
