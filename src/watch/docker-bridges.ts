import { fetchDockerNetworkList, parseDockerNetworks } from '../context/docker-api';

/** The Linux bridges of the Docker daemon's bridge-driver networks, or why the daemon did not say. */
export type DockerBridges = { ok: true; bridges: string[] } | { ok: false; reason: string };

/**
 * Every bridge device the Docker Engine API reports (docker0, docker_gwbridge, br-<id12>
 * or the network's com.docker.network.bridge.name), sorted, each once. Overlay, host,
 * macvlan and null networks have none. Never rejects.
 */
export async function dockerBridges(socketPath: string): Promise<DockerBridges> {
  const list = await fetchDockerNetworkList(socketPath);
  if (!list.ok) return { ok: false, reason: list.reason };
  try {
    const bridges = parseDockerNetworks(list.stdout).flatMap((n) => (n.bridge === null ? [] : [n.bridge]));
    return { ok: true, bridges: [...new Set(bridges)].sort() };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
