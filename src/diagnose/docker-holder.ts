import type { HostContext } from '../context/host-context';

/** The Docker endpoint holding `address` ("ingress_sbox", "web-1"), or null. */
export function holderOf(ctx: HostContext, address: string): string | null {
  for (const n of ctx.dockerNetworks ?? []) {
    for (const e of n.endpoints ?? []) if (e.addresses.includes(address)) return sandboxName(e.name);
  }
  return null;
}

/** Docker's endpoint names for its own sandboxes, as the namespace is called on disk. */
function sandboxName(endpoint: string): string {
  if (endpoint === 'ingress-sbox' || endpoint === 'gateway_ingress-sbox') return 'ingress_sbox';
  return endpoint;
}
