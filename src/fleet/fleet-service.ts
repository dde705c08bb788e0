/** What the global job runs on every node, and where the node's Docker socket and sandboxes are. */
export interface FleetJob {
  name: string;
  image: string;
  /** The node command's arguments after the image's entrypoint (synscope). */
  args: string[];
  hostNetworkId: string;
  /** On each node: the Docker socket and the sandboxes' directory (bound read-only at the defaults inside). */
  nodeDockerSocket: string;
  nodeNetnsDir: string;
  /** Placement constraints, as `docker service create --constraint` takes them. */
  constraints: string[];
  /** When the run that creates the service gives up waiting for it: past this, it is a leftover. */
  until: Date;
}

/** Label on every fleet service, so one left by a killed manager can be found. */
export const FLEET_LABEL = 'io.synscope.fleet';
/** The run's deadline (RFC 3339): a fleet service still there after it was left by a run that did not end. */
export const FLEET_UNTIL_LABEL = 'io.synscope.fleet.until';

/**
 * The ServiceSpec of one fleet run: a global job (one task per node, run once, never
 * restarted) of the synscope image, as deploy/synscope-stack.yml runs watch: host network
 * (the node's own interfaces and bridges), every capability dropped but NET_RAW (packet
 * sockets) and SYS_ADMIN (entering the sandboxes' namespaces, tracefs for kernel drop
 * reasons), the Docker socket read-only (the node's networks for its context) and the
 * sandboxes' directory read-only with rslave propagation (ingress_sbox). The task's
 * hostname is its node's, so the node names itself in its events.
 */
export function fleetServiceSpec(job: FleetJob): object {
  return {
    Name: job.name,
    Labels: { [FLEET_LABEL]: '1', [FLEET_UNTIL_LABEL]: job.until.toISOString() },
    TaskTemplate: {
      ContainerSpec: {
        Image: job.image,
        Args: job.args,
        Hostname: '{{.Node.Hostname}}',
        CapabilityDrop: ['ALL'],
        CapabilityAdd: ['CAP_NET_RAW', 'CAP_SYS_ADMIN'],
        Mounts: [
          { Type: 'bind', Source: job.nodeDockerSocket, Target: '/var/run/docker.sock', ReadOnly: true },
          { Type: 'bind', Source: job.nodeNetnsDir, Target: '/var/run/docker/netns', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
        ],
      },
      Networks: [{ Target: job.hostNetworkId }],
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: { Constraints: job.constraints },
    },
    Mode: { GlobalJob: {} },
  };
}
