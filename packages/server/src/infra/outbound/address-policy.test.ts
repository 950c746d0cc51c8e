import { describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.ts';

describe('AddressPolicy', () => {
  const strict = new AddressPolicy();

  it('allows public addresses, IPv4 and IPv6', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) {
      expect(strict.check(address), address).toEqual({ allowed: true });
    }
  });

  it('refuses the cloud metadata service, loopback, private and other special-purpose addresses, saying why', () => {
    const cases: Array<[string, string]> = [
      ['169.254.169.254', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['127.5.6.7', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'shared'],
      ['0.0.0.0', '"this network"'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['198.18.0.1', 'benchmarking'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fd00::1', 'unique local'],
      ['fe80::1', 'link-local'],
      ['ff02::1', 'multicast'],
    ];
    for (const [address, what] of cases) {
      const verdict = strict.check(address);
      expect(verdict.allowed, address).toBe(false);
      if (!verdict.allowed) {
        expect(verdict.reason).toContain(what);
        expect(verdict.reason).toContain('OUTBOUND_ALLOWED_NETWORKS');
      }
    }
  });

  it('does not mistake the neighbours of a special range for it', () => {
    for (const address of ['172.15.255.255', '172.32.0.0', '100.63.255.255', '169.253.255.255', '11.0.0.1', '192.169.0.1']) {
      expect(strict.check(address), address).toEqual({ allowed: true });
    }
  });

  it('judges IPv4-mapped and NAT64 IPv6 addresses by the IPv4 address they carry', () => {
    for (const address of ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:127.0.0.1', '64:ff9b::10.0.0.1']) {
      const verdict = strict.check(address);
      expect(verdict.allowed, address).toBe(false);
    }
    expect(strict.check('::ffff:8.8.8.8')).toEqual({ allowed: true });
    expect(strict.check('64:ff9b::808:808')).toEqual({ allowed: true });
  });

  it('allows the networks the operator lists, and only those', () => {
    const policy = new AddressPolicy(['127.0.0.0/8', '10.20.0.0/16', '::1', 'fd12:3456::/32']);
    expect(policy.check('127.0.0.1')).toEqual({ allowed: true });
    expect(policy.check('::ffff:127.0.0.1')).toEqual({ allowed: true });
    expect(policy.check('10.20.3.4')).toEqual({ allowed: true });
    expect(policy.check('::1')).toEqual({ allowed: true });
    expect(policy.check('fd12:3456::9')).toEqual({ allowed: true });
    expect(policy.check('10.21.0.1').allowed).toBe(false);
    expect(policy.check('169.254.169.254').allowed).toBe(false);
    expect(policy.check('fd12:3457::1').allowed).toBe(false);
  });

  it('refuses what is not an IP address, and a list entry that is not a network', () => {
    expect(strict.check('example.com').allowed).toBe(false);
    for (const bad of ['10.0.0.0/33', 'localhost', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x', '']) {
      expect(() => new AddressPolicy([bad]), bad).toThrow(/not an IP network/);
    }
  });
});
