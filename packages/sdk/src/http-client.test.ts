import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyApiError, ParleyConnectionError } from './errors.ts';
import { createRestClient } from './http-client.ts';
import { FakeServer, errorBody } from './testing/fake-server.ts';
import { conversationSummary, tokenPair } from './testing/fixtures.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(getAccessToken: () => string | undefined = () => 'token-1') {
  const server = await FakeServer.start();
  cleanups.push(() => server.close());
  return { server, rest: createRestClient({ baseUrl: server.baseUrl, getAccessToken }) };
}

const fileRecord = (conversationId: string) => ({
  id: randomUUID(),
  conversationId,
  name: 'a.txt',
  contentType: 'text/plain',
  size: 5,
  sha256: 'abc',
  createdAt: new Date().toISOString(),
});

describe('createRestClient', () => {
  it('builds the request from the catalogue: method, path parameters and query', async () => {
    const { server, rest } = await setup();
    const conversationId = randomUUID();
    server.rest.listEvents = () => ({ status: 200, body: { items: [], order: 'asc', lastSequence: 0, hasMore: false } });
    const page = await rest.call('listEvents', { params: { conversationId }, query: { fromSeq: 3, limit: 10, beforeSeq: undefined } });
    expect(page).toEqual({ items: [], order: 'asc', lastSequence: 0, hasMore: false });
    expect(server.restCalls[0]).toMatchObject({
      method: 'GET',
      path: `/v1/conversations/${conversationId}/events`,
      params: { conversationId },
      query: { fromSeq: '3', limit: '10' },
      body: undefined,
    });
  });

  it('sends JSON bodies with the bearer token from getAccessToken', async () => {
    const { server, rest } = await setup();
    const conversationId = randomUUID();
    server.rest.sendEvent = ({ params }) => ({
      status: 201,
      body: { eventId: randomUUID(), conversationId: params.conversationId, sequence: 7, duplicate: false, createdAt: new Date().toISOString() },
    });
    const ack = await rest.sendEvent(conversationId, { event: { type: 'content', content: { contentType: 'text/plain', message: 'hi' } } });
    expect(ack.sequence).toBe(7);
    const call = server.restCalls[0];
    expect(call?.headers.authorization).toBe('Bearer token-1');
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.body).toMatchObject({ event: { type: 'content' }, clientMessageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('does not send the access token to public endpoints', async () => {
    const getAccessToken = vi.fn(() => 'token-1');
    const { server, rest } = await setup(getAccessToken);
    server.rest.login = () => ({ status: 200, body: tokenPair('access', 'refresh-token-123456', 60_000) });
    await expect(rest.login({ email: 'ann@example.com', password: 'secret' })).resolves.toMatchObject({ accessToken: 'access' });
    expect(server.restCalls[0]?.headers.authorization).toBeUndefined();
    expect(getAccessToken).not.toHaveBeenCalled();
  });

  it('parses error bodies into ParleyApiError', async () => {
    const { server, rest } = await setup();
    const issues = [{ path: 'event.content.message', message: 'Message must not be empty', code: 'too_small' }];
    server.rest.sendReceipt = () => ({ status: 400, body: { error: { ...errorBody('VALIDATION_FAILED', 'Invalid body', { issues }).error, requestId: 'req-1' } } });
    const error = await rest.sendReceipt(randomUUID(), { status: 'read', sequences: [1] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: 'Invalid body', details: { issues }, retryable: false, requestId: 'req-1' });
  });

  it('exposes retryAfterMs of a RATE_LIMITED error', async () => {
    const { server, rest } = await setup();
    server.rest.me = () => ({ status: 429, body: errorBody('RATE_LIMITED', 'Slow down', { retryAfterMs: 1200 }) });
    await expect(rest.me()).rejects.toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1200 });
  });

  it("derives an error code from the status when the body is not Parley's", async () => {
    const { server, rest } = await setup();
    server.rest.getConversation = () => ({ status: 502, body: 'Bad gateway' });
    await expect(rest.getConversation(randomUUID())).rejects.toMatchObject({ name: 'ParleyApiError', status: 502, code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('resolves undefined for 204 responses', async () => {
    const { server, rest } = await setup();
    server.rest.logout = () => ({ status: 204 });
    await expect(rest.logout('refresh-token-123456')).resolves.toBeUndefined();
    expect(server.restCalls[0]?.body).toEqual({ refreshToken: 'refresh-token-123456' });
  });

  it('retries once with a fresh token after TOKEN_EXPIRED', async () => {
    const server = await FakeServer.start();
    cleanups.push(() => server.close());
    const getAccessToken = vi.fn(({ expired }: { expired: boolean }) => (expired ? 'new' : 'old'));
    const rest = createRestClient({ baseUrl: server.baseUrl, getAccessToken });
    const conversation = conversationSummary();
    server.rest.takeConversation = ({ headers }) => (headers.authorization === 'Bearer new' ? { status: 200, body: conversation } : { status: 401, body: errorBody('TOKEN_EXPIRED') });
    await expect(rest.takeConversation(conversation.id)).resolves.toEqual(conversation);
    expect(getAccessToken.mock.calls.map(([request]) => request.expired)).toEqual([false, true]);
    expect(server.restCalls).toHaveLength(2);
  });

  it('uploads a file as the multipart field `file`', async () => {
    const { server, rest } = await setup();
    const conversationId = randomUUID();
    const received: Array<{ name: string; type: string; text: string }> = [];
    server.rest.uploadFile = async (call) => {
      const file = (await call.formData()).get('file');
      if (!(file instanceof Blob)) return { status: 400, body: errorBody('VALIDATION_FAILED') };
      received.push({ name: file instanceof File ? file.name : '', type: file.type, text: await file.text() });
      return { status: 201, body: fileRecord(call.params.conversationId ?? '') };
    };
    await rest.uploadFile(conversationId, new TextEncoder().encode('hello'), { fileName: 'a.txt', contentType: 'text/plain' });
    await rest.uploadFile(conversationId, new Blob(['{}'], { type: 'application/json' }), { fileName: 'b.json' });
    expect(received).toEqual([
      { name: 'a.txt', type: 'text/plain', text: 'hello' },
      { name: 'b.json', type: 'application/json', text: '{}' },
    ]);
    expect(String(server.restCalls[0]?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
  });

  it('downloads a file as a Blob', async () => {
    const { server, rest } = await setup();
    server.rest.downloadFile = () => ({ status: 200, body: 'file contents' });
    const blob = await rest.downloadFile(randomUUID());
    expect(await blob.text()).toBe('"file contents"');
  });

  it('validates responses against the catalogue when asked', async () => {
    const server = await FakeServer.start();
    cleanups.push(() => server.close());
    const rest = createRestClient({ baseUrl: server.baseUrl, getAccessToken: () => 't', validateResponses: true });
    server.rest.getConversation = () => ({ status: 200, body: { id: 'not a conversation' } });
    await expect(rest.getConversation(randomUUID())).rejects.toThrow();
  });

  it('uses the injected fetch and wraps network failures in ParleyConnectionError', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() => Promise.reject(new TypeError('connect ECONNREFUSED')));
    const rest = createRestClient({ baseUrl: 'https://care.example.com/base/', fetch });
    const error = await rest.listConversations({ state: 'open' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyConnectionError);
    expect(error).toMatchObject({ reason: 'network' });
    expect(String(fetch.mock.calls[0]?.[0])).toBe('https://care.example.com/base/v1/conversations?state=open');
  });

  it('calls a baseUrl function for every request', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() => Promise.resolve(new Response(JSON.stringify({ items: [], nextCursor: null }), { status: 200 })));
    const nodes = ['http://node-a:8081', 'http://node-b:8082'];
    let next = 0;
    const rest = createRestClient({ baseUrl: () => nodes[next++ % nodes.length] ?? '', getAccessToken: () => 't', fetch });
    await rest.listConversations();
    await rest.listConversations();
    expect(fetch.mock.calls.map(([url]) => String(url))).toEqual(['http://node-a:8081/v1/conversations', 'http://node-b:8082/v1/conversations']);
  });

  it('types inputs and responses from the catalogue', () => {
    const rest = createRestClient({ baseUrl: 'http://localhost' });
    // Compile-time checks only: the closure is never run.
    const _typed = async () => {
      // @ts-expect-error path parameters are required where the path has them
      await rest.call('getConversation');
      // @ts-expect-error bodies are checked against the catalogue's schema
      await rest.call('login', { body: { email: 'a@b.c' } });
      const conversation = await rest.call('getConversation', { params: { conversationId: 'x' } });
      const state: 'open' | 'closed' = conversation.state;
      const nothing: undefined = await rest.call('logout', { body: { refreshToken: 'r' } });
      return [state, nothing];
    };
    expect(typeof _typed).toBe('function');
  });
});
