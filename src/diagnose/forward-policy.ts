import type { HostContext } from '../context/host-context';
import { rulesetOf } from './netfilter-walk';

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
export function forwardPolicyOwner(ctx: HostContext, dropRule: string | null): ForwardPolicyOwner | null {
  if (dropRule !== FORWARD_POLICY_DROP) return null;
  const filter = rulesetOf(ctx).get('filter');
  if (filter?.get('FORWARD')?.rules.some((r) => /^ufw-/.test(r.target ?? '')) === true) return 'ufw';
  return filter?.has('DOCKER-USER') === true ? 'docker' : null;
}

/** Why ufw's policy drops what the host forwards between `from` and `to`, which are not Docker's. */
export function ufwPolicySentence(from: string, to: string): string {
  return `That policy is ufw's (FORWARD jumps to its chains): its default for routed traffic (DEFAULT_FORWARD_POLICY in /etc/default/ufw, the routed default \`ufw status verbose\` shows) drops whatever no \`ufw route\` rule allows. Docker's own FORWARD rules come before ufw's, so its published ports still work; forwarding from ${from} to ${to}, which is not Docker's, does not.`;
}

/** ufw's own remedy for forwarding from `from` to `to`: a route rule, which ufw keeps across restarts. */
export function ufwRouteRemedy(from: string, to: string): string[] {
  return [
    `Allow this forwarding in ufw, which keeps its rules across restarts: ufw route allow in on ${from} out on ${to}.`,
    `ufw's before-forward rules already accept the replies (RELATED,ESTABLISHED), so one rule is enough; a rule in DOCKER-USER would work too, but would go when the host restarts.`,
  ];
}

/** The remedy's last line for Docker's FORWARD policy: keeping the rules, and what keeps Docker from setting it. */
export const KEEP_FORWARD_ACCEPTS =
  'Keep the rules above where the host\'s firewall is kept (they go when the host restarts); turning forwarding on at boot before dockerd starts (net.ipv4.ip_forward = 1 in /etc/sysctl.d/) also keeps Docker from setting the policy.';
