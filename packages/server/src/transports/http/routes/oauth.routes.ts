import { OAUTH_TOKEN_PATH, type OAuthErrorCode, oauthErrorStatus, OAuthTokenRequestSchema } from '@parley/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isAppError } from '../../../core/app-error.ts';
import type { HttpDeps } from '../http-deps.ts';

class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly retryAfterMs?: number,
  ) {
    super(description);
  }
}

/** RFC 6749 §5.2: `{error, error_description}`, never cached; invalid_client challenges for Basic authentication. */
function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  reply.code(oauthErrorStatus[error.error]).header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (error.error === 'invalid_client') reply.header('www-authenticate', 'Basic realm="parley", charset="UTF-8"');
  if (error.retryAfterMs !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  return reply.send({ error: error.error, error_description: error.description });
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`. Undefined without the header. */
function basicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) throw new OAuthError('invalid_client', 'The Authorization header must be "Basic base64(client_id:client_secret)"');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'The Basic credentials must be "client_id:client_secret"');
  const form = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'The Basic credentials are not properly encoded');
    }
  };
  return { clientId: form(decoded.slice(0, colon)), clientSecret: form(decoded.slice(colon + 1)) };
}

/** A form body as an object; a parameter sent twice is refused (RFC 6749 §3.2). */
function parseForm(body: string): Record<string, string> {
  const params = new URLSearchParams(body);
  const result: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in result) throw new OAuthError('invalid_request', `The parameter ${key} is repeated`);
    result[key] = value;
  }
  return result;
}

/**
 * `POST /oauth/token`: OAuth 2.0 client credentials over API keys. Registered in its own encapsulated scope, because it
 * speaks OAuth rather than Parley's REST conventions: it takes `application/x-www-form-urlencoded` (and JSON) bodies
 * and answers every error, down to malformed bodies and rate limits, as `{error, error_description}` (RFC 6749 §5.2)
 * so that stock OAuth client libraries understand it. It counts against the per-address limit of public endpoints.
 */
export async function registerOAuthRoutes(app: FastifyInstance, deps: HttpDeps, limitPublic: (clientAddress: string) => Promise<number>): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseForm(String(body)));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    scope.setErrorHandler((error, request, reply) => {
      if (error instanceof OAuthError) return sendOAuthError(reply, error);
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
      if (code.startsWith('FST_ERR_CTP_') || error instanceof SyntaxError) {
        return sendOAuthError(reply, new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded or JSON, within the size limit'));
      }
      if (isAppError(error) && error.code === 'UNAUTHENTICATED') return sendOAuthError(reply, new OAuthError('invalid_client', error.message));
      request.log.error({ err: error }, 'token request failed');
      return sendOAuthError(reply, new OAuthError('server_error', 'An unexpected error occurred'));
    });

    scope.post(OAUTH_TOKEN_PATH, async (request, reply) => {
      const wait = await limitPublic(request.ip);
      if (wait > 0) throw new OAuthError('rate_limited', 'Too many requests from this address; retry later', wait);
      const parsed = OAuthTokenRequestSchema.safeParse(request.body ?? {});
      if (!parsed.success) {
        const field = parsed.error.issues[0]?.path.join('.') || 'body';
        throw new OAuthError('invalid_request', `Missing or invalid parameter: ${field}`);
      }
      const body = parsed.data;
      const basic = basicCredentials(request.headers.authorization);
      if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
        throw new OAuthError('invalid_request', 'Authenticate the client one way only: HTTP Basic or client_id and client_secret in the body');
      }
      const clientId = basic?.clientId ?? body.client_id;
      const clientSecret = basic?.clientSecret ?? body.client_secret;
      if (!clientId || !clientSecret) throw new OAuthError('invalid_client', 'Client authentication is required: HTTP Basic, or client_id and client_secret');

      const outcome = await deps.services.clientCredentials.issueToken({ grantType: body.grant_type, clientId, clientSecret, scope: body.scope });
      if (!outcome.ok) throw new OAuthError(outcome.error, outcome.description);
      return reply
        .code(200)
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({ access_token: outcome.accessToken, token_type: 'Bearer', expires_in: outcome.expiresIn, scope: outcome.scopes.join(' ') });
    });
  });
}
