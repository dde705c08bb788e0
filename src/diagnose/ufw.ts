import type { HostContext } from '../context/host-context';
import { rulesetOf } from './netfilter-walk';

/**
 * ufw (Ubuntu's and Debian's firewall front end) on a Docker host: it keeps iptables' built-in
 * INPUT and FORWARD policies at its defaults (deny incoming, deny routed) and hangs its own
 * chains off them; rules added with iptables by hand go at the next restart, its own stay.
 */

/**
 * Whether ufw is active on the snapshot's filter `chain`, so that its policy is ufw's: the
 * chain jumps to ufw's chains, and they are a running ufw's (its user chain exists and its
 * before-chain has rules: `ufw disable` empties them and deletes the user chains, but leaves
 * the jumps until the next boot).
 */
export function ufwActiveOn(ctx: HostContext, chain: 'INPUT' | 'FORWARD'): boolean {
  const filter = rulesetOf(ctx).get('filter');
  const part = chain.toLowerCase();
  return (
    filter?.get(chain)?.rules.some((r) => /^ufw-/.test(r.target ?? '')) === true &&
    filter.has(`ufw-user-${part}`) &&
    (filter.get(`ufw-before-${part}`)?.rules.length ?? 0) > 0
  );
}

/** ufw's own DROP that stands for its policy (ports it never logs, such as SMB and DHCP, skip to it). */
export function isUfwPolicyRule(ruleText: string | null, chain: 'INPUT' | 'FORWARD'): boolean {
  return ruleText === `-A ufw-skip-to-policy-${chain.toLowerCase()} -j DROP`;
}

/** A rule of ufw's user chains: one a `ufw deny` (or `ufw route deny`) wrote. */
export function isUfwUserRule(chain: string): boolean {
  return /^ufw6?-user-/.test(chain);
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

/** ufw's rule, as `ufw allow` takes it, letting `from`, arriving on `iif`, reach `port`. */
export function ufwAllowRule(iif: string, from: string, port: number): string {
  return `allow in on ${iif} from ${from} to any port ${port} proto tcp`;
}

/** ufw's own rule letting `from`, arriving on `iif`, reach `port`: what ufw keeps across restarts. */
export function ufwAllowRemedy(iif: string, from: string, port: number): string {
  return `Allow it in ufw, which keeps its rules across restarts: ufw ${ufwAllowRule(iif, from, port)}.`;
}

/** ufw's remedy for a deny rule of its own: an allow before it (ufw stops at the first match), or the deny deleted. */
export function ufwBeforeDenyRemedy(iif: string, from: string, port: number): string[] {
  return [
    `The rule is ufw's own (a ufw deny): allow this traffic before it, as ufw takes the first rule that matches: ufw insert 1 ${ufwAllowRule(iif, from, port)}.`,
    'Or delete the deny if it is stale: ufw status numbered shows its number, then ufw delete NUMBER (deleting it with iptables lasts only until ufw reloads).',
  ];
}
