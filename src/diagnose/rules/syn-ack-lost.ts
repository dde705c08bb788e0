import type { Flow } from '../../flow/flow';
import type { Finding } from '../finding';
import { contextInterface } from '../context-facts';
import { attemptCount, attemptHops, distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';
import { synAckRetransmitsOf } from '../kernel-facts';

/** `syn-ack-lost`: the server answered but the client never got it and kept retransmitting its SYN. */
export function synAckLostRule(input: DiagnosisInput): Finding[] {
  // One finding per attempt as the client made it: its NAT hops (the container's leg) go with it.
  const hops = attemptHops(input);
  const lost = input.failedFlows.filter((f) => f.outcome === 'synAckLost' && !hops.isInner(f.id));
  const findings: Finding[] = [];
  for (const flows of groupBy(lost, serviceOf).values()) {
    const first = flows[0]!;
    const service = serviceOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const interfaces = distinct(flows.flatMap((f) => f.interfaces.map((i) => input.interfaceNames[i] ?? `#${i}`)));
    const retransmits = input.kernel == null ? null : synAckRetransmitsOf(input.kernel, flows);
    const leftBy = leftHostBy(input, flows);
    const attempts = attemptCount(flows, input);
    const text = leftBy === null ? lostOnTheWay(service, attempts, clients[0]!, first.serverIp) : lostBeyond(service, attempts, leftBy, clients[0]!, first);
    findings.push({
      code: 'syn-ack-lost',
      severity: 'error',
      confidence: 'high',
      title: text.title,
      explanation:
        text.explanation +
        (retransmits === null
          ? ''
          : ` The kernel on this host retransmitted ${plural(retransmits.retransmits, 'SYN-ACK')} for ${retransmits.attempts} of these attempts (tcp_retransmit_synack, matched by addresses and ports): the server is here and never got the handshake's ACK.`),
      evidence: {
        service,
        attempts,
        clients,
        synAcksSent: flows.reduce((n, f) => n + f.synAcks, 0),
        clientSynRetransmissions: flows.reduce((n, f) => n + Math.max(0, f.syns - 1), 0),
        seenOn: interfaces,
        ...(input.kernel != null && { kernelSynAckRetransmits: retransmits }),
        ...(leftBy !== null && { leftBy }),
      },
      flows: flows.flatMap((f) => hops.hopsOf(f.id)),
      remedy: text.remedy,
    });
  }
  return findings;
}

interface Text {
  title: string;
  explanation: string;
  remedy: string[];
}

/** The SYN-ACKs left the host the way the SYNs came in: lost beyond it. */
function lostBeyond(service: string, attempts: number, leftBy: string, client: string, first: Flow): Text {
  return {
    title: `${service} answered ${plural(attempts, 'attempt')}, the SYN-ACKs left this host by ${leftBy}, and the clients never got them`,
    explanation:
      `${service} sent SYN-ACKs and they left this host by ${leftBy}, the way the SYNs came in (a capture sees a packet leave after the host's own routing and firewall), yet the clients kept retransmitting the same SYN: the replies are lost beyond this host, between ${leftBy} and the clients. ` +
      'Typical causes: a stateful firewall, security group or NAT on the way that did not see the SYN (the SYNs come in by another path than the replies take) and drops a SYN-ACK it holds no state for, or a route toward the clients that ends elsewhere.',
    remedy: [
      `Look beyond this host, on the way from ${leftBy} to ${client}: the firewalls, security groups, NAT gateways and routers the replies cross; one that did not see the SYN (asymmetric routing) drops the SYN-ACK. From this host, traceroute -n ${client} shows the path the replies take.`,
      `Capture at the client, or the last hop before it, to see whether the SYN-ACKs arrive there: tcpdump -ni any 'tcp and host ${first.serverIp} and port ${first.serverPort}'.`,
    ],
  };
}

/** Where the SYN-ACKs went after this capture point is not known: the host may still have misrouted them. */
function lostOnTheWay(service: string, attempts: number, client: string, serverIp: string): Text {
  return {
    title: `${service} answered ${plural(attempts, 'attempt')} but the SYN-ACKs never reached the clients`,
    explanation:
      `${service} sent SYN-ACKs, yet the clients kept retransmitting the same SYN, so the replies were lost between this capture point and the clients. ` +
      'Typical causes: the reply is routed out of another interface (a bridge subnet or route that contains the clients), reverse-path filtering, or a stateful firewall on the return path.',
    remedy: [
      `Ask the kernel where replies to a client go: ip route get ${client} from ${serverIp}. If it names a bridge (docker0, docker_gwbridge, br-...) instead of the uplink, the bridge subnet overlaps the clients.`,
      'Capture on the next hop toward the clients (the uplink, or the client itself) to see where the SYN-ACK stops: synscope live -i <uplink>.',
      'Check reverse-path filtering and conntrack on the return path: sysctl net.ipv4.conf.all.rp_filter; conntrack -S (look at invalid/drop).',
    ],
  };
}

/**
 * The interface the SYN-ACKs were seen leaving by, when that is the way out of the host: the
 * flows were seen on one interface only, the one their SYNs came in on, and it is no bridge
 * or bridge port (where a reply can still be misrouted inside the host). Null otherwise.
 */
function leftHostBy(input: DiagnosisInput, flows: readonly Flow[]): string | null {
  const names = distinct(flows.flatMap((f) => f.interfaces.map((i) => input.interfaceNames[i] ?? '')));
  if (names.length !== 1 || names[0] === '' || names[0] === 'any' || flows.some((f) => f.synAcks === 0)) return null;
  const name = names[0]!;
  const bridges = new Set(input.bridges.map((b) => b.name));
  const iface = input.context === null ? undefined : contextInterface(input.context, name);
  if (bridges.has(name) || iface?.kind === 'bridge' || (iface?.master ?? null) !== null) return null;
  return name;
}
