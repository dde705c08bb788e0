import type { HostContext } from '../context/host-context';
import { rulesetOf } from './netfilter-walk';
import { isUfwPolicyRule, ufwActiveOn } from './ufw';

/** How the forward-hook walk names a drop by iptables' FORWARD policy. */
const FORWARD_POLICY_DROP = 'the FORWARD policy DROP';

/** Who set iptables' FORWARD policy DROP: ufw (its default for routed traffic) or Docker. */
export type ForwardPolicyOwner = 'ufw' | 'docker';

/**
 * Whose FORWARD policy DROP a drop is, when it is one. ufw's when FORWARD jumps to ufw's
 * chains: ufw sets the policy from DEFAULT_FORWARD_POLICY whenever it starts or reloads,
 * whatever Docker did. Otherwise, on a Docker host (its chains are in the snapshot's filter
 * table), most likely Docker's own, set when dockerd turned IP forwarding on itself
 * (forwarding was off when it started), after which it accepts only its own bridges' traffic.
 */
export function forwardPolicyOwner(ctx: HostContext, dropRule: string | null, ipVersion: 4 | 6): ForwardPolicyOwner | null {
  // The snapshot's iptables text is IPv4's: ip6tables' FORWARD and its owner are not in it.
  if (ipVersion !== 4) return null;
  if (ufwActiveOn(ctx, 'FORWARD') && (dropRule === FORWARD_POLICY_DROP || isUfwPolicyRule(dropRule, 'FORWARD'))) return 'ufw';
  if (dropRule !== FORWARD_POLICY_DROP) return null;
  return rulesetOf(ctx).get('filter')?.has('DOCKER-USER') === true ? 'docker' : null;
}

/** The remedy's last line for Docker's FORWARD policy: keeping the rules, and what keeps Docker from setting it. */
export const KEEP_FORWARD_ACCEPTS =
  'Keep the rules above where the host\'s firewall is kept (they go when the host restarts); turning forwarding on at boot before dockerd starts (net.ipv4.ip_forward = 1 in /etc/sysctl.d/) also keeps Docker from setting the policy.';
