import type { EndpointResponse } from '@parley/protocol';
import { type RestClient, createRestClient } from './http-client.ts';
import { RealtimeClient, type RealtimeOptions } from './realtime.ts';
import { type ExpiringToken, createTokenSource } from './token-source.ts';
import type { BaseUrl, WebSocketConstructor } from './websocket.ts';

/** Options of {@link createAgent}. */
export interface AgentOptions {
  /** Where the server is; a function is called per request and per connection attempt (to fail over between nodes). */
  baseUrl: BaseUrl;
  email: string;
  password: string;
  /** Refresh this long before the access token expires. Default: 60 s, or a tenth of its life if shorter. */
  refreshSkewMs?: number;
  /** WebSocket constructor (Node 20: `WebSocket` from `ws`). */
  WebSocket?: WebSocketConstructor;
  /** fetch implementation. */
  fetch?: typeof fetch;
  /** Further realtime options (back-off, ping, timeouts). */
  realtime?: Omit<RealtimeOptions, 'baseUrl' | 'getAccessToken' | 'WebSocket'>;
}

/** A logged-in user (agent, manager or admin). */
export interface Agent {
  /** REST client; the access token is refreshed before it expires. */
  readonly rest: RestClient;
  /** Realtime client, connecting. */
  readonly realtime: RealtimeClient;
  /** The current token pair (e.g. to inspect expiry). */
  tokens(): EndpointResponse<'login'>;
  /** Closes the socket and revokes the refresh token. */
  logout(): Promise<void>;
  /** Closes the socket. */
  close(): void;
}

/**
 * Logs a user in and returns REST and realtime clients that share the session. The access token is refreshed with the
 * refresh token shortly before it expires (on the next use) or when the server reports it expired (HTTP TOKEN_EXPIRED
 * or socket close 4402); refreshes are single-flight since refresh tokens are single-use. The password is not kept:
 * if the refresh token is refused, the token provider fails with INVALID_REFRESH_TOKEN and the realtime client closes.
 */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const publicRest = createRestClient({ baseUrl: options.baseUrl, fetch: options.fetch });
  let pair = await publicRest.login({ email: options.email, password: options.password });
  const asToken = (): ExpiringToken => ({ token: pair.accessToken, expiresAt: Date.parse(pair.accessTokenExpiresAt) });

  const tokens = createTokenSource({
    initial: asToken(),
    skewMs: options.refreshSkewMs,
    renew: async () => {
      pair = await publicRest.refresh(pair.refreshToken);
      return asToken();
    },
  });
  const rest = createRestClient({ baseUrl: options.baseUrl, fetch: options.fetch, getAccessToken: tokens.getAccessToken });
  const realtime = new RealtimeClient({
    ...options.realtime,
    baseUrl: options.baseUrl,
    getAccessToken: tokens.getAccessToken,
    WebSocket: options.WebSocket,
  });
  return {
    rest,
    realtime,
    tokens: () => ({ ...pair }),
    close: () => realtime.close(),
    logout: async () => {
      realtime.close();
      await publicRest.logout(pair.refreshToken);
    },
  };
}
