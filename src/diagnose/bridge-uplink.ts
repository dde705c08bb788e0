import type { BridgeSubnet } from '../context/bridge';
import type { DockerNetwork, HostContext } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import { contextInterface, deviceOf, isLocalAddress, sentFromHere } from './context-facts';
import { holderOf } from './docker-holder';
import { distinct, serviceOf, synCount } from './group';
import type { DiagnosisInput } from './input';
import { routeText } from './nat-hop';
import { lookupRoute } from './route-sim';

/** A container's way out of this host: the local bridge whose subnet holds the client, and the device (not a bridge) the host routes the server by. */
export interface BridgeUplink {
  bridge: BridgeSubnet;
  /** Where the SYN leaves (eth0). */
  uplink: string;
  /** The route to the server, as text. */
  route: string;
}

/** The flow's way out, for a client on a local bridge dialling a server beyond this host; null for anything else. */
export function bridgeUplink(input: DiagnosisInput, ctx: HostContext, flow: Flow): BridgeUplink | null {
  const bridge = input.bridges.find((b) => subnetContains(b.subnet, flow.clientIp));
  if (bridge === undefined || subnetContains(bridge.subnet, flow.serverIp) || isLocalAddress(ctx, flow.serverIp)) return null;
  const r = lookupRoute(ctx, flow.serverIp, { iif: bridge.name, src: flow.clientIp });
  const uplink = deviceOf(r);
  if (uplink === null || uplink === bridge.name || contextInterface(ctx, uplink)?.kind === 'bridge') return null;
  return { bridge, uplink, route: routeText(flow.serverIp, r) };
}

/**
 * Did this host send the packets from `client` seen on `uplink`: a Docker endpoint holds
 * the address, or their source MAC is the uplink's own (not a remote host's that happens to
 * be in the bridge's subnet: that is an overlap, another rule's business).
 */
export function sentByHost(input: DiagnosisInput, ctx: HostContext, client: string, uplink: string): boolean {
  return holderOf(ctx, client) !== null || sentFromHere(input, ctx, client, uplink);
}

/** How a finding names the clients' place: "on Docker's network "bridge", docker0 172.17.0.0/16", or "behind br0, 10.0.0.0/24". */
export function bridgePlace(network: DockerNetwork | undefined, bridge: BridgeSubnet): string {
  return network === undefined ? `behind ${bridge.name}, ${bridge.subnet.text}` : `on Docker's network "${network.name}", ${bridge.name} ${bridge.subnet.text}`;
}

/** The evidence every finding of a SYN that left (or leaves) by the uplink untranslated opens with, in the report's order. */
export function untranslatedEvidence(input: DiagnosisInput, flows: readonly Flow[], way: BridgeUplink, seenAt: string, seenLeaving: boolean): Record<string, unknown> {
  return {
    service: serviceOf(flows[0]!),
    attempts: flows.length,
    clients: distinct(flows.map((f) => f.clientIp), 20),
    syns: synCount(flows, input),
    direction: 'syn',
    seenAt,
    missingAt: null,
    translation: 'none',
    bridge: way.bridge.name,
    subnet: way.bridge.subnet.text,
    leftBy: way.uplink,
    seenLeaving,
  };
}
