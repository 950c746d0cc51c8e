import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';

describe(`live view figures (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await actors(t).adminToken();
  });
  afterAll(() => t.close());

  it('gives each skill its average wait and messages per minute, and the account its messages per minute', async () => {
    const a = actors(t);
    const app = t.server.app;
    const sales = (await call(app, 'createSkill', { token: admin, body: { name: 'Sales' } })).body.id;
    const quiet = (await call(app, 'createSkill', { token: admin, body: { name: 'Quiet' } })).body.id;
    for (const words of [['Hello', 'Anyone there?'], ['Hi']]) {
      const consumer = await a.consumer();
      const conversationId = (await call(app, 'startConversation', { token: consumer.token, body: { skillId: sales } })).body.conversation.id;
      for (const word of words) expect((await call(app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text(word) })).status).toBe(201);
    }

    const live = await call(app, 'getLiveView', { token: admin });
    expect(live.status).toBe(200);
    // Three messages in the 5-minute window.
    expect(live.body.messagesPerMinute).toBe(0.6);
    const skill = live.body.skills.find((s) => s.skillId === sales);
    expect(skill).toMatchObject({ queued: 2, messagesPerMinute: 0.6 });
    expect(skill?.averageWaitSeconds).toBeGreaterThanOrEqual(0);
    expect(skill?.averageWaitSeconds).toBeLessThanOrEqual(skill?.longestWaitSeconds ?? 0);
    expect(live.body.skills.find((s) => s.skillId === quiet)).toMatchObject({ queued: 0, averageWaitSeconds: null, messagesPerMinute: 0 });
  });
});
