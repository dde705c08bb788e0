import { DROP_REASON_MEANINGS } from '../../evidence/drop-reasons';
import type { KernelEvidence } from '../../evidence/kernel-evidence';
import type { Flow } from '../../flow/flow';
import { rfc3339 } from '../../time/rfc3339';
import type { Finding } from '../finding';
import { attemptCount, distinct, groupBy, plural, serviceOf, synCount } from '../group';
import { clientCount } from '../sample-counts';
import type { DiagnosisInput } from '../input';
import { bridgedDrop } from '../bridged-drop';
import { conntrackFull, conntrackKnown } from '../conntrack-full';
import { blackholeDrop } from '../route-refusal';
import { inputDrop } from '../input-drop';
import { routedDrop } from '../routed-drop';
import { publishedDrop } from '../published-drop';
import { macvlanChildDrop } from '../unresolved-neighbour';
import { dockerUserReplyDrop } from '../reply-drop';
import type { DropCause } from '../drop-cause';
import { BY_TIME_ONLY, describeDrops, describeReasons, dropsFollowSyns, dropsNearSyns, synAckRetransmitsOf } from '../kernel-facts';

/**
 * `filtered`: SYNs reached the capture point and nothing came back (no SYN-ACK, no RST,
 * no ICMP), and no more specific rule explains it. The verdict is by elimination, unless
 * the kernel's trace shows NETFILTER_DROP drops at the SYNs' times.
 */
export function filteredRule(input: DiagnosisInput, explained: ReadonlySet<string>, completedByService: ReadonlyMap<string, number>): Finding[] {
  const silent = input.failedFlows.filter((f) => f.outcome === 'unanswered' && !explained.has(f.id));
  const tableUnknown = !conntrackKnown(input);
  const findings: Finding[] = [];
  for (const flows of groupBy(silent, serviceOf).values()) {
    const first = flows[0]!;
    const service = serviceOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const answeredOthers = completedByService.get(service) ?? 0;
    const live = input.kernel == null ? null : liveFacts(input.kernel, flows);
    const tableFull = conntrackFull(input, flows);
    const bridged = tableFull ?? sharedDropCause(input, flows);
    findings.push({
      code: 'filtered',
      severity: 'error',
      confidence: live?.firewall === true ? 'high' : (bridged?.confidence ?? (bridged !== null ? 'high' : 'medium')),
      title: `${plural(attemptCount(flows, input), 'attempt')} to ${service} got no answer at all${bridged === null ? '' : `: ${bridged.because}`}`,
      explanation:
        `${plural(clientCount(input, flows, clients), 'client')} sent SYNs to ${service} (${plural(synCount(flows, input), 'SYN')} including retransmissions) and nothing came back: no SYN-ACK, no RST, no ICMP. ` +
        (answeredOthers > 0
          ? `The same service completed ${plural(answeredOthers, 'handshake')} with others in this capture, so it is up${tableFull === null ? ': the drop is specific to these clients or their path' : ''}. `
          : '') +
        (bridged !== null
          ? bridged.sentences.join(' ')
          : `Something between this capture point and the socket drops the SYNs silently (a firewall DROP rule, a full accept queue, reverse-path filtering${tableUnknown ? ', a full connection-tracking table' : ''}), or the replies leave by another path this capture does not see.`) +
        (live?.sentences ?? ''),
      evidence: {
        service,
        attempts: attemptCount(flows, input),
        clients,
        syns: synCount(flows, input),
        answeredOtherClients: answeredOthers,
        firstSeen: rfc3339(flows.reduce((m, f) => Math.min(m, f.firstSeen), Infinity), 3),
        lastSeen: rfc3339(flows.reduce((m, f) => Math.max(m, f.lastSeen), -Infinity), 3),
        ...(live !== null && { kernelDrops: live.drops, kernelSynAckRetransmits: live.synAcks }),
        ...(bridged !== null && bridged.evidence),
      },
      flows: flows.map((f) => f.id),
      remedy: bridged?.remedy ?? [
        `Look for a DROP rule whose counters rise while the clients retry: iptables -L INPUT -v -n --line-numbers; iptables -L DOCKER-USER -v -n; iptables -t raw -L -v -n; nft list ruleset.`,
        `Check the kernel's own drop counters: nstat -az TcpExtListenDrops TcpExtListenOverflows TcpExtPAWSPassive IpExtInNoRoutes TcpExtTCPReqQFullDrop; and sysctl net.ipv4.conf.all.rp_filter${tableUnknown ? '; conntrack -S (drop and early_drop count packets a full connection-tracking table dropped)' : ''}.`,
        `Capture one hop further (docker_gwbridge, docker0 or inside the container) to see whether the SYNs get there: synscope live -i eth0 -i docker_gwbridge.`,
        ...(input.context === null && input.bridges.length === 0
          ? ['If you know the host\'s bridges, rerun with --bridge NAME=CIDR (e.g. --bridge docker0=172.17.0.0/16) so an overlap with the clients can be checked.']
          : []),
      ],
    });
  }
  return findings;
}

/** The one cause the snapshot names for the silence of every client of these flows (a rule may match one client's address and not another's); null otherwise. */
function sharedDropCause(input: DiagnosisInput, flows: readonly Flow[]): DropCause | null {
  // In the kernel's order: a bridge's own filter, then routing (a blackhole), then the filter chains after it, then the neighbour the SYN waits for; last, the way back of its replies.
  const causeOf = (f: Flow) => bridgedDrop(input, f) ?? blackholeDrop(input, f) ?? inputDrop(input, f) ?? routedDrop(input, f) ?? publishedDrop(input, f) ?? macvlanChildDrop(input, f) ?? dockerUserReplyDrop(input, f);
  const first = causeOf(flows[0]!);
  if (first === null) return null;
  const key = (c: DropCause) => `${c.because}|${String(c.evidence['forwardVerdictBy'] ?? '')}`;
  const seen = new Set([flows[0]!.clientIp]);
  for (const f of flows) {
    if (seen.has(f.clientIp)) continue;
    seen.add(f.clientIp);
    const other = causeOf(f);
    if (other === null || key(other) !== key(first)) return null;
  }
  return first;
}

/** What the kernel traced at these flows' SYNs: drops by time, SYN-ACK retransmissions by addresses and ports. */
function liveFacts(kernel: KernelEvidence, flows: readonly Flow[]) {
  const drops = dropsNearSyns(kernel, flows, null);
  const netfilter = drops === null ? null : dropsNearSyns(kernel, flows, ['NETFILTER_DROP']);
  const firewall = dropsFollowSyns(netfilter);
  const synAcks = synAckRetransmitsOf(kernel, flows);
  let sentences = '';
  if (firewall) {
    const where = netfilter!.locations.length > 0 ? ` (freed in ${netfilter!.locations.join(', ')})` : '';
    sentences += ` During the capture netfilter dropped ${describeDrops(netfilter!)}${where}, ${BY_TIME_ONLY}: a firewall rule drops these SYNs.`;
  } else if (drops !== null) {
    const top = Object.keys(drops.reasons)[0]!;
    const meaning = DROP_REASON_MEANINGS[top];
    sentences += ` During the capture the kernel dropped ${describeDrops(drops)} (${describeReasons(drops)}), ${BY_TIME_ONLY}${meaning === undefined ? '' : `; ${top} means ${meaning}`}.`;
  }
  if (synAcks !== null) {
    sentences += ` The kernel retransmitted ${plural(synAcks.retransmits, 'SYN-ACK')} for ${synAcks.attempts} of these attempts (matched by addresses and ports): the server on this host answered, so its replies leave by a path this capture does not see, or are dropped after it.`;
  }
  return { drops, firewall, synAcks, sentences };
}
