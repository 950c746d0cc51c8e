import { type ApiKeyScope, parseOAuthScope } from '@parley/protocol';
import type { ApiKeyService } from './api-key.service.ts';
import type { TokenSigner } from './token-signer.ts';

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

export interface ClientCredentialsRequest {
  grantType: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated; undefined: every scope of the key. */
  scope: string | undefined;
}

/** What the token endpoint answers; failures are named as in RFC 6749 §5.2 and mapped to HTTP by the transport. */
export type ClientCredentialsOutcome =
  | { ok: true; accessToken: string; expiresIn: number; scopes: ApiKeyScope[] }
  | { ok: false; error: 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type'; description: string };

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) over API keys: the key's id and secret authenticate the client, and the
 * access token is a short-lived JWT of Parley's own signer naming the key and the granted scopes. Bearer
 * authentication turns it back into the key's principal and checks the key on each request, so revoking the key
 * ends its tokens too.
 */
export class ClientCredentialsService {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly signer: TokenSigner,
    private readonly ttlSeconds: number,
  ) {}

  async issueToken(request: ClientCredentialsRequest): Promise<ClientCredentialsOutcome> {
    const client = await this.apiKeys.authenticateClient(request.clientId, request.clientSecret);
    if (!client) return { ok: false, error: 'invalid_client', description: 'Unknown client, wrong secret or revoked API key' };
    if (request.grantType !== CLIENT_CREDENTIALS_GRANT) {
      return { ok: false, error: 'unsupported_grant_type', description: `Only grant_type=${CLIENT_CREDENTIALS_GRANT} is supported` };
    }
    let scopes: ApiKeyScope[] = client.scopes;
    if (request.scope !== undefined && request.scope.trim() !== '') {
      const asked = parseOAuthScope(request.scope);
      const beyond = asked?.filter((s) => !client.scopes.includes(s)) ?? [];
      if (!asked) return { ok: false, error: 'invalid_scope', description: `Unknown scope in "${request.scope}"` };
      if (beyond.length) return { ok: false, error: 'invalid_scope', description: `The API key does not have the scope ${beyond.join(', ')}` };
      scopes = asked;
    }
    const { token } = await this.signer.sign({ typ: 'api_key', sub: client.id, acc: client.accountId, scope: scopes.join(' ') }, this.ttlSeconds);
    return { ok: true, accessToken: token, expiresIn: this.ttlSeconds, scopes };
  }
}
