import type { Finding } from '../finding';
import { plural } from '../group';
import type { DiagnosisInput } from '../input';

/**
 * `capture-incomplete`: the capture dropped packets, was cut off, or sees only one
 * direction. Every other verdict is then less certain; diagnose() lowers their confidence.
 */
export function captureIncompleteRule(input: DiagnosisInput): Finding[] {
  const c = input.capture;
  const reasons: string[] = [];
  if (c.droppedByCapture !== null && c.droppedByCapture > 0) {
    reasons.push(`the capture reports ${plural(c.droppedByCapture, 'dropped packet')} (pcapng interface statistics)`);
  }
  if (c.synAckWithoutSyn > 0) {
    reasons.push(`${plural(c.synAckWithoutSyn, 'flow')} show a SYN-ACK but never the SYN: the clients' direction is missing (one-sided capture, or asymmetric routing past this point)`);
  }
  if (c.truncatedFiles.length > 0) {
    reasons.push(`the file ends in the middle of a record: ${c.truncatedFiles.join(', ')}`);
  }
  if (reasons.length === 0) return [];
  return [
    {
      code: 'capture-incomplete',
      severity: 'warning',
      confidence: 'high',
      title: 'The capture itself is incomplete; other verdicts are less certain',
      explanation: `Packets missing from a capture look exactly like packets missing from the network. Here ${reasons.join('; ')}.`,
      evidence: {
        droppedByCapture: c.droppedByCapture,
        synAckWithoutSyn: c.synAckWithoutSyn,
        synAckWithoutSynExamples: c.synAckWithoutSynExamples,
        truncatedFiles: c.truncatedFiles,
        undecodablePackets: c.undecodablePackets,
      },
      flows: c.synAckWithoutSynExamples,
      remedy: [
        'Capture both directions on the same interface (tcpdump -i <if> without a direction filter) and keep the capture small enough not to drop: a filter such as "tcp[tcpflags] & (tcp-syn|tcp-rst) != 0 or icmp or arp" with -s 128.',
        'On a busy host, raise the capture buffer (tcpdump -B 65536) and write to a fast disk.',
      ],
    },
  ];
}
