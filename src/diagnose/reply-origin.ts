import type { HostContext } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { deviceOf, isLocalAddress, synInterface } from './context-facts';
import type { DiagnosisInput } from './input';
import { linkOf, natTarget, splitEndpoint } from './nat-hop';
import { rulesetOf, ruleText, traverse } from './netfilter-walk';
import { describeRoute } from './double-routes';
import { holderOf } from './docker-holder';
import { lookupRoute } from './route-sim';

/**
 * Where the SYN-ACK to a client is made: by this host's own stack (a service listening
 * on the host), or in the namespace a DNAT sent the SYN to (a container behind `-p`,
 * ingress_sbox behind a swarm published port). That namespace answers over its own
 * routes, so the host's route back to the client is not the one that decides.
 */
export type ReplyOrigin =
  | { kind: 'host' }
  | {
      kind: 'dnat';
      /** The address the SYN was rewritten to, and who holds it per the Docker API (null when unknown). */
      target: string;
      holder: string | null;
      /** The host device the target sits behind (a bridge), or null when the route is unknown. */
      device: string | null;
      /** How it is known: a captured inner hop of the attempt, or the snapshot's DNAT rule. */
      from: 'stitched hop' | 'nat rule';
      rule: string | null;
    };

/** The reply origin of a failed flow; `host` when nothing says the SYN was translated. */
export function replyOrigin(flow: Flow, input: DiagnosisInput): ReplyOrigin {
  const ctx = input.context;
  const attempt = input.attempts?.find((a) => a.flows.includes(flow.id));
  const inner = attempt?.hops.find((h) => h.translation === 'dnat' || h.translation === 'dnat+snat');
  if (inner !== undefined) return dnatOrigin(ctx, splitEndpoint(inner.server).ip, 'stitched hop', null);
  if (ctx === null || !isLocalAddress(ctx, flow.serverIp)) return { kind: 'host' };
  const iface = synInterface(flow, input);
  const inDev = iface === null ? undefined : linkOf(ctx, iface);
  const t = traverse(rulesetOf(ctx), 'nat', 'PREROUTING', {
    src: flow.clientIp,
    dst: flow.serverIp,
    dstPort: flow.serverPort,
    inInterface: inDev,
    dstLocal: true,
    srcLocal: isLocalAddress(ctx, flow.clientIp),
  });
  const to = t?.verdict === 'DNAT' ? natTarget(t.rule?.toDestination, flow.serverPort) : null;
  if (to === null) return { kind: 'host' };
  return dnatOrigin(ctx, to.ip, 'nat rule', ruleText(t!.rule!));
}

function dnatOrigin(ctx: HostContext | null, target: string, from: 'stitched hop' | 'nat rule', rule: string | null): ReplyOrigin {
  const device = ctx === null ? null : deviceOf(lookupRoute(ctx, target));
  return { kind: 'dnat', target, holder: ctx === null ? null : holderOf(ctx, target), device, from, rule };
}

/** The snapshot of the namespace holding `address` on one of its interfaces (--netns-context), or null. */
export function namespaceHolding(input: DiagnosisInput, address: string): HostContext | null {
  return (input.namespaceContexts ?? []).find((c) => c.interfaces.some((i) => i.addresses.some((a) => a.address === address))) ?? null;
}

/**
 * How the namespace holding a DNAT target routes its reply to `client`, from that
 * namespace's own snapshot: the route, and whether it is on-link (the client taken for a
 * neighbour: no gateway). Null without a snapshot of that namespace.
 */
export function targetReplyRoute(input: DiagnosisInput, target: string, client: string): { namespace: string; route: string; onLink: boolean; device: string | null } | null {
  const ns = namespaceHolding(input, target);
  if (ns === null) return null;
  const r = lookupRoute(ns, client, { src: target });
  if (!('route' in r)) return { namespace: ns.namespace, route: r.unreachable, onLink: false, device: null };
  return { namespace: ns.namespace, route: describeRoute(r.route), onLink: r.route.gateway === null && r.route.type === 'unicast', device: r.route.device };
}
