import type { HostContext } from '../context/host-context';
import { rulesetOf } from './netfilter-walk';

/**
 * ufw (Ubuntu's and Debian's firewall front end) on a Docker host: it keeps iptables' built-in
 * INPUT and FORWARD policies at its defaults (deny incoming, deny routed) and hangs its own
 * chains off them; rules added with iptables by hand go at the next restart, its own stay.
 */

/** Whether the snapshot's filter `chain` jumps to ufw's chains, so that its policy is ufw's. */
export function jumpsToUfw(ctx: HostContext, chain: 'INPUT' | 'FORWARD'): boolean {
  return rulesetOf(ctx).get('filter')?.get(chain)?.rules.some((r) => /^ufw-/.test(r.target ?? '')) === true;
}

/** Why ufw's policy drops what the host forwards between `from` and `to`, which are not Docker's. */
export function ufwForwardSentence(from: string, to: string): string {
  return `That policy is ufw's (FORWARD jumps to its chains): its default for routed traffic (DEFAULT_FORWARD_POLICY in /etc/default/ufw, the routed default \`ufw status verbose\` shows) drops whatever no \`ufw route\` rule allows. Docker's own FORWARD rules come before ufw's, so its published ports still work; forwarding from ${from} to ${to}, which is not Docker's, does not.`;
}

/** ufw's own remedy for forwarding from `from` to `to`: a route rule, which ufw keeps across restarts. */
export function ufwRouteRemedy(from: string, to: string): string[] {
  return [
    `Allow this forwarding in ufw, which keeps its rules across restarts: ufw route allow in on ${from} out on ${to}.`,
    `ufw's before-forward rules already accept the replies (RELATED,ESTABLISHED), so one rule is enough; a rule in DOCKER-USER would work too, but would go when the host restarts.`,
  ];
}

/** Why ufw's INPUT policy drops what a container (or anything ufw has no rule for) sends to the host. */
export const UFW_INPUT_SENTENCE =
  "That policy is ufw's (INPUT jumps to its chains): its default for incoming traffic (deny) drops whatever no `ufw allow` rule lets in, and ufw's rules name where a service may be reached from.";

/** ufw's own rule letting `from`, arriving on `iif`, reach `port`: what ufw keeps across restarts. */
export function ufwAllowRemedy(iif: string, from: string, port: number): string {
  return `Allow it in ufw, which keeps its rules across restarts: ufw allow in on ${iif} from ${from} to any port ${port} proto tcp.`;
}
