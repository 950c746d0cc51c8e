import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta's webhook signature (Messenger Platform and WhatsApp Cloud API): `X-Hub-Signature-256: sha256=<hex>`, the
 * HMAC-SHA256 of the raw request body keyed with the app secret.
 */
export function metaSignature(rawBody: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

export function verifyMetaSignature(rawBody: string, header: string | undefined, appSecret: string): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const expected = Buffer.from(metaSignature(rawBody, appSecret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Meta's verification handshake (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`): the challenge, or null. */
export function metaChallenge(query: Readonly<Record<string, string | undefined>>, verifyToken: string): string | null {
  if (query['hub.mode'] !== 'subscribe' || !query['hub.challenge']) return null;
  const given = Buffer.from(query['hub.verify_token'] ?? '');
  const expected = Buffer.from(verifyToken);
  return given.length === expected.length && timingSafeEqual(given, expected) ? query['hub.challenge'] : null;
}
