import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from './webhooks.ts';

const secret = 'whsec_current-secret-for-tests';
const oldSecret = 'whsec_previous-secret-for-tests';
const body = JSON.stringify({ id: '3f1c1a52-0f6e-4c1e-9d5a-6c1e2a9b7d10', type: 'conversation.message', data: { text: 'héllo' } });
const now = new Date('2026-11-27T12:00:00Z');
const t = Math.floor(now.getTime() / 1000);

function sign(payload: string, key: string, timestamp = t): string {
  return createHmac('sha256', key).update(`${timestamp}.${payload}`).digest('hex');
}

describe('verifyWebhookSignature', () => {
  it('accepts a delivery signed with the secret, within the tolerance, given as a string or as bytes', () => {
    const header = `t=${t},v1=${sign(body, secret)}`;
    expect(verifyWebhookSignature({ body, signatureHeader: header, secrets: secret, now })).toEqual({ valid: true, timestamp: t });
    expect(verifyWebhookSignature({ body: Buffer.from(body), signatureHeader: header, secrets: [secret], now: new Date(now.getTime() + 299_000) }).valid).toBe(true);
  });

  it('rejects a forged signature, a signature made with another secret, and a tampered body', () => {
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${t},v1=${'ab'.repeat(32)}`, secrets: secret, now })).toEqual({ valid: false, reason: 'mismatch' });
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${t},v1=${sign(body, 'whsec_guessed')}`, secrets: secret, now })).toEqual({ valid: false, reason: 'mismatch' });
    const tampered = body.replace('héllo', 'hello');
    expect(verifyWebhookSignature({ body: tampered, signatureHeader: `t=${t},v1=${sign(body, secret)}`, secrets: secret, now })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('rejects a replayed delivery whose timestamp is older (or newer) than the tolerance, even with a valid signature', () => {
    const old = t - 301;
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${old},v1=${sign(body, secret, old)}`, secrets: secret, now })).toEqual({ valid: false, reason: 'stale' });
    const future = t + 301;
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${future},v1=${sign(body, secret, future)}`, secrets: secret, now })).toEqual({ valid: false, reason: 'stale' });
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${old},v1=${sign(body, secret, old)}`, secrets: secret, now, toleranceSeconds: 600 }).valid).toBe(true);
  });

  it('rejects a signature moved to another timestamp (the timestamp is signed)', () => {
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${t},v1=${sign(body, secret, t - 1000)}`, secrets: secret, now })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('accepts either signature during a rotation: old receivers with the old secret, new ones with the new', () => {
    const header = `t=${t},v1=${sign(body, secret)},v1=${sign(body, oldSecret)}`;
    expect(verifyWebhookSignature({ body, signatureHeader: header, secrets: oldSecret, now }).valid).toBe(true);
    expect(verifyWebhookSignature({ body, signatureHeader: header, secrets: secret, now }).valid).toBe(true);
    expect(verifyWebhookSignature({ body, signatureHeader: `t=${t},v1=${sign(body, secret)}`, secrets: [oldSecret, secret], now }).valid).toBe(true);
    expect(verifyWebhookSignature({ body, signatureHeader: header, secrets: 'whsec_other', now }).valid).toBe(false);
  });

  it('calls a missing or malformed header malformed', () => {
    for (const header of [undefined, null, '', 'v1=abc', `t=${t}`, `t=soon,v1=${sign(body, secret)}`, `t=${t},v1=nothex`, `t=${t};v1=${sign(body, secret)}`]) {
      expect(verifyWebhookSignature({ body, signatureHeader: header, secrets: secret, now })).toEqual({ valid: false, reason: 'malformed' });
    }
  });
});
