import type { DecodedPacket } from '../decode/packet';
import { Layout, S, W } from './flow-record';
import type { FlowStore } from './flow-store';

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

/**
 * True when the segment is a copy, from another interface, of the last one this side sent;
 * otherwise it becomes that last segment.
 */
export function isInterfaceCopy(store: FlowStore, slot: number, side: number, pkt: DecodedPacket, t: number, iface: number): boolean {
  const w = store.wide;
  const at = slot * Layout.WIDE_WORDS + W.LAST_A_AT + 2 * side;
  const i = slot * Layout.WORDS + S.LAST_A_IFACE + 2 * side;
  const key = pkt.tcpFlags + 512 * pkt.payloadLength + 33554432 * (pkt.ipId + 1);
  const seq = pkt.seq >>> 0;
  if (w[at]! >= 0 && store.int[i] !== iface && store.uint[i + 1] === seq && w[at + 1] === key && Math.abs(t - w[at]!) <= COPY_WINDOW_SECONDS) return true;
  w[at] = t;
  w[at + 1] = key;
  store.int[i] = iface;
  store.uint[i + 1] = seq;
  return false;
}
