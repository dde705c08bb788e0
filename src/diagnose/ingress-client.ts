import type { HostContext } from '../context/host-context';
import { endpointHolding } from './docker-holder';
import { cidrContains } from './prefix';

/** A "client" that is swarm's ingress NAT: an ingress_sbox's address on the ingress network. */
export interface IngressClient {
  network: string;
  subnet: string;
  /** This node's ingress_sbox (the network's ingress-endpoint here); false: most likely another node's. */
  thisNode: boolean;
}

/**
 * Swarm's routing mesh hands a published port's SYNs to a task through ingress_sbox, which
 * rewrites their source to its own address on the ingress network: seen past it, every
 * client is that address. It is this node's when the snapshot's ingress network lists it as
 * its ingress-endpoint; an address of the ingress subnet no local endpoint holds is most
 * likely another node's ingress_sbox (a task holds its own, and is a server). Null for any
 * other address, and when the snapshot does not list the network's endpoints.
 */
export function ingressClient(ctx: HostContext | null, address: string): IngressClient | null {
  for (const network of ctx?.dockerNetworks ?? []) {
    if (!network.ingress || network.endpoints === undefined) continue;
    const subnet = network.subnets.find((s) => cidrContains(s, address));
    if (subnet === undefined) continue;
    const holder = endpointHolding(network, address);
    if (holder !== null && holder !== 'ingress-endpoint') return null;
    return { network: network.name, subnet, thisNode: holder !== null };
  }
  return null;
}
