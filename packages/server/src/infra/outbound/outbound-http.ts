import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import type { AddressPolicy } from './address-policy.ts';

const MAX_REDIRECTS = 5;

/** A call Parley refused to make: the address it would reach is not allowed (`AddressPolicy`). */
export class OutboundAddressError extends Error {
  override readonly name = 'OutboundAddressError';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`Not allowed to call ${host}: ${reason}`);
  }
}

/** `fetch`, as the calls made on a tenant's behalf use it. */
export type OutboundFetch = (url: string, init?: OutboundRequestInit) => Promise<Response>;
export interface OutboundRequestInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | Uint8Array;
  /**
   * Default 'manual' (a 3xx is the answer). 'follow' (GET only) follows up to 5, each hop checked as the first; the
   * headers (credentials) are not sent on to another origin.
   */
  redirect?: 'manual' | 'error' | 'follow';
  signal?: AbortSignal;
}

/**
 * The HTTP client for every call Parley makes to an address a tenant chose: webhooks, bot endpoints, the open
 * connector's endpoint, channel providers' API base URLs and the files they point to, a brand's JWKS (for consumer
 * authentication). Each connection's address is
 * checked when it is made, after the name is resolved (undici's connect-time `lookup`), so a name that resolves to
 * a refused address, or is changed to one between a check and the call (DNS rebinding), is refused too; a URL
 * whose host is an IP literal (no lookup happens) is checked before the request. Redirects are not followed unless
 * asked for (files: providers' media URLs redirect to their storage), and then each hop is checked as the first,
 * so a public endpoint cannot send Parley on to a private one.
 */
export class OutboundHttp {
  private readonly agent: Agent;

  constructor(readonly policy: AddressPolicy) {
    this.agent = new Agent({ connect: { lookup: guardedLookup(policy) } });
  }

  readonly fetch: OutboundFetch = async (url, init = {}) => {
    if (init.redirect !== 'follow') return this.fetchOnce(url, init);
    if ((init.method ?? 'GET') !== 'GET') throw new Error("redirect: 'follow' is for GET requests only");
    let target = url;
    let hopInit: OutboundRequestInit = { ...init, redirect: 'manual' };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const response = await this.fetchOnce(target, hopInit);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      const next = new URL(location, target);
      // As browsers do: credentials for one origin are not handed to the next.
      if (next.origin !== new URL(target).origin) hopInit = { ...hopInit, headers: {} };
      target = next.toString();
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  };

  private async fetchOnce(url: string, init: OutboundRequestInit): Promise<Response> {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) {
      const verdict = this.policy.check(host);
      if (!verdict.allowed) throw new OutboundAddressError(host, verdict.reason);
    }
    try {
      // undici's own fetch with its Agent (Node's global fetch is undici too, but another copy whose dispatcher
      // interface may differ). Its Response is the WHATWG one the callers read.
      return (await undiciFetch(url, { ...init, redirect: init.redirect === 'error' ? 'error' : 'manual', dispatcher: this.agent })) as unknown as Response;
    } catch (error) {
      // fetch wraps connection errors in a TypeError ("fetch failed") whose cause is what happened.
      if (error instanceof Error && error.cause instanceof OutboundAddressError) throw error.cause;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * dns.lookup, keeping only the addresses the policy allows (so a name that resolves to a public and a private address
 * is called at the public one), and failing with OutboundAddressError when none is left.
 */
export function guardedLookup(policy: AddressPolicy, resolve: typeof dns.lookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const list = addresses as dns.LookupAddress[];
      const allowed = list.filter((a) => policy.check(a.address).allowed);
      const first = allowed[0];
      if (!first) {
        const verdict = list[0] ? policy.check(list[0].address) : undefined;
        const reason = verdict && !verdict.allowed ? verdict.reason : 'the name resolved to no address';
        callback(new OutboundAddressError(hostname, reason) as NodeJS.ErrnoException, '', 0);
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}
