import { IPv4, IPv4CidrRange } from 'ip-num';
import { parseAddress } from '../decode/address';
import { subnetsOverlap, type Subnet } from '../net/cidr';

/**
 * The RFC 1918 blocks a replacement subnet is taken from, each with the place the
 * search starts: far from the ranges networks (10.0.x, 192.168.0.x) and Docker
 * (172.17-31.x) use first. The search wraps around to the block's start.
 */
const PRIVATE_BLOCKS: readonly { block: string; startAt: string }[] = [
  { block: '10.0.0.0/8', startAt: '10.200.0.0' },
  { block: '172.16.0.0/12', startAt: '172.28.0.0' },
  { block: '192.168.0.0/16', startAt: '192.168.200.0' },
];

export interface FreeSubnet {
  subnet: string;
  /** What it was checked against, for the evidence. */
  checkedAgainst: { subnets: number; addresses: number };
}

/**
 * Find up to `count` distinct private IPv4 subnets with `prefix` bits that overlap none
 * of `avoid`, each other, or any of `addresses`. Blocks that hold none of the addresses
 * are preferred (clients in 172.17/16 suggest their network uses more of 172.16/12).
 */
export function findFreeSubnets(prefix: number, count: number, avoid: readonly Subnet[], addresses: Iterable<string>): FreeSubnet[] {
  const used: number[] = [];
  for (const a of addresses) {
    const p = parseAddress(a);
    if (p !== null && p.version === 4) used.push(p.words[3]!);
  }
  const taken = [...avoid];
  const found: FreeSubnet[] = [];
  const blocks = PRIVATE_BLOCKS.map((b) => ({ ...b, range: IPv4CidrRange.fromCidr(b.block) }))
    .filter((b) => Number(b.range.getPrefix().getValue()) <= prefix)
    .sort((a, b) => Number(countInside(a.range, used) > 0) - Number(countInside(b.range, used) > 0));
  for (const { range, startAt } of blocks) {
    // Walk the candidates as numbers: a /8 holds 65,536 /24s, too many ip-num objects to build.
    const blockFirst = Number(range.getFirst().getValue());
    const size = 2 ** (32 - prefix);
    const candidates = Number(range.getSize()) / size;
    const start = Math.max(0, Math.floor((Number(IPv4.fromDecimalDottedString(startAt).getValue()) - blockFirst) / size));
    for (let k = 0; k < candidates && found.length < count; k++) {
      const first = blockFirst + ((start + k) % candidates) * size;
      if (used.some((a) => a >= first && a < first + size)) continue;
      const candidate = IPv4CidrRange.fromCidr(`${IPv4.fromNumber(first).toString()}/${prefix}`);
      const asSubnet: Subnet = { text: candidate.toCidrString(), version: 4, range: candidate };
      if (taken.some((s) => subnetsOverlap(s, asSubnet))) continue;
      taken.push(asSubnet);
      found.push({ subnet: asSubnet.text, checkedAgainst: { subnets: avoid.length, addresses: used.length } });
    }
    if (found.length >= count) break;
  }
  return found;
}

function countInside(range: IPv4CidrRange, addresses: readonly number[]): number {
  const first = Number(range.getFirst().getValue());
  const last = Number(range.getLast().getValue());
  let n = 0;
  for (const a of addresses) if (a >= first && a <= last) n++;
  return n;
}
