import { parseAddress } from '../decode/address';
import { parseSubnet, subnetsOverlap, type Subnet } from '../net/cidr';

/**
 * Where a replacement subnet is looked for, in order within each RFC 1918 block: the
 * high end of 10/8 (10.200-10.255, then down from 10.199) and of 172.16/12 (down from
 * 172.31). Office and home networks, VPNs and cloud VPC defaults crowd the low ends
 * (10.0.x, 10.1.x, 172.16.x) and 192.168.0-1.x; Docker itself starts at 172.17 (docker0)
 * and 172.18 (docker_gwbridge). 192.168/16 is never proposed: it is the home LAN range,
 * and a client behind any home router may be in it.
 */
const REGIONS: readonly { block: string; walks: readonly { from: string; to: string; down?: boolean }[] }[] = [
  { block: '10.0.0.0/8', walks: [{ from: '10.200.0.0', to: '10.255.255.255' }, { from: '10.2.0.0', to: '10.199.255.255', down: true }] },
  { block: '172.16.0.0/12', walks: [{ from: '172.19.0.0', to: '172.31.255.255', down: true }] },
];

/** The largest subnet proposed: Docker's docker0 default, a /16. Anything larger is most of a private block. */
export const LARGEST_PREFIX = 16;

export interface FreeSubnet {
  subnet: string;
  /** What it was checked against, for the evidence. */
  checkedAgainst: { subnets: number; addresses: number };
}

/**
 * The size proposed for a bridge that moves: its current size, never larger than a /16,
 * and a /20 (4,094 addresses) in place of anything larger than that unless the bridge's
 * ports (containers attached, when a snapshot tells) would fill more than half of it.
 * Why not keep docker0's /16: it is the size that swallowed a whole 172.x LAN to begin
 * with, and a bridge holds one address per container on this host, hundreds at most,
 * where a /20 still leaves room; a smaller subnet also finds a free gap more easily.
 */
export function replacementPrefix(currentPrefix: number, ports: number | null = null): number {
  const largest = Math.max(currentPrefix, LARGEST_PREFIX);
  let prefix = Math.max(currentPrefix, 20);
  while (prefix > largest && ports !== null && ports * 2 > 2 ** (32 - prefix) - 2) prefix--;
  return prefix;
}

/**
 * Find up to `count` distinct private IPv4 subnets of `prefix` bits (at most a /16) that
 * overlap none of `avoid`, each other, or any of `addresses`, walking the regions above.
 * A block that holds none of the addresses is tried first (clients in 172.17/16 suggest
 * their network uses more of 172.16/12).
 */
export function findFreeSubnets(prefix: number, count: number, avoid: readonly Subnet[], addresses: Iterable<string>): FreeSubnet[] {
  prefix = Math.max(prefix, LARGEST_PREFIX);
  const used: number[] = [];
  for (const a of addresses) {
    const p = parseAddress(a);
    if (p !== null && p.version === 4) used.push(p.words[3]!);
  }
  const taken = [...avoid];
  const found: FreeSubnet[] = [];
  const size = 2 ** (32 - prefix);
  const regions = [...REGIONS].sort((a, b) => Number(holdsAny(a.block, used)) - Number(holdsAny(b.block, used)));
  for (const region of regions) {
    for (const walk of region.walks) {
      // Walk the candidates as numbers: 10.200/16 to 10.255/16 holds 14,336 /24s, too many ip-num objects to build.
      const lo = Math.ceil(toNumber(walk.from) / size) * size;
      const hi = Math.floor((toNumber(walk.to) + 1) / size) * size - size;
      for (let k = 0; lo + k * size <= hi && found.length < count; k++) {
        const first = walk.down === true ? hi - k * size : lo + k * size;
        if (used.some((a) => a >= first && a < first + size)) continue;
        const candidate = parseSubnet(`${fromNumber(first)}/${prefix}`)!;
        if (taken.some((s) => subnetsOverlap(s, candidate))) continue;
        taken.push(candidate);
        found.push({ subnet: candidate.text, checkedAgainst: { subnets: avoid.length, addresses: used.length } });
      }
      if (found.length >= count) return found;
    }
  }
  return found;
}

function holdsAny(block: string, addresses: readonly number[]): boolean {
  const [base, len] = block.split('/');
  const first = toNumber(base!);
  const last = first + 2 ** (32 - Number(len)) - 1;
  return addresses.some((a) => a >= first && a <= last);
}

function toNumber(dotted: string): number {
  return dotted.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function fromNumber(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
