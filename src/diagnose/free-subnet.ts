import { IPv4CidrRange } from 'ip-num';
import { parseAddress } from '../decode/address';
import { subnetsOverlap, type Subnet } from '../net/cidr';

/** The RFC 1918 blocks a replacement bridge subnet is taken from, in the order tried. */
const PRIVATE_BLOCKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export interface FreeSubnet {
  subnet: string;
  /** What it was checked against, for the evidence. */
  checkedAgainst: { subnets: number; addresses: number };
}

/**
 * Find a private IPv4 subnet with `prefix` bits that overlaps none of `avoid` and
 * contains none of `addresses`. Blocks that hold none of the addresses at all are
 * preferred (clients in 172.17/16 suggest their network uses more of 172.16/12).
 */
export function findFreeSubnet(prefix: number, avoid: readonly Subnet[], addresses: Iterable<string>): FreeSubnet | null {
  const used: number[] = [];
  for (const a of addresses) {
    const p = parseAddress(a);
    if (p !== null && p.version === 4) used.push(p.words[3]!);
  }
  const blocks = PRIVATE_BLOCKS.map((b) => IPv4CidrRange.fromCidr(b))
    .filter((b) => b.getPrefix().getValue() <= prefix)
    .sort((a, b) => Number(countInside(a, used) > 0) - Number(countInside(b, used) > 0));
  for (const block of blocks) {
    for (const candidate of block.splitInto(prefixOf(prefix))) {
      if (countInside(candidate, used) > 0) continue;
      const asSubnet: Subnet = { text: candidate.toCidrString(), version: 4, range: candidate };
      if (avoid.some((s) => subnetsOverlap(s, asSubnet))) continue;
      return { subnet: asSubnet.text, checkedAgainst: { subnets: avoid.length, addresses: used.length } };
    }
  }
  return null;
}

function prefixOf(bits: number) {
  return IPv4CidrRange.fromCidr(`0.0.0.0/${bits}`).getPrefix();
}

function countInside(range: IPv4CidrRange, addresses: readonly number[]): number {
  const first = Number(range.getFirst().getValue());
  const last = Number(range.getLast().getValue());
  let n = 0;
  for (const a of addresses) if (a >= first && a <= last) n++;
  return n;
}
