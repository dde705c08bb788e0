import type { DockerNetwork, HostContext } from '../context/host-context';

/** The Docker endpoint holding `address` ("ingress_sbox", "web-1"), or null. */
export function holderOf(ctx: HostContext, address: string): string | null {
  for (const n of ctx.dockerNetworks ?? []) {
    for (const e of n.endpoints ?? []) if (e.addresses.includes(address)) return sandboxName(e.name);
  }
  return null;
}

/** The Docker network whose bridge device is `bridge` (docker0, br-<id>), or undefined. */
export function networkOnBridge(ctx: HostContext | null, bridge: string): DockerNetwork | undefined {
  return (ctx?.dockerNetworks ?? []).find((n) => n.bridge === bridge);
}

/** One of the network's endpoints holds `address` (false when its endpoints are not known). */
export function networkHolds(network: DockerNetwork, address: string): boolean {
  return endpointHolding(network, address) !== null;
}

/** The name of the network's endpoint holding `address`, or null (also when its endpoints are not known). */
export function endpointHolding(network: DockerNetwork, address: string): string | null {
  return (network.endpoints ?? []).find((e) => e.addresses.includes(address))?.name ?? null;
}

/** Docker's endpoint names for its own sandboxes, as the namespace is called on disk. */
function sandboxName(endpoint: string): string {
  if (endpoint === 'ingress-sbox' || endpoint === 'gateway_ingress-sbox') return 'ingress_sbox';
  return endpoint;
}
