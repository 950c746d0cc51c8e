import { type ErrorCode, ErrorBodySchema, errorCatalogue } from '@parley/protocol';

/** The error part of Parley's `{ error: {...} }` body, as it arrives on REST and in WebSocket responses. */
export interface ParleyErrorInit {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
  requestId?: string;
}

/**
 * An error answered by the Parley server, over REST (with the HTTP status) or over the socket (with the status the
 * code maps to in the protocol's error catalogue). Branch on `code`: codes are stable.
 */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  /** HTTP status of the response (for realtime errors: the status the code maps to). */
  readonly status: number;
  /** Stable error code from the protocol's catalogue. */
  readonly code: ErrorCode;
  /** Extra information, e.g. `issues` for VALIDATION_FAILED or `retryAfterMs` for RATE_LIMITED. */
  readonly details: Record<string, unknown> | undefined;
  /** Whether retrying the same request later can succeed. */
  readonly retryable: boolean;
  /** The server's request id, to quote when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(status: number, init: ParleyErrorInit) {
    super(init.message);
    this.status = status;
    this.code = init.code;
    this.details = init.details;
    this.retryable = init.retryable ?? errorCatalogue[init.code].retryable;
    this.requestId = init.requestId;
  }

  /** `details.retryAfterMs` when the server sent one (RATE_LIMITED), otherwise undefined. */
  get retryAfterMs(): number | undefined {
    const value = this.details?.retryAfterMs;
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
  }

  /** Builds the error from a realtime `response` frame's `error` (no HTTP status: the catalogue's is used). */
  static fromWire(init: ParleyErrorInit): ParleyApiError {
    return new ParleyApiError(errorCatalogue[init.code].status, init);
  }
}

/** Why the SDK could not get an answer: the network failed, the socket dropped, or the client was closed. */
export class ParleyConnectionError extends Error {
  override readonly name = 'ParleyConnectionError';
  /** `network`: a request could not reach the server; `closed`: the client was closed; `lost`: the socket dropped. */
  readonly reason: 'network' | 'closed' | 'lost';

  constructor(reason: 'network' | 'closed' | 'lost', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The code to report when a non-2xx answer carries no Parley error body (a proxy's page, an empty body). */
function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'VALIDATION_FAILED';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'ROUTE_NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 502 || status === 503 || status === 504) return 'SERVICE_UNAVAILABLE';
  return 'INTERNAL';
}

/**
 * Turns a non-2xx HTTP answer into a ParleyApiError. The body is validated with the protocol's ErrorBodySchema; a body
 * that is not Parley's (a proxy error page, say) still yields an error, with a code derived from the status.
 */
export function errorFromResponse(status: number, statusText: string, bodyText: string): ParleyApiError {
  let json: unknown;
  try {
    json = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    json = undefined;
  }
  const parsed = ErrorBodySchema.safeParse(json);
  if (parsed.success) return new ParleyApiError(status, parsed.data.error);
  const code = codeForStatus(status);
  const text = bodyText.trim().slice(0, 200);
  return new ParleyApiError(status, {
    code,
    message: `HTTP ${status}${statusText ? ` ${statusText}` : ''}${text ? `: ${text}` : ''}`,
    retryable: errorCatalogue[code].retryable,
  });
}
