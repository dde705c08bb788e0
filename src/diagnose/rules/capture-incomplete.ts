import type { Finding } from '../finding';
import { plural } from '../group';
import type { CaptureHealth, DiagnosisInput } from '../input';
import { pawsRuledOut } from './paws-timestamp-reject';

/**
 * `capture-incomplete`: the capture dropped packets, was cut off, or sees only one
 * direction. Every other verdict is then less certain; diagnose() lowers their confidence.
 * Handshake options cut by a short snap length are named too, unless the snapshot rules
 * out the only rule that reads them (tcp_tw_recycle's), and lower only what a timestamp
 * drop imitates (missesPackets tells the two apart).
 */
export function captureIncompleteRule(input: DiagnosisInput): Finding[] {
  const c = input.capture;
  const reasons: string[] = [];
  const cut = c.handshakeOptionsCut ?? 0;
  if (c.droppedByCapture !== null && c.droppedByCapture > 0) {
    reasons.push(`the capture reports ${plural(c.droppedByCapture, 'dropped packet')} (pcapng interface statistics)`);
  }
  if (c.synAckWithoutSyn > 0) {
    reasons.push(`${plural(c.synAckWithoutSyn, 'flow')} show a SYN-ACK but never the SYN: the clients' direction is missing (one-sided capture, or asymmetric routing past this point)`);
  }
  if (c.truncatedFiles.length > 0) {
    reasons.push(`the file ends in the middle of a record: ${c.truncatedFiles.join(', ')}`);
  }
  if (c.mergedHops !== undefined) {
    reasons.push(
      `${plural(c.mergedHops, 'SYN or SYN-ACK', 'SYNs or SYN-ACKs')} appear twice on one interface within milliseconds: the same packet seen at two hops, so the file merges several interfaces into one link (a capture of several interfaces rewritten as classic pcap, e.g. tcpdump -r all.pcapng -w out.pcap, keeps one link for them all): hops, MACs and retransmissions are mixed up`,
    );
  }
  const only = c.handshakeOnly;
  if (only !== undefined) {
    const answered = input.failedFlows.filter((f) => f.outcome === 'synAckLost').length;
    reasons.push(
      `it holds only handshake packets (SYNs and SYN-ACKs${only.rsts ? ', and RSTs' : ''}), not one ACK or data segment, as a capture filter such as tcp[tcpflags] & tcp-syn != 0 keeps: no client's ACK of a SYN-ACK can be seen, so a SYN-ACK lost on the way cannot be told from one answered${answered > 0 ? ` (the ${plural(answered, 'attempt')} answered with a SYN-ACK count as "syn-ack lost" in the tables for that reason alone)` : ''}` +
        (only.rsts ? '' : ', and a refusal by RST may have been filtered out too, so it looks like silence'),
    );
  }
  // Only the timestamp rule needs the options, and only for SYNs left unanswered: when the
  // snapshot rules it out, or no SYN went unanswered, nothing here depends on them.
  const optionsMatter = cut > 0 && !pawsRuledOut(input) && input.failedFlows.some((f) => f.outcome === 'unanswered');
  if (optionsMatter) {
    reasons.push(`${plural(cut, 'SYN or SYN-ACK', 'SYNs or SYN-ACKs')} had their TCP header cut by the capture's snap length, so their options (timestamps, MSS, window scale) were not recorded: a drop by timestamp (the tcp_tw_recycle / PAWS rule) can neither be shown nor ruled out`);
  }
  if (reasons.length === 0) return [];
  const missing = missesPackets(input.capture);
  return [
    {
      code: 'capture-incomplete',
      severity: 'warning',
      confidence: 'high',
      title: missing
        ? 'The capture itself is incomplete; other verdicts are less certain'
        : "The capture's snap length cut the handshakes' TCP options; a drop by timestamp cannot be ruled out",
      explanation: missing
        ? `Packets missing from a capture look exactly like packets missing from the network. Here ${reasons.join('; ')}.`
        : `What a capture leaves out of a packet cannot be checked. Here ${reasons.join('; ')}.`,
      evidence: {
        droppedByCapture: c.droppedByCapture,
        synAckWithoutSyn: c.synAckWithoutSyn,
        synAckWithoutSynExamples: c.synAckWithoutSynExamples,
        truncatedFiles: c.truncatedFiles,
        undecodablePackets: c.undecodablePackets,
        handshakeOptionsCut: cut,
        ...(only !== undefined && { handshakeOnly: true, rstsCaptured: only.rsts }),
        ...(c.mergedHops !== undefined && { mergedHops: c.mergedHops }),
      },
      flows: c.synAckWithoutSynExamples,
      remedy: [
        ...(c.mergedHops !== undefined ? ['Analyze the original pcapng, which keeps each interface apart; to cut it down, keep the format: tshark -r all.pcapng -Y FILTER -F pcapng -w out.pcapng (or tcpdump on one interface at a time).'] : []),
        ...(only !== undefined ? ["Capture every TCP header, not only the handshakes' (no tcp[tcpflags] filter): tcpdump -s 128 'tcp or icmp or arp' keeps each packet small."] : []),
        ...(optionsMatter ? ['Capture whole TCP headers: tcpdump -s 128 or more (or no -s at all); -s 68 or -s 54 cuts the options of a SYN.'] : []),
        'Capture both directions on the same interface (tcpdump -i <if> without a direction filter) and keep the capture small enough not to drop: "tcp or icmp or arp" with -s 128 (headers only; a filter on TCP flags would leave out the ACKs that show a handshake completed).',
        'On a busy host, raise the capture buffer (tcpdump -B 65536) and write to a fast disk.',
      ],
    },
  ];
}

/** Whether the capture misses packets (drops, a cut file, one direction), not only handshake options: then every verdict is less certain. */
export function missesPackets(c: CaptureHealth): boolean {
  return (c.droppedByCapture ?? 0) > 0 || c.synAckWithoutSyn > 0 || c.truncatedFiles.length > 0 || c.handshakeOnly !== undefined || c.mergedHops !== undefined;
}
