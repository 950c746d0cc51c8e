/** Context the SDK passes when it asks for an access token. */
export interface TokenRequest {
  /**
   * True when the server just rejected the previous token as expired (HTTP TOKEN_EXPIRED, or the socket closed with
   * 4402 / refused the token): return a fresh one, do not return a cached token.
   */
  expired: boolean;
}

/**
 * Supplies the access token for REST calls and the socket's `auth` frame. Called before each request and each
 * (re)connect, so it can refresh. A function that ignores its argument is fine.
 */
export type TokenProvider = (request: TokenRequest) => string | undefined | Promise<string | undefined>;

/** A token with the instant (ms since epoch) it stops being valid. */
export interface ExpiringToken {
  token: string;
  expiresAt: number;
}

/** Options of {@link createTokenSource}. */
export interface TokenSourceOptions {
  /** The token held now, if any. */
  initial?: ExpiringToken;
  /** Obtains a new token (refresh, new session). Never called twice at once. */
  renew: () => Promise<ExpiringToken>;
  /** Renew this long before expiry. Default: 60 s, or a tenth of the token's remaining life if that is shorter. */
  skewMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** A TokenProvider that caches a token and renews it before it expires, or when told it expired. */
export interface TokenSource {
  /** The provider to hand to the REST and realtime clients. */
  getAccessToken: TokenProvider;
  /** The token held now (not renewed). */
  current(): ExpiringToken | undefined;
}

const DEFAULT_SKEW_MS = 60_000;

/**
 * Creates a single-flight token cache: concurrent callers share one renewal, which matters because refresh tokens
 * are single-use.
 */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const now = options.now ?? Date.now;
  let current = options.initial;
  let obtainedAt = now();
  let inflight: Promise<ExpiringToken> | undefined;

  const renew = (): Promise<ExpiringToken> => {
    inflight ??= options.renew().then(
      (token) => {
        current = token;
        obtainedAt = now();
        inflight = undefined;
        return token;
      },
      (error: unknown) => {
        inflight = undefined;
        throw error;
      },
    );
    return inflight;
  };

  const fresh = (token: ExpiringToken): boolean => {
    const life = token.expiresAt - obtainedAt;
    const skew = options.skewMs ?? Math.min(DEFAULT_SKEW_MS, Math.max(0, life / 10));
    return now() < token.expiresAt - skew;
  };

  return {
    current: () => current,
    getAccessToken: async (request) => {
      if (inflight) return (await inflight).token;
      if (!request?.expired && current && fresh(current)) return current.token;
      return (await renew()).token;
    },
  };
}
