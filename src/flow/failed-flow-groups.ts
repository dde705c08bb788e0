import { clientSubnetOf, ipv4ToString } from '../decode/address';
import type { AttemptOutcome, Flow } from './flow';
import type { FlowView } from './flow-view';

/**
 * The failed connection attempts in bounded memory. A SYN flood of millions must not hold
 * a Flow object per attempt, yet every count must stay exact and every kind of failure
 * must still reach the rules. Attempts are grouped by client subnet (IPv4 /24, IPv6 /64),
 * service and outcome; each group counts its attempts, SYNs and distinct clients exactly
 * and keeps the first SAMPLE_PER_GROUP attempts as Flow objects for the rules to look at.
 * When MAX_GROUPS groups exist, the lighter half is folded into one "other subnets" group
 * per service and outcome (still exact counts, and a sample of its own); past MAX_OTHER_GROUPS
 * of those, into one per outcome. So the heaviest groups keep their own line and a flood
 * from random spoofed sources ends as a few lines, with every total exact.
 */

export const SAMPLE_PER_GROUP = 32;
export const MAX_GROUPS = 512;
export const MAX_OTHER_GROUPS = 256;
/** Distinct IPv6 clients counted per group (a /64 can hold more: the count then says "at least"). */
const MAX_V6_CLIENTS = 1024;
export const OTHER_SUBNETS = 'other';

export interface FailedGroup {
  /** "10.1.2.0/24", "2001:db8:0:1::/64", or OTHER_SUBNETS for the folded ones. */
  clientSubnet: string;
  /** "ip:port" ("[ip]:port" for IPv6), or OTHER_SUBNETS when even services were folded. */
  service: string;
  outcome: Exclude<AttemptOutcome, 'completed'>;
  /** Failed attempts (flows) in the group: exact. */
  flows: number;
  /** SYNs of those attempts, retransmissions included. */
  syns: number;
  /** Distinct client addresses (summed over the subnets a folded group holds). */
  clients: number;
  /** Subnet groups folded into this one (0 for a subnet's own group). */
  foldedGroups: number;
  /** The attempts kept as Flow objects, first seen first (at most SAMPLE_PER_GROUP). */
  sample: Flow[];
  /** IPv4 client bits by last octet (a subnet's own IPv4 group only): distinct clients, and their union across groups. */
  clientBits: Uint32Array | null;
  /** The /24 as a number (address >>> 8), or -1. */
  subnetV4: number;
  /** Arrival number of each sample flow, so the samples of all groups merge back in arrival order. */
  sampleSeq: number[];
}

export interface GroupBounds {
  maxGroups: number;
  samplePerGroup: number;
  maxOtherGroups: number;
}

export class FailedFlowGroups {
  private readonly bounds: GroupBounds;
  private readonly groups = new Map<string, FailedGroup>();
  private readonly v6Clients = new Map<FailedGroup, Set<string>>();
  private readonly others = new Map<string, FailedGroup>();
  private readonly rest = new Map<string, FailedGroup>();
  private total = 0;

  constructor(bounds: Partial<GroupBounds> = {}) {
    this.bounds = { maxGroups: MAX_GROUPS, samplePerGroup: SAMPLE_PER_GROUP, maxOtherGroups: MAX_OTHER_GROUPS, ...bounds };
  }

  /** Counts one failed attempt; `toFlow` is called only when the attempt is kept in a sample. */
  add(view: FlowView, toFlow: () => Flow): void {
    const outcome = view.outcome as FailedGroup['outcome'];
    const v4 = view.clientIpv4;
    const service = view.serverEndpoint;
    const subnetText = v4 >= 0 ? null : clientSubnetOf(view.clientIp);
    const key = v4 >= 0 ? `${v4 >>> 8}|${service}|${outcome}` : `${subnetText}|${service}|${outcome}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.bounds.maxGroups) this.foldLighterHalf();
      g = {
        clientSubnet: subnetText ?? `${ipv4ToString(((v4 >>> 8) << 8) >>> 0)}/24`,
        service,
        outcome,
        flows: 0,
        syns: 0,
        clients: 0,
        foldedGroups: 0,
        sample: [],
        clientBits: v4 >= 0 ? new Uint32Array(8) : null,
        subnetV4: v4 >= 0 ? v4 >>> 8 : -1,
        sampleSeq: [],
      };
      this.groups.set(key, g);
    }
    this.total++;
    g.flows++;
    g.syns += view.syns;
    if (g.clientBits !== null) {
      const octet = v4 & 255;
      const bit = 1 << (octet & 31);
      if ((g.clientBits[octet >>> 5]! & bit) === 0) {
        g.clientBits[octet >>> 5]! |= bit;
        g.clients++;
      }
    } else {
      let seen = this.v6Clients.get(g);
      if (seen === undefined) this.v6Clients.set(g, (seen = new Set()));
      if (seen.size < MAX_V6_CLIENTS && !seen.has(view.clientIp)) {
        seen.add(view.clientIp);
        g.clients++;
      }
    }
    if (g.sample.length < this.bounds.samplePerGroup) {
      g.sample.push(toFlow());
      g.sampleSeq.push(this.total);
    }
  }

  /** Failed attempts counted, exact. */
  get count(): number {
    return this.total;
  }

  /** Every group: subnets first (heaviest first), then the folded ones. */
  list(): FailedGroup[] {
    const byWeight = (a: FailedGroup, b: FailedGroup) => b.flows - a.flows || a.sample[0]!.firstSeen - b.sample[0]!.firstSeen;
    return [...[...this.groups.values()].sort(byWeight), ...[...this.others.values()].sort(byWeight), ...[...this.rest.values()].sort(byWeight)];
  }

  /** The kept attempts of every group, in the order they left the tracker. */
  sampled(): Flow[] {
    const all: [number, Flow][] = [];
    for (const g of [...this.groups.values(), ...this.others.values(), ...this.rest.values()]) g.sample.forEach((f, i) => all.push([g.sampleSeq[i]!, f]));
    return all.sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  private foldLighterHalf(): void {
    const lighter = [...this.groups.entries()].sort((a, b) => a[1].flows - b[1].flows).slice(0, Math.ceil(this.bounds.maxGroups / 2));
    for (const [key, g] of lighter) {
      this.groups.delete(key);
      this.v6Clients.delete(g);
      this.fold(g);
    }
  }

  private fold(g: FailedGroup): void {
    const byService = `${g.service}|${g.outcome}`;
    let into = this.others.get(byService);
    if (into === undefined && this.others.size < this.bounds.maxOtherGroups) {
      into = emptyFolded(g.service, g.outcome);
      this.others.set(byService, into);
    }
    if (into === undefined) {
      into = this.rest.get(g.outcome);
      if (into === undefined) this.rest.set(g.outcome, (into = emptyFolded(OTHER_SUBNETS, g.outcome)));
    }
    into.flows += g.flows;
    into.syns += g.syns;
    into.clients += g.clients;
    into.foldedGroups += Math.max(1, g.foldedGroups);
    for (let i = 0; i < g.sample.length && into.sample.length < this.bounds.samplePerGroup; i++) {
      into.sample.push(g.sample[i]!);
      into.sampleSeq.push(g.sampleSeq[i]!);
    }
  }
}

function emptyFolded(service: string, outcome: FailedGroup['outcome']): FailedGroup {
  return { clientSubnet: OTHER_SUBNETS, service, outcome, flows: 0, syns: 0, clients: 0, foldedGroups: 0, sample: [], clientBits: null, subnetV4: -1, sampleSeq: [] };
}

