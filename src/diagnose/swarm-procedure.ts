import type { DockerSwarm } from '../context/host-context';

/**
 * How docker_gwbridge is recreated on a new subnet. Docker creates it when a node joins
 * or inits a swarm, and a running swarm node keeps it in use, so the node leaves the
 * swarm, the bridge is recreated by hand, and the node comes back. How it leaves and comes
 * back depends on its role: a worker leaves and joins again with a worker token; a manager
 * must not take the swarm's state with it, so it is demoted first while other managers
 * remain (a manager that leaves needs --force, and the last manager leaving ends the
 * swarm); a single-node swarm can only be left with --force, losing its services, and is
 * created again with `swarm init`, not join. The lab saw the last two on Docker 20.10
 * (DOCKER-LAB.md); the demote and join-token steps follow Docker's swarm documentation.
 */

/** A swarm node's role, as far as recreating docker_gwbridge is concerned. */
export type SwarmRole = 'not-in-swarm' | 'worker' | 'manager' | 'sole-manager' | 'single-node';

/** The role the snapshot's /info says, or null when it does not say (no snapshot, no Docker, a node pending or locked). */
export function swarmRole(swarm: DockerSwarm | null | undefined): SwarmRole | null {
  if (swarm === null || swarm === undefined) return null;
  if (swarm.localNodeState === 'inactive') return 'not-in-swarm';
  if (swarm.localNodeState !== 'active') return null;
  if (!swarm.controlAvailable) return 'worker';
  if (swarm.managers === null || swarm.nodes === null) return null;
  if (swarm.nodes <= 1) return 'single-node';
  return swarm.managers > 1 ? 'manager' : 'sole-manager';
}

/** The remedy lines: the one procedure that applies when the role is known, else the three, labelled. */
export function gwbridgeProcedure(subnet: string, swarm: DockerSwarm | null | undefined): string[] {
  const role = swarmRole(swarm);
  const create = `docker network create --subnet ${subnet} --opt com.docker.network.bridge.name=docker_gwbridge --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true docker_gwbridge`;
  const manager = otherManager(swarm);
  if (role === null) {
    return [
      `docker_gwbridge must be recreated on ${subnet} while this node is out of the swarm. The steps depend on the node's role (docker info --format '{{.Swarm.ControlAvailable}} {{.Swarm.Managers}} {{.Swarm.Nodes}}' tells: false = a worker; true 1 1 = a single-node swarm; true N M = a manager):`,
      'If this node is a worker:',
      ...workerSteps(create, manager),
      'If it is a manager and other managers remain (if it is the only manager of several nodes, first promote another: docker node promote <other node>):',
      ...managerSteps(create, manager),
      'If it is a single-node swarm (its only manager and node):',
      ...singleNodeSteps(create, swarm?.nodeAddress ?? null),
    ];
  }
  switch (role) {
    case 'not-in-swarm':
      return [`This node is in no swarm (the snapshot's Docker /info), so docker_gwbridge is only recreated on ${subnet}:`, '  docker network rm docker_gwbridge', `  ${create}`];
    case 'worker':
      return [`docker_gwbridge must be recreated on ${subnet} while this node is out of the swarm. It is a worker (the snapshot's Docker /info):`, ...workerSteps(create, manager)];
    case 'manager':
      return [`docker_gwbridge must be recreated on ${subnet} while this node is out of the swarm. It is a manager and ${swarm!.managers! - 1} other ${swarm!.managers! === 2 ? 'manager remains' : 'managers remain'} (the snapshot's Docker /info), so it is demoted first and the swarm's state stays with them:`, ...managerSteps(create, manager)];
    case 'sole-manager':
      return [
        `docker_gwbridge must be recreated on ${subnet} while this node is out of the swarm. It is the only manager of ${swarm!.nodes} nodes (the snapshot's Docker /info): leaving as the last manager (docker swarm leave --force) would end the swarm and its services, secrets and configs for every node. So first make another node a manager:`,
        '  docker node promote <another node>',
        'then, with that node as the other manager:',
        ...managerSteps(create, '<the new manager>:2377'),
      ];
    case 'single-node':
      return [`docker_gwbridge must be recreated on ${subnet} while this node is out of the swarm. It is a single-node swarm (its only manager and node, the snapshot's Docker /info), so the swarm is left with --force and created again with init:`, ...singleNodeSteps(create, swarm!.nodeAddress)];
  }
}

// dockerd releases the ingress sandbox's endpoint on docker_gwbridge shortly after the leave returns.
const RM_GWBRIDGE = '  docker network rm docker_gwbridge   (if it says "has active endpoints", the ingress sandbox is still going away: run it again after a few seconds)';

function workerSteps(create: string, manager: string): string[] {
  return [
    '  on a manager: docker node update --availability drain <this node>   (its tasks move to other nodes)',
    '  docker swarm leave',
    RM_GWBRIDGE,
    `  ${create}`,
    `  docker swarm join --token <worker token> ${manager}   (on a manager, docker swarm join-token worker prints it)`,
    '  on a manager: docker node rm <the old node ID, now Down>',
  ];
}

function managerSteps(create: string, manager: string): string[] {
  return [
    '  on another manager: docker node update --availability drain <this node>; docker node demote <this node>   (as a worker it can leave without --force; the other managers keep the swarm state)',
    '  docker swarm leave',
    RM_GWBRIDGE,
    `  ${create}`,
    `  docker swarm join --token <manager token> ${manager}   (on another manager, docker swarm join-token manager prints it)`,
    '  on another manager: docker node rm <the old node ID, now Down>',
  ];
}

function singleNodeSteps(create: string, address: string | null): string[] {
  return [
    '  note what the swarm holds, it is lost on leaving: docker service ls; docker secret ls; docker config ls; docker network ls --filter driver=overlay',
    '  docker swarm leave --force   (the only manager: --force is needed, and the swarm state goes with it)',
    RM_GWBRIDGE,
    `  ${create}`,
    `  docker swarm init --advertise-addr ${address ?? '<this host address>'}   (a new swarm: init, not join)`,
    // Seen on Docker 20.10 (test/docker-swarm-remedies.test.ts): just after the new init, the old
    // swarm's overlay networks are still being removed, and creating one again fails "already exists".
    '  create the services, secrets, configs and overlay networks noted above again   (an overlay network of the old swarm can stay listed for a few seconds after init; until docker network ls no longer shows it, creating it again fails with "already exists")',
  ];
}

/** A manager's address to join through: one the node knows other than its own, else a placeholder. */
function otherManager(swarm: DockerSwarm | null | undefined): string {
  const own = swarm?.nodeAddress ?? null;
  return swarm?.remoteManagers.find((m) => own === null || !m.startsWith(`${own}:`)) ?? '<manager>:2377';
}
