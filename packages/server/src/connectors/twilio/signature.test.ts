import { describe, expect, it } from 'vitest';
import { twilioSignature, verifyTwilioSignature } from './signature.ts';

// Twilio's documented example (docs "Webhooks security" and the twilio-node snippet security/signature_validation).
const DOCS_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DOCS_TOKEN = '12345';
const DOCS_PARAMS = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
const DOCS_SIGNATURE = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

describe('X-Twilio-Signature', () => {
  it("reproduces the signature of Twilio's documented example", () => {
    expect(twilioSignature(DOCS_URL, DOCS_PARAMS, DOCS_TOKEN)).toBe(DOCS_SIGNATURE);
    // The same example with the caller the newer docs use.
    expect(twilioSignature(DOCS_URL, { ...DOCS_PARAMS, Caller: '+12349013030', From: '+12349013030' }, DOCS_TOKEN)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('signs the parameters sorted by name, whatever order they were sent in', () => {
    const shuffled = new URLSearchParams([
      ['To', '+18005551212'],
      ['Digits', '1234'],
      ['From', '+14158675309'],
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+14158675309'],
    ]);
    expect(twilioSignature(DOCS_URL, shuffled, DOCS_TOKEN)).toBe(DOCS_SIGNATURE);
    expect(verifyTwilioSignature(DOCS_URL, shuffled, DOCS_SIGNATURE, DOCS_TOKEN)).toBe(true);
  });

  it('signs a GET webhook over its URL alone, and a repeated name with each of its values sorted', () => {
    expect(twilioSignature(DOCS_URL, {}, DOCS_TOKEN)).toBe(twilioSignature(DOCS_URL, new URLSearchParams(), DOCS_TOKEN));
    const repeated = new URLSearchParams([
      ['MediaUrl', 'https://b.example/2.png'],
      ['MediaUrl', 'https://a.example/1.png'],
    ]);
    expect(twilioSignature(DOCS_URL, repeated, DOCS_TOKEN)).toBe(twilioSignature(DOCS_URL, { MediaUrl: ['https://a.example/1.png', 'https://b.example/2.png'] }, DOCS_TOKEN));
  });

  it.each([
    ['a missing header', DOCS_URL, DOCS_PARAMS, undefined, DOCS_TOKEN],
    ['an empty header', DOCS_URL, DOCS_PARAMS, '', DOCS_TOKEN],
    ['another auth token', DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE, '54321'],
    ['a changed parameter', DOCS_URL, { ...DOCS_PARAMS, Digits: '1235' }, DOCS_SIGNATURE, DOCS_TOKEN],
    ['an added parameter', DOCS_URL, { ...DOCS_PARAMS, Body: 'hi' }, DOCS_SIGNATURE, DOCS_TOKEN],
    ['a removed parameter', DOCS_URL, { ...DOCS_PARAMS, Digits: [] }, DOCS_SIGNATURE, DOCS_TOKEN],
    ['another query string', 'https://mycompany.com/myapp.php?foo=1&bar=3', DOCS_PARAMS, DOCS_SIGNATURE, DOCS_TOKEN],
    ['another scheme', 'http://mycompany.com/myapp.php?foo=1&bar=2', DOCS_PARAMS, DOCS_SIGNATURE, DOCS_TOKEN],
    ['a truncated signature', DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE.slice(0, -1), DOCS_TOKEN],
  ] as const)('refuses %s', (_case, url, params, header, token) => {
    expect(verifyTwilioSignature(url, params, header, token)).toBe(false);
  });

  it('accepts the URL with or without the default port, as Twilio signs either', () => {
    const withPort = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    expect(verifyTwilioSignature(withPort, DOCS_PARAMS, DOCS_SIGNATURE, DOCS_TOKEN)).toBe(true);
    const signedWithPort = twilioSignature(withPort, DOCS_PARAMS, DOCS_TOKEN);
    expect(verifyTwilioSignature(DOCS_URL, DOCS_PARAMS, signedWithPort, DOCS_TOKEN)).toBe(true);
    // A non-default port is part of the URL.
    expect(verifyTwilioSignature('https://mycompany.com:8443/myapp.php?foo=1&bar=2', DOCS_PARAMS, DOCS_SIGNATURE, DOCS_TOKEN)).toBe(false);
  });

  it('signs non-ASCII text as UTF-8', () => {
    const params = { Body: 'Grüße 👋', From: '+4915112345678' };
    const signature = twilioSignature('https://parley.example/webhooks/sms', params, 'token-123456');
    expect(verifyTwilioSignature('https://parley.example/webhooks/sms', new URLSearchParams(new URLSearchParams(params).toString()), signature, 'token-123456')).toBe(true);
  });
});
