import type { BridgeSubnet } from '../context/bridge';
import type { HostContext } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import { contextInterface, deviceOf, isLocalAddress, sentFromHere } from './context-facts';
import { holderOf } from './docker-holder';
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
