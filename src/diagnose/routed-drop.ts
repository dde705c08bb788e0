import type { Flow } from '../flow/flow';
import { forwardedWay, sameLink } from './context-facts';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { forwardPolicyOwner, KEEP_FORWARD_ACCEPTS } from './forward-policy';
import { ufwForwardSentence, ufwRouteRemedy } from './ufw';
import { hopFacts } from './nat-hop';

/**
 * A SYN this host routes between two of its interfaces (neither end is the host, no NAT
 * involved), seen coming in and never going out, that the snapshot's forward-hook filter
 * chains surely drop: a host routing for a VPN, VMs or a second network. When the drop is
 * iptables' FORWARD policy, its owner is named: ufw's (deny routed) when FORWARD jumps to
 * ufw's chains, else on a Docker host most likely Docker's: dockerd sets it to DROP when it
 * turns IPv4 forwarding on itself, and accepts only its own bridges' traffic (the snapshot's
 * iptables text is IPv4's, so this is an IPv4 story). Null otherwise.
 */
export function routedDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  const way = forwardedWay(input, flow);
  if (ctx === null || way === null) return null;
  const { iif, out } = way;
  if (flow.interfaces.some((i) => sameLink(ctx, input.interfaceNames[i] ?? '', out))) return null;
  const facts = hopFacts(ctx, { packet: { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort }, from: iif, to: out });
  if (facts.dropRule === null) return null;
  const evidence = { interface: iif, leavesBy: out, forwardVerdictBy: facts.dropRule, forwardVerdict: facts.evidence['forwardVerdict'] ?? null };
  const owner = forwardPolicyOwner(ctx, facts.dropRule, flow.ipVersion);
  if (owner === 'ufw') {
    return {
      because: `FORWARD's policy DROP (ufw's: deny routed) drops them as they are forwarded from ${iif} to ${out}`,
      sentences: [`The SYNs came in by ${iif} to be routed out of ${out}, and FORWARD's policy DROP drops them.`, ufwForwardSentence(iif, out)],
      evidence: { ...evidence, forwardPolicyOf: owner },
      remedy: ufwRouteRemedy(iif, out),
    };
  }
  if (owner === null) {
    return {
      because: `dropped as they are forwarded from ${iif} to ${out}`,
      sentences: [`The SYNs came in by ${iif} to be routed out of ${out}, and were not seen leaving.`, ...facts.sentences],
      evidence,
      remedy: facts.dropRemedy,
    };
  }
  return {
    because: `FORWARD's policy DROP (Docker's) drops them as they are forwarded from ${iif} to ${out}`,
    sentences: [
      `The SYNs came in by ${iif} to be routed out of ${out}, and FORWARD's policy DROP drops them. On a Docker host that policy is usually Docker's: dockerd sets it when it turns IP forwarding on itself (forwarding was off when it started, as at boot before a router, VPN or VM service turns it on), then accepts only its own bridges' traffic.`,
      `Routing between ${iif} and ${out}, which is not Docker's, is dropped without a word.`,
    ],
    evidence: { ...evidence, dockerForwardPolicy: true, forwardPolicyOf: owner },
    remedy: [
      `Accept this forwarding in DOCKER-USER, where Docker leaves rules alone: iptables -I DOCKER-USER -i ${iif} -o ${out} -j ACCEPT.`,
      `And the replies back: iptables -I DOCKER-USER -i ${out} -o ${iif} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.`,
      KEEP_FORWARD_ACCEPTS,
    ],
  };
}
