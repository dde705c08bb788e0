import type { BridgeSubnet } from '../context/bridge';
import { firstHostAddress, parseSubnet } from '../net/cidr';
import { contextInterface, usedSubnets } from './context-facts';
import { findFreeSubnets, replacementPrefix, type FreeSubnet } from './free-subnet';
import type { DiagnosisInput } from './input';
import { networkOnBridge } from './docker-holder';
import { gwbridgeProcedure } from './swarm-procedure';

/** Containers named one by one in a network's move; more get the command with a placeholder. */
const MAX_NAMED_CONTAINERS = 8;

/** The base of the proposed `default-address-pools`: a /18, 64 networks of the pool's size /24. */
const POOL_PREFIX = 18;

export interface BridgeRemedy {
  /** The subnet proposed for the bridge, and the pool future networks come from; null when none was found (or for IPv6). */
  free: FreeSubnet | null;
  pool: FreeSubnet | null;
  remedy: string[];
}

/**
 * How to move a bridge whose subnet holds clients (or servers it took the range of): docker0 through daemon.json's `bip`,
 * docker_gwbridge recreated out of the swarm (swarm-procedure.ts), any other network
 * recreated on a free subnet; with a `default-address-pools` so that new networks stay off
 * the clients' range. Both subnets are checked free against the snapshot (addresses,
 * routes, Docker networks, bridges) and every address of the capture.
 */
export function bridgeRemedy(input: DiagnosisInput, bridge: BridgeSubnet, clients: readonly string[], range = "the clients' range"): BridgeRemedy {
  let free: FreeSubnet | null = null;
  let pool: FreeSubnet | null = null;
  if (bridge.subnet.version === 4) {
    const avoid = usedSubnets(input);
    const addresses = [...input.seenAddresses, ...clients];
    const ports = input.context === null ? null : (contextInterface(input.context, bridge.name)?.ports.length ?? null);
    free = findFreeSubnets(replacementPrefix(Number(bridge.subnet.range.getPrefix().getValue()), ports), 1, avoid, addresses)[0] ?? null;
    pool = findFreeSubnets(POOL_PREFIX, 1, free === null ? avoid : [...avoid, parseSubnet(free.subnet)!], addresses)[0] ?? null;
  }
  return { free, pool, remedy: remedyFor(input, bridge, free?.subnet ?? null, pool?.subnet ?? null, range) };
}

/** docker0's `bip`: the gateway address with the subnet's prefix, "10.200.0.1/20". */
function gatewayOf(subnet: string): string {
  return `${firstHostAddress(subnet)}/${subnet.split('/')[1]}`;
}

function remedyFor(input: DiagnosisInput, bridge: BridgeSubnet, free: string | null, pool: string | null, range: string): string[] {
  const subnet = free ?? '<a free private subnet>';
  const pools = `"default-address-pools": [{ "base": "${pool ?? '<another free private subnet>'}", "size": 24 }]`;
  const network = networkOnBridge(input.context, bridge.name);
  if (bridge.name === 'docker0') {
    // A restart stops every container; only those with a restart policy come back (seen on 20.10).
    const containers = (network?.endpoints ?? []).map((e) => e.name);
    const start = containers.length > 0 ? `docker start ${containers.join(' ')}` : 'docker start <container>...';
    return [
      `Move docker0 off ${bridge.subnet.text}: in /etc/docker/daemon.json set { "bip": "${free ? gatewayOf(free) : '<gateway>/<prefix>'}", ${pools} } and run: systemctl restart docker, then start the containers that have no restart policy (they stay stopped): ${start}.`,
      free ? `${free}${pool ? ` and ${pool} were` : ' was'} checked against the host's bridges, routes, addresses and Docker networks (when a context is given) and every address in this capture.` : 'No free private subnet of that size was found; choose one by hand.',
    ];
  }
  if (bridge.name === 'docker_gwbridge') {
    return [...gwbridgeProcedure(subnet, input.context?.dockerSwarm), `To keep new networks off ${range}, also set in /etc/docker/daemon.json: { ${pools} }.`];
  }
  // `docker network rm` takes the network's name or ID, not its bridge's name: br-<id12> is the ID's start.
  const old = network?.name ?? /^br-([0-9a-f]{12})$/.exec(bridge.name)?.[1] ?? null;
  // Connected to the new network before leaving the old one, a container keeps its published ports (seen on 20.10).
  const containers = (network?.endpoints ?? []).map((e) => e.name);
  const move = (from: string) =>
    containers.length > 0 && containers.length <= MAX_NAMED_CONTAINERS
      ? containers.map((c) => `docker network connect <new name> ${c}; docker network disconnect ${from} ${c}`).join('; ')
      : `for each container: docker network connect <new name> <container>; docker network disconnect ${from} <container>`;
  const compose = `or in compose: "ipam: config: - subnet: ${subnet}"`;
  return [
    old === null
      ? `Recreate the network whose bridge is ${bridge.name} on a free subnet: docker network create --subnet ${subnet} <new name>, move the containers to it (${move('<old network>')}; ${compose}), then docker network rm the old one.`
      : `Recreate the network ${old} (bridge ${bridge.name}) on a free subnet: docker network create --subnet ${subnet} <new name>, move the containers to it (${move(old)}; ${compose}), then docker network rm ${old}.`,
    `To keep new networks off ${range}, set in /etc/docker/daemon.json: { ${pools} } and restart docker.`,
  ];
}
