import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call, text } from '../../../test/rest-client.ts';
import { storageMode } from '../../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../../test/test-server.ts';

describe(`operations endpoints (${storageMode})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('reports alive and ready while the database answers', async () => {
    expect((await t.server.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await t.server.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { server: 'ok', database: 'ok' } });
  });

  it('exposes Prometheus metrics that count stored events and requests', async () => {
    const a = actors(t);
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('count me') });
    const metrics = await t.server.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/parley_conversation_events_stored_total\{type="content"\} [1-9]/);
    expect(metrics.body).toMatch(/parley_http_request_duration_seconds_count\{method="POST",route="\/v1\/conversations\/:conversationId\/events",status="201"\} [1-9]/);
    expect(metrics.body).toContain('parley_process_resident_memory_bytes');
    // The group commit that stored the send: its size, its oldest send's wait and its duration.
    expect(metrics.body).toMatch(/parley_send_batch_messages_bucket\{le="1"\} [1-9]/);
    expect(metrics.body).toMatch(/parley_send_batch_wait_seconds_count [1-9]/);
    expect(metrics.body).toMatch(/parley_send_batch_seconds_count [1-9]/);
  });
});
