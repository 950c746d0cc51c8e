import { createHmac, randomBytes } from 'node:crypto';

/** A new signing secret: `whsec_` and 32 random bytes, base64url. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** What the API shows of a secret. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, 12);
}

/**
 * The `parley-signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with one `v1` per secret
 * (the current one first; the previous one too while a rotation's grace period lasts). Receivers check it with
 * `verifyWebhookSignature` from `@parley/sdk/webhooks`.
 */
export function signatureHeader(body: string, secrets: readonly string[], timestampSeconds: number): string {
  const signed = `${timestampSeconds}.${body}`;
  return [`t=${timestampSeconds}`, ...secrets.map((secret) => `v1=${createHmac('sha256', secret).update(signed).digest('hex')}`)].join(',');
}
