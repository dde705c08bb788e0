import { formatAddress, ipv4ToString } from '../decode/address';
import type { AttemptOutcome, Flow } from './flow';
import { FlowStore } from './flow-store';
import { FlowView } from './flow-view';

/**
 * The failed connection attempts in bounded memory. A SYN flood of millions must not hold
 * a Flow object per attempt, yet every count must stay exact and every kind of failure
 * must still reach the rules. Attempts are grouped by client subnet (IPv4 /24, IPv6 /64),
 * service and outcome; each group counts its attempts, SYNs and distinct clients exactly
 * and keeps the first SAMPLE_PER_GROUP attempts as Flow objects for the rules to look at.
 * A kept attempt is held as a copy of its tracker record until the groups are listed, and
 * only then made a Flow: most groups of a flood are folded before that and drop most of
 * their samples (on the 2M-packet bench file, 2,409 of 20,106 kept attempts survive).
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
  clientBits: number[] | null;
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
  /** The subnets' own groups, in the order they were made (ties in weight keep it). */
  private readonly groups = new Set<FailedGroup>();
  /** IPv4 groups by service, then by v4GroupKey(); IPv6 groups by v6GroupKey(). No key text is made per attempt for IPv4. */
  private readonly v4Groups = new Map<string, Map<number, FailedGroup>>();
  private readonly v6Groups = new Map<string, FailedGroup>();
  private readonly v6Clients = new Map<FailedGroup, Set<string>>();
  /** The per-service folds, in the order they were made, and found by service, then outcome (no key text per fold). */
  private readonly others: FailedGroup[] = [];
  private readonly othersByService = new Map<string, Map<string, FailedGroup>>();
  private readonly rest = new Map<string, FailedGroup>();
  private total = 0;
  /** Kept attempts per group, in order: a Flow, or the slot of a record copy in `copies` not yet made one. */
  private readonly kept = new Map<FailedGroup, (Flow | number)[]>();
  private readonly copies = new FlowStore();
  private readonly copyView = new FlowView(this.copies);
  private readonly words = new Uint32Array(4);

  constructor(bounds: Partial<GroupBounds> = {}) {
    this.bounds = { maxGroups: MAX_GROUPS, samplePerGroup: SAMPLE_PER_GROUP, maxOtherGroups: MAX_OTHER_GROUPS, ...bounds };
  }

  /**
   * Counts one failed attempt. When it is kept in a sample, `full` is kept if given (a Flow
   * made anyway, e.g. for --all-flows), else a copy of the view's record.
   */
  add(view: FlowView, full: Flow | null): void {
    const outcome = view.outcome as FailedGroup['outcome'];
    const v4 = view.clientIpv4;
    const service = view.serverEndpoint;
    const subnetText = v4 >= 0 ? null : v6SubnetOf(view, this.words);
    let g = v4 >= 0 ? this.v4Groups.get(service)?.get(v4GroupKey(v4 >>> 8, outcome)) : this.v6Groups.get(v6GroupKey(subnetText!, service, outcome));
    if (g === undefined) {
      if (this.groups.size >= this.bounds.maxGroups) this.foldLighterHalf();
      g = {
        // An IPv4 subnet's text is made by list(), for the groups that were not folded.
        clientSubnet: subnetText ?? '',
        service,
        outcome,
        flows: 0,
        syns: 0,
        clients: 0,
        foldedGroups: 0,
        sample: [],
        // A plain array: a typed array and its backing store per group cost a spoofed flood (a group per SYN) its garbage.
        clientBits: v4 >= 0 ? [0, 0, 0, 0, 0, 0, 0, 0] : null,
        subnetV4: v4 >= 0 ? v4 >>> 8 : -1,
        sampleSeq: [],
      };
      this.groups.add(g);
      this.index(g);
      this.kept.set(g, []);
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
    const kept = this.kept.get(g)!;
    if (kept.length < this.bounds.samplePerGroup) {
      kept.push(full ?? view.copyInto(this.copies));
      g.sampleSeq.push(this.total);
    }
  }

  /** Failed attempts counted, exact. */
  get count(): number {
    return this.total;
  }

  /** Every group: subnets first (heaviest first), then the folded ones. */
  list(): FailedGroup[] {
    this.settle();
    for (const g of this.groups) if (g.subnetV4 >= 0 && g.clientSubnet === '') g.clientSubnet = `${ipv4ToString((g.subnetV4 << 8) >>> 0)}/24`;
    const byWeight = (a: FailedGroup, b: FailedGroup) => b.flows - a.flows || a.sample[0]!.firstSeen - b.sample[0]!.firstSeen;
    return [...[...this.groups].sort(byWeight), ...[...this.others].sort(byWeight), ...[...this.rest.values()].sort(byWeight)];
  }

  /** The kept attempts of every group, in the order they left the tracker. */
  sampled(): Flow[] {
    this.settle();
    const all: [number, Flow][] = [];
    for (const g of [...this.groups, ...this.others, ...this.rest.values()]) g.sample.forEach((f, i) => all.push([g.sampleSeq[i]!, f]));
    return all.sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** Makes every kept record copy a Flow, and each group's sample its kept Flows. */
  private settle(): void {
    const view = this.copyView;
    for (const [g, kept] of this.kept) {
      for (let i = 0; i < kept.length; i++) {
        const k = kept[i]!;
        if (typeof k !== 'number') continue;
        view.bind(k);
        kept[i] = view.toFlow();
        this.copies.release(k);
      }
      g.sample = kept.slice() as Flow[];
    }
  }

  private foldLighterHalf(): void {
    const lighter = [...this.groups].sort((a, b) => a.flows - b.flows).slice(0, Math.ceil(this.bounds.maxGroups / 2));
    for (const g of lighter) {
      this.groups.delete(g);
      this.unindex(g);
      this.v6Clients.delete(g);
      this.fold(g);
      this.kept.delete(g);
    }
  }

  private index(g: FailedGroup): void {
    if (g.subnetV4 < 0) {
      this.v6Groups.set(v6GroupKey(g.clientSubnet, g.service, g.outcome), g);
      return;
    }
    let byService = this.v4Groups.get(g.service);
    if (byService === undefined) this.v4Groups.set(g.service, (byService = new Map()));
    byService.set(v4GroupKey(g.subnetV4, g.outcome), g);
  }

  private unindex(g: FailedGroup): void {
    if (g.subnetV4 < 0) {
      this.v6Groups.delete(v6GroupKey(g.clientSubnet, g.service, g.outcome));
      return;
    }
    const byService = this.v4Groups.get(g.service)!;
    byService.delete(v4GroupKey(g.subnetV4, g.outcome));
    if (byService.size === 0) this.v4Groups.delete(g.service);
  }

  private fold(g: FailedGroup): void {
    let byService = this.othersByService.get(g.service);
    let into = byService?.get(g.outcome);
    if (into === undefined && this.others.length < this.bounds.maxOtherGroups) {
      into = emptyFolded(g.service, g.outcome);
      if (byService === undefined) this.othersByService.set(g.service, (byService = new Map()));
      byService.set(g.outcome, into);
      this.others.push(into);
      this.kept.set(into, []);
    }
    if (into === undefined) {
      into = this.rest.get(g.outcome);
      if (into === undefined) {
        into = emptyFolded(OTHER_SUBNETS, g.outcome);
        this.rest.set(g.outcome, into);
        this.kept.set(into, []);
      }
    }
    into.flows += g.flows;
    into.syns += g.syns;
    into.clients += g.clients;
    into.foldedGroups += Math.max(1, g.foldedGroups);
    const from = this.kept.get(g)!;
    const to = this.kept.get(into)!;
    for (let i = 0; i < from.length; i++) {
      const k = from[i]!;
      if (to.length < this.bounds.samplePerGroup) {
        to.push(k);
        into.sampleSeq.push(g.sampleSeq[i]!);
      } else if (typeof k === 'number') {
        this.copies.release(k);
      }
    }
  }
}

/** An IPv4 group's key among its service's groups: the /24 (address >>> 8) and the outcome, one small integer. */
function v4GroupKey(subnetV4: number, outcome: FailedGroup['outcome']): number {
  return subnetV4 * 4 + (outcome === 'unanswered' ? 0 : outcome === 'synAckLost' ? 1 : 2);
}

function v6GroupKey(subnet: string, service: string, outcome: FailedGroup['outcome']): string {
  return `${subnet}|${service}|${outcome}`;
}

function emptyFolded(service: string, outcome: FailedGroup['outcome']): FailedGroup {
  return { clientSubnet: OTHER_SUBNETS, service, outcome, flows: 0, syns: 0, clients: 0, foldedGroups: 0, sample: [], clientBits: null, subnetV4: -1, sampleSeq: [] };
}

/** An IPv6 client's /64 as clientSubnetOf gives it ("2001:db8:0:1::/64"), from its words: no text parsed. */
function v6SubnetOf(view: FlowView, words: Uint32Array): string {
  view.clientWords(words);
  words[2] = 0;
  words[3] = 0;
  return `${formatAddress(words, 6)}/64`;
}
