import type { Analysis } from '../analysis';
import type { BridgeSubnet } from '../context/bridge';
import type { MacSighting } from '../diagnose/input';
import type { FailedGroup } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import type { HostAnalysis } from '../hosts/analyze-hosts';
import { parseSubnet, subnetContains } from '../net/cidr';
import { MAX_NODE_FLOWS, sentNodeFlows } from './node-flow-sample';

export { MAX_NODE_FLOWS } from './node-flow-sample';

/** The event type of a node's evidence in the fleet's NDJSON. */
export const NODE_EVIDENCE_EVENT = 'node-evidence';

/** Addresses whose MACs a node sends at most: those in a bridge subnet first. */
export const MAX_NODE_MAC_ADDRESSES = 1000;

/**
 * A failed group as a node sends it: the counts, and its sample as the ids of the flows the
 * node sent (the flows themselves travel once, in `flows`). The sample's client bits stay
 * on the node, whose rules used them.
 */
export type NodeGroup = Omit<FailedGroup, 'sample' | 'clientBits' | 'sampleSeq'> & { sample: string[] };

/**
 * What one node of `synscope fleet` sends the manager, so that the manager joins nodes as
 * `analyze --host` joins files: the node's report (inputs, exact summary, findings, failed
 * groups, stitched attempts, warnings), and what the cross-host rules and clock offsets
 * compare: flows with their handshake keys (addresses, ports, ISN, first SYN time), the
 * MACs seen per address, the flows that are hops of a NAT-stitched attempt, the node's
 * own addresses and bridges. Bounded: what a cap left out is counted.
 */
export interface NodeEvidence {
  node: string;
  context: HostAnalysis['context'];
  bridges: { name: string; subnet: string; source: BridgeSubnet['source'] }[];
  ownAddresses: string[];
  /** The interface of each own address ([address, interface] pairs). */
  addressInterfaces: [string, string][];
  /** The network of each own address ([address, CIDR] pairs); absent from older nodes. */
  ownNetworks?: [string, string][];
  /** Who holds each Docker bridge address ([address, container] pairs); absent from older nodes. */
  bridgeContainers?: [string, string][];
  report: Omit<Analysis, 'flows' | 'kernel' | 'addressMacs' | 'stitchedFlows' | 'hosts' | 'contextMatch' | 'failedGroups'> & { failedGroups: NodeGroup[] };
  flows: Flow[];
  /** Flows of the node not sent (beyond MAX_NODE_FLOWS). */
  flowsNotSent: number;
  stitchedFlows: string[];
  macs: [string, MacSighting[]][];
  /** Addresses whose MACs were not sent (beyond MAX_NODE_MAC_ADDRESSES). */
  macAddressesNotSent: number;
}

/**
 * A node's evidence from its own analysis and the join's view of its context. The analysis'
 * flows are every flow, or a NodeFlowSample's (then `flowsSeen` is how many it saw).
 */
export function encodeNodeEvidence(node: string, analysis: Analysis, host: Omit<HostAnalysis, 'name' | 'analysis'>, flowsSeen = analysis.flows.length): NodeEvidence {
  const bridged = (ip: string) => host.bridges.some((b) => subnetContains(b.subnet, ip));
  const flows = sentNodeFlows(analysis.flows, host.bridges);
  const sent = new Set(flows.map((f) => f.id));
  const macs = [...(analysis.addressMacs ?? new Map<string, readonly MacSighting[]>())].map(([a, s]) => [a, [...s]] as [string, MacSighting[]]);
  macs.sort(([a], [b]) => Number(!bridged(a)) - Number(!bridged(b)));
  const { flows: _f, kernel: _k, addressMacs: _a, stitchedFlows: _s, hosts: _h, contextMatch: _c, failedGroups, ...rest } = analysis;
  const report = { ...rest, failedGroups: failedGroups.map(({ sample, clientBits: _b, sampleSeq: _q, ...g }) => ({ ...g, sample: sample.map((f) => f.id).filter((id) => sent.has(id)) })) };
  return {
    node,
    context: host.context,
    bridges: host.bridges.map((b) => ({ name: b.name, subnet: b.subnet.text, source: b.source })),
    ownAddresses: [...host.ownAddresses],
    addressInterfaces: [...host.addressInterfaces],
    ownNetworks: [...host.ownNetworks],
    bridgeContainers: [...host.bridgeContainers],
    report,
    flows,
    flowsNotSent: flowsSeen - flows.length,
    stitchedFlows: [...(analysis.stitchedFlows ?? [])].filter((id) => sent.has(id)),
    macs: macs.slice(0, MAX_NODE_MAC_ADDRESSES),
    macAddressesNotSent: Math.max(0, macs.length - MAX_NODE_MAC_ADDRESSES),
  };
}

/** The node's analysis again, for joinHosts; a value that is not a node's evidence is an error saying which field. */
export function decodeNodeEvidence(value: unknown): HostAnalysis {
  const e = value as NodeEvidence;
  const need = (ok: boolean, field: string) => {
    if (!ok) throw new Error(`node evidence: ${field} missing or of the wrong type`);
  };
  need(typeof value === 'object' && value !== null, 'the object');
  need(typeof e.node === 'string' && e.node !== '', 'node');
  need(Array.isArray(e.bridges), 'bridges');
  need(Array.isArray(e.ownAddresses), 'ownAddresses');
  need(Array.isArray(e.addressInterfaces), 'addressInterfaces');
  need(Array.isArray(e.flows), 'flows');
  need(Array.isArray(e.stitchedFlows), 'stitchedFlows');
  need(Array.isArray(e.macs), 'macs');
  need(typeof e.report === 'object' && e.report !== null && typeof e.report.summary === 'object', 'report');
  for (const key of ['inputs', 'findings', 'failedGroups', 'attempts', 'interfaceNames', 'warnings'] as const) need(Array.isArray(e.report[key]), `report.${key}`);
  const bridges: BridgeSubnet[] = e.bridges.map((b, i) => {
    const subnet = parseSubnet(String(b.subnet));
    need(subnet !== null && typeof b.name === 'string', `bridges[${i}]`);
    return { name: b.name, subnet: subnet!, source: b.source === 'flag' ? 'flag' : 'context' };
  });
  const byId = new Map(e.flows.map((f) => [f.id, f]));
  const notSent = [
    ...(e.flowsNotSent > 0 ? [`${e.flowsNotSent} flows not sent by the node (over ${MAX_NODE_FLOWS}): its counts are exact, the cross-host rules and clock offsets see the flows sent`] : []),
    ...(e.macAddressesNotSent > 0 ? [`the MACs of ${e.macAddressesNotSent} addresses not sent by the node (over ${MAX_NODE_MAC_ADDRESSES})`] : []),
  ];
  return {
    name: e.node,
    bridges,
    ownAddresses: new Set(e.ownAddresses),
    addressInterfaces: new Map(e.addressInterfaces.map(([address, name]) => [String(address), String(name)])),
    ownNetworks: textPairs(e.ownNetworks),
    bridgeContainers: textPairs(e.bridgeContainers),
    context: e.context ?? null,
    analysis: {
      ...e.report,
      // A group lists the flows of its sample that the node sent.
      failedGroups: e.report.failedGroups.map((g) => ({ ...g, sample: (Array.isArray(g.sample) ? g.sample : []).map((id: string) => byId.get(id)).filter((f): f is Flow => f !== undefined), clientBits: null, sampleSeq: [] })),
      warnings: [...e.report.warnings, ...notSent],
      flows: e.flows,
      kernel: null,
      addressMacs: new Map(e.macs),
      stitchedFlows: new Set(e.stitchedFlows),
    },
  };
}

/** [key, value] pairs of text as a map; anything else (an older node sent none) as an empty one. */
function textPairs(pairs: unknown): Map<string, string> {
  if (!Array.isArray(pairs)) return new Map();
  return new Map(pairs.filter((p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2).map(([k, v]) => [String(k), String(v)]));
}
