import { formatAddress } from '../decode/address';
import type { AttemptOutcome, Rejection } from './flow';
import { E, Layout, S, endpointBase } from './flow-record';
import type { FlowStore } from './flow-store';

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
export function attemptOutcome(store: FlowStore, slot: number): AttemptOutcome | null {
  const r = store.int;
  const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
  const client = endpointBase(slot, origSide);
  const server = endpointBase(slot, 1 - origSide);
  if (r[client + E.FIRST_KIND] !== 1) return null;
  if (r[client + E.ACKED_PEER_SYN_ACK] === 1) return 'completed';
  if (r[server + E.RST_BEFORE_HANDSHAKE] === 1) return 'rejected';
  if (store.icmp.size > 0 && store.icmp.get(slot)?.quotedSide === origSide) return 'rejected';
  if (r[server + E.SYN_ACKS]! > 0) return 'synAckLost';
  return 'unanswered';
}

/** Who refused the attempt, when attemptOutcome() says 'rejected' (else null). */
export function attemptRejection(store: FlowStore, slot: number, outcome: AttemptOutcome | null): Rejection | null {
  if (outcome !== 'rejected') return null;
  const r = store.int;
  const s = slot * Layout.WORDS;
  const server = endpointBase(slot, 1 - r[s + S.ORIG_SIDE]!);
  if (r[server + E.RST_BEFORE_HANDSHAKE] === 1) {
    const version = r[s + S.IP_VERSION] === 6 ? 6 : 4;
    return { by: 'rst', from: formatAddress(store.endpointWords(server, new Uint32Array(4)), version), icmpType: null, icmpCode: null };
  }
  const icmp = store.icmp.get(slot)!;
  return { by: 'icmp', from: formatAddress(icmp.from, icmp.fromVersion), icmpType: icmp.type, icmpCode: icmp.code };
}
