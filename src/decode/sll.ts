import { nextForEtherType } from './ether-types';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/** Linux cooked v1 header (LINKTYPE_LINUX_SLL, 113): packet type, ARPHRD, address length, 8-byte address, protocol. */
const HEADER = 16;
const ARPHRD_ETHER = 1;

/**
 * Decodes an SLL header. The protocol field is an ethertype for the link types we
 * care about; the small values Linux puts there for non-Ethernet protocols (802.2 LLC,
 * CAN...) are below 0x0600 and end decoding without a problem.
 */
export function decodeSll(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_SLL);
  pkt.sllPacketType = view.getUint16(off);
  if (view.getUint16(off + 2) === ARPHRD_ETHER && view.getUint16(off + 4) === 6) pkt.sllMacOffset = off + 6;
  pkt.cursor = off + HEADER;
  return nextForEtherType(pkt, view.getUint16(off + 14));
}
