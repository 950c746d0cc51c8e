import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifying Parley's outbound webhooks, for receivers in Node (`import { verifyWebhookSignature } from
 * '@parley/sdk/webhooks'`). It is a subpath of its own, not part of the SDK's main entry, because it needs
 * `node:crypto` and the main entry also runs in browsers.
 *
 * Every delivery carries `parley-signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, where each `v1` is the
 * HMAC-SHA256, keyed with a signing secret, of `<t>.<raw body>`. There are two `v1` while a secret rotation's grace
 * period lasts (one per secret). A delivery is genuine when a `v1` matches one of the receiver's secrets, and fresh
 * when `t` is within the tolerance of the receiver's clock: an old delivery replayed by someone who captured it fails.
 * Parley retries and replays deliveries with a new timestamp and the same `parley-event-id`, so receivers should also
 * drop an event id they have already processed.
 */
export interface VerifyWebhookSignatureInput {
  /** The raw request body exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  /** The `parley-signature` header. */
  signatureHeader: string | null | undefined;
  /** The subscription's signing secret; during a rotation, the new and the old one. */
  secrets: string | readonly string[];
  /** How far the timestamp may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The receiver's clock (default: now). */
  now?: Date;
}

export type WebhookVerification =
  | { valid: true; timestamp: number }
  | {
      valid: false;
      /** `malformed`: no usable header; `stale`: the timestamp is outside the tolerance (a replay); `mismatch`: forged, tampered with, or signed with another secret. */
      reason: 'malformed' | 'stale' | 'mismatch';
    };

export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): WebhookVerification {
  const parsed = parseSignatureHeader(input.signatureHeader);
  if (!parsed) return { valid: false, reason: 'malformed' };
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - parsed.timestamp) > (input.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS)) return { valid: false, reason: 'stale' };
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  const signed = Buffer.concat([Buffer.from(`${parsed.timestamp}.`, 'utf8'), body]);
  const secrets = typeof input.secrets === 'string' ? [input.secrets] : input.secrets;
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(signed).digest();
    // Every candidate is compared (no early exit on the first byte that differs): constant time per comparison.
    if (parsed.signatures.some((signature) => signature.length === expected.length && timingSafeEqual(signature, expected))) return { valid: true, timestamp: parsed.timestamp };
  }
  return { valid: false, reason: 'mismatch' };
}

function parseSignatureHeader(header: string | null | undefined): { timestamp: number; signatures: Buffer[] } | null {
  if (!header || header.length > 4096) return null;
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}
