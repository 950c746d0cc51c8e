import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageMode } from '../packages/server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../packages/server/src/test/test-server.ts';
import { runExample } from './consumer-agent.ts';

describe(`the consumer-agent example (${storageMode})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: true });
  });
  afterAll(() => t.close());

  it('delivers the three messages sent while the consumer was away exactly once, in order, after it reconnects', async () => {
    const lines: string[] = [];
    const { receivedAfterReconnect } = await runExample({ baseUrl: t.baseUrl, widgetKey: t.widgetKey, email: t.adminEmail, password: ADMIN_PASSWORD, log: (l) => lines.push(l) });
    expect(receivedAfterReconnect.map((m) => m.text)).toEqual(['It shipped yesterday.', 'Tracking: 1Z999AA10123456784.', 'Anything else I can help with?']);
    const sequences = receivedAfterReconnect.map((m) => m.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(lines.at(-1)).toBe('consumer received exactly the three messages, in order, once');
  });
});
