import { type EndpointBody, type EndpointName, type EndpointQuery, type EndpointResponse, endpoints } from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import { ADMIN_PASSWORD, type TestServer } from './test-server.ts';

export interface InjectResult<T> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** Calls an endpoint of the contract through `inject()`; returns status and parsed body whatever the status. */
export async function call<N extends EndpointName>(
  app: FastifyInstance,
  name: N,
  options: {
    token?: string;
    params?: Record<string, string>;
    query?: EndpointQuery<N> & Record<string, unknown>;
    body?: EndpointBody<N> | unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<InjectResult<EndpointResponse<N> & { error?: { code: string; message: string; details?: Record<string, unknown> } }>> {
  const endpoint = endpoints[name];
  let url = endpoint.path;
  for (const [key, value] of Object.entries(options.params ?? {})) url = url.replace(`:${key}`, encodeURIComponent(value));
  const query = options.query ? `?${new URLSearchParams(Object.entries(options.query).map(([k, v]) => [k, String(v)])).toString()}` : '';
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) {
    payload = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await app.inject({ method: endpoint.method, url: url + query, headers, ...(payload !== undefined ? { payload } : {}) });
  const text = response.body;
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** Common set-up steps, each through the public API. */
export function actors(t: TestServer) {
  const app = t.server.app;
  return {
    async adminToken(): Promise<string> {
      const r = await call(app, 'login', { body: { email: t.adminEmail, password: ADMIN_PASSWORD } });
      if (r.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(r.body)}`);
      return r.body.accessToken;
    },
    async createUser(adminToken: string, role: 'admin' | 'manager' | 'agent', name: string = role): Promise<{ id: string; email: string; token: string }> {
      const email = `${name}-${Math.random().toString(36).slice(2, 10)}@parley.test`;
      const created = await call(app, 'createUser', { token: adminToken, body: { email, name, role, password: 'a-long-password' } });
      if (created.status !== 201) throw new Error(`create user failed: ${JSON.stringify(created.body)}`);
      const login = await call(app, 'login', { body: { email, password: 'a-long-password' } });
      return { id: created.body.id, email, token: login.body.accessToken };
    },
    async consumer(deviceToken?: string): Promise<{ consumerId: string; token: string; deviceToken: string | null }> {
      const r = await call(app, 'consumerSession', { body: { widgetKey: t.widgetKey, ...(deviceToken ? { deviceToken } : {}) } });
      if (r.status !== 200) throw new Error(`consumer session failed: ${JSON.stringify(r.body)}`);
      return { consumerId: r.body.consumerId, token: r.body.accessToken, deviceToken: r.body.deviceToken };
    },
    async conversation(consumerToken: string): Promise<string> {
      const r = await call(app, 'startConversation', { token: consumerToken, body: {} });
      if (r.status !== 200) throw new Error(`start conversation failed: ${JSON.stringify(r.body)}`);
      return r.body.conversation.id;
    },
  };
}

export function text(message: string, clientMessageId: string = crypto.randomUUID()) {
  return { clientMessageId, event: { type: 'content' as const, content: { contentType: 'text/plain' as const, message } } };
}
