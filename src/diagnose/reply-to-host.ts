import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import type { DiagnosisInput } from './input';
import { hopFacts } from './nat-hop';
import { ruleText, rulesetOf, traverseHook } from './netfilter-walk';

const INPUT_HOOK = { hook: 'input', type: 'filter' } as const;

/** What the snapshot says of SYN-ACKs that came back to one of this host's own addresses and were never taken. */
export interface ReplyToHost {
  /** The INPUT rule (or policy) that surely drops the replies when a process here made the connection; null when none. */
  inputDrop: string | null;
  /** Per Docker bridge whose containers' connections are masqueraded out of the interface: the forward rule that surely drops their replies. */
  forwardDrops: { bridge: string; rule: string }[];
}

/**
 * The client of an attempt is this host's own address: the SYNs left by `iface` and the
 * SYN-ACKs came back by it, so the replies were dropped here. Two ways it happens: a process
 * on the host made the connection and INPUT drops the replies; or a container did (Docker
 * masquerades its connections to this address) and the forward path to its bridge drops them,
 * as a DOCKER-USER rule written for new connections to published ports does. Which one only a
 * capture of the bridges says; the snapshot says which of the two would drop them.
 */
export function replyToHost(input: DiagnosisInput, flow: Flow, iface: string): ReplyToHost {
  const ctx = input.context!;
  const pkt = { src: flow.serverIp, dst: flow.clientIp, dstPort: flow.clientPort, inInterface: iface, dstLocal: true, srcLocal: false, ctState: 'ESTABLISHED' as const };
  const t = traverseHook(rulesetOf(ctx), INPUT_HOOK, pkt);
  const inputDrop =
    t === null || (t.verdict !== 'DROP' && t.verdict !== 'REJECT') || t.maybe.some((r) => r.target === 'ACCEPT')
      ? null
      : t.rule === null
        ? `the ${t.base!.chain.name} chain's policy ${t.verdict}`
        : ruleText(t.rule);
  const forwardDrops: ReplyToHost['forwardDrops'] = [];
  for (const network of ctx.dockerNetworks ?? []) {
    // One container of the flow's family stands for the network's (a rule naming one container's address is not modelled).
    const sameFamily = (a: string) => a.includes(':') === flow.clientIp.includes(':');
    const address = network.endpoints?.flatMap((e) => e.addresses).find(sameFamily);
    if (network.bridge === null || network.masquerade === false || address === undefined) continue;
    if (!input.bridges.some((b) => b.name === network.bridge && subnetContains(b.subnet, address))) continue;
    const facts = hopFacts(ctx, { packet: { src: flow.serverIp, dst: address, dstPort: flow.clientPort }, established: true, from: iface, to: network.bridge });
    if (facts.dropRule !== null) forwardDrops.push({ bridge: network.bridge, rule: facts.dropRule });
  }
  return { inputDrop, forwardDrops };
}
