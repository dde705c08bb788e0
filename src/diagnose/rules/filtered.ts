import type { Finding } from '../finding';
import { attemptCount, distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';

/**
 * `filtered`: SYNs reached the capture point and nothing came back (no SYN-ACK, no RST,
 * no ICMP), and no more specific rule explains it. The verdict is by elimination.
 */
export function filteredRule(input: DiagnosisInput, explained: ReadonlySet<string>, completedByService: ReadonlyMap<string, number>): Finding[] {
  const silent = input.failedFlows.filter((f) => f.outcome === 'unanswered' && !explained.has(f.id));
  const findings: Finding[] = [];
  for (const flows of groupBy(silent, serviceOf).values()) {
    const first = flows[0]!;
    const service = serviceOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const answeredOthers = completedByService.get(service) ?? 0;
    findings.push({
      code: 'filtered',
      severity: 'error',
      confidence: 'medium',
      title: `${plural(flows.length, 'attempt')} to ${service} got no answer at all`,
      explanation:
        `${plural(clients.length, 'client')} sent SYNs to ${service} (${plural(flows.reduce((n, f) => n + f.syns, 0), 'SYN')} including retransmissions) and nothing came back: no SYN-ACK, no RST, no ICMP. ` +
        (answeredOthers > 0
          ? `The same service completed ${plural(answeredOthers, 'handshake')} with others in this capture, so it is up: the drop is specific to these clients or their path. `
          : '') +
        'Something between this capture point and the socket drops the SYNs silently (a firewall DROP rule, a full accept queue, reverse-path filtering), or the replies leave by another path this capture does not see.',
      evidence: {
        service,
        attempts: attemptCount(flows, input),
        clients,
        syns: flows.reduce((n, f) => n + f.syns, 0),
        answeredOtherClients: answeredOthers,
        firstSeen: new Date(Math.min(...flows.map((f) => f.firstSeen)) * 1000).toISOString(),
        lastSeen: new Date(Math.max(...flows.map((f) => f.lastSeen)) * 1000).toISOString(),
      },
      flows: flows.map((f) => f.id),
      remedy: [
        `Look for a DROP rule whose counters rise while the clients retry: iptables -L INPUT -v -n --line-numbers; iptables -L DOCKER-USER -v -n; iptables -t raw -L -v -n; nft list ruleset.`,
        `Check the kernel's own drop counters: nstat -az TcpExtListenDrops TcpExtListenOverflows TcpExtPAWSPassive IpExtInNoRoutes TcpExtTCPReqQFullDrop; and sysctl net.ipv4.conf.all.rp_filter.`,
        `Capture one hop further (docker_gwbridge, docker0 or inside the container) to see whether the SYNs get there: synscope live -i eth0 -i docker_gwbridge.`,
        'If you know the host\'s bridges, rerun with --bridge NAME=CIDR (e.g. --bridge docker0=172.17.0.0/16) so an overlap with the clients can be checked.',
      ],
    });
  }
  return findings;
}
