import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createConsumer } from './consumer.ts';
import { FakeServer } from './testing/fake-server.ts';
import { consumerSession, conversationSummary } from './testing/fixtures.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DEVICE_TOKEN = 'device-token-0123456789';

async function setup() {
  const server = await FakeServer.start();
  cleanups.push(() => server.close());
  const conversation = conversationSummary();
  const sessionTokens = ['token-1', 'token-2'];
  server.tokens.add('token-2');
  server.rest.consumerSession = () => ({ status: 200, body: consumerSession(sessionTokens.shift() ?? 'token-x', DEVICE_TOKEN) });
  server.rest.startConversation = () => ({ status: 200, body: { conversation, created: true } });
  return { server, conversation };
}

describe('createConsumer', () => {
  it('gets a session with the widget key, continues the conversation and connects with the session token', async () => {
    const { server, conversation } = await setup();
    const stored: string[] = [];
    const consumer = await createConsumer({
      baseUrl: server.baseUrl,
      widgetKey: 'widget-key-1',
      WebSocket,
      onDeviceToken: (token) => stored.push(token),
      conversation: { channel: 'in_app' },
    });
    cleanups.push(() => consumer.close());
    expect(consumer.conversation).toEqual(conversation);
    expect(consumer.created).toBe(true);
    expect(consumer.deviceToken).toBe(DEVICE_TOKEN);
    expect(stored).toEqual([DEVICE_TOKEN]);
    const [session, start] = server.restCalls;
    expect(session).toMatchObject({ name: 'consumerSession', body: { widgetKey: 'widget-key-1' } });
    expect(start).toMatchObject({ name: 'startConversation', body: { channel: 'in_app' } });
    expect(start?.headers.authorization).toBe('Bearer token-1');
    await consumer.realtime.subscribe(consumer.conversation.id);
    expect(server.last?.token).toBe('token-1');
  });

  it('presents a stored device token to keep the same identity', async () => {
    const { server } = await setup();
    const consumer = await createConsumer({ baseUrl: server.baseUrl, widgetKey: 'widget-key-1', deviceToken: DEVICE_TOKEN, WebSocket });
    cleanups.push(() => consumer.close());
    expect(server.restCalls[0]?.body).toEqual({ widgetKey: 'widget-key-1', deviceToken: DEVICE_TOKEN });
  });

  it('renews an expired session with the stored device token when the socket is closed with 4402', async () => {
    const { server } = await setup();
    const consumer = await createConsumer({
      baseUrl: server.baseUrl,
      widgetKey: 'widget-key-1',
      WebSocket,
      realtime: { reconnect: { initialDelayMs: 5, jitter: 0 } },
    });
    cleanups.push(() => consumer.close());
    await consumer.realtime.subscribe(consumer.conversation.id);
    server.drop(4402);
    await waitFor(() => server.connections[1]?.token === 'token-2' && consumer.realtime.state === 'open');
    const sessions = server.restCalls.filter((call) => call.name === 'consumerSession');
    expect(sessions.map((call) => call.body)).toEqual([{ widgetKey: 'widget-key-1' }, { widgetKey: 'widget-key-1', deviceToken: DEVICE_TOKEN }]);
  });
});
