import type { DecodedPacket } from '../decode/packet';
import { S } from './flow-record';

/**
 * Copies of one frame seen on two interfaces are one packet: a bridge and the veth behind
 * its port (docker_gwbridge and ingress_sbox's eth1), or a routed frame captured on its
 * way in and out (`tcpdump -i any`, several interfaces in one pcapng). Counting both would
 * double every SYN and retransmission. A copy has the same direction, flags, sequence
 * number, payload length and IP ID, comes on another interface, and within COPY_WINDOW_SECONDS;
 * a real retransmission comes after the retransmission timer (200 ms at least on Linux,
 * 1 s for a SYN), so it is never taken for a copy.
 */
export const COPY_WINDOW_SECONDS = 0.05;

/** The offset of `side`'s LAST_* fields within a record. */
function lastOf(side: number): number {
  return side === 0 ? S.LAST_A_AT : S.LAST_B_AT;
}

/**
 * True when the segment is a copy, from another interface, of the last one this side sent;
 * otherwise it becomes that last segment. `s` is the record's offset.
 */
export function isInterfaceCopy(r: Float64Array, s: number, side: number, pkt: DecodedPacket, t: number, iface: number): boolean {
  const at = s + lastOf(side);
  const key = pkt.tcpFlags + 512 * pkt.payloadLength + 33554432 * (pkt.ipId + 1);
  const seq = pkt.seq >>> 0;
  if (r[at]! >= 0 && r[at + 1] !== iface && r[at + 2] === seq && r[at + 3] === key && Math.abs(t - r[at]!) <= COPY_WINDOW_SECONDS) return true;
  r[at] = t;
  r[at + 1] = iface;
  r[at + 2] = seq;
  r[at + 3] = key;
  return false;
}
