import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { RealtimeClient } from './realtime.ts';
import { FakeServer } from './testing/fake-server.ts';
import { waitFor } from './testing/wait.ts';
import { realtimeUrl } from './websocket.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('WebSocket plumbing', () => {
  it('connects to /v1/ws under the base URL, with the ws or wss scheme', () => {
    expect(realtimeUrl('https://care.example.com')).toBe('wss://care.example.com/v1/ws');
    expect(realtimeUrl('https://care.example.com/parley/')).toBe('wss://care.example.com/parley/v1/ws');
    expect(realtimeUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/v1/ws');
  });

  it('throws a clear error when no WebSocket implementation is available (Node 20 without `ws`)', () => {
    vi.stubGlobal('WebSocket', undefined);
    expect(() => new RealtimeClient({ baseUrl: 'http://localhost', getAccessToken: () => 't' })).toThrow(/`WebSocket` option/);
  });

  it('uses the global WebSocket when none is given, as in browsers', async () => {
    vi.stubGlobal('WebSocket', WebSocket);
    const server = await FakeServer.start();
    const client = new RealtimeClient({ baseUrl: server.baseUrl, getAccessToken: () => 'token-1' });
    try {
      await client.subscribe(randomUUID());
      await waitFor(() => client.state === 'open');
    } finally {
      client.close();
      await server.close();
    }
  });
});
