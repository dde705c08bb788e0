import type { Flow } from '../flow/flow';
import { deviceOf, isLocalAddress, sameLink, synInterface } from './context-facts';
import { holderOf } from './docker-holder';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { DNAT_HOOK, hopFacts, linkOf, natTarget } from './nat-hop';
import { rulesetOf, traverseHook } from './netfilter-walk';
import { lookupRoute } from './route-sim';

/**
 * A SYN to a published port seen arriving (on the uplink: `tcpdump -i eth0`) and never
 * answered, when the container's bridge was not captured: the snapshot's nat PREROUTING
 * DNATs it to a container, and what the forward path then does with it (a filter rule or
 * policy, IPv4 forwarding off) is read from the snapshot. Named only when that surely drops
 * it; with the bridge captured, `nat-path-break` shows the same from the packets.
 */
export function publishedDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  if (ctx === null || !isLocalAddress(ctx, flow.serverIp)) return null;
  const iif = synInterface(flow, input);
  if (iif === null) return null;
  const inDev = linkOf(ctx, iif);
  const t = traverseHook(rulesetOf(ctx), DNAT_HOOK, { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort, inInterface: inDev, dstLocal: true, srcLocal: isLocalAddress(ctx, flow.clientIp) });
  const to = t?.verdict === 'DNAT' ? natTarget(t.rule?.toDestination, flow.serverPort) : null;
  if (to === null) return null;
  const dev = deviceOf(lookupRoute(ctx, to.ip, { iif: inDev, src: flow.clientIp }));
  // With the bridge captured, the packets show where the SYN stopped (nat-path-break), not the snapshot alone.
  if (dev === null || sameLink(ctx, dev, iif) || input.interfaceNames.some((n) => sameLink(ctx, n, dev))) return null;
  const facts = hopFacts(ctx, {
    packet: { src: flow.clientIp, dst: to.ip, dstPort: to.port },
    from: iif,
    to: dev,
    dnatOf: { dst: flow.serverIp, dstPort: flow.serverPort, iif },
    reply: { client: flow.clientIp, from: to.ip, iif: dev, back: iif },
  });
  if (facts.dropRule === null) return null;
  const target = `${to.ip}:${to.port}`;
  const holder = holderOf(ctx, to.ip);
  return {
    because: facts.evidence['forwarding'] !== undefined ? `the host does not forward them to its container (IPv4 forwarding off)` : `the forward path to its container drops them`,
    sentences: [
      `${flow.serverIp}:${flow.serverPort} is a published port: the host DNATs the SYNs to ${holder === null ? target : `${holder} (${target})`} behind ${dev}, which this capture does not include, and the snapshot says the forward path there drops them.`,
      ...facts.sentences,
    ],
    evidence: { ...facts.evidence, dnatTarget: target, dnatTargetName: holder, forwardVerdictBy: facts.dropRule },
    remedy: [...facts.dropRemedy, `Confirm with ${dev} captured as well (the SYNs never get there): synscope live -i ${iif} -i ${dev}.`],
  };
}
