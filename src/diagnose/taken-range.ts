import type { BridgeSubnet } from '../context/bridge';
import type { DockerNetwork } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import { bridgeRemedy } from './bridge-remedy';
import { deviceOf, isLocalAddress, synInterface } from './context-facts';
import { networkHolds, networkOnBridge } from './docker-holder';
import type { Finding } from './finding';
import { attemptCount, distinct } from './group';
import type { DiagnosisInput } from './input';
import { hopFacts, isDnatTarget } from './nat-hop';
import { formatEndpoint } from '../decode/address';
import { lookupRoute } from './route-sim';

/**
 * The other side of a bridge overlap: a Docker network took the range of a network this host
 * reaches (a compose network on 192.168.0.0/20 and the office's server at 192.168.5.20). SYNs
 * to a server inside the network's subnet that no container of it holds are routed into its
 * bridge instead of out of the uplink, where nobody answers (and Docker's isolation rules
 * drop a container's SYNs on the way). Needs the snapshot: the network's endpoints say that
 * nothing of it holds the address, and its routes that the SYNs go into the bridge.
 */
export function takenRangeFindings(input: DiagnosisInput, silent: readonly Flow[]): Finding[] {
  const findings: Finding[] = [];
  for (const bridge of input.bridges) {
    const network = networkOnBridge(input.context, bridge.name);
    if (network?.endpoints === undefined) continue;
    const flows = silent.filter((f) => f.outcome === 'unanswered' && routedIntoBridge(input, bridge, network, f));
    if (flows.length > 0) findings.push(takenRangeFinding(input, bridge, network, flows));
  }
  return findings;
}

/** The flow's server is inside the network's subnet, held by none of its containers, not this host, and the SYN is routed into the bridge. */
function routedIntoBridge(input: DiagnosisInput, bridge: BridgeSubnet, network: DockerNetwork, f: Flow): boolean {
  const ctx = input.context!;
  if (!subnetContains(bridge.subnet, f.serverIp) || subnetContains(bridge.subnet, f.clientIp)) return false;
  if (isLocalAddress(ctx, f.serverIp) || networkHolds(network, f.serverIp)) return false;
  // A published port's target, or the DNATed hop of an attempt, is a container the snapshot may have missed.
  if (isDnatTarget(ctx, f.serverIp, f.serverPort) || input.attempts?.some((a) => a.hops.some((h) => h.server === formatEndpoint(f.serverIp, f.serverPort, f.ipVersion) && h.translation !== 'none'))) return false;
  const iif = isLocalAddress(ctx, f.clientIp) ? null : synInterface(f, input);
  const route = lookupRoute(ctx, f.serverIp, iif === null ? { src: f.clientIp } : { iif, src: f.clientIp });
  return deviceOf(route) === bridge.name;
}

function takenRangeFinding(input: DiagnosisInput, bridge: BridgeSubnet, network: DockerNetwork, flows: Flow[]): Finding {
  const ctx = input.context!;
  const servers = distinct(flows.map((f) => f.serverIp));
  const clients = distinct(flows.map((f) => f.clientIp));
  // The host itself asking for the server on the bridge, unanswered, shows that nothing there holds it; without that, a container removed or
  // recreated since the snapshot (its old address dialled) is the other explanation.
  const arps = servers.map((s) => input.arpRequests.get(s)).filter((a) => a !== undefined && a.interfaces.includes(bridge.name) && a.replies === 0 && a.askers.some((k) => isLocalAddress(ctx, k)));
  // Where a container's SYN dies on its way into the bridge (Docker's isolation rules, mostly).
  const first = flows[0]!;
  const iif = synInterface(first, input);
  const drop = iif === null ? null : hopFacts(ctx, { packet: { src: first.clientIp, dst: first.serverIp, dstPort: first.serverPort }, from: iif, to: bridge.name }).dropRule;
  const { free, pool, remedy } = bridgeRemedy(input, bridge, servers, `${servers.join(', ')}'s range`);
  const who = servers.length === 1 ? servers[0]! : `${servers.length} servers (${servers.join(', ')})`;
  return {
    code: 'bridge-subnet-overlap',
    severity: 'error',
    confidence: arps.length > 0 ? 'high' : 'medium',
    title: `${who} ${servers.length === 1 ? 'is' : 'are'} inside Docker network ${network.name}'s subnet ${bridge.subnet.text}: this host routes ${servers.length === 1 ? 'it' : 'them'} into ${bridge.name}, where nothing answers`,
    explanation:
      `${servers.join(', ')} ${servers.length === 1 ? 'lies' : 'lie'} inside ${bridge.subnet.text}, the subnet of Docker network ${network.name} (bridge ${bridge.name}) on this host, and no container of ${network.name} holds ${servers.length === 1 ? 'it' : 'them'}: ${servers.length === 1 ? 'it is a machine' : 'they are machines'} elsewhere, on a network whose range ${network.name} took. ` +
      `The host routes ${bridge.subnet.text} into ${bridge.name}, so SYNs to ${servers.length === 1 ? 'it' : 'them'} never leave by the uplink` +
      (drop === null ? '.' : ` (a container's SYNs do not even get there: \`${drop}\` drops them on the way from ${iif} to ${bridge.name}, and moving the container to ${network.name} would not help).`) +
      (arps.length > 0
        ? ` The capture of ${bridge.name} shows the host asking for ${servers.length === 1 ? 'it' : 'them'} by ARP, unanswered (${arps.reduce((n, a) => n + a!.requests, 0)} requests).`
        : ` Unless ${servers.length === 1 ? 'it is' : 'they are'} the old address of a container of ${network.name} removed or recreated since the snapshot: a capture of ${bridge.name} shows the host's ARP for ${servers.length === 1 ? 'it' : 'them'} go unanswered if not.`),
    evidence: {
      bridge: bridge.name,
      network: network.name,
      subnet: bridge.subnet.text,
      bridgeSource: bridge.source,
      servers,
      clients,
      attempts: attemptCount(flows, input),
      routeToServer: `${servers[0]} dev ${bridge.name}`,
      ...(drop !== null && { forwardVerdictBy: drop }),
      arpRequestsOnBridge: arps.map((a) => ({ target: a!.target, requests: a!.requests, askers: a!.askers })),
      proposedSubnet: free?.subnet ?? null,
      proposedAddressPool: pool?.subnet ?? null,
      proposedSubnetCheckedAgainst: free?.checkedAgainst ?? null,
    },
    flows: flows.map((f) => f.id),
    remedy,
  };
}
