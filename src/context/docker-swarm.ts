import { ErrorCode, SynscopeError } from '../errors';
import type { DockerSwarm } from './host-context';
import { isObject, num, str } from './json-fields';

/**
 * The node's place in a swarm from the Engine API's GET /info `Swarm` object:
 * LocalNodeState, ControlAvailable (a manager), the manager and node counts (a manager
 * reports them, a worker does not) and the managers' addresses (RemoteManagers), which
 * say how docker_gwbridge can be recreated (swarm-procedure.ts).
 */
export function parseDockerSwarm(text: string): DockerSwarm {
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `Docker API GET /info: output is not JSON (${(e as Error).message})`);
  }
  const swarm = isObject(info) ? info['Swarm'] : undefined;
  if (!isObject(swarm)) throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, 'Docker API GET /info: no Swarm object');
  const remote = Array.isArray(swarm['RemoteManagers']) ? swarm['RemoteManagers'].filter(isObject) : [];
  return {
    localNodeState: str(swarm, 'LocalNodeState') ?? 'inactive',
    controlAvailable: swarm['ControlAvailable'] === true,
    nodeAddress: str(swarm, 'NodeAddr') || null,
    managers: num(swarm, 'Managers'),
    nodes: num(swarm, 'Nodes'),
    remoteManagers: remote.map((m) => str(m, 'Addr')).filter((a): a is string => a !== null && a !== ''),
  };
}
