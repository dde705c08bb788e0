import type { Finding } from '../finding';
import { attemptCount, distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';
import { synAckRetransmitsOf } from '../kernel-facts';

/** `syn-ack-lost`: the server answered but the client never got it and kept retransmitting its SYN. */
export function synAckLostRule(input: DiagnosisInput): Finding[] {
  const lost = input.failedFlows.filter((f) => f.outcome === 'synAckLost');
  const findings: Finding[] = [];
  for (const flows of groupBy(lost, serviceOf).values()) {
    const first = flows[0]!;
    const service = serviceOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const interfaces = distinct(flows.flatMap((f) => f.interfaces.map((i) => input.interfaceNames[i] ?? `#${i}`)));
    const retransmits = input.kernel == null ? null : synAckRetransmitsOf(input.kernel, flows);
    findings.push({
      code: 'syn-ack-lost',
      severity: 'error',
      confidence: 'high',
      title: `${service} answered ${plural(attemptCount(flows, input), 'attempt')} but the SYN-ACKs never reached the clients`,
      explanation:
        `${service} sent SYN-ACKs, yet the clients kept retransmitting the same SYN, so the replies were lost between this capture point and the clients. ` +
        'Typical causes: the reply is routed out of another interface (a bridge subnet or route that contains the clients), reverse-path filtering, or a stateful firewall on the return path.' +
        (retransmits === null
          ? ''
          : ` The kernel on this host retransmitted ${plural(retransmits.retransmits, 'SYN-ACK')} for ${retransmits.attempts} of these attempts (tcp_retransmit_synack, matched by addresses and ports): the server is here and never got the handshake's ACK.`),
      evidence: {
        service,
        attempts: attemptCount(flows, input),
        clients,
        synAcksSent: flows.reduce((n, f) => n + f.synAcks, 0),
        clientSynRetransmissions: flows.reduce((n, f) => n + Math.max(0, f.syns - 1), 0),
        seenOn: interfaces,
        ...(input.kernel != null && { kernelSynAckRetransmits: retransmits }),
      },
      flows: flows.map((f) => f.id),
      remedy: [
        `Ask the kernel where replies to a client go: ip route get ${clients[0]} from ${first.serverIp}. If it names a bridge (docker0, docker_gwbridge, br-...) instead of the uplink, the bridge subnet overlaps the clients.`,
        'Capture on the next hop toward the clients (the uplink, or the client itself) to see where the SYN-ACK stops: synscope live -i <uplink>.',
        'Check reverse-path filtering and conntrack on the return path: sysctl net.ipv4.conf.all.rp_filter; conntrack -S (look at invalid/drop).',
      ],
    });
  }
  return findings;
}
