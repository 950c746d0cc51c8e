import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An opaque random token (base64url) with a readable prefix, e.g. `prt_...` for refresh tokens. */
export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

/** Tokens are stored only as SHA-256 digests: a leaked table does not leak credentials. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
