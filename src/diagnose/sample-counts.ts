import { parseAddress } from '../decode/address';
import type { FailedGroup } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import type { DiagnosisInput } from './input';

/**
 * Every failed attempt counted, from the sampled ones the rules see (failed-flow-groups.ts).
 * A group whose whole sample is in a set of flows adds all its attempts and distinct clients
 * to it (exact: the rules judge a group's attempts alike, same subnet, service and outcome);
 * a group in part adds its share of attempts (then `estimated`) and the clients sampled.
 * Flows outside every group (answered late, say) count once each.
 */
export class SampleCounts {
  private readonly groupOf = new Map<string, FailedGroup>();

  constructor(groups: readonly FailedGroup[]) {
    for (const g of groups) for (const f of g.sample) this.groupOf.set(f.id, g);
  }

  /** Attempts one sampled flow stands for: its group's attempts over its sample (1 outside every group). */
  weight(id: string): number {
    const g = this.groupOf.get(id);
    return g === undefined ? 1 : g.flows / g.sample.length;
  }

  /** True when some group is covered in part and holds more than its sample: a count from these flows is an estimate. */
  estimated(ids: readonly string[]): boolean {
    for (const [g, covered] of this.coverage(ids)) if (g !== null && covered < g.sample.length && g.flows > g.sample.length) return true;
    return false;
  }

  /** Distinct clients the flows stand for; at least the `named` ones. */
  clients(ids: readonly string[], clientOf: (id: string) => string | undefined, named: readonly string[] = []): number {
    const bitsBySubnet = new Map<number, Uint32Array>();
    const sampled = new Set<string>();
    let folded = 0;
    const inSet = new Set(ids);
    for (const [g, covered] of this.coverage(ids)) {
      if (g !== null && covered === g.sample.length && g.clientBits !== null) {
        const bits = bitsBySubnet.get(g.subnetV4) ?? new Uint32Array(8);
        for (let i = 0; i < 8; i++) bits[i]! |= g.clientBits[i]!;
        bitsBySubnet.set(g.subnetV4, bits);
      } else if (g !== null && covered === g.sample.length && g.flows > g.sample.length) {
        folded += g.clients;
      } else if (g !== null) {
        for (const f of g.sample) if (inSet.has(f.id)) sampled.add(f.clientIp);
      }
    }
    for (const id of ids) if (this.groupOf.get(id) === undefined) {
      const c = clientOf(id);
      if (c !== undefined) sampled.add(c);
    }
    let count = folded;
    for (const bits of bitsBySubnet.values()) for (const word of bits) count += popcount(word);
    for (const c of sampled) if (!coveredByBits(c, bitsBySubnet)) count++;
    return Math.max(count, named.length);
  }

  private coverage(ids: readonly string[]): Map<FailedGroup | null, number> {
    const out = new Map<FailedGroup | null, number>();
    for (const id of new Set(ids)) {
      const g = this.groupOf.get(id) ?? null;
      out.set(g, (out.get(g) ?? 0) + 1);
    }
    return out;
  }
}

/** Distinct clients a set of flows stands for (at least `named`, the rule's own list). */
export function clientCount(input: Pick<DiagnosisInput, 'counts'>, flows: readonly Flow[], named: readonly string[]): number {
  const counts = input.counts;
  if (counts === undefined) return named.length;
  const byId = new Map(flows.map((f) => [f.id, f.clientIp]));
  return counts.clients(flows.map((f) => f.id), (id) => byId.get(id), named);
}

function coveredByBits(ip: string, bitsBySubnet: ReadonlyMap<number, Uint32Array>): boolean {
  const p = parseAddress(ip);
  if (p === null || p.version !== 4) return false;
  const n = p.words[3]!;
  const bits = bitsBySubnet.get(n >>> 8);
  const octet = n & 255;
  return bits !== undefined && (bits[octet >>> 5]! & (1 << (octet & 31))) !== 0;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}
