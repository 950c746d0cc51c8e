import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Twilio's webhook signature, `X-Twilio-Signature` (https://www.twilio.com/docs/usage/webhooks/webhooks-security):
 * the base64 HMAC-SHA1, keyed with the account's auth token, of the full URL Twilio called (scheme, host, path and
 * query) followed by every POST parameter sorted by name, each name immediately followed by its value, no
 * separators. A name sent several times contributes each distinct value, sorted (as Twilio's own helper library does).
 * GET webhooks have no POST parameters: the URL alone is signed.
 */
export function twilioSignature(url: string, params: FormParams, authToken: string): string {
  let data = url;
  for (const [name, values] of sortedParams(params)) {
    for (const value of values) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * Checks an `X-Twilio-Signature` header in constant time. Twilio is not consistent about the default port in the URL
 * it signs (`https://host/path` or `https://host:443/path`), so, like its helper libraries, both spellings are tried.
 */
export function verifyTwilioSignature(url: string, params: FormParams, header: string | undefined, authToken: string): boolean {
  if (!header) return false;
  const given = Buffer.from(header);
  let valid = false;
  for (const candidate of urlSpellings(url)) {
    const expected = Buffer.from(twilioSignature(candidate, params, authToken));
    // No early exit: every spelling costs the same whether or not an earlier one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}

/** POST parameters: a parsed form body, or a plain record (a value array for a name sent several times). */
export type FormParams = URLSearchParams | Readonly<Record<string, string | readonly string[]>>;

function sortedParams(params: FormParams): [string, string[]][] {
  const byName = new Map<string, Set<string>>();
  const add = (name: string, value: string) => {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  };
  if (params instanceof URLSearchParams) {
    for (const [name, value] of params) add(name, value);
  } else {
    for (const [name, value] of Object.entries(params)) {
      if (typeof value === 'string') add(name, value);
      else for (const v of value) add(name, v);
    }
  }
  return [...byName.entries()].sort(([a], [b]) => compare(a, b)).map(([name, values]) => [name, [...values].sort(compare)]);
}

/** Code-unit order, as JavaScript's default sort and Twilio's helper libraries (not locale order). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The URL as given, and with the scheme's default port removed or spelled out. */
function urlSpellings(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : null;
  // `new URL` drops a default port, so `parsed.port` is empty both for `host` and `host:443`.
  if (!defaultPort || parsed.port !== '') return [url];
  const userInfo = parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : '';
  const rest = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  const withoutPort = `${parsed.protocol}//${userInfo}${parsed.hostname}${rest}`;
  const withPort = `${parsed.protocol}//${userInfo}${parsed.hostname}:${defaultPort}${rest}`;
  return [...new Set([url, withoutPort, withPort])];
}
