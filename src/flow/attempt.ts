import { formatAddress } from '../decode/address';
import type { AttemptOutcome, Rejection } from './flow';
import type { TcpSession } from './tcp-session';

export interface AttemptResult {
  outcome: AttemptOutcome | null;
  rejection: Rejection | null;
}

/**
 * Puts a connection attempt in exactly one bucket, looking from the originator (the client):
 *
 * - null: the client's first packet was not a bare SYN (midstream, SYN-ACK only, ...);
 * - completed: the client acknowledged the server's SYN-ACK (or sent an ACK after its SYN
 *   when the capture missed the SYN-ACK);
 * - rejected: the server sent a RST before the handshake completed, or an ICMP error quoting
 *   the client's SYN (quoted source = client) came back;
 * - synAckLost: a SYN-ACK was seen but the client never acknowledged it (the client, not
 *   having received it, keeps retransmitting its SYN);
 * - unanswered: nothing came back.
 *
 * The order above is the precedence when several apply.
 */
export function attemptResult(s: TcpSession): AttemptResult {
  const client = s.orig;
  const server = s.resp;
  if (client.firstKind !== 1) return { outcome: null, rejection: null };
  if (client.ackedPeerSynAck) return { outcome: 'completed', rejection: null };
  if (server.rstBeforeHandshake) {
    return {
      outcome: 'rejected',
      rejection: { by: 'rst', from: formatAddress(server.words(), s.ipVersion), icmpType: null, icmpCode: null },
    };
  }
  const icmp = s.icmp;
  if (icmp !== null && icmp.quoted === client) {
    return {
      outcome: 'rejected',
      rejection: {
        by: 'icmp',
        from: formatAddress(icmp.from, icmp.fromVersion),
        icmpType: icmp.type,
        icmpCode: icmp.code,
      },
    };
  }
  if (server.synAcks > 0) return { outcome: 'synAckLost', rejection: null };
  return { outcome: 'unanswered', rejection: null };
}
