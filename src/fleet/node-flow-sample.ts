import type { BridgeSubnet } from '../context/bridge';
import { flowOrdinal, type Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';

/** Flows a node sends at most: the failed ones first, then those touching a bridge subnet, then the other handshakes. */
export const MAX_NODE_FLOWS = 2000;

const CLASSES = 4;

/** The order in which a node's flows are sent: 0 failed, 1 a handshake touching a bridge subnet, 2 another handshake, 3 the rest. */
export function nodeFlowRank(flow: Flow, bridges: readonly Pick<BridgeSubnet, 'subnet'>[]): number {
  if (flow.outcome !== null && flow.outcome !== 'completed') return 0;
  const bridged = (ip: string) => bridges.some((b) => subnetContains(b.subnet, ip));
  if (bridged(flow.clientIp) || bridged(flow.serverIp)) return 1;
  return flow.outcome !== null ? 2 : 3;
}

/** Earlier first packet first; flow number breaks ties (the order of a report's flows). */
export function byFirstSeen(a: Flow, b: Flow): number {
  return a.firstSeen - b.firstSeen || flowOrdinal(a.id) - flowOrdinal(b.id);
}

/** The MAX_NODE_FLOWS flows a node sends, in report order: by rank, then by first packet. */
export function sentNodeFlows(flows: readonly Flow[], bridges: readonly Pick<BridgeSubnet, 'subnet'>[]): Flow[] {
  const ranked = flows.map((f) => ({ f, r: nodeFlowRank(f, bridges) })).sort((a, b) => a.r - b.r || byFirstSeen(a.f, b.f));
  return ranked.slice(0, MAX_NODE_FLOWS).map((x) => x.f).sort(byFirstSeen);
}

/**
 * The flows a fleet node holds while it captures: of each rank, only the MAX_NODE_FLOWS that
 * come first, which are all that sentNodeFlows can pick from it. A SYN flood during a fleet
 * run then holds at most four times MAX_NODE_FLOWS flows, not one object per attempt; the
 * flows seen are counted.
 */
export class NodeFlowSample {
  private readonly kept: Flow[][] = Array.from({ length: CLASSES }, () => []);
  seen = 0;

  constructor(private readonly bridges: readonly Pick<BridgeSubnet, 'subnet'>[]) {}

  add(flow: Flow): void {
    this.seen++;
    const list = this.kept[nodeFlowRank(flow, this.bridges)]!;
    list.push(flow);
    // Trimmed in batches: one sort per MAX_NODE_FLOWS flows of a rank.
    if (list.length >= 2 * MAX_NODE_FLOWS) this.trim(list);
  }

  /** The flows held, in report order. */
  flows(): Flow[] {
    for (const list of this.kept) this.trim(list);
    return this.kept.flat().sort(byFirstSeen);
  }

  private trim(list: Flow[]): void {
    list.sort(byFirstSeen);
    list.length = Math.min(list.length, MAX_NODE_FLOWS);
  }
}
