import { z } from 'zod';
import { ApiKeyScopeSchema } from './rest.ts';

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for partners: an API key's id is the `client_id`, its secret the
 * `client_secret`, and the token endpoint returns a short-lived access token carrying the key's scopes (or the subset
 * asked for). The endpoint speaks OAuth, not Parley's REST conventions: a form-encoded (or JSON) body and errors in
 * the RFC 6749 §5.2 shape, so any OAuth client library works against it unchanged.
 */
export const OAUTH_TOKEN_PATH = '/oauth/token';

export const OAuthTokenRequestSchema = z
  .object({
    grant_type: z.string().min(1).describe('Must be `client_credentials`.'),
    scope: z.string().max(1000).optional().describe("Space-separated scopes, a subset of the key's; omitted: all of them."),
    client_id: z.string().max(200).optional().describe('The API key id, when the client does not use HTTP Basic authentication.'),
    client_secret: z.string().max(512).optional().describe('The API key secret (`pak_...`), when the client does not use HTTP Basic authentication.'),
  })
  .describe('Client authentication by HTTP Basic (`client_id:client_secret`, RFC 6749 §2.3.1) or by `client_id` and `client_secret` in the body; not both.');

export const OAuthTokenResponseSchema = z.object({
  access_token: z.string().describe('A JWT to send as `Authorization: Bearer <token>`; it acts as the API key with the granted scopes.'),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive().describe('Seconds until the token expires.'),
  scope: z.string().describe('The granted scopes, space-separated.'),
});

export const OAuthErrorCodeSchema = z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'rate_limited', 'server_error']);
export type OAuthErrorCode = z.infer<typeof OAuthErrorCodeSchema>;

export const OAuthErrorSchema = z.object({
  error: OAuthErrorCodeSchema.describe('RFC 6749 §5.2 codes; `rate_limited` (429, with Retry-After) and `server_error` (500) are Parley extensions for the cases the RFC leaves open.'),
  error_description: z.string().optional(),
});

/** HTTP status of each error: 401 (with `WWW-Authenticate: Basic`) when the client is not authenticated, else 400. */
export const oauthErrorStatus: Record<OAuthErrorCode, 400 | 401 | 429 | 500> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  rate_limited: 429,
  server_error: 500,
};

/** Parses a space-separated scope string into known scopes; undefined when one is unknown. */
export function parseOAuthScope(scope: string): z.infer<typeof ApiKeyScopeSchema>[] | undefined {
  const parts = scope.split(' ').filter(Boolean);
  const known = parts.filter((s): s is z.infer<typeof ApiKeyScopeSchema> => ApiKeyScopeSchema.safeParse(s).success);
  return known.length === parts.length ? [...new Set(known)] : undefined;
}
