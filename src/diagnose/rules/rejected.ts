import type { Flow } from '../../flow/flow';
import type { Finding } from '../finding';
import { attemptCount, clientOf, distinct, groupBy, plural, serviceOf } from '../group';
import { icmpErrorName, isAdministrativeReject } from '../icmp-names';
import type { DiagnosisInput } from '../input';
import { refusingListener } from '../refusing-listener';
import { unresolvedNeighbour } from '../unresolved-neighbour';
import { isLocalAddress } from '../context-facts';
import { refusalIcmpCode, routeRefusal, type RouteRefusal } from '../route-refusal';

/**
 * `rejected`: a RST or an ICMP error answered the SYN. Not silent: say who refused and how,
 * once per attempt (a stitched attempt by its outermost hop), and for a RST what listens
 * where the SYN ended up.
 */
export function rejectedRule(input: DiagnosisInput): Finding[] {
  // One attempt refused at several hops (the published port and the container behind it) is one refusal: its outermost hop speaks for it.
  const inner = new Set((input.attempts ?? []).flatMap((a) => a.flows.slice(1)));
  const rejected = input.failedFlows.filter((f) => f.outcome === 'rejected' && f.rejection !== null && !inner.has(f.id));
  const groups = groupBy(rejected, (f) => `${serviceOf(f)}|${refusalOf(f)}`);
  const findings: Finding[] = [];
  for (const flows of groups.values()) {
    const first = flows[0]!;
    const rej = first.rejection!;
    const service = serviceOf(first);
    const how = refusalOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const byIcmp = rej.by === 'icmp';
    const admin = byIcmp && isAdministrativeReject(first.ipVersion, rej.icmpType!, rej.icmpCode!);
    // The RST came from the innermost hop of the attempt (the container behind a published port): ask what listens there.
    const deaf = byIcmp ? null : refusingListener(input, innermost(first, input));
    // This host's own host unreachable: a neighbour that never answered ARP.
    const unresolved = byIcmp ? unresolvedNeighbour(input, first) : null;
    // This host's own routing: a route that rejects, or none at all.
    const routed = byIcmp && unresolved === null ? ownRouteRefusal(input, first) : null;
    findings.push({
      code: 'rejected',
      severity: 'warning',
      confidence: 'high',
      title: `${service} refused ${plural(attemptCount(flows, input), 'connection attempt')} with ${how}`,
      explanation: byIcmp
        ? unresolved !== null
          ? [`${rej.from} answered the SYNs with ${how}.`, ...unresolved.sentences].join(' ')
          : routed !== null
            ? `This host itself (${rej.from}) answered the SYNs with ${how}. ${routed.sentence} The failure is not silent.`
            : `${rej.from} answered the SYNs with ${how}. The failure is not silent: ${admin ? 'a firewall rule rejects these connections' : rej.from === first.serverIp ? 'the server host refuses them' : `a router (${rej.from}) on the path refuses them`}.`
        : deaf !== null
          ? `${service} answered the SYNs with RST. ${deaf.sentence} The failure is not silent.`
          : `${service} answered the SYNs with RST: nothing listens on port ${first.serverPort} there, or a firewall rule rejects with tcp-reset. The failure is not silent.`,
      evidence: {
        service,
        refusedBy: rej.from,
        how,
        attempts: attemptCount(flows, input),
        clients,
        examples: flows.slice(0, 5).map(clientOf),
        ...(deaf !== null && { refusedIn: deaf.where, listeners: deaf.listeners }),
        ...unresolved?.evidence,
        ...(routed !== null && { refusedByRoute: routed.decidedBy }),
        ...(deaf?.publishedOn !== undefined && { publishedOn: deaf.publishedOn.addresses, container: deaf.publishedOn.container, dnatRules: deaf.publishedOn.rules }),
        ...(deaf?.unpublished !== undefined && { container: deaf.unpublished.container, portRequest: deaf.unpublished.asked, internalNetworks: deaf.unpublished.internalNetworks }),
      },
      flows: flows.map((f) => f.id),
      remedy: byIcmp ? (unresolved?.remedy ?? routed?.remedy ?? icmpRemedy(first, admin)) : deaf !== null ? deaf.remedy : rstRemedy(first),
    });
  }
  return findings;
}

/** The flow of the attempt's innermost hop (after DNAT), or the flow itself when it was not stitched. */
function innermost(f: Flow, input: DiagnosisInput): Flow {
  const attempt = input.attempts?.find((a) => a.flows.includes(f.id));
  const id = attempt?.flows[attempt.flows.length - 1];
  return (id === undefined ? undefined : input.failedFlows.find((x) => x.id === id)) ?? f;
}

/** The refusal this host's own routing explains: an ICMP error from one of its addresses whose code is the one its route (or lack of one) sends. */
function ownRouteRefusal(input: DiagnosisInput, f: Flow): RouteRefusal | null {
  const rej = f.rejection!;
  const ctx = input.context;
  if (ctx === null || !isLocalAddress(ctx, rej.from) || rej.icmpType !== (f.ipVersion === 4 ? 3 : 1)) return null;
  const refusal = routeRefusal(input, f);
  return refusal !== null && refusalIcmpCode(refusal.kind, f.ipVersion) === rej.icmpCode ? refusal : null;
}

function refusalOf(f: Flow): string {
  const r = f.rejection!;
  return r.by === 'rst' ? 'RST' : icmpErrorName(f.ipVersion, r.icmpType ?? -1, r.icmpCode ?? -1);
}

function rstRemedy(f: Flow): string[] {
  return [
    `Check that something listens on ${f.serverIp} port ${f.serverPort}: ss -ltnp 'sport = :${f.serverPort}' (for a published container port, inside the container: nsenter -t <container-pid> -n ss -ltn).`,
    `If it listens, look for a rule that rejects with tcp-reset: iptables-save | grep -i 'reject-with tcp-reset'; nft list ruleset | grep -i 'reject with tcp reset'.`,
    'For a published Docker port, check that the container is running and its port mapping is right: docker ps --format "{{.Names}} {{.Ports}}".',
  ];
}

function icmpRemedy(f: Flow, admin: boolean): string[] {
  const from = f.rejection!.from;
  if (admin || f.rejection!.icmpCode === 3) {
    return [
      `Find the REJECT rule on ${from}: iptables-save | grep -n REJECT; nft list ruleset | grep -n reject (look at INPUT, FORWARD and DOCKER-USER).`,
      `Allow the clients to ${f.serverIp} port ${f.serverPort} there, or remove the rule if it is stale.`,
    ];
  }
  const timeExceeded = f.ipVersion === 4 ? f.rejection!.icmpType === 11 : f.rejection!.icmpType === 3;
  if (timeExceeded) {
    return [`The SYNs' TTL ran out at ${from}: look for a routing loop on the path to ${f.serverIp} (traceroute -T -p ${f.serverPort} ${f.serverIp}; ip route get ${f.serverIp} on each hop).`];
  }
  return [
    `${from} has no route to ${f.serverIp}: check its routes (ip route get ${f.serverIp}) and whether the destination host is up.`,
  ];
}
