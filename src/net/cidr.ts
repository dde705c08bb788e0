import type { IPv4CidrRange, IPv6CidrRange } from 'ip-num';

let ipNumModule: typeof import('ip-num') | null = null;

/** ip-num, loaded when a subnet is first parsed: it takes about 35 ms to load, and a run without bridges or a context parses none. */
function ipNum(): typeof import('ip-num') {
  return (ipNumModule ??= require('ip-num') as typeof import('ip-num'));
}

/** A parsed subnet: canonical text ("172.17.0.0/16", "fd00::/64") plus ip-num's range for the math. */
export interface Subnet {
  readonly text: string;
  readonly version: 4 | 6;
  readonly range: IPv4CidrRange | IPv6CidrRange;
}

/**
 * Parse "a.b.c.d/n" or "x::/n". Host bits are allowed and cleared (docker0's own
 * address 172.17.0.1/16 names the subnet 172.17.0.0/16). Returns null when invalid.
 */
export function parseSubnet(text: string): Subnet | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = text.slice(0, slash);
  const prefix = Number(text.slice(slash + 1));
  if (!/^\d{1,3}$/.test(text.slice(slash + 1))) return null;
  const { IPv4CidrRange, IPv6, IPv6CidrRange, Validator, collapseIPv6Number } = ipNum();
  if (addr.includes(':')) {
    if (!Validator.isValidIPv6String(addr)[0] || prefix > 128) return null;
    // ip-num's CIDR parser takes no dotted IPv4 tail (::ffff:10.0.0.0); its address parser does.
    const first = IPv6CidrRange.fromCidr(`${IPv6.fromString(addr).toString()}/${prefix}`).getFirst();
    const range = IPv6CidrRange.fromCidr(`${first.toString()}/${prefix}`);
    return { text: `${collapseIPv6Number(first.toString())}/${prefix}`, version: 6, range };
  }
  if (!Validator.isValidIPv4String(addr)[0] || prefix > 32) return null;
  const first = IPv4CidrRange.fromCidr(`${addr}/${prefix}`).getFirst();
  const range = IPv4CidrRange.fromCidr(`${first.toString()}/${prefix}`);
  return { text: `${first.toString()}/${prefix}`, version: 4, range };
}

/** True when the canonical address text `ip` lies inside `subnet`. */
export function subnetContains(subnet: Subnet, ip: string): boolean {
  const { IPv4, IPv6 } = ipNum();
  if (subnet.version === 4) {
    if (ip.includes(':')) return false;
    return (subnet.range as IPv4CidrRange).contains(IPv4.fromDecimalDottedString(ip));
  }
  if (!ip.includes(':')) return false;
  return (subnet.range as IPv6CidrRange).contains(IPv6.fromString(ip));
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  if (a.version !== b.version) return false;
  if (a.version === 4) return (a.range as IPv4CidrRange).isOverlapping(b.range as IPv4CidrRange);
  return (a.range as IPv6CidrRange).isOverlapping(b.range as IPv6CidrRange);
}

/**
 * The first host address of an IPv4 subnet given as "a.b.c.0/n" (its network address
 * plus one): where Docker puts a bridge's gateway (docker0 172.17.0.1). Null for IPv6.
 */
export function firstHostAddress(subnet: string): string | null {
  const o = (subnet.split('/')[0] ?? '').split('.').map(Number);
  return o.length === 4 ? `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 1}` : null;
}
