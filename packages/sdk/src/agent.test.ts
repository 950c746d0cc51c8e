import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAgent } from './agent.ts';
import { FakeServer, errorBody } from './testing/fake-server.ts';
import { tokenPair } from './testing/fixtures.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(accessLifetimeMs: number) {
  const server = await FakeServer.start();
  cleanups.push(() => server.close());
  server.tokens.add('token-2');
  server.rest.login = ({ body }) =>
    JSON.stringify(body) === JSON.stringify({ email: 'ann@example.com', password: 'correct horse' })
      ? { status: 200, body: tokenPair('token-1', 'refresh-token-1-abcdef', accessLifetimeMs) }
      : { status: 401, body: errorBody('INVALID_CREDENTIALS') };
  server.rest.refresh = ({ body }) =>
    JSON.stringify(body) === JSON.stringify({ refreshToken: 'refresh-token-1-abcdef' })
      ? { status: 200, body: tokenPair('token-2', 'refresh-token-2-abcdef', 3_600_000) }
      : { status: 401, body: errorBody('INVALID_REFRESH_TOKEN') };
  server.rest.listConversations = () => ({ status: 200, body: { items: [], nextCursor: null } });
  return server;
}

describe('createAgent', () => {
  it('logs in and uses the access token for REST and realtime', async () => {
    const server = await setup(3_600_000);
    const agent = await createAgent({ baseUrl: server.baseUrl, email: 'ann@example.com', password: 'correct horse', WebSocket });
    cleanups.push(() => agent.close());
    await agent.rest.listConversations({ scope: 'unassigned' });
    await waitFor(() => agent.realtime.state === 'open');
    expect(server.restCalls.map((call) => call.name)).toEqual(['login', 'listConversations']);
    expect(server.restCalls[1]?.headers.authorization).toBe('Bearer token-1');
    expect(server.last?.token).toBe('token-1');
  });

  it('refreshes the access token with the refresh token before it expires, once for concurrent users', async () => {
    const server = await setup(30_000); // inside the 60 s refresh window
    const agent = await createAgent({ baseUrl: server.baseUrl, email: 'ann@example.com', password: 'correct horse', refreshSkewMs: 60_000, WebSocket });
    cleanups.push(() => agent.close());
    await Promise.all([agent.rest.listConversations(), agent.rest.listConversations()]);
    await waitFor(() => agent.realtime.state === 'open');
    expect(server.restCalls.filter((call) => call.name === 'refresh')).toHaveLength(1);
    expect(server.restCalls.filter((call) => call.name === 'listConversations').map((call) => call.headers.authorization)).toEqual(['Bearer token-2', 'Bearer token-2']);
    expect(server.last?.token).toBe('token-2');
    expect(agent.tokens().refreshToken).toBe('refresh-token-2-abcdef');
  });

  it('refreshes when the socket is closed with 4402 and resumes', async () => {
    const server = await setup(3_600_000);
    const agent = await createAgent({
      baseUrl: server.baseUrl,
      email: 'ann@example.com',
      password: 'correct horse',
      WebSocket,
      realtime: { reconnect: { initialDelayMs: 5, jitter: 0 } },
    });
    cleanups.push(() => agent.close());
    await waitFor(() => agent.realtime.state === 'open');
    server.drop(4402);
    await waitFor(() => server.connections[1]?.token === 'token-2' && agent.realtime.state === 'open');
    expect(server.restCalls.filter((call) => call.name === 'refresh')).toHaveLength(1);
  });

  it('rejects with INVALID_CREDENTIALS when the password is wrong', async () => {
    const server = await setup(3_600_000);
    await expect(createAgent({ baseUrl: server.baseUrl, email: 'ann@example.com', password: 'wrong', WebSocket })).rejects.toMatchObject({
      name: 'ParleyApiError',
      code: 'INVALID_CREDENTIALS',
      status: 401,
    });
  });
});
