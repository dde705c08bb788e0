import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LiveTarget } from '../live/live-capture';
import { namespaceInterfaces } from '../live/namespace-interfaces';
import { inNetns } from '../netns/in-netns';
import type { ResolvedNamespace } from '../netns/namespace-spec';
import { dockerBridges } from './docker-bridges';
import { defaultRouteInterfaces } from './uplinks';

/** Where Docker pins the swarm's ingress sandbox, the namespace that holds the ingress network's leg on this node. */
export const DOCKER_INGRESS_SANDBOX = '/var/run/docker/netns/ingress_sbox';

/** Why watch captures on an interface: named by -i/--netns, or found by itself. */
export type TargetRole = 'given' | 'uplink' | 'docker-bridge' | 'ingress-sandbox';

export interface DiscoveredTarget extends LiveTarget {
  role: TargetRole;
}

export interface Discovery {
  /** Sorted by key (namespace path, then device); an interface found twice is kept once, with its first role. */
  targets: DiscoveredTarget[];
  /** What could not be looked at, or was reported but is not there (the Docker API unreachable, a bridge without a device). */
  notes: string[];
}

export interface DiscoveryOptions {
  dockerSocket: string;
  /** The ingress sandbox's nsfs file (DOCKER_INGRESS_SANDBOX); looked at only when it exists. */
  ingressSandbox: string;
}

/**
 * What `synscope watch` captures on when given no interface: the uplinks (the interfaces
 * of the default routes of the namespace it runs in), every bridge the Docker Engine API
 * reports that exists here, and every interface but lo of Docker's ingress sandbox when
 * there is one. Runs again every window, so networks that come and go are followed.
 */
export async function discoverWatchTargets(options: DiscoveryOptions): Promise<Discovery> {
  const notes: string[] = [];
  const found: DiscoveredTarget[] = [];
  const here = new Set(namespaceInterfaces());
  for (const device of defaultRouteInterfaces()) found.push({ device, namespace: null, role: 'uplink' });

  const docker = await dockerBridges(options.dockerSocket);
  if (!docker.ok) notes.push(`Docker bridges not looked for: ${docker.reason}`);
  else {
    for (const device of docker.bridges) {
      if (here.has(device)) found.push({ device, namespace: null, role: 'docker-bridge' });
      else notes.push(`Docker reports bridge ${device}, but there is no such interface here`);
    }
  }

  if (fs.existsSync(options.ingressSandbox)) {
    const sandbox: ResolvedNamespace = { path: options.ingressSandbox, label: path.basename(options.ingressSandbox) };
    try {
      for (const device of inNetns(sandbox, namespaceInterfaces)) {
        if (device !== 'lo') found.push({ device, namespace: sandbox, role: 'ingress-sandbox' });
      }
    } catch (e) {
      notes.push(`${sandbox.label} not looked into: ${(e as Error).message}`);
    }
  }

  const byKey = new Map<string, DiscoveredTarget>();
  for (const t of found) if (!byKey.has(targetKey(t))) byKey.set(targetKey(t), t);
  return { targets: [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t), notes };
}

/** One interface in one namespace: the identity of a target across discoveries. */
export function targetKey(t: LiveTarget): string {
  return `${t.namespace?.path ?? ''}\0${t.device}`;
}
