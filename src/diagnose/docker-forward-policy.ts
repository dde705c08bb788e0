import type { HostContext } from '../context/host-context';
import { rulesetOf } from './netfilter-walk';

/** How the forward-hook walk names a drop by iptables' FORWARD policy. */
const FORWARD_POLICY_DROP = 'the FORWARD policy DROP';

/**
 * The drop is iptables' FORWARD policy DROP on a Docker host (its chains are in the snapshot's
 * filter table): most likely Docker's own, set when dockerd turned IP forwarding on itself
 * (forwarding was off when it started), after which it accepts only its own bridges' traffic.
 */
export function isDockerForwardPolicy(ctx: HostContext, dropRule: string | null): boolean {
  return dropRule === FORWARD_POLICY_DROP && rulesetOf(ctx).get('filter')?.has('DOCKER-USER') === true;
}

/** The remedy's last line for Docker's FORWARD policy: keeping the rules, and what keeps Docker from setting it. */
export const KEEP_FORWARD_ACCEPTS =
  'Keep the rules above where the host\'s firewall is kept (they go when the host restarts); turning forwarding on at boot before dockerd starts (net.ipv4.ip_forward = 1 in /etc/sysctl.d/) also keeps Docker from setting the policy.';
