import type { EndpointResponse } from '@parley/protocol';
import { ParleyApiError, RealtimeClient, type RestClient, createRestClient, createTokenSource } from '@parley/sdk';

type TokenPair = EndpointResponse<'login'>;
export type User = Extract<EndpointResponse<'me'>, { kind: 'user' }>['user'];

/**
 * Where the session is kept. The token pair sits in localStorage so that a reload, or a second tab, stays logged in.
 * That is a deliberate trade-off: script running in the console's origin could read it (as it could read a token held
 * in memory). The console renders message text as text (never as HTML) and loads no third-party script; refresh
 * tokens are single-use, rotate at every renewal and are revoked at logout. An httpOnly cookie would need a
 * cookie-based refresh endpoint on the server, which Parley does not have (yet).
 */
const STORAGE_KEY = 'parley.console.session';
const baseUrl = (): string => window.location.origin;

function readStored(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as TokenPair) : null;
  } catch {
    return null;
  }
}

function store(pair: TokenPair | null): void {
  if (pair) localStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
  else localStorage.removeItem(STORAGE_KEY);
}

/** Runs `task` holding a lock shared by every tab of the console, where the browser has Web Locks. */
async function withTabLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return task();
  return await locks.request('parley-console-refresh', task);
}

const fresh = (pair: TokenPair): boolean => Date.parse(pair.accessTokenExpiresAt) - Date.now() > 30_000;

/**
 * A logged-in user: REST and realtime clients sharing one token pair. The access token is renewed with the refresh
 * token before it expires. Refresh tokens are single-use, so tabs renew one at a time (a Web Lock) and a tab first
 * adopts a pair another tab already renewed.
 */
export class Session {
  readonly rest: RestClient;
  readonly realtime: RealtimeClient;
  readonly user: User;
  #pair: TokenPair;
  #onExpired: () => void = () => {};
  #ended = false;

  private constructor(pair: TokenPair, user: User, rest: RestClient, realtime: RealtimeClient, holder: { session?: Session }) {
    this.#pair = pair;
    this.user = user;
    this.rest = rest;
    this.realtime = realtime;
    holder.session = this;
  }

  /** Logs in with email and password. */
  static async login(email: string, password: string): Promise<Session> {
    const pair = await createRestClient({ baseUrl: baseUrl() }).login({ email, password });
    store(pair);
    return Session.#open(pair);
  }

  /** The session kept from an earlier visit, if it is still valid; null otherwise. */
  static async restore(): Promise<Session | null> {
    const pair = readStored();
    if (!pair) return null;
    try {
      return await Session.#open(pair);
    } catch (error) {
      if (error instanceof ParleyApiError && error.status === 401) {
        store(null);
        return null;
      }
      throw error;
    }
  }

  static async #open(initial: TokenPair): Promise<Session> {
    const publicRest = createRestClient({ baseUrl: baseUrl() });
    let pair = initial;
    const holder: { session?: Session } = {};
    const tokens = createTokenSource({
      initial: { token: pair.accessToken, expiresAt: Date.parse(pair.accessTokenExpiresAt) },
      renew: () =>
        withTabLock(async () => {
          const stored = readStored();
          if (stored && stored.refreshToken !== pair.refreshToken && fresh(stored)) {
            pair = stored; // another tab renewed it already
          } else {
            try {
              pair = await publicRest.refresh(pair.refreshToken);
            } catch (error) {
              if (error instanceof ParleyApiError && error.code === 'INVALID_REFRESH_TOKEN') {
                store(null);
                if (holder.session) holder.session.#expire();
              }
              throw error;
            }
            store(pair);
          }
          if (holder.session) holder.session.#pair = pair;
          return { token: pair.accessToken, expiresAt: Date.parse(pair.accessTokenExpiresAt) };
        }),
    });
    const rest = createRestClient({ baseUrl: baseUrl(), getAccessToken: tokens.getAccessToken });
    const me = await rest.me();
    if (me.kind !== 'user') throw new Error('These credentials are not a user');
    const realtime = new RealtimeClient({ baseUrl: baseUrl(), getAccessToken: tokens.getAccessToken, autoConnect: false });
    return new Session(pair, me.user, rest, realtime, holder);
  }

  /** Called once when the session can no longer be renewed (revoked, expired, logged out in another tab). */
  onExpired(listener: () => void): void {
    this.#onExpired = listener;
  }

  #expire(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.realtime.close();
    this.#onExpired();
  }

  /** Another tab logged out (the stored pair disappeared): end this one too. */
  noticeStorageChange(): void {
    if (!readStored()) this.#expire();
  }

  async logout(): Promise<void> {
    this.#ended = true;
    this.realtime.close();
    store(null);
    await createRestClient({ baseUrl: baseUrl() })
      .logout(this.#pair.refreshToken)
      .catch(() => undefined);
  }
}
