import { canonicalAddress } from '../context/canonical';
import type { DockerNetwork, DockerPortRequest, HostContext } from '../context/host-context';

/** A port a container asked Docker to publish on this host that Docker did not publish. */
export interface UnpublishedPort {
  request: DockerPortRequest;
  /** The container's networks when all of them are --internal (then Docker publishes nothing); empty otherwise. */
  internal: DockerNetwork[];
  /** A network that reaches outside to connect it to ("bridge"), or null when the snapshot has none. */
  outside: string | null;
}

/** The container that asked for TCP port `port` on `ip` (or every address) and got nothing published, or null. */
export function unpublishedPort(ctx: HostContext, ip: string, port: number): UnpublishedPort | null {
  // Docker reads 0.0.0.0 as every IPv4 address and :: as every IPv6 one; "" as both.
  const every = ip.includes(':') ? '::' : '0.0.0.0';
  const here = canonicalAddress(ip)?.text ?? ip;
  const request = (ctx.dockerPorts ?? []).find(
    (p) => p.protocol === 'tcp' && p.hostPort === port && !p.published && (p.hostIp === '' || p.hostIp === every || (canonicalAddress(p.hostIp)?.text ?? p.hostIp) === here),
  );
  if (request === undefined) return null;
  const networks = ctx.dockerNetworks ?? [];
  const its = request.networks.map((name) => networks.find((n) => n.name === name));
  const allInternal = its.length > 0 && its.every((n) => n !== undefined && n.internal);
  const outside = networks.find((n) => n.name === 'bridge' && !n.internal) ?? networks.find((n) => n.driver === 'bridge' && !n.internal && n.name !== 'docker_gwbridge');
  return { request, internal: allInternal ? (its as DockerNetwork[]) : [], outside: outside?.name ?? null };
}
