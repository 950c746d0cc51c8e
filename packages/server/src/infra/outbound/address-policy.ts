import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses Parley may call on a tenant's behalf (webhooks, bot endpoints, the open connector's
 * endpoint, channel providers' API base URLs, a brand's JWKS). A tenant administrator chooses those URLs, so without
 * a policy they could make Parley call what only Parley can reach: the cloud's metadata service (169.254.169.254,
 * which hands out the machine's credentials), the database, Redis, other services on the private network, Parley's
 * own /metrics.
 *
 * Public addresses are allowed; the special-purpose ones (IANA's registries: private, loopback, link-local, shared,
 * documentation, benchmarking, multicast, reserved) are refused unless the operator lists them in
 * `OUTBOUND_ALLOWED_NETWORKS` (e.g. `10.20.0.0/16` for bots on the private network, `127.0.0.0/8` for a local
 * development bot). IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

const SPECIAL_V4: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local: cloud metadata services answer here'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const SPECIAL_V6: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
];

interface SpecialRange {
  network: string;
  prefix: number;
  what: string;
  list: BlockList;
}
function ranges(entries: ReadonlyArray<[string, number, string]>, type: 'ipv4' | 'ipv6'): SpecialRange[] {
  return entries.map(([network, prefix, what]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { network, prefix, what, list };
  });
}
const SPECIAL_V4_RANGES = ranges(SPECIAL_V4, 'ipv4');
const SPECIAL_V6_RANGES = ranges(SPECIAL_V6, 'ipv6');

export class AddressPolicy {
  private readonly allowed = new BlockList();

  /** @param allowedNetworks CIDRs (or single addresses) that may be called although they are not public. */
  constructor(readonly allowedNetworks: readonly string[] = []) {
    for (const network of allowedNetworks) {
      const parsed = parseNetwork(network);
      if (!parsed) throw new Error(`not an IP network: ${JSON.stringify(network)} (expected e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8)`);
      this.allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  /** Whether `address` (an IP literal, as a resolver returns it) may be called. */
  check(address: string): AddressVerdict {
    const family = isIP(address);
    if (family === 0) return { allowed: false, reason: `${address} is not an IP address` };
    // An IPv4-mapped or NAT64 address reaches the IPv4 address it carries: judged as that one.
    const carried = family === 6 ? embeddedIpv4(address) : undefined;
    const [judged, type] = carried === undefined ? ([address, family === 4 ? 'ipv4' : 'ipv6'] as const) : ([carried, 'ipv4'] as const);
    if (this.allowed.check(judged, type) || (carried !== undefined && this.allowed.check(address, 'ipv6'))) return { allowed: true };
    const range = (type === 'ipv4' ? SPECIAL_V4_RANGES : SPECIAL_V6_RANGES).find((r) => r.list.check(judged, type));
    if (!range) return { allowed: true };
    const shown = carried === undefined ? address : `${address} (IPv4 ${carried})`;
    return {
      allowed: false,
      reason: `${shown} is in ${range.network}/${range.prefix} (${range.what}); Parley calls only public addresses on a tenant's behalf unless OUTBOUND_ALLOWED_NETWORKS lists it`,
    };
  }
}

function parseNetwork(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const words = expandIpv6(address);
  if (!words) return undefined;
  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !nat64) return undefined;
  const high = words[6] ?? 0;
  const low = words[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit words of an IPv6 address (a dotted IPv4 tail included). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const bytes = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)).toString(16)}:${(((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headWords = head === '' ? [] : head.split(':');
  const tailWords = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headWords.length - tailWords.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const words = [...headWords, ...Array.from({ length: missing }, () => '0'), ...tailWords].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}
