import type { HostContext } from '../../context/host-context';
import type { Flow } from '../../flow/flow';
import { parseSubnet, subnetContains, type Subnet } from '../../net/cidr';
import { bridgePlace, bridgeUplink, sentByHost, untranslatedEvidence, type BridgeUplink } from '../bridge-uplink';
import { networkOnBridge } from '../docker-holder';
import { contextInterface } from '../context-facts';
import type { Finding } from '../finding';
import { distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';

/** Unique local addresses (RFC 4193): routed nowhere beyond the site that uses them. */
/** fc00::/7, parsed when first needed: parsing loads ip-num (about 35 ms), which a run without IPv6 prefixes to check never needs. */
let uniqueLocalPrefix: Subnet | null = null;

/** An attempt seen leaving by the uplink with the container's own source. */
interface LeftUntranslated extends BridgeUplink {
  flow: Flow;
}

/**
 * `nat-path-break` for a container's IPv6 connection that left the host with the container's
 * own address and got no answer. Docker routes its networks' IPv6 instead of translating it
 * (it writes IPv6 NAT only with "ip6tables" on), so the network beyond has to route the
 * bridge's prefix back to this host: a unique local prefix nobody routes, a global one only
 * where someone set that up. Claimed only when the capture saw the SYN leave by the uplink with
 * that source, sent by this host: then no translation happened, whatever the rules say.
 */
export function ipv6UnroutedRule(input: DiagnosisInput): Finding[] {
  const ctx = input.context;
  if (ctx === null) return [];
  const found: LeftUntranslated[] = [];
  for (const flow of input.failedFlows) {
    if (flow.outcome !== 'unanswered' || flow.ipVersion !== 6) continue;
    const left = leftUntranslated(input, ctx, flow);
    if (left !== null) found.push(left);
  }
  return [...groupBy(found, (u) => `${u.bridge.name}|${u.uplink}|${serviceOf(u.flow)}`).values()].map((group) => finding(group, input, ctx));
}

function leftUntranslated(input: DiagnosisInput, ctx: HostContext, flow: Flow): LeftUntranslated | null {
  const way = bridgeUplink(input, ctx, flow);
  if (way === null || !flow.interfaces.some((i) => input.interfaceNames[i] === way.uplink)) return null;
  return sentByHost(input, ctx, flow.clientIp, way.uplink) ? { flow, ...way } : null;
}

function finding(group: LeftUntranslated[], input: DiagnosisInput, ctx: HostContext): Finding {
  const { bridge, uplink, route } = group[0]!;
  const flows = group.map((u) => u.flow);
  const service = serviceOf(flows[0]!);
  const clients = distinct(flows.map((f) => f.clientIp), 20);
  const prefix = bridge.subnet.text;
  const network = networkOnBridge(ctx, bridge.name);
  const who = bridgePlace(network, bridge);
  uniqueLocalPrefix ??= parseSubnet('fc00::/7')!;
  const isUniqueLocal = subnetContains(uniqueLocalPrefix, prefix.split('/')[0]!);
  const hostVia = contextInterface(ctx, uplink)?.addresses.find((a) => a.family === 6 && !a.address.toLowerCase().startsWith('fe80:'))?.address ?? "this host's address";
  const nat = `ip6tables -t nat -I POSTROUTING -s ${prefix} ! -o ${bridge.name} -j MASQUERADE`;
  const sentences = [
    `The SYNs to ${service} from ${clients.join(', ')} (${who}) left by ${uplink} with that source address; nothing came back: no SYN-ACK, RST or ICMP.`,
    'Docker routes its networks\' IPv6 instead of translating it: it writes IPv6 NAT only when "ip6tables" is on (Docker 27 and later by default; before, an option, experimental in 20.10).',
    isUniqueLocal
      ? `${prefix} is a unique local prefix (fc00::/7), which no network beyond this host routes back, so the answer to ${clients[0]} is lost on its way.`
      : `The answer to ${clients[0]} comes back only if the network beyond routes ${prefix} to this host (a route on the upstream router, or NDP proxying), and here it does not.`,
  ];
  const translate = `Translate it now, as Docker's ip6tables option would: ${nat}.`;
  const keep = 'Keep the translation across restarts by letting Docker write it (Docker 27 and later do by default), then restart dockerd: /etc/docker/daemon.json: {"experimental": true, "ip6tables": true}.';
  const remedy = isUniqueLocal
    ? [translate, keep, `Or give the network a global /64 of your own instead of ${prefix} (fixed-cidr-v6 for docker0, --subnet for a network you create) and route it to this host on the upstream router (ip -6 route add PREFIX via ${hostVia} there).`]
    : [`Route ${prefix} to this host on the upstream router (ip -6 route add ${prefix} via ${hostVia} there), or proxy NDP for it on ${uplink} when it lies inside ${uplink}'s own prefix.`, `Or translate it instead: ${nat}.`];
  return {
    code: 'nat-path-break',
    severity: 'error',
    confidence: 'high',
    title: `${plural(flows.length, 'attempt')} from ${bridge.name} to ${service} left by ${uplink} with the container's own IPv6 address: nothing routes ${prefix} back`,
    explanation: sentences.join(' '),
    evidence: {
      ...untranslatedEvidence(input, flows, group[0]!, uplink, true),
      uniqueLocal: isUniqueLocal,
      routeToServer: route,
      ...(network !== undefined && { dockerNetwork: network.name }),
    },
    flows: flows.map((f) => f.id),
    remedy,
  };
}
