import type { Flow } from '../flow/flow';
import { isLocalAddress, synInterface } from './context-facts';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { lookupRoute, type NoRoute } from './route-sim';

/** Why this host's routing refused a SYN it was to forward, from its snapshot's routes and rules. */
export interface RouteRefusal {
  kind: NoRoute['kind'];
  /** "the blackhole route 198.51.100.0/24 (table main)", "policy rule 100 (prohibit)", "no route". */
  decidedBy: string;
  sentence: string;
  remedy: string[];
}

/** What the kernel does with a packet it forwards into each kind of missing route. */
const FATE: Record<NoRoute['kind'], string> = {
  blackhole: 'drops what it forwards there without a word',
  unreachable: 'answers what it forwards there with ICMP host unreachable (IPv6: no route)',
  prohibit: 'answers what it forwards there with ICMP administratively prohibited, as a firewall\'s REJECT would, though no firewall rule is involved',
  none: 'answers what it forwards there with ICMP net unreachable (IPv6: no route)',
};

/**
 * A SYN that came into this host from elsewhere, to an address not its own, that the
 * snapshot's routing does not forward: a blackhole, unreachable or prohibit route or policy
 * rule, or no route at all. Null when the host routes it, or when the snapshot cannot say
 * (no context, the SYN's way in unknown). A local socket's SYN never meets this: connect()
 * fails before one is sent.
 */
export function routeRefusal(input: DiagnosisInput, flow: Flow): RouteRefusal | null {
  const ctx = input.context;
  if (ctx === null || isLocalAddress(ctx, flow.clientIp) || isLocalAddress(ctx, flow.serverIp)) return null;
  const iif = synInterface(flow, input);
  if (iif === null) return null;
  const r = lookupRoute(ctx, flow.serverIp, { iif, src: flow.clientIp });
  if ('route' in r) return null;
  const ip = flow.ipVersion === 6 ? 'ip -6' : 'ip';
  const typed = r.typedRoute;
  const table = typed === undefined || typed.table === 'main' ? '' : ` table ${typed.table}`;
  const decidedBy =
    typed !== undefined
      ? `the ${r.kind} route ${typed.route.destination} (table ${typed.table})`
      : r.rule !== undefined
        ? `policy rule ${r.rule.priority} (${r.kind})`
        : 'no route';
  const sentence =
    r.kind === 'none'
      ? `This host has no route to ${flow.serverIp}, not even a default one, so it ${FATE.none}.`
      : typed !== undefined
        ? `This host's route to ${flow.serverIp} is ${decidedBy}: the kernel ${FATE[r.kind]}.`
        : `On this host ${decidedBy} decides the way to ${flow.serverIp}: the kernel ${FATE[r.kind]}.`;
  const remedy =
    r.kind === 'none'
      ? [`Give this host a way to ${flow.serverIp}: ${ip} route add ${flow.serverIp} via GATEWAY (or a default route: ${ip} route add default via GATEWAY), and make it part of the host's network configuration.`]
      : typed !== undefined
        ? [
            `If that route is not meant for this traffic (a null route left from an incident, a VPN's leak guard), delete it: ${ip} route del ${r.kind} ${typed.route.destination}${table}.`,
            "Then remove it from where it is configured (/etc/network/interfaces, systemd-networkd, a VPN's or a routing daemon's configuration) so that it does not come back.",
          ]
        : [
            `If that rule is not meant for this traffic, delete it: ${ip} rule del priority ${r.rule!.priority}.`,
            "Then remove it from where it is configured so that it does not come back.",
          ];
  return { kind: r.kind, decidedBy, sentence, remedy };
}

/** The ICMP error this host sends for a SYN its routing refuses this way (IPv4 type 3, IPv6 type 1, by code); null for a silent drop. */
export function refusalIcmpCode(kind: NoRoute['kind'], ipVersion: 4 | 6): number | null {
  if (kind === 'blackhole') return null;
  if (ipVersion === 6) return kind === 'prohibit' ? 1 : 0;
  return kind === 'prohibit' ? 13 : kind === 'unreachable' ? 1 : 0;
}

/** `filtered`'s cause for a SYN this host forwards into a blackhole (route or policy rule): it leaves no trace but the snapshot's routes. */
export function blackholeDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const r = routeRefusal(input, flow);
  if (r === null || r.kind !== 'blackhole') return null;
  return { because: `this host routes them into ${r.decidedBy}`, sentences: [r.sentence], evidence: { droppedBy: 'blackhole-route', routedBy: r.decidedBy }, remedy: r.remedy };
}

/** The silent flows, not `explained`, this host routes into a blackhole: no hop after the routing decision is to blame. */
export function blackholedFlows(input: DiagnosisInput, explained: ReadonlySet<string>): string[] {
  return input.failedFlows.filter((f) => f.outcome === 'unanswered' && !explained.has(f.id) && blackholeDrop(input, f) !== null).map((f) => f.id);
}
