import type { Analysis } from '../analysis';
import type { BridgeSubnet } from '../context/bridge';
import type { MacSighting } from '../diagnose/input';
import type { Flow } from '../flow/flow';
import type { HostAnalysis } from '../hosts/analyze-hosts';
import { parseSubnet, subnetContains } from '../net/cidr';

/** The event type of a node's evidence in the fleet's NDJSON. */
export const NODE_EVIDENCE_EVENT = 'node-evidence';

/** Flows a node sends at most: the failed ones first, then those touching a bridge subnet, then the other handshakes. */
export const MAX_NODE_FLOWS = 2000;
/** Addresses whose MACs a node sends at most: those in a bridge subnet first. */
export const MAX_NODE_MAC_ADDRESSES = 1000;

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
  report: Omit<Analysis, 'flows' | 'kernel' | 'addressMacs' | 'stitchedFlows' | 'hosts' | 'contextMatch'>;
  flows: Flow[];
  /** Flows of the node not sent (beyond MAX_NODE_FLOWS). */
  flowsNotSent: number;
  stitchedFlows: string[];
  macs: [string, MacSighting[]][];
  /** Addresses whose MACs were not sent (beyond MAX_NODE_MAC_ADDRESSES). */
  macAddressesNotSent: number;
}

/** A node's evidence from its own analysis (made with every flow kept) and the join's view of its context. */
export function encodeNodeEvidence(node: string, analysis: Analysis, host: Omit<HostAnalysis, 'name' | 'analysis'>): NodeEvidence {
  const bridged = (ip: string) => host.bridges.some((b) => subnetContains(b.subnet, ip));
  const rank = (f: Flow) => (f.outcome !== null && f.outcome !== 'completed' ? 0 : bridged(f.clientIp) || bridged(f.serverIp) ? 1 : f.outcome !== null ? 2 : 3);
  const ranked = analysis.flows.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i);
  const flows = ranked.slice(0, MAX_NODE_FLOWS).sort((a, b) => a.i - b.i).map((x) => x.f);
  const sent = new Set(flows.map((f) => f.id));
  const macs = [...(analysis.addressMacs ?? new Map<string, readonly MacSighting[]>())].map(([a, s]) => [a, [...s]] as [string, MacSighting[]]);
  macs.sort(([a], [b]) => Number(!bridged(a)) - Number(!bridged(b)));
  const { flows: _f, kernel: _k, addressMacs: _a, stitchedFlows: _s, hosts: _h, contextMatch: _c, ...report } = analysis;
  return {
    node,
    context: host.context,
    bridges: host.bridges.map((b) => ({ name: b.name, subnet: b.subnet.text, source: b.source })),
    ownAddresses: [...host.ownAddresses],
    addressInterfaces: [...host.addressInterfaces],
    report,
    flows,
    flowsNotSent: analysis.flows.length - flows.length,
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
  const notSent = [
    ...(e.flowsNotSent > 0 ? [`${e.flowsNotSent} flows not sent by the node (over ${MAX_NODE_FLOWS}): its counts are exact, the cross-host rules and clock offsets see the flows sent`] : []),
    ...(e.macAddressesNotSent > 0 ? [`the MACs of ${e.macAddressesNotSent} addresses not sent by the node (over ${MAX_NODE_MAC_ADDRESSES})`] : []),
  ];
  return {
    name: e.node,
    bridges,
    ownAddresses: new Set(e.ownAddresses),
    addressInterfaces: new Map(e.addressInterfaces.map(([address, name]) => [String(address), String(name)])),
    context: e.context ?? null,
    analysis: {
      ...e.report,
      warnings: [...e.report.warnings, ...notSent],
      flows: e.flows,
      kernel: null,
      addressMacs: new Map(e.macs),
      stitchedFlows: new Set(e.stitchedFlows),
    },
  };
}
