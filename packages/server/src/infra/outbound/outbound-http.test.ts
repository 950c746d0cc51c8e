import type dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.ts';
import { guardedLookup, OutboundAddressError, OutboundHttp } from './outbound-http.ts';

/** A real HTTP server on loopback: what a tenant's endpoint pointed at this machine would reach. */
let server: http.Server;
let port = 0;
const requests: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    if (req.url === '/to-ok') {
      res.writeHead(302, { location: '/ok' }).end();
      return;
    }
    if (req.url === '/to-other-origin') {
      res.writeHead(302, { location: `http://localhost:${port}/credentials` }).end();
      return;
    }
    if (req.url === '/credentials') {
      res.writeHead(200).end(req.headers.authorization ?? 'none');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('secret of the private network');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('OutboundHttp', () => {
  it('refuses a loopback address given as an IP literal, before any connection', async () => {
    const outbound = new OutboundHttp(new AddressPolicy());
    requests.length = 0;
    await expect(outbound.fetch(`http://127.0.0.1:${port}/ok`)).rejects.toThrow(OutboundAddressError);
    await expect(outbound.fetch(`http://[::ffff:127.0.0.1]:${port}/ok`)).rejects.toThrow(/loopback/);
    await expect(outbound.fetch('http://169.254.169.254/latest/meta-data/')).rejects.toThrow(/link-local/);
    expect(requests).toEqual([]);
    await outbound.close();
  });

  it('refuses a name that resolves to a loopback address, when it connects', async () => {
    const outbound = new OutboundHttp(new AddressPolicy());
    requests.length = 0;
    const error = await outbound.fetch(`http://localhost:${port}/ok`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundAddressError);
    expect((error as OutboundAddressError).message).toMatch(/^Not allowed to call localhost: .* is in .* \(loopback\)/);
    expect(requests).toEqual([]);
    await outbound.close();
  });

  it('calls the networks the operator allows, by address and by name', async () => {
    const outbound = new OutboundHttp(new AddressPolicy(['127.0.0.0/8', '::1']));
    const byAddress = await outbound.fetch(`http://127.0.0.1:${port}/ok`);
    expect(byAddress.status).toBe(200);
    expect(await byAddress.text()).toBe('secret of the private network');
    const byName = await outbound.fetch(`http://localhost:${port}/ok`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(byName.status).toBe(200);
    await byName.text();
    await outbound.close();
  });

  it('does not follow a redirect unless asked, and checks every hop when it does', async () => {
    const outbound = new OutboundHttp(new AddressPolicy(['127.0.0.0/8']));
    const notFollowed = await outbound.fetch(`http://127.0.0.1:${port}/to-ok`);
    expect(notFollowed.status).toBe(302);
    await notFollowed.body?.cancel();
    const followed = await outbound.fetch(`http://127.0.0.1:${port}/to-ok`, { redirect: 'follow' });
    expect(followed.status).toBe(200);
    await followed.text();
    // Credentials stay with their origin: the same host under another name is another origin.
    const sameOrigin = await outbound.fetch(`http://127.0.0.1:${port}/credentials`, { headers: { authorization: 'Bearer t' }, redirect: 'follow' });
    expect(await sameOrigin.text()).toBe('Bearer t');
    const allowLocalhost = new OutboundHttp(new AddressPolicy(['127.0.0.0/8', '::1']));
    const elsewhere = await allowLocalhost.fetch(`http://127.0.0.1:${port}/to-other-origin`, { headers: { authorization: 'Bearer t' }, redirect: 'follow' });
    expect(elsewhere.status).toBe(200);
    expect(await elsewhere.text()).toBe('none');
    await allowLocalhost.close();
    // An allowed endpoint cannot send Parley on to the metadata service.
    await expect(outbound.fetch(`http://127.0.0.1:${port}/to-metadata`, { redirect: 'follow' })).rejects.toThrow(/169\.254\.169\.254 is in 169\.254\.0\.0\/16 \(link-local/);
    await outbound.close();
  });
});

describe('guardedLookup', () => {
  const policy = new AddressPolicy();
  /** A resolver that answers every name with these addresses. */
  const resolver = (addresses: dns.LookupAddress[]): typeof dns.lookup =>
    ((_hostname: string, _options: dns.LookupOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) =>
      callback(null, addresses)) as unknown as typeof dns.lookup;
  const lookUp = (addresses: dns.LookupAddress[], all: boolean) =>
    new Promise<{ error: Error | null; address: unknown; family: unknown }>((resolve) => {
      guardedLookup(policy, resolver(addresses))('rebinding.example', { all }, (error, address, family) => resolve({ error, address, family }));
    });

  it('keeps only the allowed addresses of a name that resolves to public and private ones', async () => {
    const mixed = [
      { address: '169.254.169.254', family: 4 },
      { address: '93.184.216.34', family: 4 },
    ];
    expect(await lookUp(mixed, false)).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(await lookUp(mixed, true)).toMatchObject({ error: null, address: [{ address: '93.184.216.34', family: 4 }] });
  });

  it('fails with the reason when every address is refused', async () => {
    const { error } = await lookUp([{ address: '10.0.0.5', family: 4 }], false);
    expect(error).toBeInstanceOf(OutboundAddressError);
    expect(error?.message).toBe(
      "Not allowed to call rebinding.example: 10.0.0.5 is in 10.0.0.0/8 (private); Parley calls only public addresses on a tenant's behalf unless OUTBOUND_ALLOWED_NETWORKS lists it",
    );
  });
});
