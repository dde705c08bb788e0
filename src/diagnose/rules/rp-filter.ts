import { clientCount } from '../sample-counts';
import type { HostContext } from '../../context/host-context';
import type { Flow } from '../../flow/flow';
import type { KernelEvidence } from '../../evidence/kernel-evidence';
import { counter, deviceOf, sameLink, synInterface } from '../context-facts';
import { BY_TIME_ONLY, counterRises, countersRead, describeDrops, describeRises, dropsFollowSyns, dropsNearSyns, namespacesRead } from '../kernel-facts';
import type { Finding } from '../finding';
import { distinct, groupBy, plural } from '../group';
import type { DiagnosisInput } from '../input';
import { lookupRoute } from '../route-sim';

/** Why one flow's SYN fails the reverse-path check. */
interface RpfDrop {
  flow: Flow;
  iface: string;
  mode: 1 | 2;
  /** Device the reverse route leaves by, or null when there is none. */
  reverseDevice: string | null;
  reverseRoute: string;
}

/**
 * Reverse-path filtering: the check rp_filter applies to an IPv4 SYN before any socket
 * sees it (fib_validate_source in net/ipv4/fib_frontend.c, Linux 4.x-6.x). The mode is
 * max(conf.all.rp_filter, conf.<iface>.rp_filter). The kernel looks up the route back to
 * the source (as a locally generated packet, from the address the SYN was sent to):
 * strict mode (1) drops the packet unless that route leaves by the interface it came in
 * on; loose mode (2) only drops it when there is no route back at all. The drop is
 * counted as TcpExt.IPReversePathFilter and nothing answers (kfree_skb reason IP_RPFILTER,
 * Linux 5.17+). Reported as `filtered` with the cause named (the design has no code of its
 * own for it).
 */
export function rpFilterRule(input: DiagnosisInput): Finding[] {
  const ctx = input.context;
  if (ctx === null) return [];
  const drops: RpfDrop[] = [];
  for (const f of input.failedFlows) {
    // A SYN-ACK means the SYN got past the check; IPv6 has no rp_filter sysctl.
    if (f.outcome !== 'unanswered' || f.ipVersion !== 4) continue;
    const drop = check(ctx, f, input);
    if (drop !== null) drops.push(drop);
  }
  const filtered = counter(ctx, 'TcpExt.IPReversePathFilter');
  return [...groupBy(drops, (d) => `${d.iface}|${d.reverseDevice}`).values()].map((group) => finding(ctx, group, filtered, input));
}

function check(ctx: HostContext, f: Flow, input: DiagnosisInput): RpfDrop | null {
  const iface = synInterface(f, input);
  if (iface === null) return null;
  const all = sysctl(ctx, 'all');
  const own = sysctl(ctx, iface);
  if (all === null && own === null) return null;
  const mode = Math.max(all ?? 0, own ?? 0);
  if (mode !== 1 && mode !== 2) return null;
  const r = lookupRoute(ctx, f.clientIp, { src: f.serverIp });
  const device = deviceOf(r);
  const unicast = 'route' in r && r.route.type === 'unicast';
  const fails = !unicast || (mode === 1 && (device === null || !sameLink(ctx, iface, device)));
  if (!fails) return null;
  return { flow: f, iface, mode, reverseDevice: device, reverseRoute: 'route' in r ? `${r.route.destination} dev ${r.route.device ?? '-'} table ${r.table}` : r.unreachable };
}

function sysctl(ctx: HostContext, iface: string): number | null {
  const v = ctx.sysctls[`net.ipv4.conf.${iface}.rp_filter`];
  return v === undefined || !/^\d+$/.test(v.trim()) ? null : Number(v);
}

/** What the capture's window says about these SYNs; null without kernel evidence. */
function liveFacts(kernel: KernelEvidence | null | undefined, group: RpfDrop[]) {
  if (kernel == null) return null;
  const rises = counterRises(kernel, ['TcpExt.IPReversePathFilter']);
  const drops = dropsNearSyns(kernel, group.map((d) => d.flow), ['IP_RPFILTER']);
  const confirmed = rises.length > 0 || dropsFollowSyns(drops);
  // Counters read and not risen, and no drop traced at these SYNs: the filter did not act.
  const refuted = !confirmed && drops === null && countersRead(kernel);
  const sentence = confirmed
    ? 'During the capture the kernel ' +
      [rises.length > 0 ? `counted ${describeRises(rises)}` : '', drops !== null ? `dropped ${describeDrops(drops, 'as IP_RPFILTER')}, ${BY_TIME_ONLY}` : '']
        .filter((p) => p !== '')
        .join(', and ') +
      '.'
    : refuted
      ? `But during the capture TcpExt.IPReversePathFilter did not rise in ${namespacesRead(kernel)} and no IP_RPFILTER drop was traced at these SYNs, so this may not be what happened.`
      : null;
  return { rises, drops, confirmed, refuted, sentence };
}

function finding(ctx: HostContext, group: RpfDrop[], filtered: number | null, input: DiagnosisInput): Finding {
  const kernel = input.kernel;
  const live = liveFacts(kernel, group);
  const { iface, mode, reverseDevice } = group[0]!;
  const clients = distinct(group.map((d) => d.flow.clientIp));
  const all = ctx.sysctls['net.ipv4.conf.all.rp_filter'] ?? null;
  const own = ctx.sysctls[`net.ipv4.conf.${iface}.rp_filter`] ?? null;
  const why = reverseDevice === null || mode === 2
    ? `the host has no route back to the clients (${group[0]!.reverseRoute})`
    : `the route back to the clients leaves by ${reverseDevice} (${group[0]!.reverseRoute}), not by ${iface}`;
  return {
    // No code of its own in the closed set: the SYN is filtered, and this names the filter.
    code: 'filtered',
    severity: 'error',
    confidence: live?.confirmed ? 'high' : live?.refuted ? 'low' : filtered === null ? 'medium' : filtered > 0 ? 'high' : 'low',
    title: `Reverse-path filter on ${iface} drops SYNs from ${plural(clientCount(input, group.map((d) => d.flow), clients), 'client')}`,
    explanation:
      `rp_filter is ${mode === 1 ? 'strict (1)' : 'loose (2)'} on ${iface} (the kernel uses the larger of net.ipv4.conf.all.rp_filter and net.ipv4.conf.${iface}.rp_filter), and ${why}. ` +
      'The kernel drops such a SYN before any socket sees it, without an ICMP error, so the service looks silent. ' +
      (live?.sentence ??
        (filtered === null ? 'The snapshot has no TcpExt.IPReversePathFilter counter to confirm it.'
          : filtered > 0 ? `TcpExt.IPReversePathFilter is ${filtered}: the kernel has dropped packets for this reason.`
          : 'But TcpExt.IPReversePathFilter is 0 in the snapshot, so this may not be what happened when the capture was taken.')),
    evidence: {
      interface: iface,
      rpFilter: { all, [iface]: own, default: ctx.sysctls['net.ipv4.conf.default.rp_filter'] ?? null, effective: mode },
      reverseRoute: group[0]!.reverseRoute,
      reverseDevice,
      ipReversePathFilter: filtered,
      clients,
      ...(live !== null && { kernelCounters: live.rises, kernelDrops: live.drops }),
    },
    flows: group.map((d) => d.flow.id),
    remedy: mode === 1 && reverseDevice !== null
      ? [
          `Make the check loose on ${iface}: sysctl -w net.ipv4.conf.${iface}.rp_filter=2.`,
          `2 accepts a packet when any route leads back to its source, and the kernel takes the larger of "all" and the interface, so 2 on ${iface} is enough even with all=1. Keep it across reboots with the line net.ipv4.conf.${iface}.rp_filter = 2 in /etc/sysctl.d/90-rp-filter.conf.`,
          `Or make the routing symmetric so strict mode passes: replies to ${clients[0]} should leave by ${iface} (ip route get ${clients[0]} from ${group[0]!.flow.serverIp} names ${reverseDevice} today), e.g. policy routing keyed on the address the clients dial (the reverse-path check looks up from it too): ip route add default via ${gatewayOn(ctx, iface)} dev ${iface} table 100; ip rule add from ${group[0]!.flow.serverIp} lookup 100.`,
          'Watch the counter while the clients retry: nstat -az TcpExtIPReversePathFilter.',
        ]
      : [
          `Add a route back to the clients via ${iface} (ip route add ${clients[0]}/32 via <gateway> dev ${iface}, or the network they live in); rp_filter ${mode} drops sources the host cannot route back to.`,
          `Or turn the check off on ${iface} if the asymmetry is intended: sysctl -w net.ipv4.conf.${iface}.rp_filter=0 and net.ipv4.conf.all.rp_filter=0 (the larger of the two applies).`,
        ],
  };
}

function gatewayOn(ctx: HostContext, iface: string): string {
  return ctx.routes.find((r) => r.device === iface && r.gateway !== null)?.gateway ?? `<gateway on ${iface}>`;
}
