import { analyzeFiles, type Analysis, type AnalyzeOptions, type HandshakeSummary, type HostSummary } from '../analysis';
import type { BridgeSubnet } from '../context/bridge';
import { bridgesFromContext } from '../context/context-bridges';
import type { HostContext } from '../context/host-context';
import { byImpact, type Finding } from '../diagnose/finding';
import { countFindings } from '../diagnose/finding-counts';
import { crossHostCollisionRule } from '../diagnose/rules/cross-host-collision';
import type { AttemptPath } from '../flow/attempt-path';
import type { Flow } from '../flow/flow';
import { firstHostAddress, parseSubnet } from '../net/cidr';
import { rfc3339 } from '../time/rfc3339';
import { clockOffset, handshakeKey } from './clock-offset';
import { stitchAcrossHosts } from './cross-host-stitch';

/** One host of a multi-host analysis: its capture files and its host context. */
export interface HostInput {
  name: string;
  files: readonly string[];
  context: HostContext | null;
}

/**
 * One host's own analysis (with every flow), and what the join needs of its context: its
 * bridges, its own addresses, its namespace and time. From files (analyzeHosts) or from a
 * fleet node's evidence (src/fleet/node-evidence.ts).
 */
export interface HostAnalysis {
  name: string;
  analysis: Analysis;
  bridges: readonly BridgeSubnet[];
  ownAddresses: ReadonlySet<string>;
  /** The interface each own address is on (from the context; empty without one). */
  addressInterfaces: ReadonlyMap<string, string>;
  /** The network (CIDR) each own address is on (from the context; empty without one). */
  ownNetworks: ReadonlyMap<string, string>;
  /** Who holds each address of the host's Docker bridge networks, by container name (from the context's Engine API endpoints). */
  bridgeContainers: ReadonlyMap<string, string>;
  context: HostSummary['context'];
}

/**
 * Analyze the captures of several hosts together. Each host is analyzed on its own, with
 * its own context (interface names, bridges and routes are per host), then joined
 * (joinHosts).
 */
export function analyzeHosts(hosts: readonly HostInput[], options: AnalyzeOptions = {}): Analysis {
  return joinHosts(hosts.map((h) => analyzeHost(h, options)), options);
}

/** One host's captures with its own context, every flow kept for the join. */
export function analyzeHost(h: HostInput, options: AnalyzeOptions = {}): HostAnalysis {
  const bridges = h.context === null ? (options.bridges ?? []) : bridgesFromContext(h.context, options.bridges ?? []);
  const analysis = analyzeFiles(h.files, { ...options, context: h.context ?? undefined, bridges, kernel: h.context?.kernelEvidence ?? null, allFlows: true, onProgress: undefined });
  return hostAnalysis(h.name, analysis, h.context, bridges);
}

/** A host's analysis (made with its context and bridges) as the join sees it. */
export function hostAnalysis(name: string, analysis: Analysis, hostContext: HostContext | null, bridges: readonly BridgeSubnet[]): HostAnalysis {
  // A snapshot that does not belong to the host's capture is not used across hosts either.
  const context = analysis.contextMatch === 'mismatch' ? null : hostContext;
  const used = context === null ? bridges.filter((b) => b.source !== 'context') : bridges;
  const addresses = context?.interfaces.flatMap((i) => i.addresses.map((a) => ({ ...a, interface: i.name }))) ?? [];
  const addressInterfaces = new Map(addresses.map((a) => [a.address, a.interface]));
  const ownNetworks = new Map(addresses.flatMap((a) => {
    const network = parseSubnet(`${a.address}/${a.prefixLength}`);
    return network === null ? [] : [[a.address, network.text] as const];
  }));
  const bridgeContainers = new Map(
    (context?.dockerNetworks ?? []).filter((n) => n.bridge !== null).flatMap((n) => (n.endpoints ?? []).flatMap((e) => e.addresses.map((a) => [a, e.name] as const))),
  );
  return { name, analysis, bridges: used, ownAddresses: ownAddresses(context, used), addressInterfaces, ownNetworks, bridgeContainers, context: contextSummary(context) };
}

/** The namespace and capture time of a host's context, as the report shows them. */
export function contextSummary(context: HostContext | null): HostSummary['context'] {
  return context === null ? null : { namespace: context.namespace, capturedAt: rfc3339(Date.parse(context.capturedAt) / 1000, 3) };
}

/**
 * Join the analyses of several hosts: flow ids become "host/f3", interface names
 * "eth0@host", per-host findings carry the host in their title and evidence, and the rules
 * that need several hosts (a bridge-private address that is two machines) run over all of
 * them. Each host's clock is compared with the first host's on handshakes both captured.
 */
export function joinHosts(hostRuns: readonly HostAnalysis[], options: { allFlows?: boolean } = {}): Analysis {
  const runs = hostRuns.map((r) => ({ host: r, bridges: r.bridges, analysis: r.analysis }));
  const interfaceNames: string[] = [];
  const flows: Flow[] = [];
  const attempts: AttemptPath[] = [];
  const findings: Finding[] = [];
  const summaries: HostSummary[] = [];
  for (const { host, analysis } of runs) {
    const offset = interfaceNames.length;
    const at = (iface: string) => `${iface}@${host.name}`;
    const id = (flow: string) => `${host.name}/${flow}`;
    interfaceNames.push(...analysis.interfaceNames.map(at));
    const reported = options.allFlows === true ? analysis.flows : analysis.flows.filter((f) => f.outcome !== null && f.outcome !== 'completed');
    flows.push(...reported.map((f) => ({ ...f, id: id(f.id), interfaces: f.interfaces.map((i) => i + offset) })));
    attempts.push(
      ...analysis.attempts.map((p) => ({
        ...p,
        id: id(p.id),
        flows: p.flows.map(id),
        hops: p.hops.map((h) => ({ ...h, flow: id(h.flow), interface: at(h.interface) })),
        reached: { syn: at(p.reached.syn), synAck: p.reached.synAck === null ? null : at(p.reached.synAck) },
      })),
    );
    findings.push(...analysis.findings.map((f) => ({ ...f, title: `${host.name}: ${f.title}`, evidence: { host: host.name, ...f.evidence }, flows: f.flows.map(id) })));
    const clock = summaries.length === 0 ? null : clockOffset(host.name, runs[0]!.analysis.flows, analysis.flows);
    summaries.push({
      name: host.name,
      sources: analysis.inputs.map((i) => i.source),
      context: host.context,
      clockOffsetSeconds: clock?.offsetSeconds ?? null,
      clockMatches: clock?.matched ?? 0,
    });
  }
  findings.push(
    ...countFindings(crossHostCollisionRule(
      runs.map(({ host, bridges, analysis }) => ({
        host: host.name,
        bridges,
        macsByAddress: analysis.addressMacs ?? new Map(),
        flows: analysis.flows,
        stitchedFlows: analysis.stitchedFlows ?? new Set(),
        ownAddresses: host.ownAddresses,
        ownNetworks: host.ownNetworks,
        bridgeContainers: host.bridgeContainers,
      })),
    ), { attempts }, flows),
  );
  const handshakes = countOnce(runs.map((r) => r.analysis));
  const first = runs[0]!.analysis;
  return stitchAcrossHosts(hostRuns, {
    inputs: runs.flatMap((r) => r.analysis.inputs),
    summary: {
      packets: sum(runs.map((r) => r.analysis.summary.packets)),
      tcpPackets: sum(runs.map((r) => r.analysis.summary.tcpPackets)),
      flows: sum(runs.map((r) => r.analysis.summary.flows)),
      handshakes,
      decodeProblems: addCounts(runs.map((r) => r.analysis.summary.decodeProblems)),
    },
    flows: flows.sort((a, b) => a.firstSeen - b.firstSeen),
    flowsLeftOut: sum(runs.map((r) => r.analysis.flowsLeftOut)),
    failedGroups: runs.flatMap(({ host, analysis }) => analysis.failedGroups.map((g) => ({ ...g, service: `${g.service}@${host.name}` }))),
    attempts,
    interfaceNames,
    findings: findings.sort(byImpact),
    warnings: runs.flatMap(({ host, analysis }) => analysis.warnings.map((w) => `${host.name}: ${w}`)),
    kernel: runs.length === 1 ? first.kernel : null,
    hosts: summaries,
    clientClocks: runs.flatMap(({ host, analysis }) => (analysis.clientClocks ?? []).map((c) => ({ ...c, address: `${c.address}@${host.name}` }))),
  });
}

/**
 * The handshake summary over all hosts, counting once a handshake two hosts both captured
 * (same addresses, ports and ISN, no NAT between them), with the first host's outcome.
 */
function countOnce(analyses: readonly Analysis[]): HandshakeSummary {
  const total: HandshakeSummary = { attempted: 0, completed: 0, unanswered: 0, rejected: 0, synAckLost: 0 };
  const seen = new Set<string>();
  for (const a of analyses) {
    for (const key of Object.keys(total) as (keyof HandshakeSummary)[]) total[key] += a.summary.handshakes[key];
    const here = new Set<string>();
    for (const f of a.flows) {
      if (f.outcome === null || f.isn === null || a.stitchedFlows?.has(f.id) === true) continue;
      const key = handshakeKey(f);
      if (seen.has(key)) {
        total.attempted--;
        total[f.outcome]--;
      }
      here.add(key);
    }
    for (const key of here) seen.add(key);
  }
  return total;
}

/** A host's own addresses: its context's, or without one, each bridge's gateway (the subnet's first address, as Docker assigns it). */
function ownAddresses(context: HostContext | null, bridges: readonly { subnet: { text: string } }[]): Set<string> {
  if (context !== null) return new Set(context.interfaces.flatMap((i) => i.addresses.map((a) => a.address)));
  return new Set(bridges.flatMap((b) => firstHostAddress(b.subnet.text) ?? []));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function addCounts(counts: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}
